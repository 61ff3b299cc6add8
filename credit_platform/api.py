"""API foundations: the tenant-scoped base viewset and the one exception handler."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .errors import AppError, ErrorCode
from .tenancy import HEADER, resolve_membership


class TenantAPIMixin:
    """Resolve the caller's organization after DRF authentication (token or session) and scope
    every queryset with ``for_organization``. Writes set the organization server-side."""

    request: Any
    queryset: Any

    def perform_authentication(self, request: Request) -> None:
        super().perform_authentication(request)  # type: ignore[misc]
        membership = resolve_membership(request.user, request.META.get(HEADER) or None, strict=True)
        request.membership = membership  # type: ignore[attr-defined]
        request.organization = membership.organization if membership else None  # type: ignore[attr-defined]
        request._request.membership = membership  # type: ignore[attr-defined]
        request._request.organization = request.organization  # type: ignore[attr-defined]

    def get_queryset(self) -> Any:
        return self.queryset.for_organization(self.request.organization)

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()  # type: ignore[misc]
        context["organization"] = self.request.organization
        return context


class TenantReadOnlyViewSet(TenantAPIMixin, viewsets.ReadOnlyModelViewSet):
    pass


def _located(detail: Any, prefix: str = "") -> list[dict[str, str]]:
    """Flatten DRF's nested error detail into [{"field": "a.b[2].c", "reason": ...}]."""
    out: list[dict[str, str]] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            path = key if not prefix else (f"{prefix}.{key}" if key != "non_field_errors" else prefix)
            out.extend(_located(value, path))
    elif isinstance(detail, list):
        if all(not isinstance(v, dict | list) for v in detail):
            out.extend({"field": prefix or "non_field_errors", "reason": str(v)} for v in detail)
        else:
            for i, value in enumerate(detail):
                out.extend(_located(value, f"{prefix}[{i}]"))
    else:
        out.append({"field": prefix or "non_field_errors", "reason": str(detail)})
    return out


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every API error has the same body: {"code", "message", "details"?}."""
    if isinstance(exc, AppError):
        return Response(exc.as_dict(), status=exc.status)
    if isinstance(exc, RequestDataTooBig):
        return Response({"code": ErrorCode.REQUEST_TOO_LARGE.value,
                         "message": "The request body is too large for this endpoint."}, status=413)
    if isinstance(exc, SuspiciousOperation):
        return Response({"code": ErrorCode.BAD_REQUEST.value, "message": "The request was malformed."}, status=400)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = _located(exc.detail)
        first = errors[0] if errors else {"field": "", "reason": "invalid"}
        response.data = {
            "code": ErrorCode.VALIDATION.value,
            "message": f"{first['field']}: {first['reason']}" if first["field"] else first["reason"],
            "details": errors,
        }
    else:
        code = {
            404: ErrorCode.NOT_FOUND, 403: ErrorCode.PERMISSION_DENIED, 401: ErrorCode.PERMISSION_DENIED,
        }.get(response.status_code)
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else response.data
        response.data = {
            "code": code.value if code else getattr(exc, "default_code", "error"),
            "message": str(detail),
        }
    return response

