"""Challengers: training from the page, shadow scoring beside the champion, the comparison report, and
promotion with four eyes.

* **Training run** (``training_run_start`` -> Celery task ``scoring.train`` -> ``training_run_execute``):
  trains on the organization's history (``training.train_on_history``, the champion scored on the same
  out-of-time snapshots) and registers the result as a candidate; ``progress`` and ``log`` move as the
  snapshots are built and the models fitted. The nightly run starts one when it is due
  (``training_due``: enough defaults to learn from and no training in the last quarter).
* **Shadow**: every scoring run (the nightly one included) also scores the latest ``SHADOW_MODELS``
  candidates on the same features (``shadow_evaluate``) into ``ShadowScore``. The champion's scores,
  current scores, grade changes and ledger entries are written exactly as without candidates.
* **Comparison report** (``comparison_report``): champion and candidate on the same nights: AUC, KS and
  Brier against the defaults observed after each night so far, predicted vs observed per grade with
  Wilson intervals, the grade migration matrix, and how many credit limits would change. Without the
  limits app's policy this is approximated (and labelled so): a customer with a credit limit whose
  grade moves, as a grade-driven limit policy would revise every such limit.
* **Promotion** needs two different people (four eyes): the requester and an approver. The approver
  being the requester is refused. A request proposed by the nightly run (a trained candidate that beats
  the champion out of time) has no requester: its first signature makes the signer the requester. The
  approval promotes the model and writes the report to the ledger.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import numpy as np
import pandas as pd
from django.db import transaction
from django.utils import timezone

from credit_platform.audit import audit_append
from credit_platform.errors import AppError, ErrorCode
from credit_platform.models import Organization
from customers.models import Customer

from . import calibration
from .engine import Scored, evaluate
from .features import FeatureSet
from .labels import OUTCOME_DAYS, default_dates
from .modeling import metrics as M
from .modeling.masterscale import MasterScale
from .modeling.schema import DataError
from .models import PromotionRequest, Score, ScoringModel, ScoringRun, ShadowScore, TrainingRun, Trigger
from .registry import scorer_for

logger = logging.getLogger(__name__)

SHADOW_MODELS = 3  # the latest candidates scored every night (each adds ~the model's scoring time)
TRAIN_EVERY_DAYS = 91  # one nightly training a quarter: the snapshots are quarter ends
MIN_DEFAULTED_CUSTOMERS = 20  # training.MIN_EVENTS: fewer defaults cannot train and validate a model
BEATS_AUC_MARGIN = 0.005  # out-of-time AUC gain below this is within the noise of a few thousand rows


# ------------------------------------------------------------------------------------ shadow


def shadow_models(organization: Organization | int) -> list[ScoringModel]:
    return list(ScoringModel.objects.for_organization(organization).filter(status=ScoringModel.Status.CANDIDATE)
                .order_by("-version")[:SHADOW_MODELS])


def shadow_evaluate(organization: Organization, champion: ScoringModel, fs: FeatureSet, known: pd.Series,
                    scale: MasterScale) -> list[tuple[ScoringModel, Scored]]:
    """Each shadow candidate's scores of the chunk, on the features the champion used. A candidate that
    cannot score (its file missing or altered) is logged and skipped: it never stops the champion's run."""
    out = []
    for model in shadow_models(organization):
        if model.pk == champion.pk:
            continue
        try:
            out.append((model, evaluate(fs, scorer_for(model), scale, known)))
        except (OSError, ValueError, KeyError) as exc:
            logger.warning("shadow model v%s of organization %s not scored: %s", model.version, organization.pk, exc)
    return out


def shadow_persist(organization: Organization, run: ScoringRun, shadows: list[tuple[ScoringModel, Scored]]) -> int:
    now, rows = timezone.now(), list[ShadowScore]()
    for model, scored in shadows:
        frame = scored.frame
        rows.extend(
            ShadowScore(organization=organization, run=run, model=model, customer_id=int(cid), as_of=run.as_of,
                        pd=float(p), grade=int(g), computed_at=now)
            for cid, p, g in zip(frame.index, frame["pd"].to_numpy(), frame["grade"].to_numpy(), strict=True)
        )
    ShadowScore.objects.bulk_create(rows, batch_size=1000, update_conflicts=True,
                                    unique_fields=["model", "customer", "as_of"],
                                    update_fields=["run", "pd", "grade", "computed_at"])
    return len(rows)


