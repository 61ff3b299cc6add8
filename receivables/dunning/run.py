"""The daily dunning run of one organization for one local date.

What is due is computed set-based in SQL, in one statement, from open balances as of the run date
(invoice amount minus the allocations dated on or before it: the open items of
``receivables.balances.invoice_balances``): for every open invoice, the highest active level of its customer's policy
that it has reached (due date + level days <= run date) and that has not yet fired for it, and whether
an exception holds it back (customer on the do-not-dun list, open dispute on the invoice, an open promise
to pay that covers the invoice, open amount in base currency under the policy's threshold). A promise
covers only the invoices recorded with it (``PromiseInvoice``: those it names, or those its amount pays
in full, oldest first), never a whole account, and pauses nothing once its promised date lies more than
``PROMISE_MAX_DAYS_LIMIT`` days after the day it was made (a row written around the service).
That statement fills a temporary table; customers are then processed in chunks, each chunk one
transaction that inserts the actions, the customer's message (outbox), tasks, credit holds, the chunk's
audit-ledger entry and one entry per customer put on credit hold, and advances the run's cursor.

Exactly once, precisely:

* An action is a row of ``DunningAction`` with the unique key (organization, invoice, level), inserted
  with ``ON CONFLICT DO NOTHING`` in the chunk's transaction. A level therefore fires at most once per
  invoice whatever the number of runs, concurrent runs, re-runs and crashes; and since messages, tasks
  and holds are derived from the rows this run inserted (``run_id``), never from the candidate list,
  nothing a chunk does can be done twice either.
* A run is one row per (organization, local run date). A completed run is final: running the same date
  again returns it and adds nothing. A run that crashed (any exception, a killed worker) keeps
  ``cursor``, the last customer id whose chunk committed; running it again recomputes what is due and
  carries on with the customers after the cursor. The chunk that failed rolled back whole, so it is
  redone whole: nothing is duplicated and nothing is missed.
* Two runners of the same date at once (a redelivered task, a beat and "Run dunning now" on two
  workers) share the one run row: each chunk is taken under the organization's advisory lock and
  skipped when the cursor is already past it, and the first runner to finish records the completion
  (ledger entry, outbox pass); the other returns the completed run. Tested on PostgreSQL with two
  threads in ``tests/receivables/test_dunning_concurrency.py``.
* Messages are sent after commit from the outbox (``receivables.dunning.outbox``); a message marked
  sent is never sent again, and one not yet sent (a crash between commit and send) is sent by the next
  run or outbox pass.

Catch-up rule: an invoice gets only the highest level it has reached. When runs were missed, or an
invoice enters the book already late, or an exception (dispute, promise) held it back for a while, the
lower levels it passed meanwhile are not sent late, one after another: the customer gets one message at
the level the invoice has reached, never a burst of stale reminders. A level that has fired is not
fired again, so an invoice whose highest reached level already fired gets nothing until it reaches
the next one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext

from credit_platform.audit import AuditEvent, audit_append, audit_append_many
from credit_platform.bulk import advisory_lock, insert_frame, is_postgres, qn
from credit_platform.errors import AppError, ErrorCode
from credit_platform.models import FXRate, Organization
from credit_platform.sql import days_between
from customers.models import Customer

from ..balances import invoice_balances
from ..models import (
    PROMISE_MAX_DAYS_LIMIT,
    CollectionProfile,
    CollectionTask,
    Dispute,
    DunningAction,
    DunningLevel,
    DunningMessage,
    DunningPolicy,
    DunningRun,
    Payment,
    PromiseInvoice,
    PromiseToPay,
)

logger = logging.getLogger(__name__)

# Customers per chunk transaction: 5,000 customers x ~10 due invoices each = ~50,000 action rows, a
# few MB of WAL and well under a second of work; a crash redoes at most that much.
CHUNK_CUSTOMERS = 5000

LEVELS = "stage_dunning_levels"
FX = "stage_dunning_fx"
DUE = "stage_dunning_due"

SKIP_REASONS = ("do_not_dun", "disputed", "promised", "under_threshold")


def _t(model: Any) -> str:
    return qn(model._meta.db_table)


def _execute(sql: str, params: Sequence[Any] = ()) -> Any:
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return cursor.rowcount


def _fetch(sql: str, params: Sequence[Any] = ()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return cursor.fetchall()


def _temp_table(name: str, columns: dict[str, str]) -> None:
    """A session temporary table that outlives the chunk transactions of the run (dropped at the end)."""
    cols = ", ".join(f"{qn(c)} {t}" for c, t in columns.items())
    _execute(f"DROP TABLE IF EXISTS {qn(name)}")
    _execute(f"CREATE TEMPORARY TABLE {qn(name)} ({cols})")


def drop_stages() -> None:
    if connection.needs_rollback:
        return  # an aborted outer transaction (tests): its rollback drops the stages
    for name in (DUE, FX, LEVELS):
        _execute(f"DROP TABLE IF EXISTS {qn(name)}")


def stage_levels(organization: Organization, run_date: dt.date) -> pd.DataFrame:
    """Every active level of the organization's policies with the due-date window that has reached it:
    an invoice is at level k when ``next_due < due_date <= reach_due``, where ``reach_due`` is the run
    date minus the level's days and ``next_due`` the same for the policy's next level. ``hold`` is 1 for
    a credit-hold level and every later level of its policy."""
    rows = list(
        DunningLevel.objects.for_organization(organization)
        .filter(is_active=True)
        .order_by("policy_id", "days")
        .values_list(
            "policy_id", "id", "days", "name", "send_message", "task", "credit_hold", "policy__min_amount"
        )
    )
    records = []
    holding: set[int] = set()  # policies with a credit-hold level at or below the current one
    for i, (policy_id, level_id, days, name, send, task, hold, min_amount) in enumerate(rows):
        nxt = rows[i + 1] if i + 1 < len(rows) and rows[i + 1][0] == policy_id else None
        if hold:
            holding.add(policy_id)
        records.append(
            {
                "policy_id": policy_id,
                "level_id": level_id,
                "days": days,
                "name": name,
                "reach_due": run_date - dt.timedelta(days=days),
                "next_due": run_date - dt.timedelta(days=nxt[2]) if nxt else None,
                "send": int(send),
                "task": task,
                # the level holds credit if it or an earlier level of its policy does: the catch-up rule
                # fires only the highest level reached, so an invoice found past +60 on its first run
                # (or after missed runs, or a dispute resolved late) skips the +30 hold level
                "hold": int(policy_id in holding),
                "min_amount": str(min_amount),
            }
        )
    frame = pd.DataFrame(
        records,
        columns=[
            "policy_id",
            "level_id",
            "days",
            "name",
            "reach_due",
            "next_due",
            "send",
            "task",
            "hold",
            "min_amount",
        ],
    )
    _temp_table(
        LEVELS,
        {
            "policy_id": "bigint",
            "level_id": "bigint",
            "days": "integer",
            "name": "text",
            "reach_due": "date",
            "next_due": "date",
            "send": "integer",
            "task": "text",
            "hold": "integer",
            "min_amount": "numeric",
        },
    )
    insert_frame(LEVELS, frame)
    if is_postgres():
        _execute(f"ANALYZE {LEVELS}")  # temporary tables are never auto-analyzed: give the planner its size
    return frame


def stage_fx(organization: Organization, run_date: dt.date) -> None:
    """Rates in force on the run date, for the threshold test in base currency. An invoice in a
    currency without a rate is never held back by the threshold (it is dunned)."""
    rates: dict[str, Any] = {}
    for currency, rate in (
        FXRate.objects.for_organization(organization)
        .filter(rate_date__lte=run_date)
        .order_by("currency", "-rate_date")
        .values_list("currency", "rate")
    ):
        rates.setdefault(currency, rate)
    rates[organization.base_currency] = 1
    _temp_table(FX, {"currency": "text", "rate": "numeric"})
    insert_frame(FX, pd.DataFrame({"currency": list(rates), "rate": [str(r) for r in rates.values()]}))
    if is_postgres():
        _execute(f"ANALYZE {FX}")


def due_select(
    organization: Organization, run_date: dt.date, default_policy_id: int, max_reach_due: dt.date
) -> tuple[str, list[Any]]:
    """The one statement that finds what is due: (invoice, customer, level, open amount, currency, skip
    reason or ''), needing the levels and FX stages, over the open items of ``receivables.balances``
    (whole-book shape). On PostgreSQL the plan is hash joins throughout (allocations aggregated once,
    the fired-actions anti-join hashed): see bench/dunning.py."""
    org = organization.pk
    # the open items due by the latest reach date of any level: no invoice due later has reached one
    items = invoice_balances(org, run_date, due_by=max_reach_due)
    sql = f"""
        SELECT o.invoice_id, o.customer_id, l.level_id, o.open_amount, o.currency,
          CASE WHEN cp.do_not_dun = %s THEN 'do_not_dun'
               WHEN ds.invoice_id IS NOT NULL THEN 'disputed'
               WHEN pr.invoice_id IS NOT NULL THEN 'promised'
               WHEN fx.rate IS NOT NULL AND o.open_amount * fx.rate < l.min_amount THEN 'under_threshold'
               ELSE '' END AS skip
        FROM ({items.text}) o
        LEFT JOIN {_t(CollectionProfile)} cp ON cp.customer_id = o.customer_id
        JOIN {LEVELS} l ON l.policy_id = coalesce(cp.policy_id, %s)
          AND o.due_date <= l.reach_due AND (l.next_due IS NULL OR o.due_date > l.next_due)
        LEFT JOIN {FX} fx ON fx.currency = o.currency
        LEFT JOIN (SELECT DISTINCT invoice_id FROM {_t(Dispute)}
                   WHERE organization_id = %s AND status = 'open') ds ON ds.invoice_id = o.invoice_id
        LEFT JOIN (SELECT DISTINCT pi.invoice_id FROM {_t(PromiseInvoice)} pi
                   JOIN {_t(PromiseToPay)} p ON p.id = pi.promise_id
                   WHERE pi.organization_id = %s AND p.status = 'open'
                     AND {days_between("p.promised_date", "p.made_on")} <= %s) pr
          ON pr.invoice_id = o.invoice_id
        WHERE NOT EXISTS (SELECT 1 FROM {_t(DunningAction)} d
                          WHERE d.organization_id = %s AND d.invoice_id = o.invoice_id
                            AND d.level_id = l.level_id)
    """  # noqa: S608 - identifiers from model meta, values as parameters
    params = [True, *items.params, default_policy_id, org, org, PROMISE_MAX_DAYS_LIMIT, org]
    return sql, params


def stage_due(
    organization: Organization, run_date: dt.date, policy: DunningPolicy, levels: pd.DataFrame
) -> None:
    max_reach = max(levels["reach_due"]) if len(levels) else run_date
    sql, params = due_select(organization, run_date, policy.pk, max_reach)
    _execute(f"DROP TABLE IF EXISTS {DUE}")
    _execute(f"CREATE TEMPORARY TABLE {DUE} AS {sql}", params)
    _execute(f"CREATE INDEX {DUE}_customer ON {DUE} (customer_id)")
    if is_postgres():
        _execute(f"ANALYZE {DUE}")


def promises_close_due(organization: Organization, run: DunningRun, grace_days: int) -> int:
    """Close the open promises whose date plus grace has passed: kept if the customer's payments in the
    promise's currency received from the day it was made to the promised date plus grace reach its
    amount, else broken. A broken promise is flagged (status, audit entry) and escalated: a
    ``broken_promise`` task for the managers' queue, and its invoices are dunned again in this run."""
    run_date = run.run_date
    cutoff = run_date - dt.timedelta(days=grace_days)
    promises = list(
        PromiseToPay.objects.for_organization(organization)
        .select_for_update()
        .filter(status=PromiseToPay.Status.OPEN, promised_date__lt=cutoff)
        .order_by("pk")
    )
    if not promises:
        return 0
    earliest = min(p.made_on for p in promises)
    payments = list(
        Payment.objects.for_organization(organization)
        .filter(
            customer_id__in={p.customer_id for p in promises},
            received_on__gte=earliest,
            received_on__lte=run_date,
        )
        .values_list("customer_id", "currency", "received_on", "amount")
    )
    events, tasks = [], []
    broken = 0
    for promise in promises:
        until = promise.promised_date + dt.timedelta(days=grace_days)
        received = sum(
            (
                amount
                for cust, cur, day, amount in payments
                if cust == promise.customer_id and cur == promise.currency and promise.made_on <= day <= until
            ),
            start=type(promise.amount)(0),
        )
        promise.received = received
        promise.closed_on = run_date
        if received >= promise.amount:
            promise.status = PromiseToPay.Status.KEPT
        else:
            promise.status = PromiseToPay.Status.BROKEN
            broken += 1
            tasks.append(
                CollectionTask(
                    organization=organization,
                    customer_id=promise.customer_id,
                    kind=CollectionTask.Kind.BROKEN_PROMISE,
                    due_date=run_date,
                    run=run,
                    title=f"Broken promise: {promise.amount} {promise.currency} by {promise.promised_date}",
                    note=f"Received {received} {promise.currency} of {promise.amount} by {until}.",
                )
            )
        events.append(
            AuditEvent(
                f"promise.{promise.status}",
                promise,
                {"status": "open"},
                {"status": promise.status, "received": received, "amount": promise.amount},
            )
        )
    PromiseToPay.objects.bulk_update(promises, ["status", "received", "closed_on"])
    CollectionTask.objects.bulk_create(tasks, ignore_conflicts=True)
    audit_append_many(organization=organization, actor=None, events=events)
    return broken


