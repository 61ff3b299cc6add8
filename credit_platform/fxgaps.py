"""Pages never fail on a missing FX rate: they show their figures without the amounts that cannot be
converted, under a banner naming each currency and date (``money.fx_gaps_flagged``).

Only reads are flagged this way (GET and HEAD of pages). Writes, tasks and the API keep the strict rule:
a missing rate is the error ``fx_rate_missing``, because a decision must not rest on a total that lacks
amounts. Imports refuse documents in a currency without a rate on or before their date, so a gap appears
at view time only when a rate was deleted or a page looks at a date before the first rate.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse

from .money import FxGap, fx_gaps_flagged


class FxGapMiddleware:
    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in ("GET", "HEAD") or request.path.startswith("/api/"):
            return self.get_response(request)
        with fx_gaps_flagged() as gaps:
            request.fx_gaps = gaps  # type: ignore[attr-defined]
            return self.get_response(request)


def fx_gaps(request: HttpRequest) -> dict[str, Any]:
    """The gaps met while the page was computed (a live set: filled before the page's body renders)."""
    gaps: set[FxGap] | None = getattr(request, "fx_gaps", None)
    return {"fx_gaps": _SortedGaps(gaps) if gaps is not None else ()}


class _SortedGaps:
    """Iterates the collected gaps in order, read when the banner renders (not when the context is built)."""

    def __init__(self, gaps: set[FxGap]) -> None:
        self.gaps = gaps

    def __iter__(self) -> Any:
        return iter(sorted(self.gaps))

    def __bool__(self) -> bool:
        return bool(self.gaps)

    def __len__(self) -> int:
        return len(self.gaps)
