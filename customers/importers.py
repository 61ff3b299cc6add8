"""Imports of customers, financial statements and external signals."""

from __future__ import annotations

from decimal import Decimal
from functools import cache

import pandas as pd
import pycountry
from django.utils import timezone

from credit_platform.audit import audit_append_many
from credit_platform.bulk import insert_frame
from credit_platform.imports.engine import Importer, WriteResult, register
from credit_platform.imports.lookups import id_map, resolve
from credit_platform.imports.spec import Column, ErrorList, check_duplicates
from credit_platform.imports.writer import change_events, upsert_records
from credit_platform.money import FxTable

from . import statements
from .models import Country, Customer, CustomerGroup, ExternalSignal, FinancialStatement, Sector


def _table(model: type) -> str:
    return model._meta.db_table  # type: ignore[attr-defined]


# Customers an import creates before their sector is known carry this code (a reference row added by the
# onboarding app's migration) until someone completes them.
UNKNOWN_SECTOR = "UNK"
COUNTRY_HELP = "ISO 3166: name, alpha-2 (DE), alpha-3 (DEU) or numeric (276)"


@cache
def _country_lookup() -> dict[str, str]:
    """Every way ISO 3166 writes a country (upper-cased) -> its alpha-2 code."""
    out: dict[str, str] = {}
    for c in pycountry.countries:
        names = [c.alpha_2, c.alpha_3, c.numeric, str(int(c.numeric)), c.name,
                 getattr(c, "common_name", ""), getattr(c, "official_name", "")]
        for name in names:
            if name:
                out.setdefault(name.upper(), c.alpha_2)
    return out


def country_codes(values: pd.Series) -> pd.Series:
    """Alpha-2 codes for countries written as a name, alpha-2, alpha-3 or numeric code; NA where unknown."""
    text = values.astype("string").str.strip().str.upper()
    text = text.where(~text.str.fullmatch(r"\d{1,3}(\.0)?").fillna(False), text.str.replace(".0", "", regex=False))
    return text.map(_country_lookup())


