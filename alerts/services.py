"""Writes to alerts: raise (idempotent by dedup key), reconcile the early-warning findings, the lifecycle
transitions (who may make which), the policy of thresholds and actions. Every transition is appended to
the audit ledger; side effects (contingency actions, webhooks) run after commit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from credit_platform.audit import AuditEvent, audit_append, audit_append_many
from credit_platform.errors import AppError, ErrorCode
from credit_platform.models import Membership, Organization
from credit_platform.permissions import actor_has_capability
from credit_platform.roles import Cap

from . import contingency, indicators
from .explain import explain
from .models import SEVERITY_RANK, Alert, AlertPolicy

SNOOZE_MAX_DAYS = 90


def _user(actor: Any) -> Any:
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


def _notify(alerts: Sequence[Alert], event: str) -> None:
    from .webhooks import webhook_enqueue

    if alerts:
        webhook_enqueue(alerts=alerts, event=event)


@transaction.atomic
def alert_raise(
    *, organization: Organization | int, kind: str, title: str, dedup_key: str, severity: str = Alert.Severity.MEDIUM,
    details: dict[str, Any] | None = None, customer_id: int | None = None, as_of: dt.date | None = None,
) -> tuple[Alert, bool]:
    """Open an alert, or refresh the one with the same key (re-opening it when it was resolved; a
    dismissed one stays dismissed unless its severity rises). Returns (alert, created)."""
    org_id = organization if isinstance(organization, int) else organization.pk
    alert = Alert.objects.select_for_update().filter(organization_id=org_id, dedup_key=dedup_key).first()
    now = timezone.now()
    if alert is None:
        alert = Alert.objects.create(
            organization_id=org_id, kind=kind, title=title[:300], dedup_key=dedup_key, severity=severity,
            details=details or {}, customer_id=customer_id, last_raised_at=now, as_of=as_of,
        )
        audit_append(organization=org_id, actor=None, action="alert.opened", obj=alert,
                     after={"severity": severity, "kind": kind})
        contingency.run_on_commit([alert.pk])
        _notify([alert], "alert.opened")
        return alert, True
    before = {"status": alert.status, "severity": alert.severity}
    escalated = SEVERITY_RANK[severity] > SEVERITY_RANK[alert.severity]
    alert.title, alert.severity, alert.details = title[:300], severity, details or {}
    alert.occurrences += 1
    alert.last_raised_at, alert.as_of = now, as_of or alert.as_of
    event = None
    if alert.status == Alert.Status.RESOLVED or (alert.status == Alert.Status.DISMISSED and escalated):
        alert.status, alert.resolved_at, alert.resolved_by, alert.status_reason = Alert.Status.OPEN, None, None, ""
        event = "alert.reopened"
    elif escalated:
        event = "alert.escalated"
    alert.save()
    if event:
        audit_append(organization=org_id, actor=None, action=event, obj=alert, before=before,
                     after={"status": alert.status, "severity": alert.severity})
        contingency.run_on_commit([alert.pk])
        _notify([alert], event)
    return alert, False


def _title(finding: indicators.Finding, names: dict[int, str]) -> str:
    from .explain import indicator_name

    who = names.get(finding.customer_id or 0, "")
    reasons = explain({"reasons": finding.reasons}, "en")
    return f"{indicator_name(finding.indicator)}: {who}: {reasons[0] if reasons else ''}"[:300]


@transaction.atomic
def alerts_sync(
    *, organization: Organization, findings: Sequence[indicators.Finding], as_of: dt.date,
    customer_ids: Iterable[int] | None = None, indicator_names: Iterable[str] | None = None,
) -> dict[str, int]:
    """Reconcile the early-warning alerts of a scope with an evaluation's findings, set-based: one read of
    the scope's alerts, bulk inserts and updates, one ledger batch. A finding opens its alert, refreshes
    it, re-opens it (resolved) or escalates it; an active alert whose condition no longer holds is
    resolved by the system ("condition cleared"). ``customer_ids`` None is the whole organization (the
    sweep); ``indicator_names`` the indicators that were evaluated."""
    from customers.models import Customer

    evaluated = set(indicator_names or indicators.DEFAULTS)
    kinds = [f"ews.{name}" for name in evaluated]
    existing_qs = Alert.objects.for_organization(organization).filter(kind__in=kinds)
    ids = None if customer_ids is None else sorted({int(c) for c in customer_ids})
    if ids is not None:
        existing_qs = existing_qs.filter(customer_id__in=ids)
    existing = {a.dedup_key: a for a in existing_qs.select_for_update()}
    names = dict(Customer.objects.for_organization(organization).filter(
        pk__in={f.customer_id for f in findings if f.customer_id}).values_list("pk", "legal_name"))
    now = timezone.now()
    created, updated, events, trigger = [], [], [], []
    notify: dict[str, list[Alert]] = {}
    seen = set()
    for f in findings:
        if f.indicator not in evaluated:
            continue
        seen.add(f.dedup_key)
        details = {"indicator": f.indicator, "reasons": f.reasons, "value": f.value, "as_of": as_of.isoformat()}
        alert = existing.get(f.dedup_key)
        if alert is None:
            created.append(Alert(organization=organization, kind=f"ews.{f.indicator}", dedup_key=f.dedup_key,
                                 customer_id=f.customer_id, severity=f.severity, title=_title(f, names),
                                 details=details, as_of=as_of, last_raised_at=now))
            continue
        before = {"status": alert.status, "severity": alert.severity}
        escalated = SEVERITY_RANK[f.severity] > SEVERITY_RANK[alert.severity]
        event = None
        if alert.status == Alert.Status.RESOLVED or (alert.status == Alert.Status.DISMISSED and escalated):
            alert.status, alert.resolved_at, alert.resolved_by, alert.status_reason = (Alert.Status.OPEN, None, None,
                                                                                        "")
            event = "alert.reopened"
        elif escalated and alert.status in Alert.ACTIVE:
            event = "alert.escalated"
        elif f.severity != alert.severity and alert.status in Alert.ACTIVE:
            event = "alert.severity_changed"
        alert.severity, alert.details, alert.title, alert.as_of = f.severity, details, _title(f, names), as_of
        alert.last_raised_at = now
        alert.occurrences = F("occurrences") + 1
        updated.append(alert)
        if event:
            events.append(AuditEvent(event, alert, before=before,
                                     after={"status": alert.status, "severity": alert.severity}))
            notify.setdefault(event, []).append(alert)
            if event != "alert.severity_changed":
                trigger.append(alert.pk)
    cleared = [a for key, a in existing.items() if key not in seen and a.status in Alert.ACTIVE]
    for alert in cleared:
        events.append(AuditEvent("alert.resolved", alert, before={"status": alert.status},
                                 after={"status": Alert.Status.RESOLVED}, reason="condition cleared"))
        alert.status, alert.resolved_at, alert.status_reason = Alert.Status.RESOLVED, now, "condition cleared"
    # 1,000 alerts per INSERT/UPDATE statement: a few hundred KB of details each
    Alert.objects.bulk_create(created, batch_size=1000)
    Alert.objects.bulk_update(updated, ["status", "resolved_at", "resolved_by", "status_reason", "severity", "details",
                                        "title", "as_of", "last_raised_at", "occurrences"], batch_size=1000)
    Alert.objects.bulk_update(cleared, ["status", "resolved_at", "status_reason"], batch_size=1000)
    events = [AuditEvent("alert.opened", a, after={"severity": a.severity, "kind": a.kind}) for a in created] + events
    audit_append_many(organization=organization, actor=None, events=events, returning=False)
    contingency.run_on_commit([a.pk for a in created] + trigger)
    _notify(created, "alert.opened")
    for event, items in notify.items():
        _notify(items, event)
    _notify(cleared, "alert.resolved")
    return {"opened": len(created), "updated": len(updated), "resolved": len(cleared), "findings": len(findings)}


def evaluate_customers(*, organization: Organization, customer_ids: Iterable[int] | None = None,
                       as_of: dt.date | None = None) -> dict[str, int]:
    """Evaluate and reconcile: the one path of the nightly sweep (all customers) and of the event task
    (one customer). Concentration compares a customer with the portfolio: the sweep evaluates it."""
    as_of = as_of or organization.local_date()
    ids = None if customer_ids is None else list(customer_ids)
    names = list(indicators.DEFAULTS) if ids is None else list(indicators.CUSTOMER_INDICATORS)
    thresholds = indicators.thresholds_for(organization)
    findings = [f for f in indicators.evaluate(organization, as_of, ids, thresholds) if f.indicator in names]
    return alerts_sync(organization=organization, findings=findings, as_of=as_of, customer_ids=ids,
                       indicator_names=names)


def alerts_sweep_all(*, organizations: Iterable[Organization], as_of: dt.date | None = None) -> dict[int, dict]:
    """The sweep of several organizations in this process (the demo seed, which has no worker)."""
    return {o.pk: evaluate_customers(organization=o, as_of=as_of) for o in organizations}


def evaluate_on_commit(organization_id: int, customer_ids: Iterable[int]) -> None:
    """Queue the evaluation of some customers for when the current transaction commits (payment posted,
    order created, statement or signal recorded or imported, grade changed): one task, seconds later."""
    from .tasks import evaluate_customer, evaluate_customer_list

    ids = sorted({int(c) for c in customer_ids})
    # robust: a failure to queue (or, in-process, to evaluate) is logged and never fails the committed write
    if len(ids) == 1:
        transaction.on_commit(lambda: evaluate_customer.delay(organization_id, ids[0]), robust=True)
    elif ids:
        transaction.on_commit(lambda: evaluate_customer_list.delay(organization_id, ids), robust=True)


# --- lifecycle ------------------------------------------------------------------------------------

# action: (capability, states it may start from)
TRANSITIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "acknowledge": (Cap.COLLECTIONS, (Alert.Status.OPEN,)),
    "resolve": (Cap.COLLECTIONS, Alert.ACTIVE),
    "dismiss": (Cap.POLICY_EDIT, Alert.ACTIVE),
    "reopen": (Cap.POLICY_EDIT, (Alert.Status.RESOLVED, Alert.Status.DISMISSED)),
    "assign": (Cap.COLLECTIONS, Alert.ACTIVE),
    "snooze": (Cap.COLLECTIONS, Alert.ACTIVE),
}
TARGET = {"acknowledge": Alert.Status.ACKNOWLEDGED, "resolve": Alert.Status.RESOLVED,
          "dismiss": Alert.Status.DISMISSED, "reopen": Alert.Status.OPEN}


def may(actor: Any, organization_id: int, action: str) -> bool:
    capability, _states = TRANSITIONS[action]
    return actor_has_capability(actor, organization_id, capability)


@transaction.atomic
def alert_transition(*, alert: Alert, action: str, actor: Any, reason: str = "", assignee: Any = None,
                     until: dt.date | None = None) -> Alert:
    """Acknowledge, resolve, dismiss (a reason is required), reopen, assign or snooze one alert.
    Acknowledging, resolving, assigning and snoozing are collections work (officers, collectors,
    managers); dismissing a warning and re-opening one are credit decisions (credit managers)."""
    if action not in TRANSITIONS:
        raise AppError(ErrorCode.VALIDATION, f"'{action}' is not an alert action.", details={"action": action})
    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    capability, states = TRANSITIONS[action]
    if not actor_has_capability(actor, alert.organization_id, capability):
        raise AppError(ErrorCode.PERMISSION_DENIED,
                       _("Your role may not take the action '%(action)s' on alerts.") % {"action": action}, status=403)
    if alert.status not in states:
        raise AppError(ErrorCode.CONFLICT, _("This alert is %(status)s: the action '%(action)s' does not apply.")
                       % {"status": alert.get_status_display(), "action": action}, details={"status": alert.status},
                       status=409)
    reason = (reason or "").strip()
    before: dict[str, Any] = {"status": alert.status}
    after: dict[str, Any] = {}
    fields = ["status"]
    if action == "dismiss" and not reason:
        raise AppError(ErrorCode.VALIDATION, _("Say why the alert is dismissed."), details={"reason": "required"})
    if action in TARGET:
        alert.status = TARGET[action]
        alert.status_reason = reason
        fields.append("status_reason")
        if action in ("resolve", "dismiss"):
            alert.resolved_at, alert.resolved_by = timezone.now(), _user(actor)
        else:
            alert.resolved_at, alert.resolved_by = None, None
        fields += ["resolved_at", "resolved_by"]
        after["status"] = alert.status
    elif action == "assign":
        if assignee is not None and not Membership.objects.filter(
                user=assignee, organization_id=alert.organization_id, is_active=True).exists():
            raise AppError(ErrorCode.VALIDATION, _("The assignee is not a member of this organization."),
                           details={"assignee": getattr(assignee, "pk", None)})
        before["assignee"] = alert.assignee_id
        alert.assignee = assignee
        fields = ["assignee"]
        after["assignee"] = getattr(assignee, "pk", None)
    elif action == "snooze":
        today = alert.organization.local_date()
        if until is None or not today < until <= today + dt.timedelta(days=SNOOZE_MAX_DAYS):
            raise AppError(ErrorCode.VALIDATION, _("Snooze until a date after today and at most %(days)s days "
                                                   "ahead.") % {"days": SNOOZE_MAX_DAYS},
                           details={"until": until.isoformat() if until else None})
        before["snoozed_until"] = alert.snoozed_until
        alert.snoozed_until = until
        fields = ["snoozed_until"]
        after["snoozed_until"] = until
    alert.save(update_fields=fields)
    audit_append(organization=alert.organization_id, actor=actor, action=f"alert.{action}", obj=alert,
                 before=before, after=after, reason=reason)
    if action == "reopen":
        contingency.run_on_commit([alert.pk], actor=_user(actor))
    _notify([alert], f"alert.{action}")
    return alert


def alert_set_status(*, alert: Alert, status: str, actor: Any, reason: str = "") -> Alert:
    """The admin's actions, by target status."""
    actions: dict[str, str] = {Alert.Status.ACKNOWLEDGED: "acknowledge", Alert.Status.RESOLVED: "resolve",
                               Alert.Status.DISMISSED: "dismiss", Alert.Status.OPEN: "reopen"}
    action = actions[status]
    if alert.status == status:
        return alert
    return alert_transition(alert=alert, action=action, actor=actor, reason=reason)


