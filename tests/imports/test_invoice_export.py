"""A client's own invoice-level export, loaded through a saved mapping in one pass: the receivables figures
at two past dates equal an independent pandas computation over the same export."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest

from credit_platform.imports.engine import import_file
from credit_platform.imports.services import mapping_for, mapping_save
from credit_platform.models import ImportLog
from customers.models import Customer
from receivables.kpis import portfolio_figures
from receivables.models import Allocation, Dispute, Invoice, Payment
from tests.factories import OrganizationFactory

from .export_data import COUNTRIES, MAPPING_COLUMNS, MAPPING_FORMAT, make_export, to_csv_text

pytestmark = pytest.mark.django_db

BUCKETS = [("current", None, 0), ("d1_30", 1, 30), ("d31_60", 31, 60), ("d61_90", 61, 90),
           ("d91_180", 91, 180), ("d180_plus", 181, None)]


def _window_end(as_of: pd.Timestamp, months: int) -> pd.Timestamp:
    """Month windows counted back from the as-of date: calendar months at a month end, else the same day
    of the month (clamped)."""
    if as_of.is_month_end:
        return as_of - pd.offsets.MonthEnd(months) if months else as_of
    return as_of - pd.DateOffset(months=months)


def expected_figures(export: pd.DataFrame, as_of: dt.date) -> dict:
    """Aging, DSO (countback) and CEI from the export alone, with pandas."""
    t = pd.Timestamp(as_of)

    def open_at(day: pd.Timestamp) -> pd.DataFrame:
        book = export.loc[export["issue_date"] <= day].copy()
        paid = book["settled_on"].notna() & (book["settled_on"] <= day)
        book["open"] = book["amount"].where(~paid, 0.0)
        book = book.loc[book["open"] > 0]
        book["dpd"] = (day - book["due_date"]).dt.days.clip(lower=0)
        return book

    book = open_at(t)
    aging = {}
    for key, low, high in BUCKETS:
        sel = book["dpd"] <= 0 if key == "current" else (book["dpd"] >= low) & (
            book["dpd"] <= (high if high is not None else 10**9))
        aging[key] = round(float(book.loc[sel, "open"].sum()), 2)
    total = round(float(book["open"].sum()), 2)
    left, days = total, 0.0
    for k in range(24):
        hi, lo = _window_end(t, k), _window_end(t, k + 1)
        sales = float(export.loc[(export["issue_date"] > lo) & (export["issue_date"] <= hi), "amount"].sum())
        length = (hi - lo).days
        if sales > 0 and left <= sales:
            days += left / sales * length
            break
        left -= max(sales, 0)
        days += length
    start = _window_end(t, 1)
    beginning = float(open_at(start)["open"].sum())
    sales_month = float(export.loc[(export["issue_date"] > start) & (export["issue_date"] <= t), "amount"].sum())
    denominator = beginning + sales_month - aging["current"]
    cei = (beginning + sales_month - total) / denominator * 100 if denominator else None
    return {"aging": aging, "total": total, "dso": days, "cei": cei}


def test_invoice_export_through_a_saved_mapping_matches_pandas_at_two_past_dates(tmp_path):
    org = OrganizationFactory(name="Adopter", slug="adopter", base_currency="EUR")
    export = make_export()
    path = tmp_path / "ar_export.csv"
    path.write_text(to_csv_text(export), encoding="utf-8")

    # given: the mapping a person saved for this organization's exports (offered for every later file)
    mapping_save(organization=org, kind="invoice_export", columns=MAPPING_COLUMNS, defaults={},
                 file_format=MAPPING_FORMAT)
    saved = mapping_for(org, "invoice_export")
    assert saved is not None

    # when: the file is imported once, with the saved mapping
    log = import_file(organization=org, kind="invoice_export", path=path, options=saved.options())

    # then: one pass created the customers, invoices, payments and disputes
    assert log.status == ImportLog.Status.SUCCEEDED, (log.message, log.errors[:5])
    n_customers = export["customer_external_id"].nunique()
    assert Customer.objects.for_organization(org).count() == n_customers
    assert Invoice.objects.for_organization(org).count() == len(export)
    assert Payment.objects.for_organization(org).count() == int(export["settled_on"].notna().sum())
    assert Dispute.objects.for_organization(org).count() == int(export["disputed"].sum())
    germany = export.loc[export["country"] == 276, "customer_external_id"].iloc[0]
    assert Customer.objects.get(organization=org, external_id=germany).country_id == "DE"
    assert set(Customer.objects.for_organization(org).values_list("country_id", flat=True)) <= set(COUNTRIES.values())
    assert set(Customer.objects.for_organization(org).values_list("sector_id", "currency")) == {("UNK", "EUR")}
    # every payment settled the invoice of its row, not the customer's oldest one
    pairs = set(Allocation.objects.for_organization(org).filter(payment__isnull=False)
                .values_list("payment__reference", "invoice__number"))
    assert pairs == {(f"{n}-PAY", n) for n in export.loc[export["settled_on"].notna(), "invoice_number"]}
    assert [b["kind"] for b in log.detail.breakdown] == ["customers", "invoices", "payments", "disputes"]
    assert set(log.detail.ignored_columns) == {"region", "sales_rep", "document_type"}

    # and: aging, DSO and CEI at two past dates equal the independent computation
    for as_of in (dt.date(2026, 3, 31), dt.date(2026, 7, 15)):
        expected = expected_figures(export, as_of)
        figures = portfolio_figures(org, as_of)
        got = {key: figures.aging.buckets.get(key, Decimal(0)) for key, _l, _h in BUCKETS}
        assert got == {k: Decimal(str(v)).quantize(Decimal("0.01")) for k, v in expected["aging"].items()}, as_of
        assert figures.total == Decimal(str(expected["total"])).quantize(Decimal("0.01"))
        assert figures.dso == pytest.approx(expected["dso"], abs=0.01), as_of
        assert figures.cei == pytest.approx(expected["cei"], abs=0.01), as_of

    # a re-sent file creates nothing twice
    again = import_file(organization=org, kind="invoice_export", path=path, options=saved.options())
    assert again.status == ImportLog.Status.SUCCEEDED and again.created == 0, again.message
    assert Invoice.objects.for_organization(org).count() == len(export)
