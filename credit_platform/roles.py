"""Roles and what each may do.

A membership has one role; a role grants capabilities. Views, the admin and the API ask for a
capability, never for a role name, so that a new role is one line here.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    CREDIT_MANAGER = "credit_manager", _("Credit manager")
    CREDIT_OFFICER = "credit_officer", _("Credit officer")
    FINANCE_APPROVER = "finance_approver", _("Finance approver")
    COLLECTOR = "collector", _("Collector")
    AUDITOR = "auditor", _("Auditor (read only)")
    INTEGRATOR = "integrator", _("Integrator (API)")


class Cap:
    """Capability names. Kept as constants so that a typo fails at import time, not silently."""

    VIEW = "portfolio.view"  # see customers, receivables, scores, alerts
    CUSTOMERS_EDIT = "customers.edit"  # create and change customer profiles, statements, signals
    RECEIVABLES_EDIT = "receivables.edit"  # orders, invoices, payments, credit notes
    IMPORT = "data.import"  # run file imports
    LIMITS_REQUEST = "limits.request"
    LIMITS_APPROVE = "limits.approve"
    POLICY_EDIT = "policy.edit"  # credit policy, rating scale, dunning policy, alert rules
    MODELS_PROMOTE = "models.promote"
    COLLECTIONS = "collections.work"  # worklists, promises to pay, disputes, call notes
    # Start today's dunning run ahead of the schedule: it e-mails every customer due a reminder and may put
    # customers on credit hold, so it belongs to the people who run collections (managers, collectors),
    # not to every role that works a worklist.
    DUNNING_RUN = "dunning.run"
    AUDIT_VIEW = "audit.view"
    ORG_ADMIN = "org.admin"  # memberships, organization settings, FX rates


_ALL = {
    Cap.VIEW, Cap.CUSTOMERS_EDIT, Cap.RECEIVABLES_EDIT, Cap.IMPORT, Cap.LIMITS_REQUEST, Cap.LIMITS_APPROVE,
    Cap.POLICY_EDIT, Cap.MODELS_PROMOTE, Cap.COLLECTIONS, Cap.DUNNING_RUN, Cap.AUDIT_VIEW, Cap.ORG_ADMIN,
}

CAPABILITIES: dict[str, frozenset[str]] = {
    Role.ADMIN: frozenset(_ALL),
    Role.CREDIT_MANAGER: frozenset(_ALL - {Cap.ORG_ADMIN}),
    Role.CREDIT_OFFICER: frozenset(
        {Cap.VIEW, Cap.CUSTOMERS_EDIT, Cap.IMPORT, Cap.LIMITS_REQUEST, Cap.COLLECTIONS}
    ),
    Role.FINANCE_APPROVER: frozenset({Cap.VIEW, Cap.LIMITS_APPROVE, Cap.RECEIVABLES_EDIT, Cap.AUDIT_VIEW}),
    Role.COLLECTOR: frozenset({Cap.VIEW, Cap.COLLECTIONS, Cap.DUNNING_RUN, Cap.RECEIVABLES_EDIT}),
    Role.AUDITOR: frozenset({Cap.VIEW, Cap.AUDIT_VIEW}),
    Role.INTEGRATOR: frozenset({Cap.VIEW, Cap.CUSTOMERS_EDIT, Cap.RECEIVABLES_EDIT, Cap.IMPORT}),
}

# Roles that work in the Django admin screens (finance staff, managers, auditors).
STAFF_ROLES = frozenset({Role.ADMIN, Role.CREDIT_MANAGER, Role.FINANCE_APPROVER, Role.AUDITOR, Role.CREDIT_OFFICER})


def role_has(role: str, capability: str) -> bool:
    return capability in CAPABILITIES.get(role, frozenset())
