"""Challengers: shadow scoring beside the champion, training from the page with progress, the comparison
report, and promotion with four eyes."""

from __future__ import annotations

import pytest
from django.urls import reverse

from credit_platform.errors import AppError, ErrorCode
from credit_platform.models import AuditEntry
from credit_platform.roles import Role
from scoring import challengers, services
from scoring.features import Scope
from scoring.models import (
    CurrentScore,
    GradeChange,
    PromotionRequest,
    Score,
    ScoringModel,
    ShadowScore,
    TrainingRun,
    Trigger,
)

from .book import AS_OF, make_book

pytestmark = pytest.mark.django_db


def _candidate(org, *, intercept: float = -1.0, report: dict | None = None) -> ScoringModel:
    """An expert candidate whose PDs differ from the champion's (its PD scale shifted)."""
    champion = services.champion(org)
    return ScoringModel.objects.create(
        organization=org, version=services._next_version(org), kind=ScoringModel.Kind.EXPERT, name="Shifted card",
        algorithm="expert", status=ScoringModel.Status.CANDIDATE, features=champion.features,
        config={**champion.config, "calibration": {"intercept": intercept, "slope": 1.0}}, report=report or {})


def test_a_shadow_candidate_is_scored_every_night_without_touching_the_champions_scores(org, other_org):
    make_book(org, other_org)
    champion = services.champion(org)
    expected = services.compute_scores(organization=org, as_of=AS_OF, scope=Scope.all(), model=champion).frame
    candidate = _candidate(org)

    run = services.scoring_run_sync(organization=org, as_of=AS_OF, trigger=Trigger.NIGHTLY)

    scores = {s.customer_id: s for s in Score.objects.filter(organization=org, as_of=AS_OF)}
    assert run.model_id == champion.pk and len(scores) == len(expected) == 4
    for cid, row in expected.iterrows():
        assert scores[cid].model_id == champion.pk
        assert scores[cid].pd == pytest.approx(row["pd"]) and scores[cid].grade == row["grade"]
    assert set(CurrentScore.objects.filter(organization=org).values_list("model_id", flat=True)) == {champion.pk}
    assert not GradeChange.objects.filter(model=candidate).exists()
    shadow = {s.customer_id: s for s in ShadowScore.objects.filter(organization=org, model=candidate, as_of=AS_OF)}
    assert set(shadow) == set(scores)
    moved = [cid for cid in shadow if scores[cid].pd < 1.0]
    assert moved and all(shadow[cid].pd < scores[cid].pd for cid in moved)  # its own (lower) PDs
    assert not ShadowScore.objects.filter(organization=other_org).exists()

    # the comparison report sees both on the same night
    report = challengers.comparison_report(org, candidate, as_of=AS_OF)
    assert [n["as_of"] for n in report["nights"]] == [AS_OF.isoformat()]
    assert report["customers"] == len(moved)
    assert sum(map(sum, report["migrations"]["counts"])) == len(moved)
    assert report["limits_would_change"] <= report["customers_with_limit"]
    assert "approximation" in report["limits_rule"]


def test_promotion_is_refused_without_a_second_person(org, member):
    services.champion(org)
    candidate = _candidate(org)
    first, second = member(org, Role.CREDIT_MANAGER), member(org, Role.CREDIT_MANAGER)

    request = challengers.promotion_request_create(model=candidate, actor=first, reason="better calibrated")
    assert request.status == "pending"
    with pytest.raises(AppError) as exc:
        challengers.promotion_sign(request=request, actor=first)
    assert exc.value.code == ErrorCode.PERMISSION_DENIED and "four eyes" in exc.value.message
    with pytest.raises(AppError):  # asking again is the same person signing again
        challengers.promotion_request_create(model=candidate, actor=first)
    candidate.refresh_from_db()
    assert candidate.status == "candidate"

    approved = challengers.promotion_sign(request=request, actor=second, reason="checked the report")

    candidate.refresh_from_db()
    assert approved.status == "approved" and approved.decided_by == second and candidate.status == "champion"
    entry = AuditEntry.objects.get(organization=org, action="scoring.promotion_approved")
    assert entry.actor_id == second.pk and entry.after["requested_by"] == first.pk and "report" in entry.after
    assert AuditEntry.objects.filter(organization=org, action="scoring.model_promoted", actor_id=second.pk).exists()


