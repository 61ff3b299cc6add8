"""Writes of the scoring app: setup, expert scorecard and master scale changes, model registration and
promotion, scoring (one customer, a chunk, a whole run) and monitoring.

Every credit decision goes to the audit ledger in the transaction that makes it: grade changes (one
``audit_append_many`` batch per chunk of a run), promotions, scorecard and master-scale edits,
model registrations.

Chunk size: ``CHUNK_SIZE`` = 5,000 customers per task. Measured on PostgreSQL 15 (2 cores, default
settings) with a book of 10,000 customers and 1,000,000 invoices (100 per customer, as the demo): one
chunk of 5,000 takes 3.0 s to compute (features, PD, reasons) and 0.9 s to write (1.6 s when every
grade changes, the audit batch included), and raises the worker's memory by ~50 MB above its
~260 MB baseline; a chunk of 2,000 takes 1.5 s + 0.3 s, so below ~5,000 the fixed cost per task
(~0.5 s) starts to show, while much larger chunks only make retries costlier and memory larger. A
chunk reads its customers' invoices through the customer index; for their allocations PostgreSQL
chooses between one index lookup per invoice and one scan of the allocation table (at 10,000
customers it scans: 1.25 M rows, 0.09 s). A million customers make 200 tasks, ~15 minutes on one
worker and about 2 minutes on eight if the plan stays an index lookup; a full scan of 125 M
allocations per chunk would add ~9 s per task, so check the plan (EXPLAIN) on a book that size.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext

from alerts.models import Alert
from alerts.services import alert_raise, evaluate_on_commit
from credit_platform.audit import AuditEvent, audit_append, audit_append_many
from credit_platform.bulk import advisory_lock
from credit_platform.errors import AppError, ErrorCode
from credit_platform.imports.engine import loading_organizations
from credit_platform.models import Organization
from customers.models import Customer

from . import monitoring
from .engine import Scored, evaluate
from .expert import DEFAULT_FACTORS, ExpertScorecard, Factor, validate_bins
from .features import FeatureSet, Scope, compute_features
from .labels import default_dates
from .modeling.masterscale import MasterScale
from .models import (
    CurrentScore,
    GradeChange,
    MasterScaleConfig,
    MonitoringReport,
    Score,
    ScorecardFactor,
    ScoringModel,
    ScoringRun,
    ScoringRunChunk,
    Trigger,
)
from .registry import save_model_file, scorer_for
from .training import TrainingOutcome, json_safe, train_on_history

logger = logging.getLogger(__name__)

CHUNK_SIZE = 5000
BACKTEST_SLACK_DAYS = 120  # a score at most this much older than "a year ago" still backtests


def master_scale(organization: Organization | int) -> MasterScale:
    row = MasterScaleConfig.objects.for_organization(organization).first()
    return MasterScale(tuple(row.upper_bounds)) if row else MasterScale()


# ------------------------------------------------------------------------------------ setup


def current_expert_config(organization: Organization | int) -> dict[str, Any]:
    factors = [
        Factor(f.feature, validate_bins(f.feature, f.bins, f.missing_points), float(f.missing_points), float(f.weight))
        for f in ScorecardFactor.objects.for_organization(organization).order_by("feature")
    ]
    return ExpertScorecard(factors).fit().config()


def _next_version(organization: Organization) -> int:
    last = ScoringModel.objects.for_organization(organization).order_by("-version").values_list(
        "version", flat=True).first()
    return (last or 0) + 1


@transaction.atomic
def scoring_setup(*, organization: Organization, actor: Any = None) -> ScoringModel:
    """Give an organization the default master scale, the default expert scorecard and that scorecard
    as its champion (cold start: no default history needed). Idempotent; returns the champion."""
    MasterScaleConfig.objects.get_or_create(organization=organization)
    if not ScorecardFactor.objects.for_organization(organization).exists():
        ScorecardFactor.objects.bulk_create([
            ScorecardFactor(organization=organization, feature=name, bins=[list(b) for b in bins],
                            missing_points=missing, note="platform default")
            for name, (bins, missing) in DEFAULT_FACTORS.items()
        ])
    champion = ScoringModel.objects.for_organization(organization).filter(
        status=ScoringModel.Status.CHAMPION).first()
    if champion is not None:
        return champion
    config = current_expert_config(organization)
    model = ScoringModel.objects.create(
        organization=organization, version=_next_version(organization), kind=ScoringModel.Kind.EXPERT,
        name="Expert scorecard", algorithm="expert", status=ScoringModel.Status.CHAMPION, config=config,
        features=[f["feature"] for f in config["factors"]], promoted_at=timezone.now(),
        report={"note": "Platform default expert scorecard (scoring/expert.py): no default history needed."},
    )
    audit_append(organization=organization, actor=actor, action="scoring.model_promoted", obj=model,
                 after={"version": model.version, "kind": model.kind, "status": model.status},
                 reason="cold start: the expert scorecard is the first champion")
    return model


def champion(organization: Organization) -> ScoringModel:
    model = ScoringModel.objects.for_organization(organization).filter(status=ScoringModel.Status.CHAMPION).first()
    return model or scoring_setup(organization=organization)


# ------------------------------------------------------------------------- policy edits


@transaction.atomic
def scorecard_factor_save(*, factor: ScorecardFactor, actor: Any, reason: str = "") -> ScorecardFactor:
    """Change one factor of the expert scorecard (takes effect when the scorecard is published)."""
    try:
        validate_bins(factor.feature, factor.bins, factor.missing_points)
    except ValueError as exc:
        raise AppError(ErrorCode.VALIDATION, str(exc), details={"feature": factor.feature}) from exc
    before = (ScorecardFactor.objects.filter(pk=factor.pk).values("weight", "bins", "missing_points").first()
              if factor.pk else None)
    factor.save()
    audit_append(organization=factor.organization_id, actor=actor, action="scoring.factor_changed", obj=factor,
                 before=before, after={"weight": factor.weight, "bins": factor.bins,
                                       "missing_points": factor.missing_points}, reason=reason)
    return factor


@transaction.atomic
def expert_scorecard_publish(*, organization: Organization, actor: Any, reason: str = "") -> ScoringModel:
    """Freeze the current factors as a new expert scorecard version. When the expert scorecard is the
    champion the new version replaces it (a policy edit of the model in use); otherwise it is a
    candidate to promote."""
    current = champion(organization)
    config = current_expert_config(organization)
    make_champion = current.kind == ScoringModel.Kind.EXPERT
    model = ScoringModel.objects.create(
        organization=organization, version=_next_version(organization), kind=ScoringModel.Kind.EXPERT,
        name="Expert scorecard", algorithm="expert", config=config,
        features=[f["feature"] for f in config["factors"]], created_by=_user(actor),
        report={"note": f"Published from the scorecard factors; previous champion v{current.version}."},
    )
    audit_append(organization=organization, actor=actor, action="scoring.model_registered", obj=model,
                 after={"version": model.version, "kind": model.kind, "config": config}, reason=reason)
    if make_champion:
        model = model_promote(model=model, actor=actor, reason=reason or "expert scorecard republished")
    return model


@transaction.atomic
def master_scale_update(*, organization: Organization, upper_bounds: Sequence[float], actor: Any,
                        reason: str = "") -> MasterScaleConfig:
    try:
        scale = MasterScale(tuple(float(b) for b in upper_bounds))
    except (TypeError, ValueError) as exc:
        raise AppError(ErrorCode.VALIDATION, gettext('master scale: %(exc)s') % {
            'exc': exc}, details={"upper_bounds": list(upper_bounds)}
                       ) from exc
    row, _ = MasterScaleConfig.objects.select_for_update().get_or_create(organization=organization)
    before = list(row.upper_bounds)
    row.upper_bounds = list(scale.upper_bounds)
    row.save()
    audit_append(organization=organization, actor=actor, action="scoring.master_scale_changed", obj=row,
                 before={"upper_bounds": before}, after={"upper_bounds": row.upper_bounds}, reason=reason)
    return row


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


@transaction.atomic
def model_promote(*, model: ScoringModel, actor: Any, reason: str = "") -> ScoringModel:
    """Make ``model`` the organization's champion: a credit manager's decision, recorded in the ledger.
    The previous champion is retired; the next scoring run uses the new one."""
    model = ScoringModel.objects.select_for_update().get(pk=model.pk)
    if model.status == ScoringModel.Status.CHAMPION:
        return model
    previous = (ScoringModel.objects.select_for_update().for_organization(model.organization_id)
                .filter(status=ScoringModel.Status.CHAMPION).first())
    if previous is not None:
        previous.status = ScoringModel.Status.RETIRED
        previous.save(update_fields=["status"])
    model.status, model.promoted_at, model.promoted_by = ScoringModel.Status.CHAMPION, timezone.now(), _user(actor)
    model.save(update_fields=["status", "promoted_at", "promoted_by"])
    audit_append(
        organization=model.organization_id, actor=actor, action="scoring.model_promoted", obj=model,
        before={"champion": previous.version if previous else None},
        after={"champion": model.version, "kind": model.kind, "algorithm": model.algorithm,
               "oot_auc": (model.metrics.get("oot") or {}).get("auc")},
        reason=reason,
    )
    return model


# ------------------------------------------------------------------------------- training


@dataclass
class TrainResult:
    outcome: TrainingOutcome
    model: ScoringModel | None


def model_train(*, organization: Organization, as_of: dt.date | None = None, months: int = 3, actor: Any = None,
                dry_run: bool = False, log: Callable[[str], None] | None = None) -> TrainResult:
    """Train on the organization's history and register the result as a candidate (not promoted)."""
    as_of = as_of or organization.local_date()
    current = champion(organization)  # the master scale exists
    outcome = train_on_history(organization, as_of, master_scale(organization), months=months, log=log,
                               champion=scorer_for(current))
    if dry_run:
        return TrainResult(outcome, None)
    return TrainResult(outcome, model_register(organization=organization, outcome=outcome, actor=actor))