def alerts_bulk(*, organization: Organization, alert_ids: Iterable[int], action: str, actor: Any,
                assignee: Any = None, reason: str = "") -> int:
    """Acknowledge or assign many alerts (the alerts page); alerts not in a state for it are skipped."""
    done = 0
    for alert in Alert.objects.for_organization(organization).filter(pk__in=list(alert_ids)):
        _cap, states = TRANSITIONS[action]
        if alert.status not in states:
            continue
        alert_transition(alert=alert, action=action, actor=actor, assignee=assignee, reason=reason)
        done += 1
    return done


# --- policy ---------------------------------------------------------------------------------------


def validate_thresholds(changes: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Check a policy change against the documented defaults' names and bounds; the error names the
    indicator and setting ("order_anomaly.ratio: 0.5 is below 1.1")."""
    errors: dict[str, str] = {}
    clean: dict[str, dict[str, Any]] = {}
    for name, values in changes.items():
        if name not in indicators.DEFAULTS or not isinstance(values, dict):
            errors[name] = "unknown indicator"
            continue
        for key, value in values.items():
            where = f"{name}.{key}"
            default = indicators.DEFAULTS[name].get(key)
            if default is None:
                errors[where] = "unknown setting"
            elif key == "enabled":
                if not isinstance(value, bool):
                    errors[where] = f"{value!r} is not true or false"
                    continue
                clean.setdefault(name, {})[key] = value
            elif key == "severity":
                if value not in indicators.SEVERITIES:
                    errors[where] = f"{value!r} is not one of {', '.join(indicators.SEVERITIES)}"
                    continue
                clean.setdefault(name, {})[key] = value
            else:
                try:
                    number = float(value)
                except (TypeError, ValueError):
                    errors[where] = f"{value!r} is not a number"
                    continue
                lo, hi = indicators.BOUNDS[key]
                if not lo <= number <= hi:
                    errors[where] = f"{value} is outside {lo}..{hi}"
                    continue
                clean.setdefault(name, {})[key] = int(number) if isinstance(default, int) else number
    if errors:
        raise AppError(ErrorCode.VALIDATION, "Invalid alert thresholds: " + "; ".join(
            f"{k}: {v}" for k, v in errors.items()), details=errors)
    return clean


@transaction.atomic
def alert_policy_update(*, organization: Organization, actor: Any, thresholds: dict[str, dict[str, Any]] | None = None,
                        actions: dict[str, list[str]] | None = None, reason: str = "") -> AlertPolicy:
    """Change an organization's thresholds (over the documented defaults) or contingency actions: credit
    managers only, in the ledger with the old and new values."""
    if not actor_has_capability(actor, organization.pk, Cap.POLICY_EDIT):
        raise AppError(ErrorCode.PERMISSION_DENIED, _("Only credit managers may change alert thresholds."),
                       status=403)
    policy, _created = AlertPolicy.objects.select_for_update().get_or_create(organization=organization)
    before = {"thresholds": policy.thresholds, "actions": policy.actions}
    if thresholds:
        clean = validate_thresholds(thresholds)
        merged = {k: dict(v) for k, v in policy.thresholds.items()}
        for name, values in clean.items():
            merged.setdefault(name, {}).update(values)
        policy.thresholds = merged
    if actions is not None:
        bad = {k: v for k, v in actions.items() if k not in indicators.SEVERITIES or not isinstance(v, list)}
        if bad:
            raise AppError(ErrorCode.VALIDATION, f"Invalid contingency actions: {sorted(bad)}", details=bad)
        policy.actions = {k: [str(x) for x in v] for k, v in actions.items()}
    policy.updated_at = timezone.now()
    policy.save()
    audit_append(organization=organization, actor=actor, action="alert.policy_changed", obj=policy, before=before,
                 after={"thresholds": policy.thresholds, "actions": policy.actions}, reason=reason)
    return policy
