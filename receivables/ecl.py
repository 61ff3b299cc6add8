"""Expected credit loss on trade receivables, IFRS 9 simplified approach (IFRS 9.5.5.15: lifetime ECL for
trade receivables), with a provision matrix (IFRS 9.B5.5.35) built from roll rates.

Method:

1. **History.** Open balances (``receivables.balances``, the one rule; read for all dates at once by
   ``open_balance_history``) by 30-day aging bucket (current, 1-30, ..., 151-180, 181-210, over 210)
   at ``lookback_periods + 1`` dates 30 days apart ending on the as-of date, optionally per segment
   (sector or country), all in base currency at the as-of date's rates (a rate move is not a roll).
   Steps of exactly 30 days match the 30-day buckets: an invoice still open one step later is exactly
   one bucket older, so the roll rate of balances equals the roll rate of invoices.
2. **Roll rates.** For bucket b, the balance-weighted average over the steps of
   ``balance in bucket b+1 at t+30 / balance in bucket b at t``; the last roll is into 181-210 (the
   balances newly past 180 days: the default state). A bucket with no history in a segment takes the
   portfolio's rate; with none at all, 100% (no evidence of cures: the prudent assumption). Capped at
   100%.
3. **Probability of default** of bucket b = the product of the roll rates from b to the default state;
   100% beyond 180 days. The **forward-looking adjustment** multiplies it by ``forward_factor``
   (capped at 100%), e.g. 1.15 when the outlook is worse than the history (IFRS 9.5.5.17(c)).
4. **Loss rate** = adjusted probability x loss given default, LGD = 1 - ``recovery_rate``.
5. **Reserve** = open balance x loss rate per bucket (and segment), for customers not in default;
   customers with status ``in_default`` are provisioned individually at LGD x their open balance.
6. **Movement**: the reserve at the as-of date against the reserve at the previous month-end, each
   computed from its own history.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_noop

from credit_platform.audit import audit_append
from credit_platform.models import Organization
from credit_platform.money import ZERO, FxTable, money
from customers.models import Country, Customer, Sector

from .balances import open_balance_history
from .models import EclSettings, EclSnapshot
from .selectors import AGING_BUCKETS, convert_split

STEP_DAYS = 30
# (key, label, lowest dpd, highest dpd, reporting bucket of receivables.selectors.AGING_BUCKETS)
ECL_BUCKETS: list[tuple[str, str, int | None, int | None, str]] = [
    ("current", gettext_noop("Current"), None, 0, "current"),
    ("d1_30", "1-30", 1, 30, "d1_30"),
    ("d31_60", "31-60", 31, 60, "d31_60"),
    ("d61_90", "61-90", 61, 90, "d61_90"),
    ("d91_120", "91-120", 91, 120, "d91_180"),
    ("d121_150", "121-150", 121, 150, "d91_180"),
    ("d151_180", "151-180", 151, 180, "d91_180"),
    ("d181_210", "181-210", 181, 210, "d180_plus"),
    ("d210_plus", gettext_noop("Over 210"), 211, None, "d180_plus"),
]
KEYS = [b[0] for b in ECL_BUCKETS]
ROLLS = len(KEYS) - 2  # rolls current -> 1-30 ... 151-180 -> 181-210 (the default state)
RATE = Decimal("0.000001")
PORTFOLIO = ""


def settings_for(organization: Organization) -> EclSettings:
    return EclSettings.objects.for_organization(organization).first() or EclSettings(
        organization=organization
    )


SEGMENT_SQL = {"": "''", "sector": "c.sector_id", "country": "c.country_id"}
# {as_of date: {(segment, customer in default, currency): {bucket: open balance in that currency}}}
RawBalances = dict[dt.date, dict[tuple[str, bool, str], dict[str, Decimal]]]
Balances = dict[tuple[str, bool], dict[str, Decimal]]


def raw_balances(organization: Organization, dates: Iterable[dt.date], segment_by: str) -> RawBalances:
    """Open balances by segment, default status, currency and ECL bucket at each of ``dates``: the open
    balance of ``receivables.balances`` (``open_balance_history``: one compressed read of the book for
    all the dates, each invoice counted at ``max(open, 0)`` as in the aging). The page's movement needs
    52 dates; one aging query per date read the book 52 times. Past dates whose balances were read before
    and have not changed since come from ``receivables.history`` (PostgreSQL)."""
    from .history import kept_balances

    return kept_balances(organization, segment_by, dates,
                         lambda days: _read_balances(organization, days, segment_by))


def _read_balances(organization: Organization, dates: Iterable[dt.date], segment_by: str) -> RawBalances:
    key = f"{SEGMENT_SQL[segment_by]} AS s, CASE WHEN c.status = %s THEN 1 ELSE 0 END AS dflt, i.currency"
    history = open_balance_history(
        organization.pk,
        list(dates),
        key_sql=key,
        key_params=[Customer.Status.IN_DEFAULT],
        key_size=3,
        highs=[high for *_rest, high, _report in ECL_BUCKETS[:-1] if high is not None],
        joins=f"JOIN {Customer._meta.db_table} c ON c.id = i.customer_id",
    )
    out: RawBalances = {}
    for day, by_key in history.items():
        out[day] = {}
        for (seg, dflt, currency), buckets in by_key.items():
            out[day][(str(seg), bool(dflt), currency)] = {KEYS[b]: amount for b, amount in buckets.items()}
    return out


def balances_at(
    organization: Organization, as_of: dt.date, segment_by: str, fx: FxTable, raw: RawBalances | None = None
) -> Balances:
    """{(segment, customer in default): {bucket: open balance in base currency}} as of a date, from
    ``raw`` when it holds that date (one query otherwise)."""
    if raw is None or as_of not in raw:
        raw = raw_balances(organization, [as_of], segment_by)
    out: Balances = defaultdict(lambda: dict.fromkeys(KEYS, ZERO))
    for (seg, dflt, currency), by_bucket in raw[as_of].items():
        for bucket, value in convert_split(by_bucket, currency, fx).items():
            out[(seg, dflt)][bucket] += value
    return out


def history_dates(as_of: dt.date, periods: int) -> list[dt.date]:
    """The provision matrix's history: ``as_of`` and ``periods`` steps of 30 days back."""
    return [as_of - dt.timedelta(days=STEP_DAYS * k) for k in range(periods + 1)]