def model_register(*, organization: Organization, outcome: TrainingOutcome, actor: Any = None) -> ScoringModel:
    trained = outcome.model
    oot = outcome.report.get("out_of_time_by_snapshot", {})
    metrics = json_safe({**trained.metrics, "oot": oot.get("metrics"), "oot_cut": oot.get("cut")})
    with transaction.atomic():
        advisory_lock(f"scoring-registry:{organization.pk}")
        version = _next_version(organization)
        path, sha, size = save_model_file(organization.pk, version, trained)
        model = ScoringModel.objects.create(
            organization=organization, version=version, kind=ScoringModel.Kind.TRAINED,
            name=f"Trained {trained.champion}", algorithm=trained.champion, training_start=outcome.window[0],
            training_end=outcome.window[1], features=outcome.features, metrics=metrics, report=outcome.report,
            reference=outcome.reference, file_path=path, sha256=sha, file_bytes=size, created_by=_user(actor),
        )
        audit_append(organization=organization, actor=actor, action="scoring.model_registered", obj=model,
                     after={"version": version, "algorithm": trained.champion, "sha256": sha,
                            "window": [outcome.window[0], outcome.window[1]],
                            "cv_auc": metrics["cv"]["auc"], "oot_auc": (metrics.get("oot") or {}).get("auc")})
    return model


