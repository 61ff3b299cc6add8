"""Reads for collectors: the prioritised worklist and a customer's collections file. Balances and days
past due come from ``receivables.balances`` (through ``customer_balances`` and ``Invoice.objects.open``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Max, Min, Q
from django.utils.translation import gettext as _

from credit_platform.models import Organization
from customers.models import Customer

from .models import (
    CallNote,
    CollectionProfile,
    CollectionTask,
    Dispute,
    DunningAction,
    DunningMessage,
    Invoice,
    PromiseToPay,
)
from .selectors import CustomerBalance, customer_balances, invoices_of, payments_of

STATUS_WEIGHT = {
    Customer.Status.IN_DEFAULT: 3.0,
    Customer.Status.BLOCKED: 2.5,
    Customer.Status.ON_HOLD: 2.0,
}


def customer_risk_weights(
    organization: Organization,
    customer_ids: list[int],
    *,
    as_of: dt.date | None = None,
    balances: dict[int, CustomerBalance] | None = None,
) -> dict[int, float]:
    """Risk weight per customer, the multiplier of the overdue amount in the worklist's priority.

    Scored customers: ``1 + 9 x PD`` of their current score (1 for a customer certain to pay, 10 for one
    certain to default), so priority = overdue x risk ranks a large, likely loss first. Customers the
    scoring run has not reached yet (added since the last run) get a proxy on the same 1..9 range:
    status (in default 3, blocked 2.5, on hold 2, else 1) times ``1 + min(max days past due, 180) / 90``.
    Nothing else in collections reads risk.
    """
    from scoring.models import CurrentScore

    pds = dict(
        CurrentScore.objects.for_organization(organization)
        .filter(customer_id__in=customer_ids)
        .values_list("customer_id", "pd")
    )
    as_of = as_of or organization.local_date()
    if balances is None:
        balances = customer_balances(organization, as_of, customer_ids)
    statuses = dict(
        Customer.objects.for_organization(organization)
        .filter(pk__in=customer_ids)
        .values_list("pk", "status")
    )
    out = {}
    for cid in customer_ids:
        if cid in pds:
            out[cid] = 1.0 + 9.0 * float(pds[cid])
            continue
        bal = balances.get(cid)
        dpd = bal.max_days_past_due(as_of) if bal else 0
        out[cid] = STATUS_WEIGHT.get(statuses.get(cid, ""), 1.0) * (1 + min(dpd, 180) / 90)
    return out


@dataclass
class WorkItem:
    customer: Customer
    overdue: Decimal
    open: Decimal
    max_dpd: int
    weight: float
    collector: Any = None
    next_action: dt.date | None = None
    next_action_label: str = ""
    open_tasks: int = 0
    promise: PromiseToPay | None = None
    broken_promise: bool = False
    disputes: int = 0
    last_contact: Any = None

    @property
    def priority(self) -> Decimal:
        return self.overdue * Decimal(str(round(self.weight, 4)))


def worklist(
    organization: Organization,
    as_of: dt.date,
    *,
    collector: Any = None,
    unassigned: bool = False,
    q: str = "",
) -> list[tuple[int, Decimal, float, CustomerBalance]]:
    """Every customer with an overdue balance, by priority (overdue amount x risk weight), highest first:
    (customer id, priority, weight, balance). Two grouped queries whatever the number of customers;
    ``worklist_page`` then details one page."""
    balances = {cid: b for cid, b in customer_balances(organization, as_of).items() if b.overdue > 0}
    ids = list(balances)
    if collector is not None or unassigned or q:
        qs = Customer.objects.for_organization(organization).filter(pk__in=ids)
        if collector is not None:
            qs = qs.filter(collection_profile__collector=collector)
        if unassigned:
            qs = qs.filter(Q(collection_profile__isnull=True) | Q(collection_profile__collector__isnull=True))
        if q:
            qs = qs.filter(Q(legal_name__icontains=q) | Q(external_id__iexact=q))
        ids = list(qs.values_list("pk", flat=True))
    weights = customer_risk_weights(organization, ids, as_of=as_of, balances=balances)
    rows = [
        (cid, balances[cid].overdue * Decimal(str(round(weights[cid], 4))), weights[cid], balances[cid])
        for cid in ids
    ]
    rows.sort(key=lambda r: (r[1], r[0]), reverse=True)
    return rows


def worklist_page(
    organization: Organization, as_of: dt.date, rows: list[tuple[int, Decimal, float, CustomerBalance]]
) -> list[WorkItem]:
    """Details for one page of the worklist: a fixed number of queries whatever the page size."""
    ids = [r[0] for r in rows]
    customers = Customer.objects.for_organization(organization).in_bulk(ids)
    profiles = {
        p.customer_id: p
        for p in CollectionProfile.objects.for_organization(organization)
        .filter(customer_id__in=ids)
        .select_related("collector")
    }
    tasks = {
        r["customer_id"]: r
        for r in CollectionTask.objects.for_organization(organization)
        .filter(customer_id__in=ids, status=CollectionTask.Status.OPEN)
        .values("customer_id")
        .annotate(n=Count("id"), next=Min("due_date"))
    }
    promises: dict[int, PromiseToPay] = {}
    broken: set[int] = set()
    for p in (
        PromiseToPay.objects.for_organization(organization)
        .filter(customer_id__in=ids)
        .exclude(status=PromiseToPay.Status.CANCELLED)
        .order_by("customer_id", "-made_on", "-pk")
    ):
        if p.status == PromiseToPay.Status.OPEN and p.customer_id not in promises:
            promises[p.customer_id] = p
        if p.status == PromiseToPay.Status.BROKEN and p.closed_on and (as_of - p.closed_on).days <= 90:
            broken.add(p.customer_id)
    disputes = dict(
        Dispute.objects.for_organization(organization)
        .filter(customer_id__in=ids, status="open")
        .values("customer_id")
        .annotate(n=Count("id"))
        .values_list("customer_id", "n")
    )
    contacts = dict(
        CallNote.objects.for_organization(organization)
        .filter(customer_id__in=ids)
        .values("customer_id")
        .annotate(last=Max("contacted_at"))
        .values_list("customer_id", "last")
    )
    items = []
    for cid, _priority, weight, bal in rows:
        profile = profiles.get(cid)
        task = tasks.get(cid)
        promise = promises.get(cid)
        item = WorkItem(
            customer=customers[cid],
            overdue=bal.overdue,
            open=bal.open,
            max_dpd=bal.max_days_past_due(as_of),
            weight=weight,
            collector=profile.collector if profile else None,
            open_tasks=task["n"] if task else 0,
            promise=promise,
            broken_promise=cid in broken,
            disputes=disputes.get(cid, 0),
            last_contact=contacts.get(cid),
        )
        candidates = []
        if task:
            candidates.append((task["next"], "task"))
        if promise:
            candidates.append((promise.promised_date, "promise due"))
        if candidates:
            item.next_action, item.next_action_label = min(candidates)
        items.append(item)
    return items


@dataclass
class InvoiceLine:
    invoice: Invoice
    open_amount: Decimal
    days_past_due: int
    last_level: str = ""
    last_dunned: dt.date | None = None
    dispute: Dispute | None = None
    promised: bool = False


@dataclass
class CollectionsFile:
    customer: Customer
    profile: CollectionProfile | None
    balance: CustomerBalance | None
    weight: float
    invoices: list[InvoiceLine] = field(default_factory=list)
    history: list[tuple[Any, str, str, str]] = field(default_factory=list)  # (when, kind, title, detail)
    tasks: list[CollectionTask] = field(default_factory=list)
    promises: list[PromiseToPay] = field(default_factory=list)
    disputes: list[Dispute] = field(default_factory=list)
    pd: float | None = None  # the current score's PD behind ``weight`` (None: the unscored proxy)


def collections_file(organization: Organization, customer: Customer, as_of: dt.date) -> CollectionsFile:
    """A customer's collections file: open items with their dunning state, tasks, promises, disputes
    and a merged history (dunning messages, calls, promises, disputes, payments), newest first."""
    balance = customer_balances(organization, as_of, [customer.pk]).get(customer.pk)
    weights = customer_risk_weights(
        organization, [customer.pk], as_of=as_of, balances={customer.pk: balance} if balance else {}
    )
    profile = (
        CollectionProfile.objects.filter(customer=customer).select_related("collector", "policy").first()
    )
    from scoring.models import CurrentScore

    f = CollectionsFile(customer=customer, profile=profile, balance=balance, weight=weights[customer.pk])
    f.pd = (
        CurrentScore.objects.for_organization(organization)
        .filter(customer=customer)
        .values_list("pd", flat=True)
        .first()
    )
    open_invoices = list(
        invoices_of(organization)
        .filter(customer=customer)
        .open(as_of)
        .order_by("due_date", "number")[:200]
    )
    ids = [i.pk for i in open_invoices]
    last: dict[int, tuple[dt.date, str]] = {}
    for inv_id, day, name in (
        DunningAction.objects.for_organization(organization)
        .filter(invoice_id__in=ids)
        .order_by("invoice_id", "run_date")
        .values_list("invoice_id", "run_date", "level__name")
    ):
        last[inv_id] = (day, name)
    f.disputes = list(
        Dispute.objects.for_organization(organization)
        .filter(customer=customer)
        .select_related("invoice", "opened_by")[:50]
    )
    open_disputes = {d.invoice_id: d for d in f.disputes if d.status == Dispute.Status.OPEN}
    f.promises = list(
        PromiseToPay.objects.for_organization(organization)
        .filter(customer=customer)
        .select_related("created_by")
        .prefetch_related("coverage__invoice")[:50]
    )
    promised_invoices = {
        c.invoice_id for p in f.promises if p.status == PromiseToPay.Status.OPEN for c in p.coverage.all()
    }
    for inv in open_invoices:
        day_level = last.get(inv.pk)
        f.invoices.append(
            InvoiceLine(
                invoice=inv,
                open_amount=inv.open_amount,
                days_past_due=inv.days_past_due(as_of, inv.open_amount),
                last_level=day_level[1] if day_level else "",
                last_dunned=day_level[0] if day_level else None,
                dispute=open_disputes.get(inv.pk),
                promised=inv.pk in promised_invoices,
            )
        )
    f.tasks = list(
        CollectionTask.objects.for_organization(organization)
        .filter(customer=customer)
        .select_related("assigned_to")
        .order_by("status", "due_date")[:50]
    )
    history: list[tuple[Any, str, str, str]] = []
    messages = (
        DunningMessage.objects.for_organization(organization)
        .filter(customer=customer)
        .select_related("level", "run")
        .order_by("-pk")[:50]
    )
    notes = CallNote.objects.for_organization(organization).filter(customer=customer).select_related("author")
    payments = payments_of(organization).filter(customer=customer).order_by("-received_on")
    history += [
        (m.run.run_date, "dunning", f"{m.level.name} ({m.get_status_display().lower()})", m.to_email)
        for m in messages
    ]
    history += [
        (n.contacted_at.date(), "call", n.get_outcome_display(),
         f"{n.author.get_username() if n.author else ''}: {n.note}".strip(": "))
        for n in notes[:50]
    ]
    history += [
        (p.made_on, "promise", _("Promise %(amount)s %(currency)s by %(day)s") % {
            "amount": p.amount, "currency": p.currency, "day": p.promised_date},
         p.get_status_display())
        for p in f.promises
    ]
    history += [
        (d.opened_on, "dispute", _("Dispute on %(number)s: %(reason)s") % {
            "number": d.invoice.number, "reason": d.get_reason_display()},
         d.get_status_display())
        for d in f.disputes
    ]
    history += [
        (pay.received_on, "payment",
         _("Payment %(amount)s %(currency)s") % {"amount": pay.amount, "currency": pay.currency}, pay.reference)
        for pay in payments[:30]
    ]
    history.sort(key=lambda h: h[0] if isinstance(h[0], dt.date) else h[0].date(), reverse=True)
    f.history = history[:100]
    return f
