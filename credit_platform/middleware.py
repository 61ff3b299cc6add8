"""Request checks that apply before any view."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import BadRequest
from django.http import HttpRequest
from django.utils.translation import gettext as _


class RejectNulCharactersMiddleware:
    """A NUL character in a query string or form field is malformed input: PostgreSQL text cannot hold it
    (a search for "%00x" was a 500). Refused with 400 before any view reads it; forms already refuse it
    in their fields (Django's ProhibitNullCharactersValidator), views that read parameters directly
    (search, filters, actions) do not need to know."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> Any:
        sources = [request.GET]
        if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
            sources.append(request.POST)
        for source in sources:
            for key, values in source.lists():
                if "\x00" in key or any("\x00" in v for v in values):
                    raise BadRequest(_("%(name)s: the value contains a NUL character.") % {
                        "name": key.replace("\x00", "")[:40]})
        return self.get_response(request)