# -------------------------------------------------------------------------------- scoring


def score_inputs(organization: Organization, as_of: dt.date, scope: Scope) -> tuple[FeatureSet, pd.Series]:
    """The features of the scope's customers and their known default dates (reads only)."""
    fs = compute_features(organization, as_of, scope)
    # Default dates come from all data recorded so far: the status "in default" is today's knowledge,
    # but a default dated on or before a past as-of date had happened by then (back-filled scores).
    known = default_dates(organization, max(as_of, organization.local_date()), scope)
    return fs, known


def compute_scores(*, organization: Organization, as_of: dt.date, scope: Scope, model: ScoringModel) -> Scored:
    """Features, PD, grade and reasons for the customers of ``scope`` (reads only)."""
    fs, known = score_inputs(organization, as_of, scope)
    return evaluate(fs, scorer_for(model), master_scale(organization), known)


def _persist(organization: Organization, model: ScoringModel, scored: Scored, scope: Scope, trigger: str,
             actor: Any = None) -> tuple[int, int]:
    """Upsert the scores, move current scores forward, record grade changes (history + one audit batch).
    Call inside a transaction. Returns (scores written, grade changes)."""
    frame = scored.frame
    if frame.empty:
        return 0, 0
    advisory_lock(f"scores:{organization.pk}")
    now, as_of = timezone.now(), scored.as_of
    previous = {
        row[0]: row[1:]
        for row in CurrentScore.objects.for_organization(organization).filter(**scope.filter_kwargs())
        .values_list("customer_id", "grade", "pd", "as_of")
    }
    records = list(frame.itertuples())
    points = frame["points"].astype("float64")
    scores, current, changes, events = [], [], [], []
    for rec, pts in zip(records, points.to_numpy(), strict=True):
        cid, grade, p = int(rec.Index), int(rec.grade), float(rec.pd)
        pts_value = None if pd.isna(pts) else float(pts)
        fields = {"model": model, "model_version": model.version, "pd": p, "grade": grade, "points": pts_value,
                  "reasons": rec.reasons, "flags": rec.flags, "computed_at": now}
        scores.append(Score(organization=organization, customer_id=cid, as_of=as_of, trigger=trigger, **fields))
        prev = previous.get(cid)
        if prev is not None and prev[2] > as_of:
            continue  # a back-filled older date: the current score stays the newer one
        current.append(CurrentScore(organization=organization, customer_id=cid, as_of=as_of, **fields))
        if prev is None or prev[0] != grade:
            changes.append(GradeChange(organization=organization, customer_id=cid, as_of=as_of,
                                       old_grade=prev[0] if prev else None, new_grade=grade,
                                       old_pd=prev[1] if prev else None, new_pd=p, model=model, trigger=trigger,
                                       changed_at=now))
            events.append(AuditEvent(
                "score.grade_assigned" if prev is None else "score.grade_changed", ("customers.customer", cid),
                before=None if prev is None else {"grade": prev[0], "pd": round(prev[1], 6), "as_of": prev[2]},
                after={"grade": grade, "pd": round(p, 6), "as_of": as_of, "model_version": model.version},
                reason=f"{trigger} scoring",
            ))
    update = ["model", "model_version", "pd", "grade", "points", "reasons", "flags", "computed_at"]
    Score.objects.bulk_create(scores, batch_size=1000, update_conflicts=True,
                              unique_fields=["organization", "customer", "as_of"], update_fields=[*update, "trigger"])
    CurrentScore.objects.bulk_create(current, batch_size=1000, update_conflicts=True, unique_fields=["customer"],
                                     update_fields=["as_of", *update])
    GradeChange.objects.bulk_create(changes, batch_size=1000)
    if trigger == Trigger.EVENT:  # a grade changed by new data: early warnings for those customers
        evaluate_on_commit(organization.pk, [c.customer_id for c in changes if c.old_grade is not None])
    audit_append_many(organization=organization, actor=actor, events=events)
    return len(scores), len(changes)


