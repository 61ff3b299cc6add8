"""The contingency actions that early-warning alerts trigger by severity (``alerts.contingency``), served
by this app's holds and reviews. Registered when the apps are ready (``LimitsConfig.ready``).

* ``credit_hold``: hold the customer's orders (``hold_place``, source ``alert``). A customer already under
  an active alert hold gets no second one: an escalating alert runs its actions again.
* ``limit_review``: a review due today (``review_require``, source ``alert``), which brings an open review
  forward instead of opening another.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from .models import Hold
from .services import hold_place, review_require


def _reason(alert: Any) -> str:
    return _("Early-warning alert %(id)s (%(severity)s): %(title)s") % {
        "id": alert.pk, "severity": alert.get_severity_display(), "title": alert_title(alert)}


def alert_title(alert: Any) -> str:
    return str(alert.title or alert.kind)


def credit_hold(alert: Any, *, actor: Any = None) -> str:
    customer = alert.customer
    if Hold.objects.filter(customer=customer, source=Hold.Source.ALERT, released_at__isnull=True).exists():
        return "already on alert hold"
    hold_place(customer.organization, customer, kind=Hold.Kind.HOLD, reason=_reason(alert), actor=actor,
               source=Hold.Source.ALERT)
    return "done"


def limit_review(alert: Any, *, actor: Any = None) -> str:
    customer = alert.customer
    review_require(customer.organization, customer, reason=_reason(alert), actor=actor, source="alert")
    return "done"


def register() -> None:
    from alerts import contingency

    contingency.register("credit_hold", credit_hold)
    contingency.register("limit_review", limit_review)
