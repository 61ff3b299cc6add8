"""The credit policy's rules as plain data: defaults, validation with located errors, the rule in force for
a grade (downturn mode applied), the authority matrix's routing, and the recommended limit with its
calculation step by step. No database access here: services and the nightly run feed it values."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from credit_platform.bounds import MONEY_MAX
from credit_platform.roles import Role

GRADES = tuple(range(1, 11))
SECURITY = ("none", "guarantee", "letter_of_credit", "prepayment")
CHECKPOINTS = ("quotation", "confirmation", "delivery", "invoice")
ZERO = Decimal("0.00")
# Recommended limits are rounded down to this step (base currency): a limit of 37,412.18 reads as false
# precision to an approver; 1,000 is the step credit insurers quote buyer limits in.
ROUND_STEP = Decimal("1000")

# Per grade: limit = min(equity_share x equity, sales_share x annual sales) capped at the ceiling (base
# currency); terms in days; security; share of an order to be prepaid; months between reviews; the weight
# of this grade's overdue in the order check (a late payer of grade 8 weighs four times one of grade 1).
# The shares follow the common trade-credit rule of thumb (10% of net worth, 2 months of purchases for
# an average risk), tightened as the grade worsens; grade 10 is default: prepayment only.
_DEFAULT = [
    # grade, equity_share, sales_share, ceiling, terms, security, prepayment, review_months, overdue_weight
    (1, "0.20", "0.25", "1000000", 60, "none", "0", 24, "0.5"),
    (2, "0.18", "0.22", "800000", 60, "none", "0", 24, "0.6"),
    (3, "0.15", "0.20", "600000", 45, "none", "0", 12, "0.7"),
    (4, "0.12", "0.17", "400000", 45, "none", "0", 12, "0.8"),
    (5, "0.10", "0.15", "250000", 30, "none", "0", 12, "1.0"),
    (6, "0.07", "0.12", "150000", 30, "guarantee", "0", 6, "1.2"),
    (7, "0.05", "0.08", "75000", 30, "guarantee", "0.10", 6, "1.5"),
    (8, "0.03", "0.05", "30000", 14, "letter_of_credit", "0.30", 3, "2.0"),
    (9, "0", "0", "0", 0, "prepayment", "1", 3, "3.0"),
    (10, "0", "0", "0", 0, "prepayment", "1", 1, "3.0"),
]
DEFAULT_RULES: dict[str, dict[str, Any]] = {
    str(g): {"equity_share": e, "sales_share": s, "ceiling": c, "terms_days": t, "security": sec,
             "prepayment_share": p, "review_months": r, "overdue_weight": w}
    for g, e, s, c, t, sec, p, r, w in _DEFAULT
}
_APPROVERS = [Role.FINANCE_APPROVER.value, Role.CREDIT_MANAGER.value, Role.ADMIN.value]
# Bands in increasing order; the last (up_to null) is the committee: two approvers.
DEFAULT_AUTHORITY: list[dict[str, Any]] = [
    {"up_to": "50000", "max_grade": 7, "roles": _APPROVERS, "approvers": 1},
    {"up_to": "250000", "max_grade": 5, "roles": _APPROVERS, "approvers": 1},
    {"up_to": None, "max_grade": 10, "roles": _APPROVERS, "approvers": 2},
]
DEFAULT_CHECKPOINTS = ["confirmation", "delivery"]


def _decimal(value: Any, where: str, errors: dict[str, list[str]], *, low: Decimal = Decimal(0),
             high: Decimal = MONEY_MAX) -> Decimal | None:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        errors.setdefault(where, []).append(_("'%(value)s' is not a number.") % {"value": str(value)[:40]})
        return None
    if not number.is_finite() or not low <= number <= high:
        errors.setdefault(where, []).append(
            _("%(value)s is outside %(low)s..%(high)s.") % {"value": str(value)[:40], "low": low, "high": high})
        return None
    return number


def _int(value: Any, where: str, errors: dict[str, list[str]], low: int, high: int) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip().isdigit():
        errors.setdefault(where, []).append(_("'%(value)s' is not a whole number.") % {"value": str(value)[:40]})
        return None
    number = int(value)
    if not low <= number <= high:
        errors.setdefault(where, []).append(
            _("%(value)s is outside %(low)s..%(high)s.") % {"value": number, "low": low, "high": high})
        return None
    return number


def validate_rules(rules: Any) -> dict[str, dict[str, Any]]:
    """Every grade 1..10 with every field in range; errors are located (``rules.7.terms_days``)."""
    errors: dict[str, list[str]] = {}
    if not isinstance(rules, dict):
        raise ValidationError({"rules": _("Expected one entry per grade 1..10.")})
    out: dict[str, dict[str, Any]] = {}
    for grade in GRADES:
        rule = rules.get(str(grade))
        where = f"rules.{grade}"
        if not isinstance(rule, dict):
            errors.setdefault(where, []).append(_("The rule of grade %(grade)s is missing.") % {"grade": grade})
            continue
        clean: dict[str, Any] = {}
        for name in ("equity_share", "sales_share", "prepayment_share"):
            value = _decimal(rule.get(name), f"{where}.{name}", errors, high=Decimal(1))
            clean[name] = str(value) if value is not None else None
        value = _decimal(rule.get("overdue_weight"), f"{where}.overdue_weight", errors, high=Decimal(100))
        clean["overdue_weight"] = str(value) if value is not None else None
        value = _decimal(rule.get("ceiling"), f"{where}.ceiling", errors)
        clean["ceiling"] = str(value) if value is not None else None
        clean["terms_days"] = _int(rule.get("terms_days"), f"{where}.terms_days", errors, 0, 365)
        clean["review_months"] = _int(rule.get("review_months"), f"{where}.review_months", errors, 1, 60)
        if rule.get("security") not in SECURITY:
            errors.setdefault(f"{where}.security", []).append(
                _("'%(value)s' is not one of %(choices)s.") % {"value": str(rule.get("security"))[:40],
                                                               "choices": ", ".join(SECURITY)})
        clean["security"] = rule.get("security")
        out[str(grade)] = clean
    if errors:
        raise ValidationError(errors)
    return out


def validate_authority(bands: Any) -> list[dict[str, Any]]:
    """Bands in increasing order of ``up_to``, the last one without (everything above)."""
    errors: dict[str, list[str]] = {}
    if not isinstance(bands, list) or not bands:
        raise ValidationError({"authority": _("Expected a list of bands.")})
    out = []
    previous = Decimal(-1)
    for i, band in enumerate(bands):
        where = f"authority[{i}]"
        if not isinstance(band, dict):
            errors.setdefault(where, []).append(_("Expected a band."))
            continue
        up_to = band.get("up_to")
        last = i == len(bands) - 1
        if up_to is None:
            if not last:
                errors.setdefault(f"{where}.up_to", []).append(_("Only the last band may be open-ended."))
        else:
            value = _decimal(up_to, f"{where}.up_to", errors)
            if value is not None and value <= previous:
                errors.setdefault(f"{where}.up_to", []).append(_("Bands must increase."))
            previous = value if value is not None else previous
        if last and up_to is not None:
            errors.setdefault(f"{where}.up_to", []).append(_("The last band must be open-ended (empty)."))
        roles = band.get("roles")
        if not isinstance(roles, list) or not roles or any(r not in Role.values for r in roles):
            errors.setdefault(f"{where}.roles", []).append(
                _("Expected a list of roles among %(roles)s.") % {"roles": ", ".join(Role.values)})
        out.append({
            "up_to": None if up_to is None else str(up_to),
            "max_grade": _int(band.get("max_grade", 10), f"{where}.max_grade", errors, 1, 10),
            "roles": roles,
            "approvers": _int(band.get("approvers", 1), f"{where}.approvers", errors, 1, 5),
        })
    if errors:
        raise ValidationError(errors)
    return out


def validate_checkpoints(points: Any) -> list[str]:
    if not isinstance(points, list) or any(p not in CHECKPOINTS for p in points):
        raise ValidationError({"checkpoints": _("Expected a list among %(choices)s.") % {
            "choices": ", ".join(CHECKPOINTS)}})
    return sorted(set(points), key=CHECKPOINTS.index)


@dataclass(frozen=True)
class GradeRule:
    """The rule in force for one grade, downturn mode applied."""

    grade: int
    equity_share: Decimal
    sales_share: Decimal
    ceiling: Decimal
    terms_days: int
    security: str
    prepayment_share: Decimal
    review_months: int
    overdue_weight: Decimal
    downturn: bool


def grade_rule(policy: Any, grade: int | None) -> GradeRule:
    """The rule of ``grade`` (an unscored customer gets grade 6's rule: grade 10's would refuse every new
    customer, grade 1's would trust one nobody has looked at) with the downturn switches applied: terms shortened by
    the terms factor, prepayment raised by the prepayment add (capped at 100%), reviews more frequent."""
    g = grade if grade in GRADES else 6
    rule = policy.rules[str(g)]
    terms = int(rule["terms_days"])
    prepay = Decimal(rule["prepayment_share"])
    review = int(rule["review_months"])
    if policy.downturn:
        terms = int((Decimal(terms) * Decimal(policy.downturn_terms_factor)).to_integral_value(ROUND_HALF_UP))
        if prepay > 0 or g >= 6:
            prepay = min(Decimal(1), prepay + Decimal(policy.downturn_prepayment_add))
        review = max(1, int((Decimal(review) * Decimal(policy.downturn_review_factor)).to_integral_value(
            ROUND_HALF_UP)))
    return GradeRule(
        grade=g, equity_share=Decimal(rule["equity_share"]), sales_share=Decimal(rule["sales_share"]),
        ceiling=Decimal(rule["ceiling"]), terms_days=terms, security=rule["security"], prepayment_share=prepay,
        review_months=review, overdue_weight=Decimal(rule["overdue_weight"]), downturn=bool(policy.downturn),
    )


@dataclass(frozen=True)
class Route:
    band: int
    roles: list[str]
    approvers: int


def route(policy: Any, amount_base: Decimal, grade: int | None) -> Route:
    """The first band whose ceiling covers the amount and whose grades include the customer's (unscored:
    routed as grade 6, the rule it is recommended under); the committee otherwise."""
    g = grade if grade in GRADES else 6
    bands = policy.authority
    for i, band in enumerate(bands):
        fits = band["up_to"] is None or amount_base <= Decimal(band["up_to"])
        if fits and g <= int(band["max_grade"]):
            return Route(i, list(band["roles"]), int(band["approvers"]))
    last = bands[-1]
    return Route(len(bands) - 1, list(last["roles"]), int(last["approvers"]))


@dataclass
class Inputs:
    """What the recommendation of one customer reads, in base currency."""

    grade: int | None
    pd: float | None
    equity: Decimal | None  # latest statement's equity; None: no statement
    annual_sales: Decimal  # invoiced in the last 12 months
    insured: Decimal | None = None  # an insurer's buyer limit, when one is recorded
    reviewed: bool = True  # has had a first review or a decision
    steps: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Recommendation:
    amount: Decimal
    terms_days: int
    security: str
    prepayment_share: Decimal
    review_months: int
    steps: list[dict[str, Any]]


def _round_down(value: Decimal) -> Decimal:
    if value <= 0:
        return ZERO
    return ((value / ROUND_STEP).to_integral_value(ROUND_DOWN) * ROUND_STEP).quantize(Decimal("0.01"))


def recommend(policy: Any, inputs: Inputs) -> Recommendation:
    """The recommended limit, with each step recorded as {"step", "value", "note"} (amounts as strings)."""
    rule = grade_rule(policy, inputs.grade)
    steps: list[dict[str, Any]] = []

    def step(name: str, value: Any, note: str = "") -> None:
        steps.append({"step": name, "value": str(value), "note": note})

    step("grade", inputs.grade if inputs.grade is not None else "-",
         "" if inputs.grade is not None else "not scored: grade 6 rule")
    step("pd", f"{inputs.pd:.4f}" if inputs.pd is not None else "-")
    sales_limit = (rule.sales_share * inputs.annual_sales).quantize(Decimal("0.01"))
    step("sales_limit", sales_limit, f"{rule.sales_share} x annual sales {inputs.annual_sales}")
    if inputs.equity is not None:
        equity_limit = (rule.equity_share * max(inputs.equity, ZERO)).quantize(Decimal("0.01"))
        step("equity_limit", equity_limit, f"{rule.equity_share} x equity {inputs.equity}")
        limit = min(equity_limit, sales_limit) if inputs.annual_sales > 0 else equity_limit
        step("lower_of_both", limit)
    else:
        share = Decimal(policy.no_statement_share)
        limit = (sales_limit * share).quantize(Decimal("0.01"))
        step("no_statements", limit, f"{share} x sales limit")
    if inputs.pd is not None:
        factor = Decimal(1) - min(Decimal(str(round(inputs.pd, 6))), Decimal("0.5"))
        limit = (limit * factor).quantize(Decimal("0.01"))
        step("pd_adjusted", limit, f"x (1 - PD) = x {factor}")
    if inputs.insured is not None and inputs.insured > limit:
        limit = inputs.insured
        step("insured_cover", limit, "raised to the insurer's buyer limit")
    if limit > rule.ceiling:
        limit = rule.ceiling
        step("ceiling", limit, f"grade {rule.grade} ceiling")
    if not inputs.reviewed:
        if policy.new_customer_rule == "starter":
            limit = min(limit, Decimal(policy.starter_limit)) if limit > 0 else Decimal(policy.starter_limit)
            step("new_customer", limit, "starter limit until the first review")
        else:
            limit = ZERO
            step("new_customer", limit, "no limit before a first review")
    amount = _round_down(limit)
    step("rounded", amount, f"down to {ROUND_STEP}")
    if rule.downturn:
        step("downturn", "on", f"terms {rule.terms_days} days, prepayment {rule.prepayment_share}")
    return Recommendation(amount=amount, terms_days=rule.terms_days, security=rule.security,
                          prepayment_share=rule.prepayment_share, review_months=rule.review_months, steps=steps)


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    import calendar

    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
