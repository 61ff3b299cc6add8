"""Money: Decimal amounts with an ISO 4217 currency, and conversion to an organization's base currency.

Amounts are stored as ``DecimalField(max_digits=18, decimal_places=2)`` next to a three-letter
currency; floats never carry money. Totals across currencies are summed per currency in SQL first and
converted once per currency here, so converting a million invoices costs one rate lookup per currency.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import pycountry
from django.core.exceptions import ValidationError
from django.utils.translation import gettext

from .errors import AppError, ErrorCode

if TYPE_CHECKING:
    from .models import Organization

CENT = Decimal("0.01")
RATE_PLACES = Decimal("1e-10")  # FXRate.rate's decimal places
ZERO = Decimal("0.00")
MONEY_MAX_DIGITS = 18
MONEY_DECIMAL_PLACES = 2


@lru_cache(maxsize=1)
def currency_codes() -> frozenset[str]:
    return frozenset(c.alpha_3 for c in pycountry.currencies)


CURRENCY_CHOICES = sorted((c.alpha_3, f"{c.alpha_3} - {c.name}") for c in pycountry.currencies)


def validate_currency(value: str) -> None:
    if value not in currency_codes():
        raise ValidationError(gettext("'%(value)s' is not an ISO 4217 currency code (e.g. 'EUR').") % {'value': value})


def money(value: Decimal | int | str) -> Decimal:
    """Round half up to the cent, the way invoices are rounded."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def money_read(value: Any) -> Decimal:
    """A summed amount read from the database, to the cent: PostgreSQL's NUMERIC sums arrive as exact
    Decimals, SQLite's as binary floats (rounded through their text, e.g. 4.5e-13 -> 0.00)."""
    if type(value) is Decimal:
        return value.quantize(CENT, rounding=ROUND_HALF_UP)
    return money(str(value))


@dataclass(frozen=True, order=True)
class FxGap:
    """A currency that had no rate to the base currency on or before a date."""

    currency: str
    base_currency: str
    as_of: dt.date


_FX_GAPS: ContextVar[set[FxGap] | None] = ContextVar("fx_gaps", default=None)


@contextmanager
def fx_gaps_flagged() -> Iterator[set[FxGap]]:
    """Inside this block (a page being read), a missing rate does not fail the page: the amounts in that
    currency are left out of base-currency totals and the gap is collected, so that the page can say so
    (``FxGapMiddleware`` and the banner of ``base.html``). Outside it (writes, tasks, the API) a missing
    rate stays an error: nothing is decided on a total that silently lacks amounts."""
    gaps: set[FxGap] = set()
    token = _FX_GAPS.set(gaps)
    try:
        yield gaps
    finally:
        _FX_GAPS.reset(token)


class FxTable:
    """The rates of one organization as of one date: latest rate on or before that date per currency.

    Loaded with one query; ``convert`` then costs nothing. A missing rate raises ``fx_rate_missing``
    naming the currency and date, rather than silently dropping an amount from a total.
    """

    def __init__(self, base_currency: str, as_of: dt.date, rates: Mapping[str, Decimal]):
        self.base_currency = base_currency
        self.as_of = as_of
        self.rates = dict(rates)
        self.rates[base_currency] = Decimal(1)

    @classmethod
    def load(cls, organization: Organization, as_of: dt.date, currencies: Iterable[str] | None = None) -> FxTable:
        """One statement, planned once per connection (``credit_platform.sql.fetch_prepared``): the order
        credit check reads the rates of a foreign-currency customer on every order, and the ORM's
        compilation of this query cost 1.3 ms of its 1.6 ms (docs/benchmarks.md)."""
        from django.db import connection

        from .models import FXRate
        from .sql import fetch_prepared

        wanted = None if currencies is None else sorted(set(currencies))
        if wanted == []:
            return cls(organization.base_currency, as_of, {})
        table = connection.ops.quote_name(FXRate._meta.db_table)
        only = "" if wanted is None else f"AND f.currency IN ({', '.join(['%s'] * len(wanted))})"
        sql = f"""SELECT f.currency, f.rate FROM {table} f WHERE f.organization_id = %s AND f.rate_date <= %s {only}
                  ORDER BY f.currency, f.rate_date DESC"""  # noqa: S608 - identifiers from model meta, values as parameters
        rows = fetch_prepared(sql, [organization.pk, as_of, *(wanted or [])])
        rates: dict[str, Decimal] = {}
        # Newest first, so the first row seen per currency is the one in force on as_of.
        for currency, rate in rows:
            if currency not in rates:
                # SQLite answers NUMERIC as a float: back to the field's 10 places, as the ORM reads it
                rates[currency] = rate if type(rate) is Decimal else Decimal(str(rate)).quantize(RATE_PLACES)
        return cls(organization.base_currency, as_of, rates)

    def rate_or_none(self, currency: str) -> Decimal | None:
        """The rate, or None when there is none (noted as a gap when a page collects them)."""
        rate = self.rates.get(currency)
        if rate is None:
            gaps = _FX_GAPS.get()
            if gaps is not None:
                gaps.add(FxGap(currency, self.base_currency, self.as_of))
        return rate

    def rate(self, currency: str) -> Decimal:
        """The rate; a missing one is ``fx_rate_missing``, or, while a page collects gaps, 0: the amounts
        are left out of the total and the page names the currency and date."""
        try:
            return self.rates[currency]
        except KeyError:
            gaps = _FX_GAPS.get()
            if gaps is not None:
                gaps.add(FxGap(currency, self.base_currency, self.as_of))
                return Decimal(0)
            raise AppError(
                ErrorCode.FX_RATE_MISSING,
                gettext('No %(currency)s->%(currency2)s rate on or before %(isoformat)s; add one under FX rates.') % {
                    'currency': currency, 'currency2': self.base_currency, 'isoformat': self.as_of.isoformat()},
                details={"currency": currency, "base_currency": self.base_currency, "as_of": self.as_of.isoformat()},
            ) from None

    def convert(self, amount: Decimal, currency: str) -> Decimal:
        return money(amount * self.rate(currency))

    def total(self, amounts_by_currency: Mapping[str, Decimal | None]) -> Decimal:
        """Sum per-currency totals in base currency, each converted once and rounded to the cent."""
        return sum(
            (self.convert(amount, cur) for cur, amount in amounts_by_currency.items() if amount),
            ZERO,
        )