def _chunks(cursor: int, size: int) -> list[tuple[int, int]]:
    ids = [
        r[0]
        for r in _fetch(
            f"SELECT DISTINCT customer_id FROM {DUE} WHERE skip = '' AND customer_id > %s "  # noqa: S608
            "ORDER BY customer_id",
            [cursor],
        )
    ]
    bounds, lo = [], cursor
    for start in range(0, len(ids), size):
        hi = ids[min(start + size, len(ids)) - 1]
        bounds.append((lo, hi))
        lo = hi
    return bounds


def _insert_actions(org_id: int, run: DunningRun, lo: int, hi: int) -> list[tuple[int, int]]:
    return _fetch(
        f"""INSERT INTO {_t(DunningAction)} (organization_id, run_id, invoice_id, customer_id, level_id,
                                             run_date, open_amount, currency)
            SELECT %s, %s, s.invoice_id, s.customer_id, s.level_id, %s, s.open_amount, s.currency
            FROM {DUE} s WHERE s.skip = '' AND s.customer_id > %s AND s.customer_id <= %s
            ON CONFLICT DO NOTHING
            RETURNING invoice_id, level_id""",  # noqa: S608
        [org_id, run.pk, run.run_date, lo, hi],
    )


def _insert_messages(org_id: int, run: DunningRun, lo: int, hi: int) -> int:
    """One outbox row per customer with actions of a sending level in this chunk: the template is the
    highest level's; the message lists every invoice actioned (rendered at send time)."""
    email = "coalesce(nullif(cp.dunning_email, ''), c.email, '')"
    zh = ", ".join(f"'{c}'" for c in ("CN", "HK", "MO", "TW"))
    return _execute(
        f"""INSERT INTO {_t(DunningMessage)} (organization_id, run_id, customer_id, level_id, language,
                                              to_email, status, subject, body, attempts, last_error)
            SELECT %s, %s, m.customer_id, lt.level_id,
                   CASE WHEN coalesce(cp.language, '') <> '' THEN cp.language
                        WHEN c.country_id IN ({zh}) THEN 'zh-hans' ELSE 'en' END,
                   {email}, CASE WHEN {email} = '' THEN 'no_address' ELSE 'pending' END, '', '', 0, ''
            FROM (SELECT d.customer_id, max(l.days) AS days, max(l.policy_id) AS policy_id
                  FROM {_t(DunningAction)} d JOIN {LEVELS} l ON l.level_id = d.level_id
                  WHERE d.run_id = %s AND d.customer_id > %s AND d.customer_id <= %s AND l.send = 1
                  GROUP BY d.customer_id) m
            JOIN {LEVELS} lt ON lt.policy_id = m.policy_id AND lt.days = m.days
            JOIN {_t(Customer)} c ON c.id = m.customer_id
            LEFT JOIN {_t(CollectionProfile)} cp ON cp.customer_id = m.customer_id
            WHERE true
            ON CONFLICT DO NOTHING""",  # noqa: S608
        [org_id, run.pk, run.pk, lo, hi],
    )