def score_customers(*, organization: Organization, customer_ids: Iterable[int] | None = None,
                    as_of: dt.date | None = None, trigger: str = Trigger.EVENT, actor: Any = None) -> int:
    """Score some customers (all when ``customer_ids`` is None) now, with the champion."""
    as_of = as_of or organization.local_date()
    model = champion(organization)
    ids = None if customer_ids is None else sorted(set(customer_ids))
    written = 0
    pieces = [None] if ids is None else [ids[i : i + CHUNK_SIZE] for i in range(0, len(ids), CHUNK_SIZE)]
    for piece in pieces:
        scope = Scope.all() if piece is None else Scope.of(piece)
        scored = compute_scores(organization=organization, as_of=as_of, scope=scope, model=model)
        with transaction.atomic():
            n, _ = _persist(organization, model, scored, scope, trigger, actor)
        written += n
    return written


def score_refresh_customer(customer_id: int) -> int:
    """Re-score one customer after new data (payment, statement, signal) was committed."""
    customer = Customer.objects.select_related("organization").filter(pk=customer_id).first()
    if customer is None:
        return 0
    return score_customers(organization=customer.organization, customer_ids=[customer_id], trigger=Trigger.EVENT)


def score_refresh_customers(organization_id: int, customer_ids: Sequence[int]) -> int:
    organization = Organization.objects.get(pk=organization_id)
    return score_customers(organization=organization, customer_ids=customer_ids, trigger=Trigger.EVENT)


def refresh_on_commit(organization_id: int, customer_ids: Iterable[int]) -> None:
    """Queue one re-score of these customers for when the current transaction commits."""
    ids = sorted({int(c) for c in customer_ids})
    if not ids:
        return
    from .tasks import refresh_customers

    transaction.on_commit(lambda: refresh_customers.delay(organization_id, ids))