# ----------------------------------------------------------------------------------- report


def _metrics(y: np.ndarray, p: np.ndarray) -> dict[str, Any] | None:
    if len(y) == 0 or y.min() == y.max():
        return None
    return {"auc": M.auc(y, p), "ks": M.ks(y, p), "brier": M.brier(y, p),
            "calibration_error": M.expected_calibration_error(y, p)}


def comparison_report(organization: Organization, candidate: ScoringModel, *,
                      as_of: dt.date | None = None) -> dict[str, Any]:
    """Champion (the model of each night's scores) against ``candidate`` on the nights both scored."""
    from .services import master_scale

    as_of = as_of or organization.local_date()
    shadow = pd.DataFrame(list(ShadowScore.objects.for_organization(organization).filter(model=candidate)
                               .values_list("customer_id", "as_of", "pd", "grade")),
                          columns=["customer_id", "as_of", "pd_candidate", "grade_candidate"])
    base = {"candidate": candidate.version, "as_of": as_of.isoformat(), "nights": [],
            "limits_rule": "approximation: no limit policy is wired, so every customer with a credit limit whose "
                           "grade moves is counted as a limit that would change"}
    training = (candidate.report or {}).get("out_of_time_by_snapshot") or {}
    base["out_of_time"] = {"candidate": training.get("metrics"), "champion": training.get("champion_metrics"),
                           "cut": training.get("cut")}
    if shadow.empty:
        return {**base, "note": "no shadow scores yet: the candidate is scored beside the champion from the next "
                                "scoring run"}
    nights = sorted(shadow["as_of"].unique())
    champ = pd.DataFrame(list(Score.objects.for_organization(organization).filter(as_of__in=nights)
                              .values_list("customer_id", "as_of", "pd", "grade", "model__version")),
                         columns=["customer_id", "as_of", "pd_champion", "grade_champion", "champion"])
    both = shadow.merge(champ, on=["customer_id", "as_of"], how="inner")
    both = both[both["pd_champion"] < 1.0]  # customers already in default are not predictions
    defaults = default_dates(organization, as_of)
    dd = pd.Series(pd.to_datetime(defaults.reindex(both["customer_id"].to_numpy()).to_numpy()), index=both.index)
    night = pd.to_datetime(both["as_of"])
    both["y"] = (dd.notna() & (dd > night) & (dd <= night + pd.Timedelta(days=OUTCOME_DAYS))).astype(int)
    scale = master_scale(organization)
    per_night = []
    for day, part in both.groupby("as_of"):
        y = part["y"].to_numpy()
        per_night.append({
            "as_of": pd.Timestamp(day).date().isoformat(), "customers": len(part), "defaults_so_far": int(y.sum()),
            "outcome_complete": (pd.Timestamp(day) + pd.Timedelta(days=OUTCOME_DAYS)).date() <= as_of,
            "champion_version": int(part["champion"].mode().iloc[0]),
            "champion": _metrics(y, part["pd_champion"].to_numpy()),
            "candidate": _metrics(y, part["pd_candidate"].to_numpy()),
        })
    last = both[both["as_of"] == both["as_of"].max()]
    y = last["y"].to_numpy()
    migrations = pd.crosstab(last["grade_champion"], last["grade_candidate"])
    limits = dict(Customer.objects.for_organization(organization).filter(
        pk__in=last["customer_id"].tolist(), credit_limit__gt=0).values_list("id", "credit_limit"))
    moved = last["grade_champion"] != last["grade_candidate"]
    return {
        **base,
        "nights": per_night,
        "latest_night": pd.Timestamp(last["as_of"].iloc[0]).date().isoformat(),
        "customers": len(last),
        "grades": {
            "champion": calibration.grade_rows(y, last["pd_champion"].to_numpy(), scale),
            "candidate": calibration.grade_rows(y, last["pd_candidate"].to_numpy(), scale),
        },
        "migrations": {"rows": [int(g) for g in migrations.index], "columns": [int(g) for g in migrations.columns],
                       "counts": migrations.to_numpy().astype(int).tolist()},
        "grade_moves": {"up": int((last["grade_candidate"] < last["grade_champion"]).sum()),
                        "down": int((last["grade_candidate"] > last["grade_champion"]).sum()),
                        "same": int((~moved).sum())},
        "limits_would_change": int(last.loc[moved, "customer_id"].isin(list(limits)).sum()),
        "customers_with_limit": len(limits),
    }


