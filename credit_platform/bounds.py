"""Bounds every entry shares (pages, admin, API): magnitudes of money, ranges of business dates, lengths
of free text. Declared on the model fields, so that a ModelForm, an admin form and a ModelSerializer
validate the same way; the input serializers and forms that are not model-backed reuse the constants.

Why these numbers:

* Money: at most 999,999,999,999,999.99 (15 integer digits), positive or negative. The column is
  ``numeric(18, 2)``; SQLite (the embedded mode) stores it as a double, and a value at the column's
  16-digit edge (9,999,999,999,999,999.99) reads back as 1E16, which no longer fits and makes the row
  unreadable. 15 digits reads back safely, still holds a conglomerate's revenue in VND or IDR, and is
  a thousand times any trade invoice or credit limit.
* Dates: 1900-01-01 to 2199-12-31. Dates outside are typing errors (year 1, year 9999) that break date
  arithmetic (``as_of - 90 days`` before year 1) and the pandas feature pipeline (datetime64[ns] ends in
  2262).
* Text: postal address 1,000 characters, notes and descriptions 2,000 to 4,000, message templates
  10,000; a 9 MB address took minutes of one core to lay out in a statement PDF.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import BadRequest, ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

MONEY_MAX = Decimal("999999999999999.99")
DATE_MIN = dt.date(1900, 1, 1)
DATE_MAX = dt.date(2199, 12, 31)

ADDRESS_MAX_CHARS = 1000
NOTE_MAX_CHARS = 2000
LONG_NOTE_MAX_CHARS = 4000
TEMPLATE_MAX_CHARS = 10000


def money_validators() -> list[Any]:
    return [
        MinValueValidator(-MONEY_MAX, message=gettext_lazy("Ensure this amount is at least %(limit_value)s.")),
        MaxValueValidator(MONEY_MAX, message=gettext_lazy("Ensure this amount is at most %(limit_value)s.")),
    ]


@deconstructible
class BusinessDateValidator:
    """A date between DATE_MIN and DATE_MAX."""

    def __call__(self, value: Any) -> None:
        if isinstance(value, dt.date) and not DATE_MIN <= value <= DATE_MAX:
            raise ValidationError(
                gettext_lazy("%(value)s is outside the supported dates (%(min)s to %(max)s)."),
                code="date_range",
                params={"value": value.isoformat(), "min": DATE_MIN.isoformat(), "max": DATE_MAX.isoformat()},
            )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BusinessDateValidator)

    def __hash__(self) -> int:
        return hash(type(self))


validate_business_date = BusinessDateValidator()


def date_field(**kwargs: Any) -> models.DateField:
    """A business date (invoice, due, payment, promise dates...): bounded as above."""
    return models.DateField(validators=[validate_business_date, *kwargs.pop("validators", [])], **kwargs)


def bounded_text(max_length: int, **kwargs: Any) -> models.TextField:
    """A TextField whose length is validated (a TextField's ``max_length`` alone only sizes the form
    widget); the database column stays ``text``."""
    return models.TextField(max_length=max_length,
                            validators=[MaxLengthValidator(max_length), *kwargs.pop("validators", [])], **kwargs)


def parse_date_param(raw: str, *, name: str = "as_of") -> dt.date | None:
    """A date from a query string: None when empty; a ``BadRequest`` (400) saying what was wrong when it
    is not a YYYY-MM-DD date or lies outside the supported dates."""
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        value = dt.date.fromisoformat(raw)
    except ValueError:
        raise BadRequest(_("%(name)s: '%(value)s' is not a date (YYYY-MM-DD).") % {
            "name": name, "value": raw[:40]}) from None
    if not DATE_MIN <= value <= DATE_MAX:
        raise BadRequest(_("%(name)s: %(value)s is outside the supported dates (%(min)s to %(max)s).") % {
            "name": name, "value": value.isoformat(), "min": DATE_MIN.isoformat(), "max": DATE_MAX.isoformat()})
    return value