def _fallback(rate: Decimal | None, portfolio: Decimal | None) -> Decimal:
    if rate is not None:
        return rate
    return portfolio if portfolio is not None else Decimal(1)


def _q(value: Decimal) -> Decimal:
    return value.quantize(RATE, rounding=ROUND_HALF_UP)


@dataclass
class ProvisionMatrix:
    as_of: dt.date
    periods: int
    segment_by: str
    forward_factor: Decimal
    lgd: Decimal
    roll_rates: dict[str, list[Decimal | None]]  # per segment; None where the segment has no history
    used_rolls: dict[str, list[Decimal]]  # after fallback
    pd: dict[str, list[Decimal]]  # per segment, per ECL bucket, before the forward-looking factor
    loss_rates: dict[str, list[Decimal]]  # adjusted probability x LGD
    history: dict[str, list[dict[str, Decimal]]]  # per segment, balances at t0, t-30, ...

    def loss_rate(self, segment: str, bucket: str) -> Decimal:
        rates = self.loss_rates.get(segment) or self.loss_rates[PORTFOLIO]
        return rates[KEYS.index(bucket)]


def provision_matrix(
    organization: Organization,
    as_of: dt.date,
    settings: EclSettings | None = None,
    fx: FxTable | None = None,
    raw: RawBalances | None = None,
) -> ProvisionMatrix:
    """The matrix as of a date; ``raw`` (``raw_balances`` at ``history_dates``) saves reading the book."""
    settings = settings or settings_for(organization)
    fx = fx or FxTable.load(organization, as_of)
    periods, segment_by = settings.lookback_periods, settings.segment_by
    dates = history_dates(as_of, periods)
    if raw is None or any(d not in raw for d in dates):
        raw = raw_balances(organization, dates, segment_by)
    history: dict[str, list[dict[str, Decimal]]] = defaultdict(
        lambda: [dict.fromkeys(KEYS, ZERO) for _ in range(periods + 1)]
    )
    for k, day in enumerate(dates):
        for (seg, _dflt), buckets in balances_at(organization, day, segment_by, fx, raw).items():
            for key in KEYS:
                history[seg][k][key] += buckets[key]
                if segment_by:
                    history[PORTFOLIO][k][key] += buckets[key]
    if PORTFOLIO not in history:
        history[PORTFOLIO] = [dict.fromkeys(KEYS, ZERO) for _ in range(periods + 1)]

    def rolls(snapshots: list[dict[str, Decimal]]) -> list[Decimal | None]:
        out: list[Decimal | None] = []
        for b in range(ROLLS):
            num = sum((snapshots[k - 1][KEYS[b + 1]] for k in range(1, periods + 1)), ZERO)
            den = sum((snapshots[k][KEYS[b]] for k in range(1, periods + 1)), ZERO)
            out.append(_q(min(num / den, Decimal(1))) if den > 0 else None)
        return out

    lgd = Decimal(1) - settings.recovery_rate
    factor = settings.forward_factor
    roll_rates = {seg: rolls(snaps) for seg, snaps in history.items()}
    used: dict[str, list[Decimal]] = {}
    pd_: dict[str, list[Decimal]] = {}
    loss: dict[str, list[Decimal]] = {}
    for seg, rates in roll_rates.items():
        base = roll_rates[PORTFOLIO]
        used[seg] = [_fallback(r, base[b]) for b, r in enumerate(rates)]
        chain = [Decimal(1)] * len(KEYS)
        for b in range(ROLLS - 1, -1, -1):
            chain[b] = used[seg][b] * chain[b + 1]
        pd_[seg] = [_q(p) for p in chain]
        loss[seg] = [_q(min(p * factor, Decimal(1)) * lgd) for p in chain]
    return ProvisionMatrix(
        as_of, periods, segment_by, factor, lgd, roll_rates, used, pd_, loss, dict(history)
    )


