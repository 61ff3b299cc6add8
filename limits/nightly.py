"""The nightly step after scoring (same Celery canvas): recommended limits for every customer (chunked,
set-based reads, one upsert per chunk), automatic decreases for deteriorated customers where the policy
says so, increases routed for approval, lapsed limits and requests expired, reviews scheduled, dunning
holds lifted when their overdue is cleared."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from credit_platform.audit import AuditEvent, audit_append_many
from credit_platform.models import Organization
from credit_platform.money import ZERO, FxTable, money
from customers.models import Customer

from . import policy as rules
from . import reasons
from .models import CreditPolicy, Hold, LimitDecision, LimitRequest, RecommendedLimit, Review
from .selectors import customer_standing

# 5,000 customers per chunk: four grouped reads over their statements, scores and twelve months of
# invoices, and one upsert of 5,000 rows (~2 MB of steps JSON).
CHUNK_CUSTOMERS = 5000
# An increase is proposed when the recommendation exceeds the current limit by at least this share (and
# a decrease applied when it falls below it by as much): smaller moves are noise of a nightly re-score.
MOVE_THRESHOLD = Decimal("0.20")


@dataclass
class NightlyResult:
    recommended: int = 0
    decreased: int = 0
    proposed: int = 0
    expired_limits: int = 0
    expired_requests: int = 0
    reviews_opened: int = 0
    holds_lifted: int = 0

    def __post_init__(self) -> None:
        self.decreases: list[str] = []  # for the notification; not part of the ledger's counts

    def counts(self) -> dict[str, int]:
        return {k: v for k, v in self.__dict__.items() if isinstance(v, int)}


def _t(model: Any) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _inputs(organization: Organization, lo: int, hi: int, as_of: dt.date) -> dict[int, dict[str, Any]]:
    """Per customer of (lo, hi]: currency, limit, grade, PD, latest equity, twelve months' sales, reviewed."""
    from customers.models import FinancialStatement
    from receivables.models import Invoice
    from scoring.models import CurrentScore

    org_id = organization.pk
    out: dict[int, dict[str, Any]] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT c.id, c.currency, c.credit_limit, s.grade, s.pd,
                       EXISTS (SELECT 1 FROM {_t(LimitDecision)} d WHERE d.customer_id = c.id)
                       OR EXISTS (SELECT 1 FROM {_t(Review)} r WHERE r.customer_id = c.id AND r.status = 'done')
                FROM {_t(Customer)} c LEFT JOIN {_t(CurrentScore)} s ON s.customer_id = c.id
                WHERE c.organization_id = %s AND c.id > %s AND c.id <= %s""",  # noqa: S608
            [org_id, lo, hi])
        for cid, currency, limit, grade, pd, reviewed in cursor.fetchall():
            out[cid] = {"currency": currency, "limit": limit, "grade": grade, "pd": pd, "reviewed": bool(reviewed),
                        "equity": None, "equity_currency": None, "sales": {}}
        cursor.execute(  # ascending: the latest statement of a customer is the last one read
            f"""SELECT f.customer_id, f.equity, f.currency FROM {_t(FinancialStatement)} f
                WHERE f.organization_id = %s AND f.customer_id > %s AND f.customer_id <= %s AND f.period_end <= %s
                ORDER BY f.customer_id, f.period_end""",  # noqa: S608
            [org_id, lo, hi, as_of])
        for cid, equity, currency in cursor.fetchall():
            if cid in out:
                out[cid]["equity"], out[cid]["equity_currency"] = equity, currency
        cursor.execute(
            f"""SELECT i.customer_id, i.currency, sum(i.amount) FROM {_t(Invoice)} i
                WHERE i.organization_id = %s AND i.customer_id > %s AND i.customer_id <= %s
                  AND i.issue_date > %s AND i.issue_date <= %s
                GROUP BY i.customer_id, i.currency""",  # noqa: S608
            [org_id, lo, hi, as_of - dt.timedelta(days=365), as_of])
        for cid, currency, total in cursor.fetchall():
            if cid in out:
                out[cid]["sales"][currency] = total
    return out


def recommend_chunk(organization: Organization, policy: CreditPolicy, lo: int, hi: int,
                    as_of: dt.date) -> list[tuple[int, rules.Recommendation, dict[str, Any]]]:
    data = _inputs(organization, lo, hi, as_of)
    currencies = {d["currency"] for d in data.values()} | {d["equity_currency"] for d in data.values()
                                                             if d["equity_currency"]}
    currencies |= {cur for d in data.values() for cur in d["sales"]}
    fx = FxTable.load(organization, as_of, currencies)
    out = []
    for cid, d in sorted(data.items()):
        rate = fx.rates.get
        if any(rate(c) is None for c in [d["currency"], *d["sales"], *([d["equity_currency"]] if d["equity"]
                                                                         is not None else [])]):
            continue  # no rate: no recommendation rather than a wrong one
        sales = sum((fx.convert(Decimal(str(v)), c) for c, v in d["sales"].items()), ZERO)
        equity = fx.convert(Decimal(str(d["equity"])), d["equity_currency"]) if d["equity"] is not None else None
        rec = rules.recommend(policy, rules.Inputs(grade=d["grade"], pd=d["pd"], equity=equity, annual_sales=sales,
                                                   reviewed=d["reviewed"]))
        d["limit_base"] = None if d["limit"] is None else fx.convert(Decimal(str(d["limit"])), d["currency"])
        d["rate"] = fx.rates[d["currency"]]
        out.append((cid, rec, d))
    return out


def _upsert(organization: Organization, policy: CreditPolicy, rows: list[tuple[int, rules.Recommendation,
                                                                                dict[str, Any]]],
            as_of: dt.date) -> None:
    now = timezone.now()
    RecommendedLimit.objects.bulk_create(
        [RecommendedLimit(organization=organization, customer_id=cid, as_of=as_of, policy_version=policy.version,
                          grade=d["grade"], pd=d["pd"], amount=rec.amount, terms_days=rec.terms_days,
                          security=rec.security, prepayment_share=rec.prepayment_share,
                          review_months=rec.review_months, steps=rec.steps, computed_at=now)
         for cid, rec, d in rows],
        update_conflicts=True, unique_fields=["customer"],
        update_fields=["as_of", "policy_version", "grade", "pd", "amount", "terms_days", "security",
                       "prepayment_share", "review_months", "steps", "computed_at"],
    )


def nightly_chunk(organization: Organization, lo: int, hi: int, as_of: dt.date,
                  result: NightlyResult) -> None:
    """One chunk: recommendations upserted; decreases applied (policy permitting) in one batch with their
    decisions and ledger entries; increases proposed as requests from the nightly run."""
    from .services import decision_apply, limit_request_create, policy_current

    policy = policy_current(organization)
    rows = recommend_chunk(organization, policy, lo, hi, as_of)
    with transaction.atomic():
        _upsert(organization, policy, rows, as_of)
        result.recommended += len(rows)
        pending = set(LimitRequest.objects.for_organization(organization).filter(
            status=LimitRequest.Status.PENDING, customer_id__gt=lo, customer_id__lte=hi).values_list(
            "customer_id", flat=True))
        customers = {c.pk: c for c in Customer.objects.for_organization(organization).filter(
            pk__in=[cid for cid, _rec, d in rows if d["limit_base"] is not None])}
        for cid, rec, d in rows:
            current = d["limit_base"]
            if current is None or current <= 0 or cid in pending:
                continue
            if rec.amount < current * (1 - MOVE_THRESHOLD) and policy.auto_decrease:
                limit = money(rec.amount / d["rate"]) if d["rate"] else ZERO
                old = customers[cid].credit_limit
                decision_apply(organization=organization, customer=customers[cid], limit=limit,
                               kind=LimitDecision.Kind.AUTO_DECREASE, actor=None, decided_by="nightly policy",
                               as_of=as_of, reason=f"recommended {rec.amount} below the limit {current} "
                                                   f"(grade {d['grade']})")
                result.decreased += 1
                result.decreases.append(f"{customers[cid]}: {old} -> {limit} "
                                        f"{d['currency']} (grade {d['grade']})")
            elif rec.amount > current * (1 + MOVE_THRESHOLD):
                limit = money(rec.amount / d["rate"]) if d["rate"] else ZERO
                limit_request_create(organization=organization, customer=customers[cid], requested_limit=limit,
                                     actor=None, source=LimitRequest.Source.NIGHTLY, as_of=as_of,
                                     reason_code=reasons.NIGHTLY_RECOMMENDATION,
                                     reason_details={"amount": str(rec.amount), "currency": organization.base_currency,
                                                     "grade": d["grade"]})
                result.proposed += 1


def limits_expire(organization: Organization, as_of: dt.date) -> int:
    """Limits whose validity lapsed: an expired decision (limit 0) and a review due now."""
    from .services import decision_apply

    latest: dict[int, tuple[str, dt.date | None]] = {}
    for cid, kind, until in LimitDecision.objects.for_organization(organization).order_by(
            "customer_id", "-valid_from", "-pk").values_list("customer_id", "kind", "valid_until"):
        latest.setdefault(cid, (kind, until))
    lapsed = [cid for cid, (kind, until) in latest.items()
              if kind != LimitDecision.Kind.EXPIRED and until is not None and until < as_of]
    for customer in Customer.objects.for_organization(organization).filter(pk__in=lapsed):
        decision_apply(organization=organization, customer=customer, limit=ZERO, kind=LimitDecision.Kind.EXPIRED,
                       actor=None, decided_by="nightly policy", as_of=as_of, reason="limit validity lapsed")
    return len(lapsed)


def reviews_schedule(organization: Organization, as_of: dt.date) -> int:
    """Open a review for every customer without an open one: new customers (never reviewed) due now,
    after a downgrade in the last day due now, the others at their grade's frequency from their last
    review. One insert."""
    from scoring.models import CurrentScore, GradeChange

    from .services import policy_current

    policy = policy_current(organization)
    open_ids = set(Review.objects.for_organization(organization).filter(status=Review.Status.OPEN).values_list(
        "customer_id", flat=True))
    last_done = dict(Review.objects.for_organization(organization).filter(status=Review.Status.DONE).order_by(
        "customer_id", "completed_on").values_list("customer_id", "completed_on"))
    grades = dict(CurrentScore.objects.filter(organization=organization).values_list("customer_id", "grade"))
    downgraded = set(GradeChange.objects.filter(organization=organization, as_of=as_of, old_grade__isnull=False,
                                                new_grade__gt=F("old_grade")).values_list("customer_id",
                                                                                                flat=True))
    new = []
    for cid in Customer.objects.for_organization(organization).filter(
            status__in=[Customer.Status.ACTIVE, Customer.Status.PROSPECT, Customer.Status.ON_HOLD]).exclude(
            pk__in=open_ids).values_list("pk", flat=True):
        if cid in downgraded:
            new.append(Review(organization=organization, customer_id=cid, kind=Review.Kind.DOWNGRADE, due_on=as_of,
                              reason_code=reasons.GRADE_DOWNGRADED))
        elif cid not in last_done:
            new.append(Review(organization=organization, customer_id=cid, kind=Review.Kind.NEW_CUSTOMER,
                              due_on=as_of, reason_code=reasons.FIRST_REVIEW))
        else:
            months = rules.grade_rule(policy, grades.get(cid)).review_months
            new.append(Review(organization=organization, customer_id=cid, kind=Review.Kind.SCHEDULED,
                              due_on=rules.add_months(last_done[cid], months)))
    Review.objects.bulk_create(new, batch_size=5000)
    return len(new)


def dunning_holds_lift(organization: Organization, as_of: dt.date) -> int:
    """A dunning hold is lifted by the policy when the customer's weighted overdue is back within the
    tolerance (the overdue that caused it is cleared)."""
    from scoring.models import CurrentScore

    from .services import hold_release, policy_current

    policy = policy_current(organization)
    lifted = 0
    for hold in Hold.objects.for_organization(organization).filter(source=Hold.Source.DUNNING,
                                                                   released_at__isnull=True):
        grade = CurrentScore.objects.filter(customer_id=hold.customer_id).values_list("grade", flat=True).first()
        weighted = customer_standing(organization, hold.customer_id, as_of).weighted_overdue * rules.grade_rule(
            policy, grade).overdue_weight
        if weighted <= policy.overdue_tolerance:
            hold_release(organization, hold, reason="", actor=None, reason_code=reasons.OVERDUE_CLEARED,
                         reason_details={"weighted": str(money(weighted))})
            lifted += 1
    return lifted


def notify_decreases(organization: Organization, lines: list[str], day: dt.date) -> int:
    """One e-mail per night to the organization's credit managers and administrators listing the limits
    the policy decreased (the ledger has each decision)."""
    from django.core.mail import EmailMessage

    from credit_platform.models import Membership
    from credit_platform.roles import Role

    to = sorted({m.user.email for m in Membership.objects.filter(
        organization=organization, is_active=True, role__in=[Role.CREDIT_MANAGER, Role.ADMIN]).select_related(
        "user") if m.user.email})
    if not to or not lines:
        return 0
    from django.utils.translation import gettext as _

    more = _("... and %(count)s more") % {"count": len(lines) - 200} if len(lines) > 200 else ""
    body = "\n".join([*lines[:200], more]).strip()
    subject = _("%(org)s: %(count)s credit limit(s) decreased by the policy on %(day)s") % {
        "org": organization.name, "count": len(lines), "day": day.isoformat()}
    EmailMessage(subject=subject, body=body, to=to).send()
    return len(to)


def nightly_run(organization: Organization, as_of: dt.date | None = None,
                chunk_customers: int = CHUNK_CUSTOMERS, notify: bool = True) -> NightlyResult:
    """The whole step for one organization, chunk by chunk (keyset on customer id)."""
    from .services import requests_expire

    day = as_of or organization.local_date()
    result = NightlyResult()
    result.expired_requests = requests_expire(organization=organization, as_of=day)
    result.expired_limits = limits_expire(organization, day)
    ids = list(Customer.objects.for_organization(organization).order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), chunk_customers):
        part = ids[start:start + chunk_customers]
        nightly_chunk(organization, part[0] - 1, part[-1], day, result)
    result.reviews_opened = reviews_schedule(organization, day)
    result.holds_lifted = dunning_holds_lift(organization, day)
    audit_append_many(organization=organization, actor=None, events=[AuditEvent(
        "limits.nightly", ("limits.nightly", day.isoformat()), None, result.counts(), "nightly run")])
    if notify and result.decreases:
        lines = list(result.decreases)
        transaction.on_commit(lambda: notify_decreases(organization, lines, day))
    return result
