"""Import of dated FX rates (units of base currency per unit of foreign currency)."""

from __future__ import annotations

import pandas as pd

from credit_platform.models import FXRate

from .engine import Importer, WriteResult, register
from .spec import Column, ErrorList, check_duplicates
from .writer import upsert_records


@register
class FXRateImporter(Importer):
    kind = "fx_rates"
    label = "FX rates"
    description = "rate = units of your base currency for one unit of currency, valid from rate_date."
    key = ["currency", "rate_date"]
    columns = [
        Column("currency", "currency", required=True),
        Column("rate_date", "date", required=True),
        Column("rate", "decimal", required=True, min_value=1e-10),
        Column("source", max_length=60, default=""),
    ]

    def build(self, frame: pd.DataFrame, errors: ErrorList) -> pd.DataFrame:
        check_duplicates(frame, ["currency", "rate_date"], errors, "rate_date")
        base = self.organization.base_currency
        errors.add_mask(frame, frame["currency"] == base, "currency",
                        "is your base currency; its rate is always 1")
        return frame

    def write(self, records: pd.DataFrame) -> WriteResult:
        out = pd.DataFrame({
            "organization_id": self.organization.pk, "currency": records["currency"],
            "rate_date": records["rate_date"], "rate": records["rate"], "source": records["source"],
        })
        return upsert_records(
            table=FXRate._meta.db_table, out=out, rows=records["_row"], keys=["currency", "rate_date"],
            scope={"organization_id": self.organization.pk}, update={"rate": "decimal", "source": "text"},
        ).result