def _insert_tasks(org_id: int, run: DunningRun, lo: int, hi: int) -> int:
    """One task per customer and kind: calls go to the customer's collector, the rest (escalations,
    hand-overs) to the managers' queue (unassigned)."""
    return _execute(
        f"""INSERT INTO {_t(CollectionTask)} (organization_id, customer_id, kind, status, assigned_to_id,
                                              due_date, run_id, title, note)
            SELECT %s, t.customer_id, t.task, 'open', CASE WHEN t.task = 'call' THEN cp.collector_id END,
                   %s, %s,
                   t.level_name || ': ' || CAST(t.n AS TEXT) || ' invoice(s)', ''
            FROM (SELECT d.customer_id, l.task, max(l.name) AS level_name, count(*) AS n
                  FROM {_t(DunningAction)} d JOIN {LEVELS} l ON l.level_id = d.level_id
                  WHERE d.run_id = %s AND d.customer_id > %s AND d.customer_id <= %s AND l.task <> ''
                  GROUP BY d.customer_id, l.task) t
            LEFT JOIN {_t(CollectionProfile)} cp ON cp.customer_id = t.customer_id
            WHERE true
            ON CONFLICT DO NOTHING""",  # noqa: S608
        [org_id, run.run_date, run.pk, run.pk, lo, hi],
    )