def beats_champion(candidate: ScoringModel) -> bool:
    """Out of time (training's later snapshots, both models scored on the same rows): a higher AUC by at
    least ``BEATS_AUC_MARGIN`` and a Brier score no worse."""
    oot = (candidate.report or {}).get("out_of_time_by_snapshot") or {}
    mine, theirs = oot.get("metrics") or {}, oot.get("champion_metrics") or {}
    if not mine or not theirs or mine.get("auc") is None or theirs.get("auc") is None:
        return False
    return mine["auc"] >= theirs["auc"] + BEATS_AUC_MARGIN and mine["brier"] <= theirs["brier"]


# --------------------------------------------------------------------------------- training


def training_due(organization: Organization, as_of: dt.date) -> bool:
    if TrainingRun.objects.for_organization(organization).filter(
            as_of__gt=as_of - dt.timedelta(days=TRAIN_EVERY_DAYS)).exists():
        return False
    return Customer.objects.for_organization(organization).filter(
        status=Customer.Status.IN_DEFAULT).count() >= MIN_DEFAULTED_CUSTOMERS


def training_run_start(*, organization: Organization, actor: Any = None, trigger: str = Trigger.MANUAL,
                       enqueue: bool = True) -> TrainingRun:
    """Queue a training (one at a time per organization: a queued or running one is returned)."""
    with transaction.atomic():
        active = (TrainingRun.objects.select_for_update().for_organization(organization)
                  .filter(status__in=[TrainingRun.Status.QUEUED, TrainingRun.Status.RUNNING]).first())
        if active is not None:
            return active
        run = TrainingRun.objects.create(
            organization=organization, as_of=organization.local_date(), trigger=trigger,
            started_by=actor if getattr(actor, "is_authenticated", False) else None)
        audit_append(organization=organization, actor=actor, action="scoring.training_started", obj=run,
                     after={"as_of": run.as_of, "trigger": trigger})
        if enqueue:
            from .tasks import train

            transaction.on_commit(lambda: train.delay(run.pk))
    return run


def training_run_execute(run_id: int) -> TrainingRun:
    """Train, register the candidate, and propose it when it beats the champion out of time."""
    from .services import model_train

    run = TrainingRun.objects.select_related("organization").get(pk=run_id)
    if run.status in (TrainingRun.Status.FINISHED, TrainingRun.Status.FAILED):
        return run
    TrainingRun.objects.filter(pk=run.pk).update(status=TrainingRun.Status.RUNNING, progress=1)
    entries: list[dict[str, str]] = []

    def log(message: str) -> None:
        # ~6-10 snapshot lines, then the fits and their cross-validation: ~30 lines in all
        entries.append({"at": timezone.now().isoformat(timespec="seconds"), "message": message})
        TrainingRun.objects.filter(pk=run.pk).update(progress=min(95, 1 + 3 * len(entries)), log=entries[-50:])

    try:
        result = model_train(organization=run.organization, as_of=run.as_of, actor=run.started_by, log=log)
    except DataError as exc:
        TrainingRun.objects.filter(pk=run.pk).update(status=TrainingRun.Status.FAILED, message=str(exc),
                                                     finished_at=timezone.now())
        run.refresh_from_db()
        return run
    model = result.model
    TrainingRun.objects.filter(pk=run.pk).update(status=TrainingRun.Status.FINISHED, progress=100, model=model,
                                                 finished_at=timezone.now())
    if model is not None and beats_champion(model):
        promotion_propose(model=model)
    run.refresh_from_db()
    return run


# -------------------------------------------------------------------------------- promotion


def _person(actor: Any) -> Any:
    if not getattr(actor, "is_authenticated", False):
        raise AppError(ErrorCode.PERMISSION_DENIED, "a promotion is signed by a person (four eyes)")
    return actor


def _champion(organization_id: int) -> ScoringModel | None:
    return ScoringModel.objects.for_organization(organization_id).filter(status=ScoringModel.Status.CHAMPION).first()