@dataclass
class ReserveRow:
    key: str
    label: str
    balance: Decimal = ZERO
    reserve: Decimal = ZERO

    @property
    def rate(self) -> Decimal | None:
        return _q(self.reserve / self.balance) if self.balance else None


@dataclass
class Reserve:
    as_of: dt.date
    base_currency: str
    matrix: ProvisionMatrix
    rows: list[ReserveRow] = field(default_factory=list)  # ECL buckets, collective part
    individual_balance: Decimal = ZERO
    individual: Decimal = ZERO

    @property
    def collective(self) -> Decimal:
        return sum((r.reserve for r in self.rows), ZERO)

    @property
    def total(self) -> Decimal:
        return self.collective + self.individual

    @property
    def balance(self) -> Decimal:
        return sum((r.balance for r in self.rows), ZERO) + self.individual_balance

    def by_aging_bucket(self) -> list[ReserveRow]:
        """The collective reserve on the reporting buckets of ``receivables.selectors.AGING_BUCKETS``."""
        out = {key: ReserveRow(key, label) for key, label, _l, _h in AGING_BUCKETS}
        for row, (_k, _label, _lo, _hi, report) in zip(self.rows, ECL_BUCKETS, strict=True):
            out[report].balance += row.balance
            out[report].reserve += row.reserve
        return list(out.values())


def ecl_reserve(
    organization: Organization, as_of: dt.date, settings: EclSettings | None = None, raw: RawBalances | None = None
) -> Reserve:
    """The reserve as of a date: one read of the book for the matrix history and the balances."""
    settings = settings or settings_for(organization)
    fx = FxTable.load(organization, as_of)
    dates = history_dates(as_of, settings.lookback_periods)
    if raw is None or any(d not in raw for d in dates):
        raw = raw_balances(organization, dates, settings.segment_by)
    matrix = provision_matrix(organization, as_of, settings, fx, raw)
    now = balances_at(organization, as_of, settings.segment_by, fx, raw)
    reserve = Reserve(
        as_of,
        organization.base_currency,
        matrix,
        rows=[ReserveRow(key, label) for key, label, *_rest in ECL_BUCKETS],
    )
    for (seg, in_default), buckets in now.items():
        for row in reserve.rows:
            balance = buckets[row.key]
            if not balance:
                continue
            if in_default:
                reserve.individual_balance += balance
                reserve.individual += money(balance * matrix.lgd)
            else:
                row.balance += balance
                row.reserve += money(balance * matrix.loss_rate(seg, row.key))
    return reserve


def previous_month_end(day: dt.date) -> dt.date:
    """The last day of the month before ``day``'s month: 30 June -> 31 May, 15 June -> 31 May."""
    return day.replace(day=1) - dt.timedelta(days=1)


