"""Values valid on a date, for training snapshots and back-filled scores (no look-ahead).

Features of a past date must use what was known and valid on that date. Invoices, payments, statements
and signals carry their own dates (``features``); three inputs did not:

* **Credit limits** come through ``credit_limits_as_of``, from the limits app's dated decisions: a
  customer without a decision by that date has no known limit, so the utilisation of its past
  snapshot is missing (the models have a missing bin) rather than computed with today's limit, which
  would leak later decisions (a limit cut after arrears) into training.
* **Country and sector risk levels**: ``RiskLevelChange`` keeps their dated history, written by
  ``risk_level_change``; ``risk_levels_as_of`` reads it.

Today (the organization's business date) and later dates use the current values.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from credit_platform.audit import audit_append
from credit_platform.bounds import DATE_MIN
from credit_platform.errors import AppError, ErrorCode
from credit_platform.models import Organization
from customers.models import Country, Sector

from .models import RiskLevelChange

LEVEL_RANGE = {RiskLevelChange.Kind.COUNTRY: (0, 7), RiskLevelChange.Kind.SECTOR: (1, 5)}
REFERENCE: dict[str, type[Country] | type[Sector]] = {
    RiskLevelChange.Kind.COUNTRY: Country, RiskLevelChange.Kind.SECTOR: Sector}


def credit_limits_as_of(organization: Organization, as_of: dt.date) -> dict[int, Decimal]:
    """Each customer's credit limit valid on ``as_of`` (in the customer's currency), from the limits app's
    dated decisions; customers absent from the result had no known limit then (never today's limit)."""
    from limits.history import limits_as_of

    return limits_as_of(organization, as_of, in_base=False)


def risk_levels_as_of(kind: str, as_of: dt.date) -> dict[str, int]:
    """Code -> risk level valid on ``as_of`` for every country (or sector)."""
    current = dict(REFERENCE[kind].objects.values_list("code", "risk_level"))
    # the change of each code in force on as_of (the history is small: a few rows per country a year)
    latest: dict[str, tuple[dt.date, int]] = {}
    for code, day, level in RiskLevelChange.objects.filter(kind=kind, valid_from__lte=as_of).values_list(
            "code", "valid_from", "risk_level"):
        if code not in latest or day > latest[code][0]:
            latest[code] = (day, level)
    return {code: latest[code][1] if code in latest else level for code, level in current.items()}


def _latest_business_date() -> dt.date:
    """The latest calendar date anywhere (UTC+14): a change cannot start after it."""
    return (timezone.now() + dt.timedelta(hours=14)).date()


def validate_change(kind: str, code: str, risk_level: Any, valid_from: Any) -> tuple[int, dt.date]:
    """The level and start date of a change, or an ``AppError`` whose message starts with the field."""
    if kind not in LEVEL_RANGE:
        raise AppError(ErrorCode.VALIDATION, f"kind: '{kind}' is not one of country, sector", details={"kind": kind})
    if not REFERENCE[kind].objects.filter(code=code).exists():
        raise AppError(ErrorCode.VALIDATION, f"code: no {kind} '{code}'", details={"code": code})
    lo, hi = LEVEL_RANGE[RiskLevelChange.Kind(kind)]
    try:
        level: int | None = int(str(risk_level).strip())
    except (TypeError, ValueError):
        level = None
    if level is None or not lo <= level <= hi:
        raise AppError(ErrorCode.VALIDATION, f"risk_level: '{risk_level}' is not a whole number from {lo} to {hi}",
                       details={"risk_level": risk_level})
    day = valid_from
    if not isinstance(day, dt.date):
        try:
            day = dt.date.fromisoformat(str(valid_from))
        except ValueError:
            raise AppError(ErrorCode.VALIDATION, f"valid_from: '{valid_from}' is not a date (YYYY-MM-DD)",
                           details={"valid_from": valid_from}) from None
    if not DATE_MIN < day <= _latest_business_date():
        raise AppError(ErrorCode.VALIDATION, f"valid_from: {day} must be after {DATE_MIN} and not in the future",
                       details={"valid_from": day.isoformat()})
    return level, day


@transaction.atomic
def risk_level_change(*, kind: str, code: str, risk_level: Any, valid_from: Any, actor: Any,
                      reason: str = "") -> RiskLevelChange:
    """Record a country or sector risk level valid from a date (today or a correction of the past), move
    the current level to the one valid now, and write the change to every active organization's ledger
    (the reference data is shared by all of them)."""
    level, valid_from = validate_change(kind, code, risk_level, valid_from)
    model = REFERENCE[kind]
    ref = model.objects.select_for_update().get(code=code)
    latest = _latest_business_date()
    history = RiskLevelChange.objects.filter(kind=kind, code=code)
    if not history.exists():  # the level kept since the reference data was loaded
        RiskLevelChange.objects.create(kind=kind, code=code, risk_level=ref.risk_level, valid_from=DATE_MIN,
                                       reason="level before the first recorded change")
    change, _ = RiskLevelChange.objects.update_or_create(
        kind=kind, code=code, valid_from=valid_from,
        defaults={"risk_level": level, "reason": reason,
                  "recorded_by": actor if getattr(actor, "is_authenticated", False) else None})
    before = ref.risk_level
    now_level = history.filter(valid_from__lte=latest).order_by("-valid_from").values_list(
        "risk_level", flat=True).first()
    if now_level is not None and now_level != before:
        model.objects.filter(code=code).update(risk_level=now_level)
    for organization in Organization.objects.filter(is_active=True).order_by("pk"):
        audit_append(organization=organization, actor=actor, action="reference.risk_level_changed", obj=change,
                     before={"kind": kind, "code": code, "risk_level": before},
                     after={"kind": kind, "code": code, "risk_level": level, "valid_from": valid_from},
                     reason=reason)
    return change