# ----------------------------------------------------------------------------------- runs


def _chunks(organization: Organization, chunk_size: int) -> list[tuple[int, int]]:
    """Keyset chunks of customer ids: (first id, last id) of every ``chunk_size`` customers."""
    ids = list(Customer.objects.for_organization(organization).order_by("id").values_list("id", flat=True))
    return [(ids[i], ids[min(i + chunk_size, len(ids)) - 1]) for i in range(0, len(ids), chunk_size)]


NIGHTLY_HOUR = 1  # local hour after which an organization's nightly re-score is due


def nightly_hour_setting() -> int:
    """``SCORING_NIGHTLY_HOUR`` from settings: the local hour (0-23) from which the night's run is due."""
    hour = int(getattr(settings, "SCORING_NIGHTLY_HOUR", NIGHTLY_HOUR))
    if not 0 <= hour <= 23:
        raise ValueError(f"SCORING_NIGHTLY_HOUR must be an hour from 0 to 23, got {hour}")
    return hour


def due_nightly_organizations(now: dt.datetime) -> list[int]:
    """Ids of the active organizations whose local time at ``now`` has passed the nightly hour and that
    have no nightly run of that local date yet (one query for the runs, whatever the number of
    organizations)."""
    hour = nightly_hour_setting()
    orgs = Organization.objects.filter(is_active=True).only("pk", "time_zone").order_by("pk")
    local = {o.pk: o.local_time(now) for o in orgs}
    ready = {pk: t.date() for pk, t in local.items() if t.hour >= hour}
    ready = {pk: d for pk, d in ready.items() if pk not in loading_organizations(ready)}  # historical loads wait
    started = set(
        ScoringRun.objects.filter(organization_id__in=list(ready), trigger=Trigger.NIGHTLY,
                                  as_of__in=set(ready.values())).values_list("organization_id", "as_of")
    )
    return [pk for pk, day in ready.items() if (pk, day) not in started]


def chunk_size_setting() -> int:
    """``SCORING_CHUNK_SIZE`` from settings (tests use small chunks to exercise the fan-out)."""
    return int(getattr(settings, "SCORING_CHUNK_SIZE", CHUNK_SIZE))


def scoring_run_start(*, organization: Organization, as_of: dt.date | None = None, trigger: str = Trigger.NIGHTLY,
                      chunk_size: int | None = None, enqueue: bool = True) -> ScoringRun:
    """Create a run and its chunks, and (after commit) fan out one task per chunk. A nightly run exists
    once per organization and day: asking again returns it and re-queues its unfinished chunks."""
    as_of = as_of or organization.local_date()
    chunk_size = chunk_size or chunk_size_setting()
    with transaction.atomic():
        model = champion(organization)
        run = None
        if trigger == Trigger.NIGHTLY:
            run = ScoringRun.objects.for_organization(organization).filter(as_of=as_of, trigger=trigger).first()
        if run is None:
            try:
                run = _create_run(organization, as_of, trigger, model, chunk_size)
            except IntegrityError:  # the same night started concurrently (beat fired twice)
                run = ScoringRun.objects.for_organization(organization).get(as_of=as_of, trigger=trigger)
        pending = list(run.chunks.filter(done=False).values_list("id", flat=True))
        if enqueue and pending:
            transaction.on_commit(lambda: _enqueue_chunks(pending))
    return run


@transaction.atomic
def _create_run(organization: Organization, as_of: dt.date, trigger: str, model: ScoringModel,
                chunk_size: int) -> ScoringRun:
    bounds = _chunks(organization, chunk_size)
    run = ScoringRun.objects.create(
        organization=organization, as_of=as_of, trigger=trigger, model=model, chunk_size=chunk_size,
        chunks_total=len(bounds), customers=Customer.objects.for_organization(organization).count(),
    )
    ScoringRunChunk.objects.bulk_create([
        ScoringRunChunk(organization=organization, run=run, index=i, first_id=lo, last_id=hi)
        for i, (lo, hi) in enumerate(bounds)
    ])
    if not bounds:
        _finish(run)
    return run