@register
class CustomerImporter(Importer):
    kind = "customers"
    label = "Customers"
    description = "One row per customer, keyed by external_id. Groups named in group_external_id are created."
    key = ["external_id"]
    columns = [
        Column("external_id", required=True, max_length=64),
        Column("legal_name", required=True, max_length=200),
        Column("registration_number", max_length=64, default=""),
        Column("country", required=True, max_length=100, help=COUNTRY_HELP),
        Column("sector", required=True, max_length=8, help="NACE section code, e.g. C"),
        Column("size", "choice", choices=Customer.Size.values, default=Customer.Size.SMALL),
        Column("group_external_id", max_length=64),
        Column("group_name", max_length=200),
        Column("currency", "currency", required=True),
        Column("payment_terms_days", "int", min_value=0, max_value=365, default=30),
        Column("status", "choice", choices=Customer.Status.values, default=Customer.Status.ACTIVE),
        Column("credit_limit", "money", min_value=0),
        Column("customer_since", "date"),
        Column("email", "email"),
        Column("phone", max_length=40, default=""),
        Column("address", max_length=1000, default=""),
    ]

    def build(self, frame: pd.DataFrame, errors: ErrorList) -> pd.DataFrame:
        check_duplicates(frame, ["external_id"], errors, "external_id")
        countries = set(Country.objects.values_list("code", flat=True))
        sectors = set(Sector.objects.values_list("code", flat=True))
        codes = country_codes(frame["country"])
        errors.add_mask(frame, frame["country"].notna() & ~codes.isin(countries), "country",
                        f"is not a country ({COUNTRY_HELP})")
        frame["country"] = codes.where(codes.notna(), frame["country"])
        errors.add_mask(frame, frame["sector"].notna() & ~frame["sector"].isin(sectors), "sector",
                        f"is not a sector code; known: {', '.join(sorted(sectors))}")
        named_without_id = frame["group_name"].notna() & frame["group_external_id"].isna()
        errors.add_mask(frame, named_without_id, "group_external_id", "is required when group_name is given",
                        value_column="group_external_id")
        self._check_credit_columns(frame, errors)
        return frame

    def _check_credit_columns(self, frame: pd.DataFrame, errors: ErrorList) -> None:
        """Limit, terms and hold status are credit decisions: a file's limit (or changed terms) becomes a limit
        request after the import; a hold or block status that the customer does not already have is refused
        (holds are placed under Credit limits), as is a new limit while another request waits for a decision."""
        from limits.models import LimitRequest

        current = pd.DataFrame(
            list(Customer.objects.for_organization(self.organization).values_list("external_id", "status", "pk")),
            columns=["external_id", "status", "pk"]).set_index("external_id")
        status_now = frame["external_id"].map(current["status"])
        held = ["on_hold", "blocked"]
        if "status" in self.present:
            changes_hold = frame["status"].notna() & (frame["status"] != status_now) & (
                frame["status"].isin(held) | status_now.isin(held))
            errors.add_mask(frame, changes_hold, "status",
                            "credit hold and block are placed and lifted as holds (Credit limits), not imported")
        if "credit_limit" in self.present:
            pending = dict(LimitRequest.objects.for_organization(self.organization).filter(
                status=LimitRequest.Status.PENDING).values_list("customer_id", "requested_limit"))
            waiting = frame["external_id"].map(current["pk"]).map(pending)
            clash = frame["credit_limit"].notna() & waiting.notna() & (
                pd.to_numeric(frame["credit_limit"], errors="coerce") != pd.to_numeric(waiting, errors="coerce"))
            errors.add_mask(frame, clash, "credit_limit",
                            "the customer already has a pending limit request for another amount: decide it first")
            org = self.organization
            fx = FxTable.load(org, org.local_date())
            for currency in set(frame.loc[frame["credit_limit"].notna(), "currency"].dropna()):
                if currency not in fx.rates:
                    errors.add_mask(frame, frame["credit_limit"].notna() & (frame["currency"] == currency),
                                    "credit_limit", f"no {currency}->{org.base_currency} rate on or before "
                                    f"{org.local_date().isoformat()}: a limit request needs one (add it under FX "
                                    "rates)")

    def write(self, records: pd.DataFrame) -> WriteResult:
        org = self.organization
        # Groups first: create the ones the file names and the organization does not have.
        groups = id_map(CustomerGroup, org, "external_id")
        wanted = records.dropna(subset=["group_external_id"]).drop_duplicates("group_external_id")
        new_groups = wanted.loc[~wanted["group_external_id"].isin(groups.index)]
        if len(new_groups):
            insert_frame(_table(CustomerGroup), pd.DataFrame({
                "organization_id": org.pk,
                "external_id": new_groups["group_external_id"].to_numpy(),
                "name": new_groups["group_name"].fillna(new_groups["group_external_id"]).to_numpy(),
            }))
            groups = id_map(CustomerGroup, org, "external_id")
        now = timezone.now()
        out = pd.DataFrame({
            "organization_id": org.pk,
            "external_id": records["external_id"],
            "legal_name": records["legal_name"],
            "registration_number": records["registration_number"],
            "country_id": records["country"],
            "sector_id": records["sector"],
            "size": records["size"],
            "group_id": records["group_external_id"].map(groups["id"]).astype("Int64"),
            "currency": records["currency"],
            "payment_terms_days": records["payment_terms_days"].astype("Int64"),
            "status": records["status"],
            "credit_limit": None,  # a decision sets it: the file's limit becomes a request (below)
            "customer_since": records["customer_since"],
            "email": records["email"],
            "phone": records["phone"],
            "address": records["address"],
            "created_at": now,
            "updated_at": now,
        })
        # Updates touch only the columns the file has: a file of the required columns alone must not
        # reset a customer's status, limit, terms, e-mail or group to the defaults of new rows.
        update = {table_col: kind for file_col, (table_col, kind) in UPDATABLE.items() if file_col in self.present}
        before = {ext: (limit, terms) for ext, limit, terms in Customer.objects.for_organization(org).filter(
            external_id__in=list(records["external_id"])).values_list("external_id", "credit_limit",
                                                                       "payment_terms_days")}
        done = upsert_records(
            table=_table(Customer), out=out, rows=records["_row"], keys=["external_id"],
            scope={"organization_id": org.pk}, update=update, touch=["updated_at"],
        )
        events = change_events(done=done, out=out, update=update, action="customer.changed",
                               object_type="customers.customer", key_column="external_id", reason="import")
        if events:
            audit_append_many(organization=org, actor=self.user, events=events)
        self._request_limits(records, before)
        return done.result

    def _request_limits(self, records: pd.DataFrame, before: dict[str, tuple]) -> None:
        """One limit request per row whose limit (or, for a known customer, terms) differs from the current
        one; a re-sent file whose request is already pending creates nothing twice."""
        from limits.models import LimitRequest
        from limits.services import limit_request_create

        has_limit, has_terms = "credit_limit" in self.present, "payment_terms_days" in self.present
        if not (has_limit or has_terms):
            return
        pending = set(LimitRequest.objects.for_organization(self.organization).filter(
            status=LimitRequest.Status.PENDING).values_list("customer__external_id", flat=True))
        customers = {c.external_id: c for c in Customer.objects.for_organization(self.organization).filter(
            external_id__in=list(records["external_id"]))}
        for row in records.to_dict("records"):
            ext = row["external_id"]
            limit_now, terms_now = before.get(ext, (None, None))
            limit = row.get("credit_limit") if has_limit else None
            limit = None if limit is None or pd.isna(limit) or limit == limit_now else Decimal(str(limit))
            terms = row.get("payment_terms_days") if has_terms and ext in before else None
            terms = None if terms is None or pd.isna(terms) or int(terms) == terms_now else int(terms)
            if (limit is None and terms is None) or ext in pending:
                continue
            customer = customers[ext]
            limit_request_create(organization=self.organization, customer=customer,
                                 requested_limit=limit if limit is not None else (limit_now or Decimal(0)),
                                 requested_terms_days=terms, actor=self.user, source=LimitRequest.Source.IMPORT,
                                 reason=f"import, row {row['_row']}")


