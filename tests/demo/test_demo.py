"""The demo portfolio: deterministic, internally consistent, with a learnable hidden risk and anomalies."""

import datetime as dt
from decimal import Decimal
from io import StringIO

import numpy as np
import pandas as pd
import pytest
from django.core import mail
from django.core.management import call_command
from sklearn.metrics import roc_auc_score

from credit_platform.demo.generator import DemoConfig, generate
from credit_platform.demo.loader import load_portfolio
from credit_platform.models import AuditEntry, Organization
from customers import statements
from customers.models import Customer
from receivables.models import Allocation, CollectionTask, DunningAction, DunningMessage, DunningRun, Invoice, Payment
from receivables.selectors import portfolio_aging
from tests.factories import OrganizationFactory

AS_OF = dt.date(2026, 11, 29)


@pytest.fixture(scope="module")
def portfolio():
    return generate(DemoConfig(as_of=AS_OF))  # the default demo: 2,000 customers, 200,000 invoices


def test_same_seed_same_portfolio_other_seed_other_portfolio(portfolio):
    again = generate(DemoConfig(as_of=AS_OF))
    for name in ("customers", "statements", "signals", "orders", "invoices", "payments", "allocations", "fx_rates"):
        pd.testing.assert_frame_equal(getattr(portfolio, name), getattr(again, name), check_exact=True)
    other = generate(DemoConfig(as_of=AS_OF, seed=43))
    assert not other.invoices["amount"].equals(portfolio.invoices["amount"])


def test_size_and_breadth(portfolio):
    c = portfolio.customers
    assert len(c) == 2000 and len(portfolio.invoices) == 200_000
    assert c["sector"].nunique() >= 8 and c["country"].nunique() >= 15
    assert c["group_idx"].ge(0).sum() > 100  # customers that belong to a group
    issued = pd.to_datetime(portfolio.invoices["issue_date"])
    assert issued.min() < pd.Timestamp(AS_OF - dt.timedelta(days=3 * 365 - 60))  # three years of history
    assert len(portfolio.statements.groupby("period_end")) == 3


def test_statements_balance_and_pass_every_rule(portfolio):
    s = portfolio.statements
    assert statements.statement_errors_frame(s) == []
    assert np.allclose(s["total_assets"], s["total_liabilities"] + s["equity"], atol=0.005)


def test_default_rate_in_range_and_driven_by_hidden_risk(portfolio):
    c = portfolio.customers
    rate = c["_defaulted"].mean()
    assert 0.03 <= rate <= 0.08
    assert (c.loc[c["_defaulted"], "status"] == "in_default").all()
    # A model can learn it: an observable signal (average bureau score) ranks defaulters well.
    scores = portfolio.signals.query("kind == 'bureau_score'").assign(v=lambda f: f["value"].astype(float))
    mean_score = scores.groupby("customer_external_id")["v"].mean()
    seen = c.set_index("external_id").loc[mean_score.index]
    assert roc_auc_score(seen["_defaulted"], -mean_score) > 0.75
    # ...and payment behaviour: customers with later average payments default more.
    inv = portfolio.invoices.set_index("number")
    pays = portfolio.payments.assign(
        late=lambda f: (pd.to_datetime(f["received_on"]) - pd.to_datetime(inv.loc[f["invoice_number"], "due_date"])
                        .to_numpy()).dt.days)
    late = pays.groupby("customer_external_id")["late"].mean()
    seen = c.set_index("external_id").loc[late.index]
    assert roc_auc_score(seen["_defaulted"], late) > 0.70


def test_defaulters_stop_paying_and_anomalies_are_present(portfolio):
    c = portfolio.customers.set_index("external_id")
    pays = portfolio.payments.assign(day=pd.to_datetime(portfolio.payments["received_on"]))
    after = pays.join(c["_default_date"], on="customer_external_id").query("day > _default_date")
    assert after.empty
    # order spikes: open orders far above the customer's typical invoice
    spikers = c.index[c["_order_spike"]]
    assert 5 <= len(spikers) <= 60
    orders = portfolio.orders.assign(amount=lambda f: f["amount"].astype(float))
    open_orders = orders.query("status == 'open'").groupby("customer_external_id")["amount"].max()
    typical = portfolio.invoices.groupby("customer_external_id")["_amount"].median()
    ratio = (open_orders / typical).dropna()
    assert ratio.loc[ratio.index.intersection(spikers)].median() > 4 > ratio.drop(spikers, errors="ignore").median()
    # sudden late payers: their recent invoices are paid far later than before
    switchers = c.index[c["_late_switch"]]
    assert len(switchers) >= 5


