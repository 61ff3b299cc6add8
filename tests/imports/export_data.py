"""A realistic invoice-level accounts-receivable export, as a client's accounting system writes it: one row
per invoice, customer id, numeric ISO country code, dd/mm/yyyy dates, amount, settled date, a disputed
flag and columns the platform has no use for."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

HEADERS = {
    "customer_external_id": "Customer ID", "customer_name": "Customer Name", "country": "Country Code",
    "invoice_number": "Invoice ID", "issue_date": "Invoice Date", "due_date": "Due Date",
    "amount": "Invoice Amount", "settled_on": "Settled Date", "disputed": "Disputed",
}
# numeric ISO 3166 codes: Germany, France, Italy, Spain, China, United States, United Kingdom
COUNTRIES = {276: "DE", 250: "FR", 380: "IT", 724: "ES", 156: "CN", 840: "US", 826: "GB"}


def make_export(*, customers: int = 30, invoices: int = 700, seed: int = 7,
                start: dt.date = dt.date(2025, 1, 2), end: dt.date = dt.date(2026, 10, 30)) -> pd.DataFrame:
    """The export as the facts it states (typed); ``to_csv_text`` writes it the way the client's file is."""
    rng = np.random.default_rng(seed)
    cust = pd.DataFrame({
        "customer_external_id": [f"{1000 + i}" for i in range(customers)],
        "customer_name": [f"Customer {i} Ltd" for i in range(customers)],
        "country": rng.choice(list(COUNTRIES), customers),
        "terms": rng.choice([30, 45, 60], customers),
        "lateness": rng.gamma(1.5, 12, customers),  # mean days paid after due
    })
    days = (end - start).days
    pick = rng.integers(0, customers, invoices)
    issue = pd.to_datetime(start) + pd.to_timedelta(rng.integers(0, days, invoices), unit="D")
    due = issue + pd.to_timedelta(cust["terms"].to_numpy()[pick], unit="D")
    delay = rng.normal(cust["lateness"].to_numpy()[pick], 8).round().astype(int)
    settled = due + pd.to_timedelta(delay, unit="D")
    settled = settled.where(settled >= issue, issue)
    # unpaid: 12% of invoices, and whatever would be settled after the export date
    unpaid = (rng.random(invoices) < 0.12) | (settled > pd.Timestamp(end))
    amount = (rng.lognormal(7.5, 1.0, invoices)).round(2).clip(10, None)
    frame = pd.DataFrame({
        "customer_external_id": cust["customer_external_id"].to_numpy()[pick],
        "customer_name": cust["customer_name"].to_numpy()[pick],
        "country": cust["country"].to_numpy()[pick],
        "invoice_number": [f"INV-{2025000 + i}" for i in range(invoices)],
        "issue_date": issue, "due_date": due, "amount": amount,
        "settled_on": settled.where(~unpaid),
        "disputed": rng.random(invoices) < 0.05,
        "Region": rng.choice(["North", "South", "East", "West"], invoices),
        "Sales Rep": rng.choice(["Ann", "Bo", "Chen", "Dana"], invoices),
        "Document Type": "RV",
    })
    return frame.sort_values("issue_date").reset_index(drop=True)


def to_csv_text(frame: pd.DataFrame) -> str:
    out = pd.DataFrame()
    for field, header in HEADERS.items():
        col = frame[field]
        if field in ("issue_date", "due_date", "settled_on"):
            out[header] = col.dt.strftime("%d/%m/%Y").fillna("")
        elif field == "amount":
            out[header] = col.map(lambda v: f"{v:.2f}")
        elif field == "disputed":
            out[header] = np.where(col, "Y", "N")
        else:
            out[header] = col.astype(str)
    for extra in ("Region", "Sales Rep", "Document Type"):
        out[extra] = frame[extra]
    return out.to_csv(index=False)


# The mapping a person makes on the mapping page for this export (file headers as the page shows them).
MAPPING_COLUMNS = {
    "customer_id": "customer_external_id", "customer_name": "customer_name", "country_code": "country",
    "invoice_id": "invoice_number", "invoice_date": "issue_date", "due_date": "due_date",
    "invoice_amount": "amount", "settled_date": "settled_on", "disputed": "disputed",
    "region": "", "sales_rep": "", "document_type": "",
}
MAPPING_FORMAT = {"date_format": "%d/%m/%Y", "decimal": ".", "thousands": ""}