# File column -> (table column, comparison kind) of the fields a customer import may update.
UPDATABLE = {
    "legal_name": ("legal_name", "text"), "registration_number": ("registration_number", "text"),
    "country": ("country_id", "text"), "sector": ("sector_id", "text"), "size": ("size", "text"),
    "group_external_id": ("group_id", "int"), "currency": ("currency", "text"),
    "status": ("status", "text"), "customer_since": ("customer_since", "date"),
    "email": ("email", "text"), "phone": ("phone", "text"), "address": ("address", "text"),
}


_AMOUNT_COLUMNS = [
    Column(
        name, "money", required=name not in statements.OPTIONAL_FIELDS,
        min_value=0 if name in {"cash", "receivables", "inventory", "current_assets", "total_assets",
                                "current_liabilities", "total_liabilities", "revenue", "interest_expense"} else None,
    )
    for name in statements.AMOUNT_FIELDS
]


@register
class StatementImporter(Importer):
    kind = "statements"
    label = "Financial statements"
    description = (
        "One row per customer and period end. Assets must equal liabilities + equity within 0.5%; "
        "impossible values (negative assets, current assets above total assets...) are refused."
    )
    key = ["customer_external_id", "period_end"]
    columns = [
        Column("customer_external_id", required=True, max_length=64),
        Column("period_end", "date", required=True),
        Column("period_months", "int", min_value=1, max_value=24, default=12),
        Column("currency", "currency", required=True),
        Column("audited", "bool", default=False),
        Column("source", max_length=60, default=""),
        *_AMOUNT_COLUMNS,
    ]

    def build(self, frame: pd.DataFrame, errors: ErrorList) -> pd.DataFrame:
        check_duplicates(frame, ["customer_external_id", "period_end"], errors, "period_end")
        customers = id_map(Customer, self.organization, "external_id")
        frame["customer_id"] = resolve(frame, "customer_external_id", customers, errors, "customer")
        complete = frame[[c.name for c in _AMOUNT_COLUMNS if c.required]].notna().all(axis=1)
        subset = frame.loc[complete]
        amounts = subset[statements.AMOUNT_FIELDS].apply(pd.to_numeric, errors="coerce")
        for pos, column, reason in statements.statement_errors_frame(amounts):
            row = subset.iloc[pos]
            errors.add(row["_row"], column, row[column], reason)
        return frame

    def write(self, records: pd.DataFrame) -> WriteResult:
        out = pd.DataFrame({
            "organization_id": self.organization.pk,
            "customer_id": records["customer_id"].astype("Int64"),
            "period_end": records["period_end"],
            "period_months": records["period_months"].astype("Int64"),
            "currency": records["currency"],
            "audited": records["audited"].astype(bool),
            "source": records["source"],
            **{f: records[f] for f in statements.AMOUNT_FIELDS},
            "created_at": timezone.now(),
        })
        update = {"period_months": "int", "currency": "text", "audited": "bool", "source": "text",
                  **dict.fromkeys(statements.AMOUNT_FIELDS, "money")}
        return upsert_records(
            table=_table(FinancialStatement), out=out, rows=records["_row"], keys=["customer_id", "period_end"],
            scope={"organization_id": self.organization.pk}, update=update,
        ).result