@pytest.mark.django_db
def test_loaded_demo_is_consistent_to_the_cent():
    org = OrganizationFactory(slug="demo-small")
    small = generate(DemoConfig(customers=60, invoices=3000, seed=5, as_of=AS_OF))
    counts = load_portfolio(org, small)
    assert counts["invoices"] == 3000 and counts["payments"] == len(small.payments)
    assert Customer.objects.for_organization(org).count() == 60
    assert Allocation.objects.for_organization(org).count() == len(small.allocations)
    assert Payment.objects.for_organization(org).with_unapplied().filter(unapplied_amount__gt=0).exists()
    # aging total (base currency, per-currency totals converted once) equals the sum of open balances
    aging = portfolio_aging(org, AS_OF)
    from credit_platform.money import FxTable

    fx = FxTable.load(org, AS_OF)
    by_currency: dict[str, Decimal] = {}
    for inv in Invoice.objects.for_organization(org).open(AS_OF):
        by_currency[inv.currency] = by_currency.get(inv.currency, Decimal(0)) + inv.open_amount
    assert aging.total == fx.total(by_currency)
    assert aging.overdue > 0


@pytest.mark.django_db
def test_seed_demo_command_is_idempotent_and_prints_logins():
    out = StringIO()
    call_command("seed_demo", customers=30, invoices=600, as_of=AS_OF, stdout=out)
    text = out.getvalue()
    assert "officer" in text and "demo-credit-2026" in text and "API token" in text
    n = Invoice.objects.count()
    out = StringIO()
    call_command("seed_demo", customers=30, invoices=600, as_of=AS_OF, stdout=out)
    assert "nothing to do" in out.getvalue() and Invoice.objects.count() == n
    assert Organization.objects.filter(slug__in=["demo", "northwind"]).count() == 2


def _dunned(org):
    """What the dunning did to an organization, by natural keys (ids differ between organizations)."""
    return (
        sorted(DunningAction.objects.for_organization(org).values_list("invoice__number", "level__days", "run_date")),
        sorted(DunningMessage.objects.for_organization(org).values_list("customer__external_id", "level__days",
                                                                           "status")),
        sorted(CollectionTask.objects.for_organization(org).values_list("customer__external_id", "kind",
                                                                           "assigned_to__username")),
        sorted(Customer.objects.for_organization(org).filter(status="on_hold").values_list("external_id", flat=True)),
    )


@pytest.mark.django_db
def test_seed_demo_runs_the_daily_dunning_of_its_today_deterministically():
    # given two demo organizations seeded alike
    mail.outbox = []
    call_command("seed_demo", customers=60, invoices=3000, as_of=AS_OF, organization="demo-a", quiet=True)
    letters_first_seed = len(mail.outbox)
    call_command("seed_demo", customers=60, invoices=3000, as_of=AS_OF, organization="demo-b", quiet=True)
    a, b, northwind = (Organization.objects.get(slug=s) for s in ("demo-a", "demo-b", "northwind"))
    # then each shows the dunning run of the demo's today: actions, an outbox, tasks for the collector
    for org in (a, northwind):
        run = DunningRun.objects.get(organization=org)
        assert (run.run_date, run.status) == (AS_OF, "completed")
        assert run.actions > 0 and run.messages > 0
    actions, messages, tasks, held = _dunned(a)
    # the letters are sent while seeding (to files in the embedded mode), not by the first "Run dunning now"
    assert {m[2] for m in messages} <= {"sent", "no_address"} and "sent" in {m[2] for m in messages}
    sent = DunningMessage.objects.filter(organization__in=[a, northwind], status="sent").count()
    assert letters_first_seed == sent  # the first seed loaded demo-a and northwind
    assert {t[2] for t in tasks if t[1] == "call"} == {"collector"}
    assert AuditEntry.objects.filter(organization=a, action="customer.status_changed").count() == len(held)
    # the same seed gives the same dunning, to the invoice, level, message and task
    assert _dunned(b) == (actions, messages, tasks, held)
    # seeding again does nothing, so no second run either
    call_command("seed_demo", customers=60, invoices=3000, as_of=AS_OF, organization="demo-a", quiet=True)
    assert DunningRun.objects.filter(organization=a).count() == 1 and _dunned(a)[0] == actions
    call_command("verify_audit")