def _apply_holds(org_id: int, run: DunningRun, lo: int, hi: int) -> list[AuditEvent]:
    """Put on credit hold the active customers of the chunk that reached a credit-hold level in this run.
    Returns one ledger event per customer whose status changed (active -> on_hold), naming the level
    that put it on hold (the highest hold level it reached), in customer order."""
    held = _fetch(
        f"""UPDATE {_t(Customer)} SET status = %s, updated_at = %s
            WHERE organization_id = %s AND status = %s AND id IN (
              SELECT d.customer_id FROM {_t(DunningAction)} d JOIN {LEVELS} l ON l.level_id = d.level_id
              WHERE d.run_id = %s AND d.customer_id > %s AND d.customer_id <= %s AND l.hold = 1)
            RETURNING id, legal_name, external_id""",  # noqa: S608
        [Customer.Status.ON_HOLD, timezone.now(), org_id, Customer.Status.ACTIVE, run.pk, lo, hi],
    )
    if not held:
        return []
    # Most chunks hold nobody; only when some were held, which level did it (same shape as the messages').
    level_of = {
        customer_id: (level_id, name, days)
        for customer_id, level_id, name, days in _fetch(
            f"""SELECT h.customer_id, lt.level_id, lt.name, lt.days
                FROM (SELECT d.customer_id, max(l.days) AS days, max(l.policy_id) AS policy_id
                      FROM {_t(DunningAction)} d JOIN {LEVELS} l ON l.level_id = d.level_id
                      WHERE d.run_id = %s AND d.customer_id > %s AND d.customer_id <= %s AND l.hold = 1
                      GROUP BY d.customer_id) h
                JOIN {LEVELS} lt ON lt.policy_id = h.policy_id AND lt.days = h.days""",  # noqa: S608
            [run.pk, lo, hi],
        )
    }
    events = []
    for customer_id, legal_name, external_id in sorted(held):
        level_id, name, days = level_of[customer_id]
        events.append(
            AuditEvent(
                "customer.status_changed",
                (Customer._meta.label_lower, customer_id, f"{legal_name} ({external_id})"),
                {"status": Customer.Status.ACTIVE},
                {"status": Customer.Status.ON_HOLD, "dunning_level": level_id, "dunning_run": run.pk},
                f"dunning level {name} ({days:+d} days), run of {run.run_date.isoformat()}",
            )
        )
    from limits.services import dunning_holds_record  # the hold behind the status: it blocks orders

    dunning_holds_record(org_id, [(int(e.obj[1]), e.reason) for e in events], run.run_date)
    return events


