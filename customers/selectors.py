"""Reads for customer pages and the API: the filtered list and the customer 360 view."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet

from credit_platform.models import Organization
from credit_platform.money import ZERO
from receivables.models import Invoice, Order, Payment
from receivables.selectors import customer_balances, open_orders_by_customer

from . import statements
from .models import Customer


def customer_list(organization: Organization, *, q: str = "", filters: dict[str, Any] | None = None) -> QuerySet:
    qs = Customer.objects.for_organization(organization).select_related("country", "sector", "group")
    if q:
        qs = qs.filter(
            Q(legal_name__icontains=q) | Q(external_id__iexact=q) | Q(registration_number__iexact=q)
            | Q(group__name__icontains=q)
        )
    for key, value in (filters or {}).items():
        if value not in (None, ""):
            qs = qs.filter(**{key: value})
    return qs


def page_balances(organization: Organization, customers: list[Customer], as_of: dt.date) -> list[dict[str, Any]]:
    """Open, overdue and exposure for one page of customers: two grouped queries, not two per row."""
    from limits.selectors import balances_and_exposure

    balances, exposure = balances_and_exposure(organization, as_of, [c.pk for c in customers])
    rows = []
    for c in customers:
        bal = balances.get(c.pk)
        open_ = bal.open if bal else 0
        rows.append({
            "customer": c,
            "open": open_,
            "overdue": bal.overdue if bal else 0,
            "max_dpd": bal.max_days_past_due(as_of) if bal else 0,
            "exposure": exposure.get(c.pk, 0),
        })
    return rows


def customer_360(organization: Organization, customer: Customer, as_of: dt.date) -> dict[str, Any]:
    stmts = list(customer.statements.order_by("-period_end")[:5])
    stmt_rows = []
    for s in stmts:
        r = s.ratios
        stmt_rows.append({"statement": s, "ratios": r, "zone": statements.altman_zone(r["altman_z2"])})
    open_invoices = list(
        Invoice.objects.for_organization(organization).filter(customer=customer).open(as_of).order_by("due_date")[:50]
    )
    for inv in open_invoices:
        inv.dpd = inv.days_past_due(as_of, inv.open_amount)  # type: ignore[attr-defined]  # annotated above
    from limits.selectors import exposure_from

    balance = customer_balances(organization, as_of, [customer.pk]).get(customer.pk)
    open_orders = open_orders_by_customer(organization, as_of, [customer.pk]).get(customer.pk, ZERO)
    exposure = exposure_from({customer.pk: balance} if balance else {}, {customer.pk: open_orders}).get(
        customer.pk, 0)
    return {
        "statements": stmt_rows,
        "ratio_labels": statements.RATIO_LABELS,
        "open_invoices": open_invoices,
        "balance": balance,
        "max_dpd": balance.max_days_past_due(as_of) if balance else 0,
        "open_orders": open_orders,
        "exposure": exposure,
        "utilisation": exposure / customer.credit_limit * 100 if customer.credit_limit else None,
        "payments": list(Payment.objects.for_organization(organization).filter(customer=customer)
                         .with_unapplied().order_by("-received_on")[:10]),
        "orders": list(Order.objects.for_organization(organization).filter(customer=customer,
                                                                           status=Order.Status.OPEN)[:10]),
        "signals": list(customer.signals.order_by("-observed_on")[:15]),
        "group_members": list(
            Customer.objects.for_organization(organization).filter(group=customer.group).exclude(pk=customer.pk)[:20]
        ) if customer.group_id else [],
    }
