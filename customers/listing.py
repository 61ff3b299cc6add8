"""The customer list that finds the risk: grade, PD, exposure, overdue, limit use, trend, collector and
status per customer, filtered, searched, sorted and paginated, as of any date.

Query budget (fixed whatever the book's size): the filtered customer query (grade, PD, trend, collector
and open alerts are annotated on it), one grouped read of open balances and one of open orders. Sorting by
a figure that lives in the balances (exposure, overdue, limit use, days past due) reads the balances of
every filtered customer once; any other sort reads only the page's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Lower

from credit_platform.models import Organization
from credit_platform.money import ZERO, FxTable
from scoring.models import GradeChange, Score

from .models import Customer

PAGE_SIZE = 50
FILTERS = ("grade", "sector", "country", "status", "collector", "alerts", "size")
# sort key -> (database ordering, or None when the figure comes from the balances)
DB_SORTS: dict[str, Any] = {
    "name": Lower("legal_name"),
    "id": F("external_id"),
    "grade": F("grade_now"),
    "pd": F("pd_now"),
    "status": F("status"),
    "collector": F("collector_name"),
    "country": F("country_id"),
    "sector": F("sector_id"),
}
FIGURE_SORTS = ("exposure", "overdue", "use", "dpd")
SORTS = (*DB_SORTS, *FIGURE_SORTS)


def customer_exposure(organization: Organization, as_of: dt.date,
                      customer_ids: list[int] | None = None) -> tuple[dict[int, Any], dict[int, Decimal]]:
    """Balances (open, overdue, oldest due) and exposure in base currency per customer, as the limits app
    defines exposure (``limits.selectors.balances_and_exposure``)."""
    from limits.selectors import balances_and_exposure

    return balances_and_exposure(organization, as_of, customer_ids)


@dataclass
class CustomerQuery:
    """What the list was asked for, parsed from the query string; bad values fall back to no filter."""

    q: str = ""
    filters: dict[str, str] = field(default_factory=dict)
    sort: str = "name"
    descending: bool = False

    @classmethod
    def from_params(cls, params: Any) -> CustomerQuery:
        raw_sort = params.get("sort", "") or "name"
        descending = raw_sort.startswith("-")
        sort = raw_sort.lstrip("-")
        if sort not in SORTS:
            sort, descending = "name", False
        filters = {name: params.get(name, "").strip() for name in FILTERS if params.get(name, "").strip()}
        return cls(q=params.get("q", "").strip(), filters=filters, sort=sort, descending=descending)

    @property
    def sort_param(self) -> str:
        return ("-" if self.descending else "") + self.sort


def _score_columns(organization: Organization, as_of: dt.date, today: dt.date) -> dict[str, Any]:
    """Grade and PD as they stood at ``as_of``: the current score for today, else the last score given on
    or before that date."""
    if as_of >= today:
        return {"grade_now": F("current_score__grade"), "pd_now": F("current_score__pd")}
    scores = Score.objects.filter(organization=organization, customer=OuterRef("pk"), as_of__lte=as_of).order_by(
        "-as_of")
    return {"grade_now": Subquery(scores.values("grade")[:1]), "pd_now": Subquery(scores.values("pd")[:1])}


def customer_queryset(organization: Organization, query: CustomerQuery, as_of: dt.date) -> QuerySet[Customer]:
    today = organization.local_date()
    changes = GradeChange.objects.filter(organization=organization, customer=OuterRef("pk"), as_of__lte=as_of)
    from alerts.models import Alert

    open_alerts = Alert.objects.filter(organization=organization, customer=OuterRef("pk"),
                                       status__in=[Alert.Status.OPEN, Alert.Status.ACKNOWLEDGED])
    qs = (
        Customer.objects.for_organization(organization)
        .select_related("country", "sector", "group")
        .annotate(
            **_score_columns(organization, as_of, today),
            prev_grade=Subquery(changes.order_by("-as_of", "-pk").values("old_grade")[:1]),
            last_grade=Subquery(changes.order_by("-as_of", "-pk").values("new_grade")[:1]),
            collector_name=F("collection_profile__collector__username"),
            collector_id=F("collection_profile__collector_id"),
            has_alerts=Exists(open_alerts),
        )
    )
    if query.q:
        qs = qs.filter(Q(legal_name__icontains=query.q) | Q(external_id__iexact=query.q)
                       | Q(registration_number__iexact=query.q) | Q(group__name__icontains=query.q))
    f = query.filters
    if f.get("grade", "").isdigit():
        qs = qs.filter(grade_now=int(f["grade"]))
    elif f.get("grade") == "none":
        qs = qs.filter(grade_now__isnull=True)
    for name, column in (("sector", "sector_id"), ("country", "country_id"), ("status", "status"),
                         ("size", "size")):
        if f.get(name):
            qs = qs.filter(**{column: f[name]})
    if f.get("collector") == "none":
        qs = qs.filter(collector_id__isnull=True)
    elif f.get("collector", "").isdigit():
        qs = qs.filter(collector_id=int(f["collector"]))
    if f.get("alerts") == "1":
        qs = qs.filter(has_alerts=True)
    elif f.get("alerts") == "0":
        qs = qs.filter(has_alerts=False)
    return qs


@dataclass
class CustomerRow:
    customer: Customer
    grade: int | None
    pd: float | None
    open: Decimal
    overdue: Decimal
    exposure: Decimal
    max_dpd: int
    limit_base: Decimal | None  # the credit limit in base currency
    use: float | None  # exposure / limit, percent
    trend: str  # "up" (worse grade), "down" (better), "" (no change or no history)
    collector: str
    has_alerts: bool


def _rows(organization: Organization, customers: list[Customer], as_of: dt.date,
          figures: tuple[dict[int, Any], dict[int, Decimal]] | None = None) -> list[CustomerRow]:
    balances, exposure = figures or customer_exposure(organization, as_of, [c.pk for c in customers])
    fx = FxTable.load(organization, as_of, {c.currency for c in customers if c.credit_limit is not None})
    rows = []
    for c in customers:
        bal = balances.get(c.pk)
        expo = exposure.get(c.pk, ZERO)
        limit_base = None
        if c.credit_limit is not None:
            limit_base = c.credit_limit if c.currency == fx.base_currency else fx.convert(c.credit_limit, c.currency)
        prev, last = getattr(c, "prev_grade", None), getattr(c, "last_grade", None)
        trend = "" if prev is None or last is None or prev == last else ("up" if last > prev else "down")
        rows.append(CustomerRow(
            customer=c, grade=c.grade_now, pd=c.pd_now,  # type: ignore[attr-defined]
            open=bal.open if bal else ZERO, overdue=bal.overdue if bal else ZERO, exposure=expo,
            max_dpd=bal.max_days_past_due(as_of) if bal else 0, limit_base=limit_base,
            use=float(expo / limit_base * 100) if limit_base else None, trend=trend,
            collector=c.collector_name or "", has_alerts=c.has_alerts,  # type: ignore[attr-defined]
        ))
    return rows


def _figure(row: CustomerRow, sort: str) -> Any:
    return {"exposure": row.exposure, "overdue": row.overdue, "use": row.use, "dpd": row.max_dpd}[sort]


@dataclass
class CustomerListing:
    page: Page
    rows: list[CustomerRow]
    count: int


def customer_listing(organization: Organization, query: CustomerQuery, as_of: dt.date,
                     page: Any = 1, page_size: int | None = PAGE_SIZE) -> CustomerListing:
    """One page of rows (``page_size=None``: every row, for exports)."""
    qs = customer_queryset(organization, query, as_of)
    if query.sort in DB_SORTS:
        expression = DB_SORTS[query.sort]
        order = expression.desc(nulls_last=True) if query.descending else expression.asc(nulls_last=True)
        qs = qs.order_by(order, "pk")
        paginator = Paginator(qs, page_size or max(qs.count(), 1))
        current = paginator.get_page(page)
        rows = _rows(organization, list(current.object_list), as_of)
        return CustomerListing(page=current, rows=rows, count=paginator.count)
    # figure sorts: the figures of every filtered customer, then sort and cut the page in Python
    customers = list(qs.order_by("pk"))
    figures = customer_exposure(organization, as_of, None if not (query.q or query.filters)
                                else [c.pk for c in customers])
    all_rows = _rows(organization, customers, as_of, figures)
    present = [r for r in all_rows if _figure(r, query.sort) is not None]
    missing = [r for r in all_rows if _figure(r, query.sort) is None]
    present.sort(key=lambda r: (_figure(r, query.sort), -r.customer.pk), reverse=query.descending)
    ordered = present + missing
    rows_paginator: Paginator[Any] = Paginator(ordered, page_size or max(len(ordered), 1))
    rows_page = rows_paginator.get_page(page)
    return CustomerListing(page=rows_page, rows=list(rows_page.object_list), count=rows_paginator.count)
