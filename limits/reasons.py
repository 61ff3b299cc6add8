"""Reasons the platform writes itself (the nightly run: an increase it proposes, the reviews it opens, the
dunning holds it lifts), stored as a code with its values and put into words when read, in the reader's
language: a Chinese approver reads the nightly proposal in Chinese. A person's reason is stored as typed.

Rows written before the codes existed held these reasons as English text; migration 0002 turned the
texts it recognises into codes, and any other text is shown as stored (``reason_text``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from credit_platform.templatetags.money import money

NIGHTLY_RECOMMENDATION = "nightly_recommendation"
FIRST_REVIEW = "first_review"
GRADE_DOWNGRADED = "grade_downgraded"
OVERDUE_CLEARED = "overdue_cleared"

MESSAGES = {
    NIGHTLY_RECOMMENDATION: _("Nightly recommendation %(amount)s %(currency)s (grade %(grade)s)"),
    FIRST_REVIEW: _("First review of a new customer"),
    GRADE_DOWNGRADED: _("Grade downgraded"),
    OVERDUE_CLEARED: _("Overdue cleared (weighted overdue %(weighted)s)"),
}
# The nightly recommendation of a customer without a score (recommended under grade 6's rule).
UNSCORED_RECOMMENDATION = _("Nightly recommendation %(amount)s %(currency)s (not scored)")
# Values shown as amounts (1,234.50) in every language.
AMOUNTS = frozenset({"amount", "weighted"})


def reason_text(code: str, details: Mapping[str, Any] | None, stored: str = "") -> str:
    """The reason in the active language: the code's message with its values, else the stored text."""
    if not code:
        return stored
    values = {k: money(v) if k in AMOUNTS else v for k, v in (details or {}).items()}
    message = MESSAGES.get(code)
    if code == NIGHTLY_RECOMMENDATION and values.get("grade") is None:
        message = UNSCORED_RECOMMENDATION
    if message is None:  # a code this version does not know: what was stored, or the code itself
        return stored or code
    try:
        return str(message) % values
    except (KeyError, TypeError, ValueError):
        return stored or code


def ledger_text(code: str, details: Mapping[str, Any] | None, stored: str = "") -> str:
    """The reason as the audit ledger keeps it: in the site's language, whoever's request wrote it, so that
    the ledger reads the same in every session (its entries carry the code and values too)."""
    with translation.override(settings.LANGUAGE_CODE):
        return reason_text(code, details, stored)


def check_code(code: str) -> str:
    if code and code not in MESSAGES:
        raise ValueError(f"unknown reason code {code!r}; known: {', '.join(sorted(MESSAGES))}")
    return code
