"""Contingency actions per severity: a registry, so that apps which own the actions (credit holds and
reviews live in ``limits``) plug them in without alerts importing them.

    from alerts import contingency
    contingency.register("credit_hold", handler)   # handler(alert, *, actor) -> str | None

The organization's policy (``AlertPolicy.actions``, default ``DEFAULT_ACTIONS``) names the actions of each
severity. When an alert opens, or escalates into a severity, that severity's actions run after commit,
each in its own transaction, and each run (done, not registered, or failed) is in the audit ledger.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)

Handler = Callable[..., Any]

# Critical: stop new credit and have the credit manager review the limit; high: the review only.
DEFAULT_ACTIONS: dict[str, list[str]] = {"critical": ["credit_hold", "limit_review"], "high": ["limit_review"]}

_registry: dict[str, Handler] = {}


def register(name: str, handler: Handler | None) -> Handler | None:
    """Serve action ``name`` with ``handler`` (None removes it); returns the handler it replaces."""
    previous = _registry.pop(name, None)
    if handler is not None:
        _registry[name] = handler
    return previous


def unregister(name: str) -> None:
    _registry.pop(name, None)


def registered() -> list[str]:
    return sorted(_registry)


def actions_for(organization_id: int, severity: str) -> list[str]:
    from .models import AlertPolicy

    configured = AlertPolicy.objects.filter(organization_id=organization_id).values_list("actions", flat=True).first()
    policy = {**DEFAULT_ACTIONS, **(configured or {})}
    return list(policy.get(severity, []))


def run_on_commit(alert_ids: Iterable[int], actor: Any = None) -> None:
    ids = sorted(set(alert_ids))
    if ids:
        transaction.on_commit(lambda: run(ids, actor=actor))


def run(alert_ids: list[int], *, actor: Any = None) -> list[tuple[int, str, str]]:
    """Run each alert's severity actions; returns (alert id, action, outcome) per action."""
    from credit_platform.audit import audit_append

    from .models import Alert

    done = []
    for alert in Alert.objects.filter(pk__in=alert_ids).select_related("customer"):
        for name in actions_for(alert.organization_id, alert.severity):
            handler = _registry.get(name)
            outcome = "not registered"
            try:
                with transaction.atomic():
                    if handler is not None:
                        result = handler(alert, actor=actor)
                        outcome = str(result) if result else "done"
                    audit_append(organization=alert.organization_id, actor=actor, action="alert.contingency",
                                 obj=alert, after={"action": name, "severity": alert.severity, "outcome": outcome})
            except Exception as exc:  # a failing handler must not stop the others: recorded and logged
                logger.exception("contingency action %s failed for alert %s", name, alert.pk)
                outcome = f"failed: {exc}"[:200]
                audit_append(organization=alert.organization_id, actor=actor, action="alert.contingency",
                             obj=alert, after={"action": name, "severity": alert.severity, "outcome": outcome})
            done.append((alert.pk, name, outcome))
    return done
