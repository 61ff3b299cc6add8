"""Request checks that apply before any view."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import BadRequest
from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import gettext as _

# The signed-in user's chosen language, copied from ``UserPreference`` into the session at sign-in (and by
# the language switcher), so that applying it costs no query per request.
LANGUAGE_SESSION_KEY = "user_language"


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


class UserLanguageMiddleware:
    """A signed-in user sees the language they chose (``UserPreference``), on any browser: placed after
    the authentication middleware, it overrides the language the locale middleware took from the cookie
    or the browser, and sets the cookie to match (the sign-in page, before the user is known, then
    speaks it too)."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> Any:
        user = getattr(request, "user", None)
        chosen = request.session.get(LANGUAGE_SESSION_KEY) if user is not None and user.is_authenticated else None
        if chosen and chosen != getattr(request, "LANGUAGE_CODE", None):
            translation.activate(chosen)
            request.LANGUAGE_CODE = chosen
        response = self.get_response(request)
        if chosen and request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) != chosen:
            response.set_cookie(settings.LANGUAGE_COOKIE_NAME, chosen, max_age=settings.LANGUAGE_COOKIE_AGE,
                                path=settings.LANGUAGE_COOKIE_PATH, samesite=settings.LANGUAGE_COOKIE_SAMESITE,
                                secure=settings.LANGUAGE_COOKIE_SECURE, httponly=settings.LANGUAGE_COOKIE_HTTPONLY)
        return response


def remember_language_at_sign_in(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    """``user_logged_in``: the user's chosen language into the session."""
    from .models import UserPreference

    chosen = UserPreference.objects.filter(user=user).values_list("language", flat=True).first()
    if chosen and request is not None and hasattr(request, "session"):
        request.session[LANGUAGE_SESSION_KEY] = chosen
