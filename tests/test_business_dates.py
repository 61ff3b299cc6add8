"""The date-sensitive flows at the instants where the server's date and the organization's differ.

At 23:30 UTC an organization in Shanghai (UTC+8) is already on the next day, and at 03:00 UTC one in
New York (UTC-5 in winter) is still on the day before; at a month end, a year end and on 29 February
the next day is also another month. Scoring, dunning (with its promises to pay and scheduled
statements), aging and the ECL reserve must all key on the organization's own date: each check below
fails if one of them takes the server's (UTC) date instead.

The expected local date is computed here from the zone database, independently of
``Organization.local_date``.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from credit_platform.roles import Role
from receivables.dunning.policy import dunning_policy_ensure_default
from receivables.dunning.run import dunning_run
from receivables.ecl import previous_month_end
from receivables.models import DunningAction, DunningRun, EclSnapshot, PromiseToPay
from receivables.tasks import daily_beat, due_organizations
from scoring.models import CurrentScore, ScoringRun
from scoring.tasks import nightly
from tests.factories import CustomerFactory, OrganizationFactory
from tests.receivables.conftest import invoice

pytestmark = pytest.mark.django_db

UTC = dt.UTC
INSTANTS = {
    "29 February, 23:30 UTC": dt.datetime(2028, 2, 29, 23, 30, tzinfo=UTC),
    "29 February, 03:00 UTC": dt.datetime(2028, 2, 29, 3, 0, tzinfo=UTC),
    "month end, 23:30 UTC": dt.datetime(2026, 11, 30, 23, 30, tzinfo=UTC),
    "year end, 23:30 UTC": dt.datetime(2026, 12, 31, 23, 30, tzinfo=UTC),
    "1 March, 03:00 UTC": dt.datetime(2028, 3, 1, 3, 0, tzinfo=UTC),
}
ZONES = {"UTC+8": "Asia/Shanghai", "UTC-5": "America/New_York"}  # New York is UTC-5 at every instant above


@pytest.fixture(params=list(INSTANTS), ids=lambda k: k.replace(" ", "-").replace(",", ""))
def instant(request):
    with time_machine.travel(INSTANTS[request.param], tick=False):
        yield INSTANTS[request.param]


@pytest.fixture(params=list(ZONES), ids=list(ZONES))
def world(request, instant, member, settings):
    """An organization in that zone at that instant, its expected business date, and a small book laid
    out around that date."""
    settings.SCORING_NIGHTLY_HOUR = 0  # the night is due whatever the local hour
    zone = ZONES[request.param]
    today = instant.astimezone(zoneinfo.ZoneInfo(zone)).date()
    org = OrganizationFactory(slug=f"dates-{request.param}", time_zone=zone)
    assert org.local_date() == today
    customer = CustomerFactory(organization=org, email="ap@example.com")
    day = dt.timedelta(days=1)
    book = {
        "due_yesterday": invoice(customer, "100.00", today - 30 * day, today - day),
        "due_today": invoice(customer, "200.00", today - 30 * day, today),
        "due_in_7": invoice(customer, "300.00", today - 20 * day, today + 7 * day),
        "due_in_8": invoice(customer, "400.00", today - 20 * day, today + 8 * day),
    }
    return {"org": org, "today": today, "customer": customer, "book": book, "member": member}


def test_aging_and_the_overview_count_days_past_due_from_the_organizations_date(client, world):
    org, today = world["org"], world["today"]
    client.force_login(world["member"](org, Role.CREDIT_OFFICER))
    home = client.get(reverse("home"))
    assert home.context["as_of"] == today
    aging = home.context["aging"]
    # due yesterday: 1 day past due; due today: not yet past due
    assert aging.buckets["d1_30"] == Decimal("100.00")
    assert aging.buckets["current"] == Decimal("900.00")
    overview = client.get(reverse("collections-overview"))
    assert overview.context["as_of"] == today


def test_the_daily_dunning_runs_for_the_organizations_date_and_fires_levels_by_it(world):
    org, today, book = world["org"], world["today"], world["book"]
    policy = dunning_policy_ensure_default(org)
    policy.run_hour = 0
    policy.save(update_fields=["run_hour"])
    [(org_id, day, statements_due)] = due_organizations(dt.datetime.now(UTC))
    assert (org_id, day) == (org.pk, today)
    assert statements_due == (today.day == policy.statement_day)

    assert daily_beat() == 1
    run = DunningRun.objects.get(organization=org)
    assert (run.run_date, run.status) == (today, DunningRun.Status.COMPLETED)
    fired = {(a.invoice_id, a.level.days) for a in DunningAction.objects.filter(run=run).select_related("level")}
    assert (book["due_yesterday"].pk, 1) in fired  # first reminder: 1 day after the due date
    assert not any(inv == book["due_today"].pk and days >= 1 for inv, days in fired)
    assert (book["due_in_7"].pk, -7) in fired  # pre-due reminder: 7 days before
    assert not any(inv == book["due_in_8"].pk for inv, _days in fired)
    assert daily_beat() == 0  # the day's run is done: the next beat of the same local day starts nothing


def test_promises_are_made_on_and_broken_by_the_organizations_date(client, world):
    org, today, customer = world["org"], world["today"], world["customer"]
    policy = dunning_policy_ensure_default(org)
    grace = dt.timedelta(days=policy.promise_grace_days)
    client.force_login(world["member"](org, Role.COLLECTOR))
    page = client.post(reverse("collections-file", args=[customer.pk]),
                       {"action": "promise", "amount": "50.00", "promised_date": today.isoformat()})
    assert page.status_code == 302
    made = PromiseToPay.objects.get(organization=org)
    assert made.made_on == today
    lapsed = PromiseToPay.objects.create(organization=org, customer=customer, made_on=today - 20 * dt.timedelta(1),
                                         promised_date=today - grace - dt.timedelta(days=1), amount=Decimal(70),
                                         currency="EUR")
    last_day = PromiseToPay.objects.create(organization=org, customer=customer, made_on=today - 20 * dt.timedelta(1),
                                           promised_date=today - grace, amount=Decimal(80), currency="EUR")
    dunning_run(organization=org, run_date=org.local_date(), send_outbox=False)
    statuses = dict(PromiseToPay.objects.filter(organization=org).values_list("pk", "status"))
    assert statuses[lapsed.pk] == PromiseToPay.Status.BROKEN  # promised date + grace is behind us
    assert statuses[last_day.pk] == PromiseToPay.Status.OPEN  # its last day of grace is today
    assert statuses[made.pk] == PromiseToPay.Status.OPEN


def test_the_nightly_scoring_scores_the_organizations_date(world, django_capture_on_commit_callbacks):
    org, today = world["org"], world["today"]
    with django_capture_on_commit_callbacks(execute=True):  # the run fans out its chunks after commit
        assert nightly() == 1
    run = ScoringRun.objects.get(organization=org, trigger="nightly")
    assert (run.as_of, run.status) == (today, ScoringRun.Status.FINISHED)
    assert CurrentScore.objects.get(organization=org, customer=world["customer"]).as_of == today
    assert nightly() == 0  # that local night is done


def test_the_ecl_reserve_closes_on_the_organizations_date_and_opens_on_its_previous_month_end(client, world):
    org, today = world["org"], world["today"]
    client.force_login(world["member"](org, Role.CREDIT_MANAGER))
    page = client.get(reverse("collections-ecl"))
    movement = page.context["movement"]
    assert (movement.closing_date, movement.opening_date) == (today, previous_month_end(today))
    assert movement.opening_date.month != today.month and (movement.opening_date + dt.timedelta(days=1)).day == 1
    assert client.post(reverse("collections-ecl"), {"action": "snapshot"}).status_code == 302
    assert list(EclSnapshot.objects.filter(organization=org).values_list("as_of", flat=True)) == [today]
