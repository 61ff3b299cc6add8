"""Import of dated FX rates (units of base currency per unit of foreign currency)."""

from __future__ import annotations

import pandas as pd

from credit_platform.bulk import copy_frame, create_stage, upsert_from_stage
from credit_platform.models import FXRate

from .engine import Importer, WriteResult, register
from .spec import Column, ErrorList, check_duplicates


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
                        f"is your base currency; its rate is always 1")
        return frame

    def write(self, records: pd.DataFrame) -> WriteResult:
        out = pd.DataFrame({
            "organization_id": self.organization.pk, "currency": records["currency"],
            "rate_date": records["rate_date"], "rate": records["rate"], "source": records["source"],
        })
        create_stage("stage_fx", {"organization_id": "bigint", "currency": "varchar(3)", "rate_date": "date",
                                  "rate": "numeric(20,10)", "source": "varchar(60)"})
        copy_frame("stage_fx", out, not_null_text=["source"])
        created, updated, unchanged = upsert_from_stage(
            table=FXRate._meta.db_table, stage="stage_fx", columns=list(out.columns),
            keys=["organization_id", "currency", "rate_date"], update=["rate", "source"],
        )
        return WriteResult(created, updated, unchanged)
