"""The parts of the customer 360 that lead to action: why the customer is on hold, how it has paid over
time, what was said to it, and who decided what (the audit trail). Each is one query bounded by the
customer, so the page costs the same whatever the size of the book."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Sum
from django.db.models.functions import TruncMonth

from credit_platform.models import AuditEntry, Organization
from receivables.models import Allocation, CallNote

from .models import Customer

HELD = (Customer.Status.ON_HOLD, Customer.Status.BLOCKED, Customer.Status.IN_DEFAULT)
AUDIT_ROWS = 25


def customer_audit_trail(organization: Organization, customer: Customer, limit: int = AUDIT_ROWS) -> list[AuditEntry]:
    """The newest ledger entries about the customer itself (profile, status, limit, holds)."""
    return list(
        AuditEntry.objects.filter(organization=organization, object_type=Customer._meta.label_lower,
                                  object_id=str(customer.pk))
        .order_by("-seq")[:limit]
    )


def hold_reason(trail: list[AuditEntry], customer: Customer) -> AuditEntry | None:
    """The ledger entry that put the customer in its current held status (its ``reason`` says why), from
    the trail already read for the page."""
    if customer.status not in HELD:
        return None
    for entry in trail:
        if entry.action == "customer.status_changed" and (entry.after or {}).get("status") == customer.status:
            return entry
    return None


@dataclass
class MonthBehaviour:
    month: dt.date
    paid: Any
    days_beyond_terms: float


def payment_behaviour(organization: Organization, customer: Customer, as_of: dt.date,
                      months: int = 12) -> list[MonthBehaviour]:
    """Days beyond terms per month of payment: the amount-weighted days between an invoice's due date
    and the day money was applied to it (early payment counts as 0), over the last ``months`` months."""
    start = (as_of.replace(day=1) - dt.timedelta(days=31 * (months - 1))).replace(day=1)
    rows = (
        Allocation.objects.filter(organization=organization, invoice__customer=customer,
                                  allocated_on__gte=start, allocated_on__lte=as_of)
        .annotate(month=TruncMonth("allocated_on"))
        .values("month", "invoice__due_date", "allocated_on")
        .annotate(amount=Sum("amount"))
        .order_by()
    )
    paid: dict[dt.date, Any] = {}
    weighted: dict[dt.date, float] = {}
    for r in rows:
        month = r["month"] if isinstance(r["month"], dt.date) else dt.date.fromisoformat(str(r["month"])[:10])
        month = month.date() if isinstance(month, dt.datetime) else month
        late = max((r["allocated_on"] - r["invoice__due_date"]).days, 0)
        paid[month] = paid.get(month, 0) + r["amount"]
        weighted[month] = weighted.get(month, 0.0) + late * float(r["amount"])
    return [MonthBehaviour(m, paid[m], weighted[m] / float(paid[m]) if paid[m] else 0.0) for m in sorted(paid)]


def behaviour_chart(points: list[MonthBehaviour], width: int = 320, height: int = 80) -> dict[str, Any]:
    """Bars of days beyond terms per month, scaled to the worst month (at least 30 days tall)."""
    if not points:
        return {"bars": [], "width": width, "height": height}
    top = max(30.0, *(p.days_beyond_terms for p in points))
    step = width / len(points)
    bars = []
    for i, p in enumerate(points):
        h = round(p.days_beyond_terms / top * (height - 14), 1)
        bars.append({"x": round(i * step + 2, 1), "w": round(max(step - 4, 2), 1), "y": round(height - 12 - h, 1),
                     "h": h, "point": p})
    return {"bars": bars, "width": width, "height": height, "top": top}


def recent_notes(organization: Organization, customer: Customer, limit: int = 10) -> list[CallNote]:
    return list(CallNote.objects.filter(organization=organization, customer=customer)
                .select_related("author").order_by("-contacted_at")[:limit])


def customer_dossier(organization: Organization, customer: Customer, as_of: dt.date) -> dict[str, Any]:
    trail = customer_audit_trail(organization, customer)
    behaviour = payment_behaviour(organization, customer, as_of)
    return {
        "audit_trail": trail,
        "hold": hold_reason(trail, customer),
        "behaviour": behaviour,
        "behaviour_chart": behaviour_chart(behaviour),
        "notes": recent_notes(organization, customer),
    }