def _enqueue_chunks(chunk_ids: list[int]) -> None:
    """One independent task per chunk: any worker takes any chunk, and the chunk that finishes last
    starts the monitoring (no chord, so a lost result backend cannot stall a night)."""
    from .tasks import score_chunk

    for chunk_id in chunk_ids:
        score_chunk.delay(chunk_id)


def _default_edges(model: ScoringModel) -> dict[str, list[float]]:
    """Bins of a model without a reference sample: the expert scorecard's own bands per factor."""
    return {f["feature"]: [float(b[0]) for b in f["bins"][:-1]] for f in model.config.get("factors", [])}


def _finish(run: ScoringRun) -> bool:
    return bool(ScoringRun.objects.filter(pk=run.pk, status=ScoringRun.Status.RUNNING).update(
        status=ScoringRun.Status.FINISHED, finished_at=timezone.now()))


def scoring_run_chunk(chunk_id: int, *, monitor_inline: bool = False) -> str:
    """Score one chunk of a run. Re-delivery of a finished chunk does nothing; the chunk that finishes
    the run starts its monitoring."""
    chunk = ScoringRunChunk.objects.select_related("run__model", "organization").get(pk=chunk_id)
    if chunk.done:
        return "already done"
    run, organization = chunk.run, chunk.organization
    scope = Scope.between(chunk.first_id, chunk.last_id)
    t0 = time.perf_counter()
    fs, known = score_inputs(organization, run.as_of, scope)
    scale = master_scale(organization)
    scored = evaluate(fs, scorer_for(run.model), scale, known)
    from .challengers import shadow_evaluate, shadow_persist

    shadows = shadow_evaluate(organization, run.model, fs, known, scale)  # candidates beside the champion
    spec = monitoring.variables(run.model.reference, _default_edges(run.model))
    stats = monitoring.bin_counts(spec, scored.features, scored.frame["pd"].to_numpy(dtype=float)) if len(
        scored.frame) else {}
    with transaction.atomic():
        ScoringRun.objects.select_for_update().get(pk=run.pk)  # serialises the "last chunk?" check
        if ScoringRunChunk.objects.filter(pk=chunk.pk, done=True).exists():
            return "already done"
        written, changes = _persist(organization, run.model, scored, scope, run.trigger)
        shadow_persist(organization, run, shadows)
        ScoringRunChunk.objects.filter(pk=chunk.pk).update(
            done=True, scored=written, grade_changes=changes, seconds=time.perf_counter() - t0, stats=stats)
        ScoringRun.objects.filter(pk=run.pk).update(
            chunks_done=F("chunks_done") + 1, scored=F("scored") + written, grade_changes=F("grade_changes") + changes)
        last = not ScoringRunChunk.objects.filter(run_id=run.pk, done=False).exists()
        if last and _finish(run) and not monitor_inline:
            from .tasks import monitor_run

            transaction.on_commit(lambda: monitor_run.delay(run.pk))
    return "done"


def scoring_run_sync(*, organization: Organization, as_of: dt.date | None = None, trigger: str = Trigger.MANUAL,
                     chunk_size: int | None = None) -> ScoringRun:
    """Run every chunk in this process (commands, the demo seed), then monitor."""
    run = scoring_run_start(organization=organization, as_of=as_of, trigger=trigger, chunk_size=chunk_size,
                            enqueue=False)
    for chunk_id in run.chunks.filter(done=False).order_by("index").values_list("id", flat=True):
        scoring_run_chunk(chunk_id, monitor_inline=True)
    run.refresh_from_db()
    if run.status == ScoringRun.Status.FINISHED:
        monitoring_run(run.pk)
    return run


# ----------------------------------------------------------------------------- monitoring


