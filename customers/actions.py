"""Actions other apps offer on the customer 360 (request a limit, put on or release a hold, start a
review...): an app registers a provider once (``AppConfig.ready``); the page shows the actions the
provider returns for the request's role, each a link to the app's own page, which asks for confirmation
before it sends or spends anything.

    from customers.actions import CustomerAction, register_customer_action

    def limit_actions(request, customer):
        if has_capability(request, Cap.LIMITS_REQUEST):
            yield CustomerAction(gettext("Request a limit"), reverse("limit-request-new") + f"?customer={customer.pk}")

    register_customer_action(limit_actions)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CustomerAction:
    label: str
    url: str
    style: str = "secondary"  # a CSS class of the button


Provider = Callable[[Any, Any], Iterable[CustomerAction]]
_PROVIDERS: list[Provider] = []


def register_customer_action(provider: Provider) -> Provider:
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)
    return provider


def customer_actions(request: Any, customer: Any) -> list[CustomerAction]:
    return [action for provider in _PROVIDERS for action in provider(request, customer)]