def _process_chunk(organization: Organization, run_id: int, lo: int, hi: int) -> None:
    """Customers in (lo, hi]: one transaction, all or nothing."""
    with transaction.atomic():
        advisory_lock(f"dunning:{organization.pk}")
        run = DunningRun.objects.select_for_update().get(pk=run_id)
        if run.cursor >= hi:
            return  # a concurrent runner did this chunk
        lo = max(lo, run.cursor)
        org_id = organization.pk
        fired = _insert_actions(org_id, run, lo, hi)
        messages = _insert_messages(org_id, run, lo, hi)
        tasks = _insert_tasks(org_id, run, lo, hi)
        held = _apply_holds(org_id, run, lo, hi)
        by_level = Counter(level for _inv, level in fired)
        digest = hashlib.sha256(",".join(f"{i}:{lv}" for i, lv in sorted(fired)).encode()).hexdigest()
        # Ledger, in one chained bulk append: one entry per chunk with the counts and a SHA-256 over the
        # sorted (invoice, level) pairs fired, which makes the action rows tamper-evident (one entry per
        # action would be ~860,000 hashed rows on a first run over a large book), then one entry per
        # customer put on credit hold: a change of a customer's credit status is a credit decision, found
        # in that customer's own history (DESIGN.md, audit ledger).
        audit_append_many(
            organization=organization,
            actor=None,
            events=[
                AuditEvent(
                    "dunning.actions",
                    run,
                    None,
                    {
                        "run_date": run.run_date,
                        "customers": [lo, hi],
                        "actions": len(fired),
                        "by_level": {str(k): v for k, v in sorted(by_level.items())},
                        "messages": messages,
                        "tasks": tasks,
                        "credit_holds": len(held),
                        "actions_sha256": digest,
                    },
                ),
                *held,
            ],
            returning=False,
        )
        DunningRun.objects.filter(pk=run.pk).update(
            cursor=hi,
            actions=run.actions + len(fired),
            messages=run.messages + messages,
            tasks=run.tasks + tasks,
            holds=run.holds + len(held),
        )


