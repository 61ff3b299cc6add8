"""The limits app's actions on the customer 360 (``customers.actions``): the customer's credit file, where
a limit is requested (sent for approval) and a hold placed, each asking for a reason before it acts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from credit_platform.permissions import has_capability
from credit_platform.roles import Cap
from customers.actions import CustomerAction


def limit_actions(request: Any, customer: Any) -> Iterator[CustomerAction]:
    url = reverse("limits-customer", args=[customer.pk])
    if has_capability(request, Cap.LIMITS_REQUEST):
        yield CustomerAction(_("Request a limit"), f"{url}#request", "primary")
        yield CustomerAction(_("Place a hold"), f"{url}#hold")
    yield CustomerAction(_("Credit file"), url)
