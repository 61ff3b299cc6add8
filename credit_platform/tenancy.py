"""Tenancy: the one mechanism that scopes tenant-owned data to an organization.

Every tenant-owned model inherits ``TenantOwned`` and so has an ``organization`` foreign key and a
manager whose ``for_organization(org)`` is the only scoping filter. Pages use
``TenantViewMixin``, the admin ``TenantAdmin``, the API ``TenantAPIMixin``, selectors and tasks take
an ``organization`` argument and call ``for_organization``: another tenant's object is simply not in
the queryset, which answers 404.

The current organization of a request comes from the user's memberships: the one chosen in the
session (pages) or in the ``X-Organization`` header (API), else the user's first active one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar

from django.db import models
from django.http import HttpRequest

if TYPE_CHECKING:
    from credit_platform.models import Membership, Organization

SESSION_KEY = "organization_id"
HEADER = "HTTP_X_ORGANIZATION"

M = TypeVar("M", bound=models.Model)


class TenantQuerySet(models.QuerySet[M], Generic[M]):
    def for_organization(self, organization: Organization | int) -> Self:
        org_id = organization if isinstance(organization, int) else organization.pk
        return self.filter(organization_id=org_id)


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):  # type: ignore[misc]
    pass


class TenantOwned(models.Model):
    organization = models.ForeignKey(
        "credit_platform.Organization", on_delete=models.CASCADE, related_name="+", editable=False
    )

    objects = TenantManager()

    class Meta:
        abstract = True


def resolve_membership(user: Any, organization_hint: str | int | None) -> Membership | None:
    """The membership a request acts under: the hinted organization (id or slug) if the user belongs
    to it, else the user's first active membership. None for anonymous users or users without one."""
    from credit_platform.models import Membership

    if user is None or not user.is_authenticated:
        return None
    memberships = Membership.objects.filter(user=user, is_active=True, organization__is_active=True).select_related(
        "organization"
    )
    if organization_hint not in (None, ""):
        hint = str(organization_hint)
        by = {"organization_id": int(hint)} if hint.isdigit() else {"organization__slug": hint}
        chosen = memberships.filter(**by).first()
        if chosen is not None:
            return chosen
    return memberships.order_by("organization__name", "pk").first()


class TenantMiddleware:
    """Attach ``request.membership`` and ``request.organization`` (None when not a member)."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> Any:
        hint = request.META.get(HEADER) or request.session.get(SESSION_KEY)
        membership = resolve_membership(request.user, hint)
        request.membership = membership  # type: ignore[attr-defined]
        request.organization = membership.organization if membership else None  # type: ignore[attr-defined]
        return self.get_response(request)


def tenant_context(request: HttpRequest) -> dict[str, Any]:
    membership = getattr(request, "membership", None)
    if membership is None:
        return {"current_organization": None, "current_membership": None, "my_memberships": []}
    from credit_platform.models import Membership

    others = (
        Membership.objects.filter(user_id=membership.user_id, is_active=True, organization__is_active=True)
        .select_related("organization")
        .order_by("organization__name")
    )
    return {
        "current_organization": membership.organization,
        "current_membership": membership,
        "my_memberships": list(others),
    }
