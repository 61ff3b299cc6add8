"""Error responses outside a view's own handling (``handler400`` ... ``handler500``).

Pages get a page that says what was wrong (the message of our own ``BadRequest``, ``PermissionDenied``
or ``Http404``, which never carries secrets); the API always gets its JSON error body
(``{"code", "message"}``), even for errors raised before DRF sees the request (a malformed header in
the tenancy middleware, a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``, an unknown URL).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import BadRequest, PermissionDenied, RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from .errors import ErrorCode

API_PREFIX = "/api/"


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def _message(exception: Any, default: str) -> str:
    """Our own exceptions carry a sentence for the user; Django's SuspiciousOperation subclasses carry
    internals (setting names, header values) and are not echoed."""
    if isinstance(exception, BadRequest | PermissionDenied):
        text = str(exception)
        return text or default
    if exception is not None and type(exception).__name__ == "Http404":
        text = str(exception)
        return text if text and not text.startswith("{") else default
    return default


def _respond(request: HttpRequest, status: int, code: str, message: str, title: str) -> HttpResponse:
    if is_api(request):
        return JsonResponse({"code": code, "message": message}, status=status)
    return render(request, "errors/error.html", {"status": status, "title": title, "message": message},
                  status=status)


def bad_request(request: HttpRequest, exception: Any = None) -> HttpResponse:
    if isinstance(exception, RequestDataTooBig):
        return _respond(request, 413, ErrorCode.REQUEST_TOO_LARGE,
                        _("The request body is too large for this endpoint."), _("Request too large"))
    return _respond(request, 400, ErrorCode.BAD_REQUEST,
                    _message(exception, _("The request was malformed.")), _("Bad request"))


def permission_denied(request: HttpRequest, exception: Any = None) -> HttpResponse:
    return _respond(request, 403, ErrorCode.PERMISSION_DENIED,
                    _message(exception, _("You may not do this.")), _("Not allowed"))


def page_not_found(request: HttpRequest, exception: Any = None) -> HttpResponse:
    return _respond(request, 404, ErrorCode.NOT_FOUND,
                    _message(exception, _("There is nothing here.")), _("Not found"))


def server_error(request: HttpRequest) -> HttpResponse:
    message = _("Something went wrong on our side; the error has been logged.")
    if is_api(request):
        return JsonResponse({"code": ErrorCode.SERVER_ERROR, "message": message}, status=500)
    # No base template: the failure may have come from the database or a context processor.
    return HttpResponse(f"<!doctype html><title>500</title><h1>{_('Server error')}</h1><p>{message}</p>",
                        status=500)
