"""Tenancy: the one mechanism that scopes tenant-owned data to an organization.

Every tenant-owned model inherits ``TenantOwned`` and so has an ``organization`` foreign key and a
manager whose ``for_organization(org)`` is the only scoping filter. Pages use
``TenantViewMixin``, the admin ``TenantAdmin``, the API ``TenantAPIMixin``, selectors and tasks take
an ``organization`` argument and call ``for_organization``: another tenant's object is simply not in
the queryset, which answers 404.

The current organization of a request comes from the user's memberships: the one chosen in the
session (pages) or in the ``X-Organization`` header (API), else the user's first active one.

A header is an explicit choice: one that names an organization the user is not a member of (a typo, a
stale id) is refused (403), and one that is neither an id nor a slug (``²``, a 23-digit number) is
malformed (400); the request never falls back to another tenant, so nothing is written where the
caller did not mean to write. A session's stale choice (a membership since revoked) falls back to the
first membership, since the user did not send it with this request.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar

from django.core.exceptions import BadRequest, PermissionDenied
from django.db import models
from django.http import HttpRequest
from django.utils.translation import gettext

from .errors import AppError, ErrorCode

if TYPE_CHECKING:
    from credit_platform.models import Membership, Organization

SESSION_KEY = "organization_id"
HEADER = "HTTP_X_ORGANIZATION"
# An organization hint is an id (ASCII digits, within a 64-bit key) or a slug (SlugField, max_length 60).
_ID = re.compile(r"[0-9]{1,18}")
_SLUG = re.compile(r"[-a-zA-Z0-9_]{1,60}")

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


def _hint_lookup(hint: str) -> dict[str, Any] | None:
    if _ID.fullmatch(hint):
        return {"organization_id": int(hint)}
    if _SLUG.fullmatch(hint):
        return {"organization__slug": hint}
    return None


def resolve_membership(user: Any, organization_hint: str | int | None, *, strict: bool = False) -> Membership | None:
    """The membership a request acts under: the hinted organization (id or slug) if the user belongs
    to it, else the user's first active membership. None for anonymous users or users without one.

    ``strict`` (a hint the caller sent with this request: the ``X-Organization`` header): a malformed hint
    raises ``AppError`` 400 and one naming an organization the user is not an active member of raises
    ``AppError`` 403, instead of falling back."""
    from credit_platform.models import Membership

    if user is None or not user.is_authenticated:
        return None
    memberships = Membership.objects.filter(user=user, is_active=True, organization__is_active=True).select_related(
        "organization"
    )
    if organization_hint not in (None, ""):
        hint = str(organization_hint).strip()
        lookup = _hint_lookup(hint)
        if lookup is None and strict:
            raise AppError(
                ErrorCode.BAD_REQUEST,
                gettext("X-Organization: '%(hint)s' is neither an organization id nor an organization slug.") % {
                    'hint': hint[:40]},
                status=400,
            )
        chosen = memberships.filter(**lookup).first() if lookup is not None else None
        if chosen is not None:
            return chosen
        if strict:
            mine = ", ".join(sorted(memberships.values_list("organization__slug", flat=True))) or "none"
            raise AppError(
                ErrorCode.PERMISSION_DENIED,
                gettext("X-Organization: you are not a member of organization '%(hint)s' (yours: %(mine)s); nothing "
                        "was done.") % {
                    'hint': hint[:60], 'mine': mine},
                status=403,
            )
    return memberships.order_by("organization__name", "pk").first()


class TenantMiddleware:
    """Attach ``request.membership`` and ``request.organization`` (None when not a member)."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> Any:
        header = request.META.get(HEADER)
        try:
            if header:
                membership = resolve_membership(request.user, header, strict=True)
            else:
                membership = resolve_membership(request.user, request.session.get(SESSION_KEY))
        except AppError as exc:  # answered by handler400/handler403: JSON under /api/, a page elsewhere
            raise (PermissionDenied if exc.status == 403 else BadRequest)(exc.message) from None
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
