"""Open balances at past dates kept between page views: the ECL page's two years of history.

The ECL movement needs the book's open balances at 52 dates (``receivables.ecl``). Read live, that is
every invoice open at any of them (86,000 of the demo book's 200,000) at 0.5-1 s a view. The balances at
a past date only change when the book is changed on or before that date (a back-dated payment, a
corrected invoice, a customer going into default), so they are kept in ``BalanceSnapshot`` rows, one per
(organization, segment, date), and used while still right:

* PostgreSQL triggers log every change of the book with the earliest date it can affect and its
  transaction (``BookChange``, migration 0009);
* a snapshot of day D records the database snapshot taken before its balances were read; it is used
  only while no logged change with ``earliest <= D`` comes from a transaction that this database
  snapshot does not see (``pg_visible_in_snapshot``): committed later, or in progress then. No clock is
  compared, so a slow transaction cannot slip between the read and the record.

Dates before the organization's today are kept (today's balances change with every payment); the nightly
run (``balance_snapshots_refresh``) computes the dates the next views will ask for and prunes the log.
On SQLite, where no trigger logs changes, every view reads live.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from django.db import connection

from credit_platform.models import Organization

from .models import BalanceSnapshot

# {date: {(segment, in default, currency): {bucket: amount}}} (receivables.ecl.RawBalances)
Raw = dict[dt.date, dict[tuple[str, bool, str], dict[str, Decimal]]]

KEEP_DAYS = 1000  # snapshots older than the longest history a page asks for (25 steps of 30 days + a month)


def kept_balances(organization: Organization, segment_by: str, days: Iterable[dt.date],
                  read: Callable[[list[dt.date]], Raw]) -> Raw:
    """The balances at ``days``: kept snapshots that are still right, the rest through ``read`` (and
    kept when before today)."""
    days = sorted(set(days))
    if connection.vendor != "postgresql":
        return read(days)
    out = _still_right(organization, segment_by, days)
    missing = [d for d in days if d not in out]
    if missing:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_current_snapshot()::text")
            seen = cursor.fetchone()[0]
        fresh = read(missing)
        out.update(fresh)
        today = organization.local_date()
        _keep(organization, segment_by, {d: fresh.get(d, {}) for d in missing if d < today}, seen)
    return out


def _still_right(organization: Organization, segment_by: str, days: list[dt.date]) -> Raw:
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT s.day, s.balances FROM receivables_balancesnapshot s
               WHERE s.organization_id = %s AND s.segment_by = %s AND s.day = ANY(%s)
                 AND NOT EXISTS (
                     SELECT 1 FROM receivables_bookchange b
                     WHERE b.organization_id = s.organization_id AND b.earliest <= s.day
                       AND NOT pg_visible_in_snapshot(b.xid::text::xid8, s.seen::pg_snapshot))""",
            [organization.pk, segment_by, days],
        )
        rows = cursor.fetchall()
    return {day: _loads(balances) for day, balances in rows}


def _dumps(by_key: dict[tuple[str, bool, str], dict[str, Decimal]]) -> list[list[Any]]:
    return [[seg, dflt, currency, bucket, str(amount)]
            for (seg, dflt, currency), buckets in sorted(by_key.items()) for bucket, amount in buckets.items()]


def _loads(rows: Any) -> dict[tuple[str, bool, str], dict[str, Decimal]]:
    import json

    if isinstance(rows, str):  # a JSON column read by a raw cursor
        rows = json.loads(rows)
    out: dict[tuple[str, bool, str], dict[str, Decimal]] = {}
    for seg, dflt, currency, bucket, amount in rows:
        out.setdefault((seg, bool(dflt), currency), {})[bucket] = Decimal(amount)
    return out


def _keep(organization: Organization, segment_by: str, balances: Raw, seen: str) -> None:
    if not balances:
        return
    BalanceSnapshot.objects.bulk_create(
        [BalanceSnapshot(organization=organization, segment_by=segment_by, day=day, seen=seen,
                         balances=_dumps(by_key)) for day, by_key in balances.items()],
        update_conflicts=True, unique_fields=["organization", "segment_by", "day"],
        update_fields=["seen", "balances", "computed_at"],
    )


def balance_snapshots_refresh(organization: Organization, day: dt.date) -> int:
    """The nightly step: make the snapshots the ECL page of ``day`` reads right (computing those missing
    or out of date), then forget the changes every snapshot has seen and the snapshots too old to be
    asked for. Returns the number of dates read from the book."""
    from .ecl import ecl_history_dates, raw_balances, settings_for

    if connection.vendor != "postgresql":
        return 0
    settings = settings_for(organization)
    days = sorted({d for d in ecl_history_dates(day, settings.lookback_periods) if d < day})
    before = set(_still_right(organization, settings.segment_by, days))
    raw_balances(organization, days, settings.segment_by)
    with connection.cursor() as cursor:
        cursor.execute(
            """DELETE FROM receivables_balancesnapshot WHERE organization_id = %s AND day < %s""",
            [organization.pk, day - dt.timedelta(days=KEEP_DAYS)])
        cursor.execute(
            """DELETE FROM receivables_bookchange b WHERE b.organization_id = %s AND NOT EXISTS (
                   SELECT 1 FROM receivables_balancesnapshot s
                   WHERE s.organization_id = b.organization_id AND s.day >= b.earliest
                     AND NOT pg_visible_in_snapshot(b.xid::text::xid8, s.seen::pg_snapshot))""",
            [organization.pk])
    return len([d for d in days if d not in before])
