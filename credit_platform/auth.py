"""API token authentication that stops an address guessing tokens.

DRF's throttles run after authentication (``APIView.initial``: authenticate, check permissions, then
throttle), so a request with a wrong token fails before any throttle counts it. This class counts an
address's failed tokens in the cache (a fixed window of ``API_TOKEN_FAILURE_WINDOW`` seconds from the
first failure) and, past ``API_TOKEN_FAILURE_LIMIT``, refuses every token from that address with 429
until the window ends. Only the address is blocked, never an account: nobody can lock an integrator out
from elsewhere. Sign-in with a password (login page, admin) is guarded by django-axes (settings).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _
from rest_framework.authentication import TokenAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed, Throttled


def _key(request: Any) -> str:
    return f"api-token-failures:{request.META.get('REMOTE_ADDR', '')}"


class ThrottledTokenAuthentication(TokenAuthentication):
    def authenticate(self, request: Any) -> Any:
        auth = get_authorization_header(request).split()
        if not auth or auth[0].lower() != self.keyword.lower().encode():
            return None  # no token: another authentication (the session) may apply
        key = _key(request)
        window = settings.API_TOKEN_FAILURE_WINDOW
        if (cache.get(key) or 0) >= settings.API_TOKEN_FAILURE_LIMIT:
            raise Throttled(wait=window, detail=_(
                "Too many wrong API tokens from your address; it is refused for up to %(minutes)s minutes.")
                % {"minutes": window // 60})
        try:
            return super().authenticate(request)
        except AuthenticationFailed:
            if not cache.add(key, 1, timeout=window):
                try:
                    cache.incr(key)
                except ValueError:  # expired between add and incr: start a new window
                    cache.add(key, 1, timeout=window)
            raise


def lockout_response(request: Any, original_response: Any = None, credentials: dict | None = None) -> Any:
    """django-axes' answer to a locked-out sign-in (AXES_LOCKOUT_CALLABLE): the sign-in page's look, 429,
    saying why and for how long, in the user's language."""
    from django.shortcuts import render

    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "registration/locked_out.html",
                  {"failure_limit": settings.AXES_FAILURE_LIMIT, "cooloff_minutes": minutes}, status=429)