@register
class SignalImporter(Importer):
    kind = "signals"
    label = "External signals"
    description = (
        "Bureau scores (value 0-100), litigation, insolvency filings, negative news, reported payment "
        "defaults. Keyed by customer, kind, source and reference (default: kind and date)."
    )
    key = ["customer_external_id", "kind", "source", "reference"]
    columns = [
        Column("customer_external_id", required=True, max_length=64),
        Column("kind", "choice", required=True, choices=ExternalSignal.Kind.values),
        Column("observed_on", "date", required=True),
        Column("source", required=True, max_length=80),
        Column("reference", max_length=120),
        Column("value", "money"),
        Column("severity", "choice", choices=ExternalSignal.Severity.values, default=ExternalSignal.Severity.INFO),
        Column("title", max_length=300, default=""),
    ]

    def build(self, frame: pd.DataFrame, errors: ErrorList) -> pd.DataFrame:
        default_ref = frame["kind"].fillna("") + ":" + frame["observed_on"].dt.strftime("%Y-%m-%d").fillna("")
        frame["reference"] = frame["reference"].fillna(default_ref)
        check_duplicates(frame, ["customer_external_id", "kind", "source", "reference"], errors, "reference")
        customers = id_map(Customer, self.organization, "external_id")
        frame["customer_id"] = resolve(frame, "customer_external_id", customers, errors, "customer")
        value = pd.to_numeric(frame["value"], errors="coerce")
        is_score = frame["kind"] == ExternalSignal.Kind.BUREAU_SCORE
        errors.add_mask(frame, is_score & (value.isna() | (value < 0) | (value > 100)), "value",
                        "a bureau score needs a value between 0 and 100")
        return frame

    def write(self, records: pd.DataFrame) -> WriteResult:
        out = pd.DataFrame({
            "organization_id": self.organization.pk,
            "customer_id": records["customer_id"].astype("Int64"),
            "kind": records["kind"], "observed_on": records["observed_on"], "source": records["source"],
            "reference": records["reference"], "value": records["value"], "severity": records["severity"],
            "title": records["title"], "created_at": timezone.now(),
        })
        return upsert_records(
            table=_table(ExternalSignal), out=out, rows=records["_row"],
            keys=["customer_id", "kind", "source", "reference"], scope={"organization_id": self.organization.pk},
            update={"observed_on": "date", "value": "money", "severity": "text", "title": "text"},
        ).result