def test_the_page_asks_a_second_person_and_refuses_the_same_one(client, org, member):
    services.champion(org)
    candidate = _candidate(org)
    first, second = member(org, Role.CREDIT_MANAGER), member(org, Role.CREDIT_MANAGER)
    client.force_login(first)
    client.post(reverse("scoring-promote", args=[candidate.pk]), {"reason": "r"})
    request = PromotionRequest.objects.get(model=candidate)
    response = client.post(reverse("scoring-promotion-decide", args=[request.pk]), {"decision": "approve"},
                           follow=True)
    assert "four eyes" in response.content.decode()
    candidate.refresh_from_db()
    assert candidate.status == "candidate"
    client.force_login(second)
    client.post(reverse("scoring-promotion-decide", args=[request.pk]), {"decision": "approve"})
    candidate.refresh_from_db()
    assert candidate.status == "champion"


def test_a_nightly_proposal_still_needs_two_people(org, member):
    services.champion(org)
    oot = {"metrics": {"auc": 0.90, "brier": 0.020}, "champion_metrics": {"auc": 0.88, "brier": 0.025}}
    candidate = _candidate(org, report={"out_of_time_by_snapshot": oot})
    worse = _candidate(org, report={"out_of_time_by_snapshot": {**oot, "metrics": {"auc": 0.881, "brier": 0.02}}})
    assert challengers.beats_champion(candidate) and not challengers.beats_champion(worse)
    proposal = challengers.promotion_propose(model=candidate)
    assert proposal.proposed_by_system and proposal.requested_by is None
    first, second = member(org, Role.CREDIT_MANAGER), member(org, Role.CREDIT_MANAGER)
    challengers.promotion_sign(request=proposal, actor=first)
    candidate.refresh_from_db()
    assert candidate.status == "candidate"
    with pytest.raises(AppError):
        challengers.promotion_sign(request=proposal, actor=first)
    challengers.promotion_sign(request=proposal, actor=second)
    candidate.refresh_from_db()
    assert candidate.status == "champion"


def test_a_credit_manager_starts_a_training_run_from_the_page(client, org, member,
                                                              django_capture_on_commit_callbacks):
    services.champion(org)
    client.force_login(member(org, Role.CREDIT_OFFICER))
    assert client.post(reverse("scoring-train")).status_code == 403
    client.force_login(member(org, Role.CREDIT_MANAGER))
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(reverse("scoring-train")).status_code == 302
    run = TrainingRun.objects.get(organization=org)
    # the task ran (eager here, a worker in production); an empty book cannot train: said on the run
    assert run.status == "failed" and "history" in run.message and run.log
    status = client.get(reverse("scoring-training-status", args=[run.pk])).json()
    assert status["status"] == "failed" and status["progress"] >= 1
    assert AuditEntry.objects.filter(organization=org, action="scoring.training_started").exists()


def test_the_scoring_page_shows_training_requests_and_calibration_in_both_languages(client, org, member):
    services.champion(org)
    candidate = _candidate(org)
    requester = member(org, Role.CREDIT_MANAGER)
    challengers.promotion_request_create(model=candidate, actor=requester)
    client.force_login(member(org, Role.CREDIT_MANAGER))
    text = client.get(reverse("scoring-home")).content.decode()
    assert "Train a candidate now" in text and "Promotion requests" in text and "Approve" in text
    assert "documented anchors" in text  # no default history: the expert card's anchors
    zh = client.get(reverse("scoring-home"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "立即训练候选模型" in zh and "晋升申请" in zh and "预测违约率与实际违约率对比" in zh
    detail = client.get(reverse("scoring-model", args=[candidate.pk])).content.decode()
    assert "Comparison with the champion" in detail and "No shadow scores yet" in detail