def _start(organization: Organization, run_date: dt.date) -> tuple[DunningRun, bool]:
    with transaction.atomic():
        run, _ = DunningRun.objects.get_or_create(organization=organization, run_date=run_date)
        run = DunningRun.objects.select_for_update().get(pk=run.pk)
        if run.status == DunningRun.Status.COMPLETED:
            return run, False
        run.attempts += 1
        run.status = DunningRun.Status.RUNNING
        run.error = ""
        run.save(update_fields=["attempts", "status", "error"])
        return run, True


def dunning_run(
    *,
    organization: Organization,
    run_date: dt.date,
    chunk_customers: int = CHUNK_CUSTOMERS,
    policy: DunningPolicy | None = None,
    send_outbox: bool = True,
) -> DunningRun | None:
    """Run (or resume) the organization's dunning for ``run_date``; see the module docstring for the
    guarantees. Returns the run, or None when the organization has no default policy.

    ``send_outbox=False`` leaves the run's messages pending in the outbox instead of queueing the outbox
    pass after commit: the demo seed sends them itself, in its own process and transaction."""
    policy = policy or DunningPolicy.objects.for_organization(organization).filter(is_default=True).first()
    if policy is None:
        return None
    run, fresh = _start(organization, run_date)
    if not fresh:
        return run
    try:
        with transaction.atomic():
            broken = promises_close_due(organization, run, policy.promise_grace_days)
            if broken:
                DunningRun.objects.filter(pk=run.pk).update(promises_broken=run.promises_broken + broken)
        levels = stage_levels(organization, run_date)
        stage_fx(organization, run_date)
        stage_due(organization, run_date, policy, levels)
        skipped = dict(_fetch(f"SELECT skip, count(*) FROM {DUE} WHERE skip <> '' GROUP BY skip"))  # noqa: S608
        run.refresh_from_db()
        for lo, hi in _chunks(run.cursor, chunk_customers):
            _process_chunk(organization, run.pk, lo, hi)
        with transaction.atomic():
            run = DunningRun.objects.select_for_update().get(pk=run.pk)
            if run.status == DunningRun.Status.COMPLETED:
                return run  # a concurrent runner of the same date finished it (and recorded it) first
            run.status = DunningRun.Status.COMPLETED
            run.finished_at = timezone.now()
            run.skipped = skipped
            run.save(update_fields=["status", "finished_at", "skipped"])
            audit_append_many(
                organization=organization,
                actor=None,
                events=[
                    AuditEvent(
                        "dunning.run_completed",
                        run,
                        None,
                        {
                            "run_date": run_date,
                            "actions": run.actions,
                            "messages": run.messages,
                            "tasks": run.tasks,
                            "credit_holds": run.holds,
                            "promises_broken": run.promises_broken,
                            "skipped": skipped,
                            "attempt": run.attempts,
                        },
                    )
                ],
            )
            if send_outbox:
                from ..tasks import dunning_send_outbox

                org_id = organization.pk
                transaction.on_commit(lambda: dunning_send_outbox.delay(org_id))
        return run
    except Exception as exc:
        logger.exception("dunning run %s of organization %s failed", run_date, organization.pk)
        DunningRun.objects.filter(pk=run.pk).exclude(status=DunningRun.Status.COMPLETED).update(
            status=DunningRun.Status.FAILED, error=repr(exc)[:2000]
        )
        raise
    finally:
        drop_stages()


