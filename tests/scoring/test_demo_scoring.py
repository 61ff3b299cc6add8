"""On the demo portfolio (2,000 customers, 200,000 invoices, 3 years): derived default dates against the
generator's hidden truth, a model trained on the history with honest out-of-time validation and
calibration per grade, reasons of the trained model, a full scoring run, and the expert scorecard
recalibrated to the observed default rate.

The demo is loaded once for the module (inside a transaction rolled back at the end).
"""

from __future__ import annotations

import datetime as dt
import time
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from django.db import transaction
from scipy.stats import binom

from credit_platform.demo.generator import DemoConfig, generate
from credit_platform.demo.loader import load_portfolio
from customers.models import Customer
from scoring import calibration, services
from scoring import recalibration as recalibrate
from scoring.engine import evaluate
from scoring.expert import ExpertScorecard, default_config
from scoring.features import FeatureSet
from scoring.features.catalog import BY_NAME, FEATURE_NAMES, PAYMENTS
from scoring.labels import TARGET, default_dates, training_table
from scoring.modeling import metrics as M
from scoring.modeling.masterscale import MasterScale
from scoring.models import MonitoringReport, Score
from scoring.registry import TrainedScorer
from scoring.training import train_on_history
from tests.factories import OrganizationFactory

AS_OF = dt.date(2026, 11, 29)
# Calibration tolerance, fixed before looking at results: on the last out-of-time snapshot (one row
# per customer, so the defaults of a grade are a sum of independent Bernoulli draws), the observed
# defaults of every grade with at least MIN_ROWS customers lie inside the two-sided 99% binomial
# interval around n x mean predicted PD; and so does the total over all grades.
MIN_ROWS = 30
LEVEL = 0.99

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        org = OrganizationFactory(name="Demo scoring", slug="demo-scoring")
        portfolio = generate(DemoConfig(as_of=AS_OF))
        load_portfolio(org, portfolio)
        t = time.perf_counter()
        outcome = train_on_history(org, AS_OF, MasterScale())
        train_seconds = time.perf_counter() - t
        table = training_table(org, AS_OF)
        yield SimpleNamespace(org=org, portfolio=portfolio, outcome=outcome, train_seconds=train_seconds,
                              table=table)
        transaction.set_rollback(True)


def test_default_dates_derived_from_data_match_the_hidden_truth(demo):
    derived = default_dates(demo.org, AS_OF)
    truth = demo.portfolio.customers.set_index("external_id")
    ext = dict(Customer.objects.for_organization(demo.org).values_list("id", "external_id"))
    true_dates = pd.to_datetime(pd.Series([truth.loc[ext[i], "_default_date"] for i in derived.index],
                                          index=derived.index))
    assert len(derived) == int(truth["_defaulted"].sum())  # every defaulted customer has a date
    lag = (derived - true_dates).dt.days
    # the filing follows the default by 0-20 days; a 90-days-past-due invoice may come a little earlier
    assert (lag.between(-10, 120)).mean() >= 0.95


def test_trained_model_discriminates_out_of_time(demo):
    oot = demo.outcome.report["out_of_time_by_snapshot"]
    assert oot["rows_after"] > 2000 and oot["metrics"]["auc"] >= 0.85
    assert demo.outcome.report["cv"]["auc"] >= 0.85
    assert len(demo.outcome.report["snapshots"]) >= 6
    assert demo.train_seconds < 180  # well under a minute on an idle 2-core machine; generous here


def test_predicted_and_observed_default_rates_agree_per_grade_out_of_time(demo):
    oot = demo.outcome.report["out_of_time_by_snapshot"]
    last = oot["dates"][-1]
    table = pd.DataFrame(oot["grade_table_by_date"][last])
    checked = table[table["count"] >= MIN_ROWS]
    assert len(checked) >= 5  # most grades are populated enough to be tested
    for g in checked.itertuples():
        lo, hi = binom.interval(LEVEL, int(g.count), float(g.predicted_pd))
        assert lo <= g.defaults <= hi, f"grade {g.grade}: {g.defaults} defaults of {g.count}, predicted " \
                                       f"{g.predicted_pd:.4f} -> 99% interval [{lo}, {hi}]"
    n, k = table["count"].sum(), table["defaults"].sum()
    p_total = (table["count"] * table["predicted_pd"].fillna(0)).sum()
    var = (table["count"] * table["predicted_pd"].fillna(0) * (1 - table["predicted_pd"].fillna(0))).sum()
    assert abs(k - p_total) <= 2.576 * np.sqrt(var), f"{k} defaults of {n}, {p_total:.1f} predicted"