@transaction.atomic
def monitoring_run(run_id: int) -> MonitoringReport:
    """PSI of the score and key features against the model's reference, backtest of the scores given a
    year earlier, and an alert per variable whose PSI crosses 0.25. Idempotent per run."""
    run = ScoringRun.objects.select_related("model", "organization").get(pk=run_id)
    existing = MonitoringReport.objects.filter(run=run).first()
    if existing is not None:
        return existing
    model, organization = ScoringModel.objects.select_for_update().get(pk=run.model_id), run.organization
    totals: dict[str, list[int]] = {}
    for stats in run.chunks.values_list("stats", flat=True):
        monitoring.add_counts(totals, stats or {})
    population = sum(totals.get(monitoring.SCORE_VARIABLE, []))
    spec = monitoring.variables(model.reference, _default_edges(model))
    if not model.reference.get("variables") and population:
        # the expert scorecard has no training sample: its first monitored population is the baseline
        model.reference = monitoring.reference_from_counts(spec, totals, source=f"scores of {run.as_of}")
        model.save(update_fields=["reference"])
    psi = monitoring.stability(model.reference, totals)
    alerting = population >= monitoring.PSI_MIN_POPULATION
    report = MonitoringReport.objects.create(
        organization=organization, run=run, model=model, as_of=run.as_of, population=population, psi=psi,
        psi_max=max(psi.values()) if psi else None, backtest=_backtest(organization, run.as_of),
    )
    raised = 0
    for name, value in psi.items():
        if value <= monitoring.PSI_ALERT or not alerting:
            continue
        label = "the score" if name == monitoring.SCORE_VARIABLE else f"feature {name}"
        alert_raise(
            organization=organization, kind="scoring.psi", dedup_key=f"scoring.psi:model-{model.version}:{name}",
            severity=Alert.Severity.HIGH if name == monitoring.SCORE_VARIABLE else Alert.Severity.MEDIUM,
            title=f"Population shift in {label}: PSI {value:.2f} against model v{model.version}'s reference",
            details={"variable": name, "psi": value, "threshold": monitoring.PSI_ALERT, "as_of": run.as_of.isoformat(),
                     "model_version": model.version, "report_id": report.pk},
        )
        raised += 1
    if raised:
        MonitoringReport.objects.filter(pk=report.pk).update(alerts_raised=raised)
        report.alerts_raised = raised
    return report


def _backtest(organization: Organization, as_of: dt.date) -> dict[str, Any]:
    """Scores given about a year before ``as_of`` against the defaults of the year after them."""
    target = as_of - dt.timedelta(days=365)
    t0 = (Score.objects.for_organization(organization)
          .filter(as_of__lte=target, as_of__gte=target - dt.timedelta(days=BACKTEST_SLACK_DAYS))
          .order_by("-as_of").values_list("as_of", flat=True).first())
    if t0 is None:
        return {"note": f"no scores between {target - dt.timedelta(days=BACKTEST_SLACK_DAYS)} and {target} to "
                        f"backtest yet"}
    end = min(as_of, t0 + dt.timedelta(days=365))
    rows = pd.DataFrame(list(
        Score.objects.for_organization(organization).filter(as_of=t0).exclude(pd__gte=1.0)
        .values_list("customer_id", "grade", "pd")), columns=["customer_id", "grade", "pd"])
    defaults = default_dates(organization, as_of)
    table = monitoring.backtest_table(rows, defaults, pd.Timestamp(t0), pd.Timestamp(end),
                                      master_scale(organization).grades)
    observed = sum(r["defaults"] for r in table)
    return {"scored_on": t0.isoformat(), "observed_until": end.isoformat(), "customers": len(rows),
            "defaults": observed, "predicted_defaults": float(rows["pd"].sum()) if len(rows) else 0.0,
            "grades": table}


# ------------------------------------------------------------------------------------ demo


def scoring_seed_history(*, organizations: Sequence[Organization], as_of: dt.date | None = None,
                         quarters: int = 5) -> None:
    """Scores for a fresh demo: the expert scorecard recalibrated to the demo's observed defaults, then
    the last ``quarters`` quarter ends (back-filled, oldest first, so the grade history and a one-year
    backtest exist) and ``as_of`` (default today). Skips organizations already scored."""
    for organization in organizations:
        if Score.objects.for_organization(organization).exists():
            continue
        today = as_of or organization.local_date()
        from .recalibration import expert_recalibrate

        expert_recalibrate(organization=organization, as_of=today)  # PDs fitted to the observed defaults
        ends = pd.date_range(end=pd.Timestamp(today), periods=quarters + 1, freq="QE")
        for day in [d.date() for d in ends if d.date() < today][-quarters:]:
            scoring_run_sync(organization=organization, as_of=day, trigger=Trigger.BACKFILL)
        scoring_run_sync(organization=organization, as_of=today, trigger=Trigger.MANUAL)
