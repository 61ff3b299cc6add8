
"""Dunning policies: the default every organization starts with, and audited edits.

A policy change is a credit decision (DESIGN.md, audit ledger): each edit appends the level's or the
policy's before and after to the ledger.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.forms.models import model_to_dict

from credit_platform.audit import audit_append
from credit_platform.models import Organization

from ..models import DunningLevel, DunningPolicy
from .messages import default_templates, validate_template

# (days, name, send, task, hold, subject EN, subject ZH, intro EN, intro ZH)
DEFAULT_LEVELS: list[tuple[int, str, bool, str, bool, str, str, str, str]] = [
    (
        -7,
        "Pre-due reminder",
        True,
        "",
        False,
        "Invoices due soon",
        "付款提醒：发票即将到期",
        "This is a friendly reminder that the following invoices fall due shortly:",
        "温馨提示，以下发票即将到期：",
    ),
    (
        1,
        "First reminder",
        True,
        "",
        False,
        "Payment reminder",
        "付款提醒",
        "According to our records the following invoices are now due and unpaid:",
        "根据我们的记录，以下发票已到期尚未付款：",
    ),
    (
        15,
        "Second reminder",
        True,
        DunningLevel.Task.CALL,
        False,
        "Second reminder: overdue invoices",
        "第二次催款通知：发票已逾期",
        "Despite our earlier reminder, the following invoices remain unpaid. Please settle them within "
        "7 days:",
        "尽管我们已发出提醒，以下发票仍未付款。请在 7 天内付清：",
    ),
    (
        30,
        "Final notice",
        True,
        "",
        True,
        "Final notice before further action",
        "最后催款通知",
        "The following invoices are now 30 days overdue. Your account has been put on credit hold; unless "
        "we receive payment within 14 days we will pass the claim on without further notice:",
        "以下发票已逾期 30 天。您的账户已被暂停赊销；"
        "如 14 天内仍未收到付款，我们将不再另行通知，直接移交处理：",
    ),
    (
        60,
        "Hand-over to collection agency",
        True,
        DunningLevel.Task.AGENCY,
        False,
        "Claim handed over to a collection agency",
        "欠款已移交催收机构",
        "As the following invoices remain unpaid after several reminders, we have handed the claim over to "
        "a collection agency, which will contact you:",
        "由于以下发票经多次催告仍未付款，我们已将该欠款移交催收机构，催收机构将与您联系：",
    ),
]


@transaction.atomic
def dunning_policy_ensure_default(organization: Organization, actor: Any = None) -> DunningPolicy:
    """The organization's default policy, created with the standard levels if it has none."""
    policy = DunningPolicy.objects.for_organization(organization).filter(is_default=True).first()
    if policy is not None:
        return policy
    policy = DunningPolicy.objects.create(organization=organization, name="Standard", is_default=True)
    levels = [
        DunningLevel(
            organization=organization,
            policy=policy,
            days=days,
            name=name,
            send_message=send,
            task=task,
            credit_hold=hold,
            **default_templates(intro_en, intro_zh, subj_en, subj_zh),
        )
        for days, name, send, task, hold, subj_en, subj_zh, intro_en, intro_zh in DEFAULT_LEVELS
    ]
    DunningLevel.objects.bulk_create(levels)
    audit_append(
        organization=organization,
        actor=actor,
        action="dunning.policy_created",
        obj=policy,
        after={"name": policy.name, "levels": [(lv.days, lv.name, lv.task, lv.credit_hold) for lv in levels]},
    )
    return policy


POLICY_FIELDS = ("name", "min_amount", "run_hour", "promise_grace_days", "promise_max_days", "statement_day")
LEVEL_FIELDS = (
    "days",
    "name",
    "is_active",
    "send_message",
    "task",
    "credit_hold",
    "subject_en",
    "body_en",
    "subject_zh",
    "body_zh",
)


@transaction.atomic
def dunning_policy_create(*, organization: Organization, actor: Any, reason: str = "", is_default: bool = False,
                          **values: Any) -> DunningPolicy:
    """A further policy (e.g. a stricter one for some customers, given through their collection profile);
    it starts without levels."""
    for field in values:
        if field not in POLICY_FIELDS:
            raise ValueError(f"{field} is not an editable policy field")
    policy = DunningPolicy(organization=organization, is_default=is_default, **values)
    policy.full_clean()
    policy.save()
    audit_append(organization=organization, actor=actor, action="dunning.policy_created", obj=policy,
                 after={"is_default": is_default, **model_to_dict(policy, fields=POLICY_FIELDS)}, reason=reason)
    return policy


@transaction.atomic
def dunning_policy_update(
    *, policy: DunningPolicy, actor: Any, reason: str = "", **changes: Any
) -> DunningPolicy:
    before = model_to_dict(policy, fields=POLICY_FIELDS)
    for field, value in changes.items():
        if field not in POLICY_FIELDS:
            raise ValueError(f"{field} is not an editable policy field")
        setattr(policy, field, value)
    policy.full_clean()
    policy.save()
    after = model_to_dict(policy, fields=POLICY_FIELDS)
    if after != before:
        audit_append(
            organization=policy.organization_id,
            actor=actor,
            action="dunning.policy_changed",
            obj=policy,
            before=before,
            after=after,
            reason=reason,
        )
    return policy


@transaction.atomic
def dunning_level_save(*, level: DunningLevel, actor: Any, reason: str = "") -> DunningLevel:
    """Create or change a level; its templates must compile. Levels that fired are deactivated, not
    deleted (their actions refer to them)."""
    before = None
    if level.pk is not None:
        before = model_to_dict(DunningLevel.objects.get(pk=level.pk), fields=LEVEL_FIELDS)
    level.organization_id = level.policy.organization_id
    level.full_clean()
    for field in ("subject_en", "body_en", "subject_zh", "body_zh"):
        validate_template(getattr(level, field), field)
    level.save()
    after = model_to_dict(level, fields=LEVEL_FIELDS)
    if after != before:
        audit_append(
            organization=level.organization_id,
            actor=actor,
            action="dunning.level_created" if before is None else "dunning.level_changed",
            obj=level,
            before=before,
            after=after,
            reason=reason,
        )
    return level