def test_trained_model_reasons_name_the_payment_driver(demo):
    model = demo.outcome.model
    table = demo.table
    last = table[table["as_of"] == table["as_of"].max()].set_index("customer_id")
    good = last[last[TARGET] == 0].sort_values("dbt_avg_6m").head(20)
    changed = good.copy()
    for col, value in {"dbt_avg_3m": 70, "dbt_avg_6m": 65, "dbt_avg_12m": 50, "dbt_wavg_3m": 70,
                       "dbt_wavg_6m": 65, "dbt_wavg_12m": 50, "dbt_max_12m": 95, "late_share_12m": 1.0,
                       "late30_count_12m": 8, "late60_count_12m": 5, "max_dpd_open": 75, "dbt_trend": 40}.items():
        changed[col] = value
    status = pd.Series("active", index=good.index)
    no_defaults = pd.Series(dtype="datetime64[ns]")
    scored = evaluate(FeatureSet(AS_OF, changed[FEATURE_NAMES], status), TrainedScorer(model), MasterScale(),
                      no_defaults)
    base = evaluate(FeatureSet(AS_OF, good[FEATURE_NAMES], status), TrainedScorer(model), MasterScale(), no_defaults)
    assert (scored.frame["pd"].to_numpy() > base.frame["pd"].to_numpy()).all()
    firsts = [r[0]["code"] for r in scored.frame["reasons"]]
    assert all(BY_NAME[c].group == PAYMENTS for c in firsts), firsts


def test_expert_scorecard_ranks_the_demo_without_any_training(demo):
    table = demo.table
    p = ExpertScorecard.from_config(default_config()).predict_proba(table)[:, 1]
    assert M.auc(table[TARGET], p) >= 0.80
    assert p.mean() >= table[TARGET].mean()  # prudent: it over- rather than under-predicts


def test_a_full_scoring_run_scores_every_customer_once(demo):
    t = time.perf_counter()
    run = services.scoring_run_sync(organization=demo.org, as_of=AS_OF)
    seconds = time.perf_counter() - t
    assert run.scored == run.customers == 2000 and run.status == "finished"
    scores = Score.objects.filter(organization=demo.org, as_of=AS_OF)
    assert scores.count() == scores.values("customer").distinct().count() == 2000
    assert MonitoringReport.objects.get(run=run).population == 2000
    in_default = scores.filter(customer__status="in_default")
    assert in_default.exists() and not in_default.exclude(grade=10).exists()
    assert seconds < 60


# Recalibration tolerance, fixed before looking at results: on the snapshot the page shows (the last one
# of the sample, one row per customer), every grade with at least MIN_ROWS customers has its mean
# recalibrated PD inside the 99% Wilson interval of its observed default rate; the mean PD of the whole
# sample equals the observed default rate within 2% of it (the logistic fit makes them equal).
def test_recalibration_moves_the_demo_pd_per_grade_to_the_observed_default_rate(demo):
    anchors = services.champion(demo.org)
    assert anchors.kind == "expert" and "calibration" not in anchors.config

    model = recalibrate.expert_recalibrate(organization=demo.org, as_of=AS_OF, table=demo.table)

    assert model is not None and model.status == "champion" and model.version > anchors.version
    report = model.report["calibration"]
    assert report["method"] == "logistic"
    observed = demo.table[TARGET].mean()
    assert report["mean_pd_before"] > 1.5 * observed  # the anchors: about twice the observed rate
    assert abs(report["mean_pd_after"] - observed) <= 0.02 * observed
    last = demo.table[demo.table["as_of"] == demo.table["as_of"].max()]
    card = ExpertScorecard.from_config(model.config)
    p = card.predict_proba(last)[:, 1]
    rows = [g for g in calibration.grade_rows(last[TARGET].to_numpy(), p, MasterScale(), level=LEVEL)
            if g["count"] >= MIN_ROWS]
    assert len(rows) >= 5
    outside = [g for g in rows if not g["wilson_low"] <= g["predicted_pd"] <= g["wilson_high"]]
    assert not outside, outside
    p_anchors = ExpertScorecard.from_config(anchors.config).predict_proba(last)[:, 1]
    before = [g for g in calibration.grade_rows(last[TARGET].to_numpy(), p_anchors, MasterScale(), level=LEVEL)
              if g["count"] >= MIN_ROWS]
    assert any(not g["wilson_low"] <= g["predicted_pd"] <= g["wilson_high"] for g in before)
    # the next scores use it: the same customers' PDs are lower, their ranking unchanged
    assert M.auc(last[TARGET], p) == pytest.approx(M.auc(last[TARGET], p_anchors))