@transaction.atomic
def promotion_propose(*, model: ScoringModel) -> PromotionRequest:
    """The nightly run's proposal (no requester yet)."""
    existing = PromotionRequest.objects.for_organization(model.organization_id).filter(
        model=model, status=PromotionRequest.Status.PENDING).first()
    if existing is not None:
        return existing
    organization = model.organization
    request = PromotionRequest.objects.create(
        organization=organization, model=model, champion=_champion(model.organization_id), proposed_by_system=True,
        reason="beats the champion out of time", report=_json(comparison_report(organization, model)))
    audit_append(organization=organization, actor=None, action="scoring.promotion_proposed", obj=request,
                 after={"model": model.version, "out_of_time": request.report.get("out_of_time")},
                 reason=request.reason)
    return request


def _json(value: Any) -> Any:
    from .training import json_safe

    return json_safe(value)


@transaction.atomic
def promotion_request_create(*, model: ScoringModel, actor: Any, reason: str = "") -> PromotionRequest:
    """First signature: ask for ``model`` to become the champion, with the comparison report."""
    _person(actor)
    if model.status == ScoringModel.Status.CHAMPION:
        raise AppError(ErrorCode.CONFLICT, f"model: v{model.version} is already the champion",
                       details={"model": model.version})
    existing = PromotionRequest.objects.select_for_update().for_organization(model.organization_id).filter(
        model=model, status=PromotionRequest.Status.PENDING).first()
    if existing is not None:
        return promotion_sign(request=existing, actor=actor, reason=reason)
    organization = model.organization
    request = PromotionRequest.objects.create(
        organization=organization, model=model, champion=_champion(model.organization_id), requested_by=actor,
        reason=reason, report=_json(comparison_report(organization, model)))
    audit_append(organization=organization, actor=actor, action="scoring.promotion_requested", obj=request,
                 after={"model": model.version, "report": request.report}, reason=reason)
    return request


@transaction.atomic
def promotion_sign(*, request: PromotionRequest, actor: Any, reason: str = "") -> PromotionRequest:
    """A signature on a pending request: the first one (a proposal's) makes the signer the requester; the
    second, by another person, promotes the model. The requester signing again is refused."""
    person = _person(actor)
    request = PromotionRequest.objects.select_for_update().select_related("model").get(pk=request.pk)
    if request.status != PromotionRequest.Status.PENDING:
        raise AppError(ErrorCode.CONFLICT, f"request: already {request.status}", details={"request": request.pk})
    if request.requested_by_id is None:
        request.requested_by = person
        request.save(update_fields=["requested_by"])
        audit_append(organization=request.organization_id, actor=actor, action="scoring.promotion_requested",
                     obj=request, after={"model": request.model.version, "report": request.report}, reason=reason)
        return request
    if request.requested_by_id == person.pk:
        raise AppError(ErrorCode.PERMISSION_DENIED,
                       "approver: four eyes: the person who requested the promotion cannot approve it; a second "
                       "person must", details={"request": request.pk, "requested_by": request.requested_by_id})
    report = _json(comparison_report(request.model.organization, request.model))
    from .services import model_promote

    model_promote(model=request.model, actor=actor, reason=reason or f"promotion request {request.pk} approved")
    request.status, request.decided_by, request.decided_at, request.report = (
        PromotionRequest.Status.APPROVED, person, timezone.now(), report)
    request.save(update_fields=["status", "decided_by", "decided_at", "report"])
    audit_append(organization=request.organization_id, actor=actor, action="scoring.promotion_approved", obj=request,
                 after={"model": request.model.version, "requested_by": request.requested_by_id, "report": report},
                 reason=reason)
    return request


@transaction.atomic
def promotion_reject(*, request: PromotionRequest, actor: Any, reason: str = "") -> PromotionRequest:
    person = _person(actor)
    request = PromotionRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != PromotionRequest.Status.PENDING:
        raise AppError(ErrorCode.CONFLICT, f"request: already {request.status}", details={"request": request.pk})
    request.status, request.decided_by, request.decided_at = PromotionRequest.Status.REJECTED, person, timezone.now()
    request.save(update_fields=["status", "decided_by", "decided_at"])
    audit_append(organization=request.organization_id, actor=actor, action="scoring.promotion_rejected", obj=request,
                 reason=reason)
    return request