@dataclass
class Movement:
    opening_date: dt.date
    closing_date: dt.date
    opening: Reserve
    closing: Reserve

    @property
    def change(self) -> Decimal:
        return self.closing.total - self.opening.total

    def rows(self) -> list[tuple[str, Decimal, Decimal, Decimal]]:
        out = []
        for o, c in zip(self.opening.by_aging_bucket(), self.closing.by_aging_bucket(), strict=True):
            out.append((c.label, o.reserve, c.reserve, c.reserve - o.reserve))
        out.append(
            (
                gettext_noop("Customers in default (individual)"),
                self.opening.individual,
                self.closing.individual,
                self.closing.individual - self.opening.individual,
            )
        )
        return out


def ecl_history_dates(as_of: dt.date, periods: int) -> list[dt.date]:
    """Every date the movement as of ``as_of`` reads: the closing and the opening reserve's histories."""
    return history_dates(previous_month_end(as_of), periods) + history_dates(as_of, periods)


def ecl_movement(organization: Organization, as_of: dt.date, settings: EclSettings | None = None) -> Movement:
    settings = settings or settings_for(organization)
    opening_date = previous_month_end(as_of)
    raw = raw_balances(organization, ecl_history_dates(as_of, settings.lookback_periods), settings.segment_by)
    return Movement(
        opening_date,
        as_of,
        ecl_reserve(organization, opening_date, settings, raw),
        ecl_reserve(organization, as_of, settings, raw),
    )


def segment_labels(segment_by: str, keys: list[str]) -> dict[str, str]:
    if segment_by == "sector":
        return {c: f"{c} {n}" for c, n in Sector.objects.filter(pk__in=keys).values_list("code", "name")}
    if segment_by == "country":
        return dict(Country.objects.filter(pk__in=keys).values_list("code", "name"))
    return {PORTFOLIO: gettext_noop("Portfolio")}


@transaction.atomic
def ecl_settings_update(
    *, organization: Organization, actor: Any, reason: str = "", **changes: Any
) -> EclSettings:
    """Change how the reserve is computed (a credit-policy decision: audited)."""
    fields = ("lookback_periods", "segment_by", "forward_factor", "recovery_rate")
    settings = EclSettings.objects.for_organization(organization).select_for_update().first() or EclSettings(
        organization=organization
    )
    before = {f: getattr(settings, f) for f in fields} if settings.pk else None
    for key, value in changes.items():
        if key not in fields:
            raise ValueError(f"{key} is not an ECL setting")
        setattr(settings, key, value)
    settings.full_clean(exclude=["organization"])
    settings.save()
    audit_append(
        organization=organization,
        actor=actor,
        action="ecl.settings_changed",
        obj=settings,
        before=before,
        after={f: getattr(settings, f) for f in fields},
        reason=reason,
    )
    return settings


@transaction.atomic
def ecl_snapshot_record(*, organization: Organization, as_of: dt.date, actor: Any) -> EclSnapshot:
    """Record the reserve as of a date (e.g. a month-end close) with its matrix; re-recording a date
    replaces nothing: the first record of a date stands."""
    existing = EclSnapshot.objects.for_organization(organization).filter(as_of=as_of).first()
    if existing is not None:
        return existing
    reserve = ecl_reserve(organization, as_of)
    m = reserve.matrix
    details = {
        "method": "roll rates, 30-day steps",
        "periods": m.periods,
        "segment_by": m.segment_by,
        "forward_factor": str(m.forward_factor),
        "lgd": str(m.lgd),
        "loss_rates": {seg: [str(r) for r in rates] for seg, rates in m.loss_rates.items()},
        "buckets": [[r.key, str(r.balance), str(r.reserve)] for r in reserve.rows],
        "individual_balance": str(reserve.individual_balance),
    }
    snap = EclSnapshot.objects.create(
        organization=organization,
        as_of=as_of,
        collective=reserve.collective,
        individual=reserve.individual,
        total=reserve.total,
        base_currency=organization.base_currency,
        details=details,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    audit_append(
        organization=organization,
        actor=actor,
        action="ecl.reserve_recorded",
        obj=snap,
        after={
            "as_of": as_of,
            "total": reserve.total,
            "collective": reserve.collective,
            "individual": reserve.individual,
        },
    )
    return snap
