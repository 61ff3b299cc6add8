"""One name per figure: scoring's receivables-to-sales feature is not called DSO (the Aging page's DSO is
the countback of ``receivables.kpis``), models and scorecards stored under the old name keep working,
and an early payment counts 0 days late."""

from __future__ import annotations

import importlib
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from django.apps import apps

from receivables.kpis import receivable_figures
from scoring import registry, services
from scoring.engine import evaluate
from scoring.expert import ExpertScorecard
from scoring.features import FEATURE_NAMES, FeatureSet, compute_features
from scoring.features.catalog import BY_NAME, reason_text
from scoring.modeling.trainer import train
from scoring.models import ScorecardFactor, ScoringModel
from scoring.selectors import expert_unpublished, render_reasons, scale_for
from tests.factories import CustomerFactory

from .book import AS_OF, D, invoice, pay
from .synthetic import credit_frame

pytestmark = pytest.mark.django_db

NEW = "open_to_sales_days_3m"


def test_a_score_reason_no_longer_says_customer_dso_of_212_days_when_the_aging_page_says_151(org):
    """A customer with a large sale four months ago, still unpaid, and small sales since: its receivables
    are 212 days of the last 91 days' sales, while the Aging page's countback DSO walks back month by
    month to the large sale: 151 days. The reason said "Customer DSO of 212 days"; it now names the
    figure it shows."""
    c = CustomerFactory(organization=org)
    invoice(c, D(2025, 12, 20), D(2026, 1, 19), "2000.00")  # the large sale, unpaid
    for day in (D(2026, 2, 15), D(2026, 3, 15), D(2026, 4, 15)):
        invoice(c, day, day.replace(day=28), "500.00")
    features = compute_features(org, AS_OF).table.loc[c.pk]
    aging_dso = next(f.dso for f in receivable_figures(org, AS_OF, "customer") if f.key == c.pk)
    assert features[NEW] == pytest.approx(3500 / 1500 * 91, abs=0.1)  # 212.3: three sales in the window
    # April, March, February (500 each), January (no sales), then December's 2,000 covers the rest
    assert aging_dso == pytest.approx(30 + 31 + 28 + 31 + 31)
    assert abs(features[NEW] - aging_dso) > 60
    en, zh = reason_text(NEW, features[NEW])
    assert en == "Open receivables equal 212 days of the last 3 months' sales"
    assert "DSO" not in en and "周转" not in zh
    # no figure of the scoring catalogue is called DSO: that name belongs to the Aging page's countback
    for f in BY_NAME.values():
        assert "DSO" not in f.label + f.reason_en and "周转天数" not in f.label_zh + f.reason_zh, f.name


def test_a_reason_stored_under_the_old_name_dso_reads_with_the_new_words(org):
    rendered = render_reasons([{"code": "dso", "value": 181.2, "impact": 0.3}])[0]
    assert rendered["text_en"] == "Open receivables equal 181 days of the last 3 months' sales"
    assert rendered["text_zh"] == "未付应收账款相当于近3个月181天的销售额"
    assert rendered["group"] == "Payment behaviour"


def test_a_model_trained_when_the_feature_was_called_dso_still_scores_with_the_same_pds(org, book_of_two):
    frame = credit_frame(600, seed=3).rename(columns={"days_late": "dso"})[["customer_id", "dso", "equity_ratio",
                                                                             "defaulted"]]
    model = train(frame, "defaulted", "yes", {"dso": 1, "equity_ratio": -1}, id_column="customer_id",
                  candidates=["scorecard"], n_splits=3)
    assert "dso" in model.features
    table = pd.DataFrame(np.nan, index=pd.Index(book_of_two, name="customer_id"), columns=FEATURE_NAMES)
    table[NEW] = [5.0, 60.0]
    table["equity_ratio"] = [0.3, 0.05]
    fs = FeatureSet(as_of=AS_OF, table=table, status=pd.Series("active", index=table.index))
    scored = evaluate(fs, registry.TrainedScorer(model), scale_for(org), pd.Series(dtype="datetime64[ns]"))
    expected = model.predict_proba(table.rename(columns={NEW: "dso"}))
    assert scored.frame["pd"].to_numpy() == pytest.approx(expected)
    assert scored.frame["pd"].iloc[1] > scored.frame["pd"].iloc[0]
    assert "dso" in scored.features  # monitoring of that model bins the feature it was trained on


@pytest.fixture
def book_of_two(org):
    return [CustomerFactory(organization=org).pk, CustomerFactory(organization=org).pk]


def test_an_expert_scorecard_published_with_a_dso_factor_still_loads_and_is_not_shown_as_edited(org):
    """A published scorecard keeps its factor under the old name; the migration renames the factor being
    edited; the published card reads the renamed feature and the page does not claim unpublished edits."""
    services.scoring_setup(organization=org)
    # as published before the rename (the old name is no longer accepted for new factors)
    old_factor = {"feature": "dso", "bins": [[90.0, 0.0], [None, -20.0]], "missing_points": 0.0, "weight": 1.0}
    config = services.current_expert_config(org)
    config["factors"] = sorted([*config["factors"], old_factor], key=lambda f: f["feature"])
    ScorecardFactor.objects.create(organization=org, feature="dso", bins=old_factor["bins"], missing_points=0)
    published = ScoringModel.objects.create(
        organization=org, version=2, kind=ScoringModel.Kind.EXPERT, name="Expert scorecard", algorithm="expert",
        config=config, features=[f["feature"] for f in config["factors"]])

    migration = importlib.import_module("scoring.migrations.0002_rename_dso_feature")
    migration.rename(apps, None)
    assert ScorecardFactor.objects.filter(organization=org, feature=NEW).exists()
    assert not ScorecardFactor.objects.filter(organization=org, feature="dso").exists()
    assert expert_unpublished(org) is False

    card = registry.scorer_for(ScoringModel.objects.get(pk=published.pk))
    assert NEW in card.features and "dso" not in card.features
    X = pd.DataFrame(np.nan, index=[1, 2], columns=FEATURE_NAMES).assign(**{NEW: [30.0, 120.0]})
    assert card.points(X)[1] == card.points(X)[0] - 20
    assert isinstance(card, registry.ExpertScorer) and isinstance(card.card, ExpertScorecard)


def test_an_invoice_paid_three_days_early_counts_zero_days_late_not_minus_three(org):
    """Days beyond terms floor early payment at 0 (the removed collections helper averaged -3 into the
    figure while saying scoring read it): early 100 and 20 days late 300 average 15 weighted, not 14.25."""
    c = CustomerFactory(organization=org)
    early = invoice(c, D(2026, 1, 1), D(2026, 3, 1), "100.00")
    late = invoice(c, D(2026, 1, 1), D(2026, 3, 1), "300.00")
    pay(early, D(2026, 2, 26))  # 3 days early
    pay(late, D(2026, 3, 5), "100.00")
    pay(late, D(2026, 3, 21), "200.00")  # settled 20 days late
    row = compute_features(org, AS_OF).table.loc[c.pk]
    assert row["dbt_wavg_3m"] == pytest.approx((100 * 0 + 300 * 20) / Decimal(400))
    assert row["dbt_avg_3m"] == pytest.approx(10.0) and row["dbt_max_12m"] == 20
    assert row["late_share_12m"] == pytest.approx(0.5)
