
"""Message templates of dunning levels: Django template syntax, rendered without HTML escaping (the
messages are plain text), with the ``money`` filters built in.

Context of every template: ``customer`` (legal name), ``customer_id`` (external id), ``organization``,
``level`` (the level's name), ``run_date``, ``items`` (each with ``number``, ``issue_date``,
``due_date``, ``open_amount``, ``currency``, ``days_past_due``, ``level``) and ``totals`` (each with
``currency`` and ``amount``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from django.core.exceptions import ValidationError
from django.template import Context, Engine, TemplateSyntaxError
from django.utils.translation import gettext

from credit_platform.money import ZERO

ZH_COUNTRIES = ("CN", "HK", "MO", "TW")


@lru_cache(maxsize=1)
def engine() -> Engine:
    return Engine(autoescape=False, builtins=["credit_platform.templatetags.money"])


@lru_cache(maxsize=256)
def _compiled(source: str) -> Any:
    return engine().from_string(source)


def validate_template(source: str, field: str) -> None:
    try:
        _compiled(source)
    except TemplateSyntaxError as exc:
        raise ValidationError({field: gettext('is not a valid template: %(exc)s') % {'exc': exc}}) from None


@dataclass(frozen=True)
class Item:
    number: str
    issue_date: dt.date
    due_date: dt.date
    open_amount: Decimal
    currency: str
    days_past_due: int
    level: str


def render(
    subject: str,
    body: str,
    *,
    customer: str,
    customer_id: str,
    organization: str,
    level: str,
    run_date: dt.date,
    items: list[Item],
) -> tuple[str, str]:
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for item in items:
        totals[item.currency] += item.open_amount
    context = Context(
        {
            "customer": customer,
            "customer_id": customer_id,
            "organization": organization,
            "level": level,
            "run_date": run_date,
            "items": items,
            "totals": [{"currency": c, "amount": a} for c, a in sorted(totals.items())],
        },
        autoescape=False,
    )
    text_subject = " ".join(_compiled(subject).render(context).split())
    return text_subject[:300], _compiled(body).render(context).strip() + "\n"


def subject_preview(subject: str, *, organization: Any, level: str) -> str:
    """A level's subject rendered as the customer will read it (``{{ organization }}`` replaced), for the
    policy page; a template that no longer compiles is shown as it is."""
    try:
        text, _body = render(subject, "", customer="…", customer_id="…", organization=organization.name,
                             level=level, run_date=organization.local_date(), items=[])
    except TemplateSyntaxError:
        return subject
    return text


_ITEMS_EN = (
    "{% for i in items %}  {{ i.number }}  due {{ i.due_date|date:'Y-m-d' }}  {{ i.open_amount|money }} "
    "{{ i.currency }}{% if i.days_past_due > 0 %}  ({{ i.days_past_due }} day{{ i.days_past_due|pluralize }} "
    "overdue){% endif %}\n"
    "{% endfor %}"
    "\nTotal open: {% for t in totals %}{{ t.amount|money }} {{ t.currency }}{% if not forloop.last %}, "
    "{% endif %}{% endfor %}\n"
)
_ITEMS_ZH = (
    "{% for i in items %}  发票 {{ i.number }}  到期日 {{ i.due_date|date:'Y-m-d' }}  "
    "未付 {{ i.open_amount|money }} "
    "{{ i.currency }}{% if i.days_past_due > 0 %}  （逾期 {{ i.days_past_due }} 天）{% endif %}\n{% endfor %}"
    "\n未付合计：{% for t in totals %}{{ t.amount|money }} {{ t.currency }}{% if not forloop.last %}，"
    "{% endif %}{% endfor %}\n"
)


def default_templates(intro_en: str, intro_zh: str, subject_en: str, subject_zh: str) -> dict[str, str]:
    return {
        "subject_en": subject_en + " - {{ organization }}",
        "body_en": (
            "Dear {{ customer }},\n\n"
            + intro_en
            + "\n\n"
            + _ITEMS_EN
            + "\nIf you have already paid, please disregard this message. For questions about these "
            "invoices, reply to this e-mail.\n\nKind regards,\n{{ organization }} - Credit management\n"
        ),
        "subject_zh": subject_zh + " - {{ organization }}",
        "body_zh": (
            "尊敬的{{ customer }}：\n\n"
            + intro_zh
            + "\n\n"
            + _ITEMS_ZH
            + "\n如您已付款，请忽略本邮件。如对上述发票有疑问，请直接回复本邮件。\n\n"
            + "此致\n{{ organization }} 信用管理部\n"
        ),
    }
