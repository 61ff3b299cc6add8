"""A realistic, deterministic synthetic credit portfolio.

Every customer carries a hidden risk ``z`` (standard normal, shifted by sector, country, size and
group). ``z`` drives, with noise, everything a credit team can observe: how late invoices are paid,
the financial statements (margins, leverage, liquidity), bureau scores, litigation and news, and the
12-month default hazard. Defaulting customers deteriorate visibly in the months before default (later
payments, weaker statements, falling bureau scores) and stop paying at default. A few anomalies are
injected for early-warning rules: order spikes and customers who suddenly pay late.

The generator is pure numpy/pandas and returns frames; ``loader`` writes them. Same seed and as-of
date -> the same portfolio, row for row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import names

# Sector mix (NACE section, weight) of a typical B2B seller's book.
SECTOR_MIX = [("C", 22), ("G", 24), ("F", 12), ("H", 9), ("I", 5), ("J", 8), ("M", 7), ("N", 6), ("A", 3),
              ("Q", 4)]
SECTOR_RISK = {"A": 3, "C": 3, "F": 5, "G": 3, "H": 4, "I": 5, "J": 2, "M": 2, "N": 3, "Q": 1}
# Country mix (ISO code, weight, invoicing currency, country risk 0..7).
COUNTRY_MIX = [
    ("DE", 30, "EUR", 0), ("FR", 8, "EUR", 0), ("IT", 7, "EUR", 0), ("ES", 5, "EUR", 0), ("NL", 5, "EUR", 0),
    ("BE", 3, "EUR", 0), ("AT", 4, "EUR", 0), ("PL", 5, "PLN", 0), ("CZ", 3, "EUR", 0), ("CH", 3, "CHF", 0),
    ("SE", 2, "SEK", 0), ("GB", 6, "GBP", 0), ("US", 7, "USD", 0), ("CN", 4, "CNY", 2), ("JP", 1, "USD", 0),
    ("TR", 2, "EUR", 5), ("BR", 1, "USD", 5), ("IN", 2, "USD", 3), ("MX", 1, "USD", 3), ("ZA", 1, "USD", 4),
]
# Units of EUR per unit of currency at the start of the window; monthly random walk from there.
FX_START = {"USD": 0.92, "GBP": 1.17, "CHF": 1.04, "PLN": 0.23, "SEK": 0.088, "CNY": 0.127}
SIZES = ["micro", "small", "medium", "large"]
SIZE_P = [0.25, 0.40, 0.25, 0.10]
SIZE_INVOICE_WEIGHT = np.array([1.0, 2.5, 6.0, 15.0])
SIZE_INVOICE_EUR = np.array([700.0, 2500.0, 9000.0, 35000.0])  # median invoice
SIZE_REVENUE_EUR = np.array([0.6e6, 5e6, 35e6, 280e6])  # median yearly revenue
TERMS = np.array([30, 45, 60, 90])
TERMS_P = [0.5, 0.15, 0.25, 0.10]
TARGET_DEFAULT_SHARE = 0.055  # of all customers, over the window: inside the 3-8% the demo promises


@dataclass
class DemoConfig:
    customers: int = 2000
    invoices: int = 200_000
    seed: int = 42
    as_of: dt.date = field(kw_only=True)  # the business date the portfolio ends on (no default: no wall clock)
    years: int = 3
    base_currency: str = "EUR"
    prefix: str = ""

    @property
    def start(self) -> dt.date:
        return self.as_of - dt.timedelta(days=365 * self.years)


@dataclass
class DemoPortfolio:
    config: DemoConfig
    customers: pd.DataFrame
    groups: pd.DataFrame
    fx_rates: pd.DataFrame
    statements: pd.DataFrame
    signals: pd.DataFrame
    orders: pd.DataFrame
    invoices: pd.DataFrame
    credit_notes: pd.DataFrame
    payments: pd.DataFrame
    allocations: pd.DataFrame  # invoice_number, source ('payment'|'credit_note'), source_number, amount, date


def _days(d: dt.date) -> int:
    return d.toordinal()


def _to_dates(ordinals: np.ndarray) -> pd.Series:
    base = np.datetime64("0001-01-01")
    return pd.Series((base + (np.asarray(ordinals, dtype="int64") - 1).astype("timedelta64[D]")).astype(
        "datetime64[ns]"))


def _cents(x: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(x, dtype="float64"), 2)


def _money_text(x: np.ndarray) -> np.ndarray:
    return np.char.mod("%.2f", _cents(x))


def generate(config: DemoConfig) -> DemoPortfolio:
    rng = np.random.default_rng(config.seed)
    n = config.customers
    start, end = _days(config.start), _days(config.as_of)
    p = config.prefix

    # --- customers -------------------------------------------------------------------------------
    sec_codes = np.array([s for s, _ in SECTOR_MIX])
    sec_w = np.array([w for _, w in SECTOR_MIX], dtype=float)
    sector = rng.choice(sec_codes, size=n, p=sec_w / sec_w.sum())
    ctry = np.array([c[0] for c in COUNTRY_MIX])
    ctry_w = np.array([c[1] for c in COUNTRY_MIX], dtype=float)
    country_idx = rng.choice(len(ctry), size=n, p=ctry_w / ctry_w.sum())
    country = ctry[country_idx]
    currency = np.array([COUNTRY_MIX[i][2] for i in country_idx])
    country_risk = np.array([COUNTRY_MIX[i][3] for i in country_idx], dtype=float)
    size_idx = rng.choice(4, size=n, p=SIZE_P)
    sector_risk = np.array([SECTOR_RISK[s] for s in sector], dtype=float)

    # Groups: ~15% of customers belong to a parent; members share part of their risk.
    n_groups = max(1, n // 35)
    in_group = rng.random(n) < 0.15
    group_idx = np.where(in_group, rng.integers(0, n_groups, size=n), -1)
    group_effect = rng.normal(0, 0.5, size=n_groups)
    z = (
        rng.normal(0, 1, size=n)
        + 0.22 * (sector_risk - 3)
        + 0.12 * country_risk
        - 0.18 * (size_idx - 1.5)
        + np.where(group_idx >= 0, group_effect[np.maximum(group_idx, 0)], 0.0)
    )
    z = (z - z.mean()) / z.std()

    # Relationship start: 70% were customers before the window, 30% joined during it.
    joined_before = rng.random(n) < 0.70
    onboard = np.where(
        joined_before,
        start - rng.integers(30, 3650, size=n),
        rng.integers(start, end - 60, size=n),
    )
    terms = rng.choice(TERMS, size=n, p=TERMS_P)
    status = np.full(n, "active", dtype=object)
    prospect = rng.random(n) < 0.015
    closed = (~prospect) & (rng.random(n) < 0.01)
    onboard = np.where(prospect, end - rng.integers(5, 60, size=n), onboard)

    # --- default: constant hazard from z, calibrated to the target share --------------------------
    eligible_from = np.maximum(onboard, start) + 180
    eligible_to = np.full(n, end - 30)
    exposure_years = np.clip((eligible_to - eligible_from) / 365.25, 0, None)
    exposure_years[prospect | closed] = 0
    lo, hi = -10.0, 2.0
    for _ in range(60):  # bisection on the intercept: expected share of customers defaulting
        mid = (lo + hi) / 2
        pd_year = 1 / (1 + np.exp(-(mid + 1.45 * z)))
        share = np.mean(1 - (1 - pd_year) ** exposure_years)
        lo, hi = (mid, hi) if share < TARGET_DEFAULT_SHARE else (lo, mid)
    pd_year = 1 / (1 + np.exp(-(lo + 1.45 * z)))
    p_default = 1 - (1 - pd_year) ** exposure_years
    defaults = rng.random(n) < p_default
    default_day = np.where(
        defaults, eligible_from + (rng.random(n) * np.maximum(eligible_to - eligible_from, 1)).astype(int), 0
    )
    status[defaults] = "in_default"
    status[prospect] = "prospect"
    status[closed] = "closed"
    active_to = np.where(defaults, default_day + 20, np.where(closed, end - 365, end))
    active_from = np.maximum(onboard, start)
    # Anomalies for early warnings: sudden late payers and order spikes (never the defaulted ones).
    late_switch = (~defaults) & (~prospect) & (~closed) & (rng.random(n) < 0.015)
    order_spike = (~defaults) & (~prospect) & (~closed) & (rng.random(n) < 0.01)

    ext_ids = np.array([f"{p}C{i + 1:05d}" for i in range(n)])
    stems = rng.choice(names.STEMS, size=n)
    stem2 = rng.choice(names.STEMS, size=n)
    legal = []
    for i in range(n):
        if country[i] == "CN":
            legal.append(
                f"{names.CN_PREFIX[rng.integers(len(names.CN_PREFIX))]}{names.CN_STEM[rng.integers(len(names.CN_STEM))]}"
                f"{names.CN_ACTIVITY[sector[i]]}有限公司"
            )
        else:
            act = names.ACTIVITY[sector[i]]
            form = names.LEGAL_FORM.get(country[i], "Ltd")
            legal.append(f"{stems[i]} {stem2[i] if i % 3 == 0 else ''} {act[rng.integers(len(act))]} {form}"
                         .replace("  ", " ").strip())
    legal = [f"{name} ({i + 1})" if duplicate else name for i, name, duplicate in _dedupe(legal)]

    # Monthly sales volume drives the credit limit (terms + one month of sales, 1.5x headroom).
    size_amount = SIZE_INVOICE_EUR[size_idx] * np.exp(rng.normal(0, 0.35, size=n))
    weight = SIZE_INVOICE_WEIGHT[size_idx] * np.exp(rng.normal(0, 0.5, size=n))

    fx = _fx_table(rng, config)
    fx_now = {c: float(fx.loc[fx["currency"] == c, "rate"].iloc[-1]) for c in fx["currency"].unique()}
    fx_now[config.base_currency] = 1.0
    cust_fx = np.array([fx_now[c] for c in currency])

    customers = pd.DataFrame({
        "external_id": ext_ids, "legal_name": legal,
        "registration_number": [f"{country[i]}{rng.integers(10_000_000, 99_999_999)}" for i in range(n)],
        "country": country, "sector": sector, "size": np.array(SIZES)[size_idx], "currency": currency,
        "payment_terms_days": terms, "status": status, "customer_since": _to_dates(onboard),
        "email": [f"ap@{x.lower()}.example.com" for x in ext_ids],
        "group_idx": group_idx,
        # hidden truth, for tests and benchmarks only (never written to the database)
        "_z": z, "_pd_year": pd_year, "_defaulted": defaults,
        "_default_date": pd.Series(_to_dates(np.where(defaults, default_day, end))).where(defaults),
        "_late_switch": late_switch, "_order_spike": order_spike,
    })
    groups = pd.DataFrame({
        "external_id": [f"{p}G{g + 1:04d}" for g in range(n_groups)],
        "name": [f"{rng.choice(names.STEMS)} {rng.choice(names.GROUP_NAMES)}" for _ in range(n_groups)],
    })

    # --- invoices -------------------------------------------------------------------------------
    active_days = np.clip(active_to - active_from, 0, None).astype(float)
    active_days[prospect] = 0
    w = weight * active_days
    counts = rng.multinomial(config.invoices, w / w.sum()) if w.sum() > 0 else np.zeros(n, dtype=int)
    cust_of = np.repeat(np.arange(n), counts)
    m = len(cust_of)
    issue = active_from[cust_of] + (rng.random(m) * np.maximum(active_days[cust_of], 1)).astype(int)
    issue = np.minimum(issue, end)
    order_ = np.lexsort((cust_of, issue))
    cust_of, issue = cust_of[order_], issue[order_]
    due = issue + terms[cust_of]
    amount_eur = size_amount[cust_of] * np.exp(rng.normal(0, 0.7, size=m))
    amount = np.maximum(_cents(amount_eur / cust_fx[cust_of]), 10.0)
    inv_numbers = np.array([f"{p}INV-{k + 1:07d}" for k in range(m)])

    # --- payment behaviour -------------------------------------------------------------------------
    base_delay = np.clip(1 + 9 * z + rng.normal(0, 4, size=n), -6, 75)
    delay = base_delay[cust_of] + rng.normal(0, 3 + 2 * np.abs(z[cust_of]), size=m)
    dd = default_day[cust_of]
    is_def = defaults[cust_of]
    lead = dd - due  # days from due date to default
    deteriorate = is_def & (lead < 200)
    delay = delay + np.where(deteriorate, np.clip(1 - lead / 200, 0, 1) * 55, 0)
    delay = delay + np.where(late_switch[cust_of] & (due >= end - 110), rng.uniform(30, 75, size=m), 0)
    delay = np.round(np.maximum(delay, -10)).astype(int)
    paid = due + delay
    never = is_def & (paid >= dd)

    # Credit notes on ~2% of invoices, before payment.
    has_cn = rng.random(m) < 0.02
    cn_amount = _cents(amount * rng.uniform(0.05, 0.3, size=m))
    cn_day = np.minimum(issue + rng.integers(3, 20, size=m), end)
    remaining = amount - np.where(has_cn, cn_amount, 0)

    partial = (rng.random(m) < 0.08) & ~never
    first_share = rng.uniform(0.4, 0.7, size=m)
    first_amount = _cents(remaining * first_share)
    first_day = np.maximum(issue, paid - rng.integers(10, 30, size=m))
    over = (rng.random(m) < 0.003) & ~never
    extra = _cents(rng.uniform(1, 50, size=m))

    pay_rows_inv: list[np.ndarray] = []
    pay_rows_day: list[np.ndarray] = []
    pay_rows_amount: list[np.ndarray] = []
    pay_rows_applied: list[np.ndarray] = []
    # first instalments
    sel = partial & (first_day <= end)
    pay_rows_inv.append(np.flatnonzero(sel))
    pay_rows_day.append(first_day[sel])
    pay_rows_amount.append(first_amount[sel])
    pay_rows_applied.append(first_amount[sel])
    # final payments (or the whole payment)
    sel = (~never) & (paid <= end)
    final_amount = np.where(partial, _cents(remaining - first_amount), remaining)
    pay_rows_inv.append(np.flatnonzero(sel))
    pay_rows_day.append(paid[sel])
    pay_rows_amount.append(final_amount[sel] + np.where(over[sel], extra[sel], 0))
    pay_rows_applied.append(final_amount[sel])
    pay_inv = np.concatenate(pay_rows_inv)
    pay_day = np.concatenate(pay_rows_day)
    pay_amount = _cents(np.concatenate(pay_rows_amount))
    pay_applied = _cents(np.concatenate(pay_rows_applied))
    porder = np.lexsort((pay_inv, pay_day))
    pay_inv, pay_day = pay_inv[porder], pay_day[porder]
    pay_amount, pay_applied = pay_amount[porder], pay_applied[porder]
    keep = pay_applied > 0
    pay_inv, pay_day, pay_amount, pay_applied = pay_inv[keep], pay_day[keep], pay_amount[keep], pay_applied[keep]
    pay_refs = np.array([f"{p}PAY-{k + 1:07d}" for k in range(len(pay_inv))])
    methods = rng.choice(["transfer", "direct_debit", "cheque", "card"], size=len(pay_inv), p=[0.8, 0.12, 0.05, 0.03])

    invoices = pd.DataFrame({
        "number": inv_numbers, "customer_external_id": ext_ids[cust_of], "issue_date": _to_dates(issue),
        "due_date": _to_dates(due), "amount": _money_text(amount), "currency": currency[cust_of],
        "order_number": np.char.replace(inv_numbers.astype(str), "INV-", "SO-"),
        "_customer_idx": cust_of, "_amount": amount,
    })
    cn_idx = np.flatnonzero(has_cn)
    credit_notes = pd.DataFrame({
        "number": [f"{p}CN-{k + 1:06d}" for k in range(len(cn_idx))],
        "customer_external_id": ext_ids[cust_of[cn_idx]], "issue_date": _to_dates(cn_day[cn_idx]),
        "amount": _money_text(cn_amount[cn_idx]), "currency": currency[cust_of[cn_idx]],
        "reason": rng.choice(["Returned goods", "Price adjustment", "Damaged delivery", "Volume rebate"],
                             size=len(cn_idx)),
        "invoice_number": inv_numbers[cn_idx],
    })
    payments = pd.DataFrame({
        "reference": pay_refs, "customer_external_id": ext_ids[cust_of[pay_inv]], "received_on": _to_dates(pay_day),
        "amount": _money_text(pay_amount), "currency": currency[cust_of[pay_inv]], "method": methods,
        "invoice_number": inv_numbers[pay_inv],
    })
    allocations = pd.concat([
        pd.DataFrame({"invoice_number": inv_numbers[cn_idx], "source": "credit_note",
                      "source_number": credit_notes["number"].to_numpy(), "amount": _money_text(cn_amount[cn_idx]),
                      "date": _to_dates(np.maximum(cn_day[cn_idx], issue[cn_idx]))}),
        pd.DataFrame({"invoice_number": inv_numbers[pay_inv], "source": "payment", "source_number": pay_refs,
                      "amount": _money_text(pay_applied), "date": _to_dates(np.maximum(pay_day, issue[pay_inv]))}),
    ], ignore_index=True)

    # --- orders: one per invoice, plus open orders in the last weeks, plus spikes ------------------
    ord_day = issue - rng.integers(0, 10, size=m)
    orders = pd.DataFrame({
        "number": invoices["order_number"].to_numpy(), "customer_external_id": ext_ids[cust_of],
        "order_date": _to_dates(ord_day), "amount": invoices["amount"].to_numpy(), "currency": currency[cust_of],
        "status": "invoiced",
    })
    live = (status == "active") | (status == "on_hold")
    monthly_rate = counts / np.maximum(active_days / 30.4, 1)
    n_open = np.where(live, rng.poisson(np.clip(monthly_rate * 0.5, 0, 20)), 0)
    n_spike = np.where(order_spike, rng.integers(3, 6, size=n), 0)
    oc = np.repeat(np.arange(n), n_open + n_spike)
    is_spike = np.concatenate(
        [np.r_[np.zeros(a, bool), np.ones(b, bool)] for a, b in zip(n_open, n_spike, strict=True)]
    ) if len(oc) else np.zeros(0, bool)
    o_amount = size_amount[oc] * np.exp(rng.normal(0, 0.6, size=len(oc))) / cust_fx[oc]
    o_amount = np.where(is_spike, o_amount * rng.uniform(6, 10, size=len(oc)), o_amount)
    o_day = end - np.where(is_spike, rng.integers(0, 14, size=len(oc)), rng.integers(0, 20, size=len(oc)))
    open_orders = pd.DataFrame({
        "number": [f"{p}SO-O{k + 1:06d}" for k in range(len(oc))], "customer_external_id": ext_ids[oc],
        "order_date": _to_dates(o_day), "amount": _money_text(np.maximum(o_amount, 10)), "currency": currency[oc],
        "status": "open",
    })
    orders = pd.concat([orders, open_orders], ignore_index=True)

    # Customers with invoices 60+ days late that have not defaulted are on credit hold.
    open_at_end = (~never & (paid > end)) | never
    very_late = open_at_end & (due < end - 60)
    hold = np.zeros(n, bool)
    hold[np.unique(cust_of[very_late])] = True
    hold &= customers["status"].to_numpy() == "active"
    customers.loc[hold, "status"] = "on_hold"
    monthly_sales = counts * size_amount / np.maximum(active_days / 30.4, 1) / cust_fx
    limit = np.round(monthly_sales * (terms / 30 + 1) * 1.5 / 1000) * 1000
    customers["credit_limit"] = pd.Series(_money_text(np.maximum(limit, 1000))).where(~(prospect | (limit <= 0)), None)

    statements = _statements(rng, config, customers, size_idx, z, onboard, default_day, defaults, cust_fx)
    signals = _signals(rng, config, customers, z, onboard, default_day, defaults, prospect)
    return DemoPortfolio(config, customers, groups, fx, statements, signals, orders, invoices, credit_notes,
                         payments, allocations)


def _dedupe(values: list[str]) -> list[tuple[int, str, bool]]:
    seen: set[str] = set()
    out = []
    for i, v in enumerate(values):
        out.append((i, v, v in seen))
        seen.add(v)
    return out


def _fx_table(rng: np.random.Generator, config: DemoConfig) -> pd.DataFrame:
    """Monthly rates (first of month) in units of the base currency, from EUR cross rates."""
    months = pd.date_range(pd.Timestamp(config.start).replace(day=1), pd.Timestamp(config.as_of), freq="MS")
    in_eur = {"EUR": np.ones(len(months))}
    for cur, rate in FX_START.items():
        in_eur[cur] = rate * np.exp(np.cumsum(rng.normal(0, 0.015, size=len(months))))
    base = in_eur[config.base_currency]
    # Orders are placed up to 9 days before their invoice, so before the window's first month: that month's
    # rate also stands for the month before (imports need a rate on or before every document's date).
    # No extra random draw: the rest of the portfolio stays what the seed gives.
    days = [months[0] - pd.DateOffset(months=1), *months]
    rows = [
        (cur, day, f"{r:.6f}")
        for cur, series in in_eur.items() if cur != config.base_currency
        for day, r in zip(days, np.r_[series[:1], series] / np.r_[base[:1], base], strict=True)
    ]
    return pd.DataFrame(rows, columns=["currency", "rate_date", "rate"])


def _statements(rng: np.random.Generator, config: DemoConfig, customers: pd.DataFrame, size_idx: np.ndarray,
                z: np.ndarray, onboard: np.ndarray, default_day: np.ndarray, defaults: np.ndarray,
                cust_fx: np.ndarray) -> pd.DataFrame:
    n = len(customers)
    files = (rng.random(n) < np.where(size_idx == 0, 0.6, 0.92)) & (customers["status"].to_numpy() != "prospect")
    revenue0 = SIZE_REVENUE_EUR[size_idx] * np.exp(rng.normal(0, 0.5, size=n)) / cust_fx
    asset_turn = rng.uniform(0.6, 1.3, size=n)
    rows = []
    end = _days(config.as_of)
    for k, year in enumerate(range(config.as_of.year - config.years, config.as_of.year)):
        pe = _days(dt.date(year, 12, 31))
        avail = files & (pe + 120 <= end) & (onboard <= pe + 365) & ~(defaults & (pe + 120 > default_day))
        idx = np.flatnonzero(avail)
        if not len(idx):
            continue
        zz = z[idx] + np.where(defaults[idx], 0.9 * np.clip(1 - (default_day[idx] - pe) / 540, 0, 1), 0)
        growth = np.exp((0.04 - 0.05 * zz + rng.normal(0, 0.06, size=len(idx))) * k)
        revenue = revenue0[idx] * growth
        margin = 0.07 - 0.045 * zz + rng.normal(0, 0.02, size=len(idx))
        ebit = revenue * margin
        ebitda = ebit + revenue * rng.uniform(0.02, 0.05, size=len(idx))
        ta = revenue / asset_turn[idx]
        lev = np.clip(1 / (1 + np.exp(-(0.15 + 0.75 * zz + rng.normal(0, 0.25, size=len(idx))))), 0.15, 1.2)
        tl = ta * lev
        ca = ta * rng.uniform(0.35, 0.7, size=len(idx))
        cash = ca * np.clip(0.14 - 0.05 * zz + rng.normal(0, 0.03, size=len(idx)), 0.01, 0.45)
        recv = ca * rng.uniform(0.3, 0.45, size=len(idx))
        inv = np.maximum(ca - cash - recv - ca * 0.05, 0)
        cl = np.minimum(tl * rng.uniform(0.4, 0.75, size=len(idx)), tl)
        interest = tl * rng.uniform(0.3, 0.6, size=len(idx)) * rng.uniform(0.035, 0.07, size=len(idx))
        pretax = ebit - interest
        net = np.where(pretax > 0, pretax * 0.72, pretax)
        ocf = ebitda * rng.uniform(0.5, 1.0, size=len(idx)) - rng.normal(0, 0.01, size=len(idx)) * revenue
        c = _cents
        ta_c, tl_c = c(ta), c(tl)
        equity = np.round(ta_c - tl_c, 2)
        retained = np.where(equity > 0, c(equity * rng.uniform(0.3, 0.8, size=len(idx))), equity)
        rows.append(pd.DataFrame({
            "customer_external_id": customers["external_id"].to_numpy()[idx], "period_end": pd.Timestamp(year, 12, 31),
            "period_months": 12, "currency": customers["currency"].to_numpy()[idx],
            "audited": rng.random(len(idx)) < np.where(size_idx[idx] >= 2, 0.9, 0.3), "source": "annual report",
            "cash": c(cash), "receivables": c(recv), "inventory": c(inv), "current_assets": c(ca),
            "total_assets": ta_c, "current_liabilities": c(cl), "total_liabilities": tl_c, "equity": equity,
            "retained_earnings": retained, "revenue": c(revenue), "ebit": c(ebit), "ebitda": c(ebitda),
            "interest_expense": c(interest), "net_income": c(net), "operating_cash_flow": c(ocf),
        }))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()


def _signals(rng: np.random.Generator, config: DemoConfig, customers: pd.DataFrame, z: np.ndarray,
             onboard: np.ndarray, default_day: np.ndarray, defaults: np.ndarray,
             prospect: np.ndarray) -> pd.DataFrame:
    n = len(customers)
    start, end = _days(config.start), _days(config.as_of)
    ext = customers["external_id"].to_numpy()
    frames = []
    # Quarterly bureau scores for 70% of customers.
    covered = (rng.random(n) < 0.7) & ~prospect
    quarters = np.arange(start, end, 91)
    for q in quarters:
        idx = np.flatnonzero(covered & (onboard <= q) & ~(defaults & (default_day < q - 60)))
        if not len(idx):
            continue
        zz = z[idx] + np.where(defaults[idx], 1.2 * np.clip(1 - (default_day[idx] - q) / 360, 0, 1), 0)
        score = np.clip(np.round(72 - 14 * zz + rng.normal(0, 5, size=len(idx))), 1, 100)
        day = pd.Timestamp(dt.date.fromordinal(int(q)))
        frames.append(pd.DataFrame({
            "customer_external_id": ext[idx], "kind": "bureau_score", "observed_on": day, "source": "CreditBureau",
            "reference": f"score:{day.date().isoformat()}", "value": score.astype(int).astype(str),
            "severity": np.where(score < 30, "high", np.where(score < 50, "medium", "info")),
            "title": "",
        }))
    # Insolvency filings for most defaulters.
    fil = np.flatnonzero(defaults & (rng.random(n) < 0.65))
    if len(fil):
        day = np.minimum(default_day[fil] + rng.integers(0, 20, size=len(fil)), end)
        frames.append(pd.DataFrame({
            "customer_external_id": ext[fil], "kind": "insolvency_filing", "observed_on": _to_dates(day),
            "source": "Insolvency register", "reference": [f"INS-{i:06d}" for i in fil], "value": None,
            "severity": "high", "title": "Insolvency proceedings opened",
        }))
    # Litigation and negative news: rarer for good risks, more frequent before default.
    for kind, base, slope, title, sev in (
        ("litigation", 0.05, 1.0, "Claim filed by a supplier", "medium"),
        ("negative_news", 0.03, 0.8, "Press reports liquidity problems", "medium"),
    ):
        years = (end - np.maximum(onboard, start)) / 365.25
        lam = base * np.exp(slope * z) * np.clip(years, 0, None) + np.where(defaults, 0.6, 0)
        k = rng.poisson(lam)
        idx = np.repeat(np.arange(n), k)
        if not len(idx):
            continue
        lo = np.maximum(onboard[idx], start)
        hi = np.where(defaults[idx], np.minimum(default_day[idx], end), end)
        day = lo + (rng.random(len(idx)) * np.maximum(hi - lo, 1)).astype(int)
        frames.append(pd.DataFrame({
            "customer_external_id": ext[idx], "kind": kind, "observed_on": _to_dates(day), "source": "Newswire"
            if kind == "negative_news" else "Court register",
            "reference": [f"{kind[:3].upper()}-{j:07d}" for j in range(len(idx))], "value": None,
            "severity": sev, "title": title,
        }))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