@dataclass(frozen=True)
class RunRequest:
    """What a request to run today's dunning did, read back from the run row once the request committed:
    in embedded mode (eager Celery) the run has finished by then; with workers it is usually queued."""

    class State:
        ALREADY_COMPLETED = "already_completed"  # today's run had completed before: nothing was queued
        COMPLETED = "completed"  # the run finished in this request (eager) or already on a worker
        FAILED = "failed"  # the run failed in this request; it is resumable, the error is on the run
        QUEUED = "queued"  # not finished yet: queued for a worker, or running there
        NOT_QUEUED = "not_queued"  # the task queue (broker) refused the task: nothing will run

    state: str
    run_date: dt.date
    run: DunningRun | None  # the run as it stands after the request (None: not started yet)
    actions: int = 0  # what this request created (0 unless it completed)
    messages: int = 0
    holds: int = 0
    error: str = ""  # why the task could not be queued (NOT_QUEUED)


def dunning_run_request(*, organization: Organization, actor: Any, now: dt.datetime | None = None) -> RunRequest:
    """Run the organization's dunning for its local date now, ahead of the beat: the same Celery task
    (``receivables.dunning_run``) the beat queues, queued once the request's ledger entry has committed,
    so it runs in-process when Celery is eager (the embedded demo, which has no beat) and on a worker
    otherwise.

    Idempotent: a completed run is final (one run per organization and date), so once today's run has
    completed a request queues nothing and records nothing; and each level fires once per invoice
    whatever the number of requests and runs (the unique (organization, invoice, level) key)."""
    from ..tasks import dunning_run_org

    state = RunRequest.State
    run_date = organization.local_date(now)
    runs = DunningRun.objects.for_organization(organization).filter(run_date=run_date)
    before = runs.first()
    if before is not None and before.status == DunningRun.Status.COMPLETED:
        return RunRequest(state.ALREADY_COMPLETED, run_date, before)
    if not DunningPolicy.objects.for_organization(organization).filter(is_default=True).exists():
        raise AppError(ErrorCode.CONFLICT, gettext('The organization has no default dunning policy to run.'))
    org_id = organization.pk
    not_queued: list[str] = []

    def enqueue() -> None:
        try:
            dunning_run_org.delay(org_id, run_date.isoformat())
        except Exception as exc:
            if dunning_run_org.app.conf.task_always_eager:
                # the run failed in this process: it recorded the failure on its row (failed, with the
                # error, resumable), reported from there; the request's ledger entry has committed
                logger.exception("dunning run %s of organization %s failed", run_date, org_id)
            else:  # the broker refused the task: nothing will run, and the user must know it
                logger.exception("could not queue the dunning run %s of organization %s", run_date, org_id)
                not_queued.append(f"{type(exc).__name__}: {exc}"[:300])

    with transaction.atomic():
        audit_append(
            organization=organization,
            actor=actor,
            action="dunning.run_requested",
            obj=organization,
            after={"run_date": run_date, "run_status": before.status if before else None},
        )
        transaction.on_commit(enqueue)
    if not_queued:
        return RunRequest(state.NOT_QUEUED, run_date, runs.first(), error=not_queued[0])
    after = runs.first()
    attempted = after is not None and (before is None or after.attempts > before.attempts)
    if after is None or not attempted or after.status == DunningRun.Status.RUNNING:
        return RunRequest(state.QUEUED, run_date, after)
    if after.status == DunningRun.Status.FAILED:
        return RunRequest(state.FAILED, run_date, after)
    return RunRequest(
        state.COMPLETED,
        run_date,
        after,
        actions=after.actions - (before.actions if before else 0),
        messages=after.messages - (before.messages if before else 0),
        holds=after.holds - (before.holds if before else 0),
    )
