"""Capability checks shared by pages, the admin and the API."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import AccessMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.utils.translation import gettext
from rest_framework.permissions import SAFE_METHODS, BasePermission

from .roles import Cap, role_has


def has_capability(request: HttpRequest, capability: str) -> bool:
    membership = getattr(request, "membership", None)
    return membership is not None and role_has(membership.role, capability)


def actor_has_capability(actor: Any, organization_id: int, capability: str) -> bool:
    """For services, which take the acting user rather than a request: the capability of the user's active
    membership in that organization. ``None`` (the system: scheduled runs, commands) may do anything."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return actor is None
    from .models import Membership

    role = (
        Membership.objects.filter(user=actor, organization_id=organization_id, is_active=True)
        .values_list("role", flat=True)
        .first()
    )
    return role is not None and role_has(role, capability)


def require_capability(request: HttpRequest, capability: str) -> None:
    if not has_capability(request, capability):
        raise PermissionDenied(gettext('Your role may not do this (%(capability)s).') % {'capability': capability})


class TenantViewMixin(AccessMixin):
    """For pages: a logged-in member of an organization, with the view's capability.

    ``get_queryset`` is scoped with ``for_organization``; a detail view on another tenant's object
    therefore answers 404, the same as an object that does not exist.
    """

    capability: str = Cap.VIEW
    model: Any = None
    queryset: Any = None
    request: Any

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if getattr(request, "organization", None) is None:
            raise Http404(gettext('You are not a member of any organization.'))
        require_capability(request, self.capability)
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]

    def get_queryset(self) -> Any:
        base = self.queryset if self.queryset is not None else self.model.objects.all()
        return base.for_organization(self.request.organization)


class HasCapability(BasePermission):
    """DRF: reads need ``portfolio.view``; writes need the view's ``write_capability``."""

    def has_permission(self, request: Any, view: Any) -> bool:
        if getattr(request, "membership", None) is None:
            return False
        if request.method in SAFE_METHODS:
            needed = getattr(view, "read_capability", Cap.VIEW)
        else:
            needed = getattr(view, "write_capability", None)
            if needed is None:
                return False
        return role_has(request.membership.role, needed)
