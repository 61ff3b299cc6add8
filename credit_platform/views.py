from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from customers.models import Customer
from limits.selectors import exposure_from
from receivables.selectors import balances_and_aging, open_orders_by_customer
from scoring.selectors import grade_distribution

from .bounds import parse_date_param
from .errors import AppError
from .models import ImportLog
from .permissions import require_capability
from .roles import Cap
from .tenancy import SESSION_KEY, resolve_membership


@login_required
def home(request: HttpRequest) -> HttpResponse:
    org = getattr(request, "organization", None)
    if org is None:
        return render(request, "platform/no_organization.html", status=403)
    require_capability(request, Cap.VIEW)
    today = org.local_date()
    as_of = parse_date_param(request.GET.get("as_of", "")) or today
    customers = Customer.objects.for_organization(org)
    by_status = dict(customers.order_by().values_list("status").annotate(n=Count("id")))
    balances, aging = balances_and_aging(org, as_of)  # one read of the book for both
    orders = open_orders_by_customer(org, as_of)
    exposure = exposure_from(balances, orders)
    top_ids = sorted(exposure, key=lambda c: exposure[c], reverse=True)[:10]
    top = {c.pk: c for c in customers.filter(pk__in=top_ids).select_related("country", "sector")}
    total_exposure = sum(exposure.values(), 0)
    context = {
        "as_of": as_of,
        "today": today,
        "customer_count": sum(by_status.values()),
        "by_status": [(label, by_status.get(value, 0), value) for value, label in Customer.Status.choices],
        "aging": aging,
        "open_orders": sum(orders.values(), 0),
        "total_exposure": total_exposure,
        "overdue_share": (aging.overdue / aging.total * 100) if aging.total else 0,
        "top_exposures": [
            (top[c], exposure[c], balances.get(c), (exposure[c] / total_exposure * 100) if total_exposure else 0)
            for c in top_ids if c in top
        ],
        "recent_imports": ImportLog.objects.for_organization(org)[:5],
        "grades": grade_distribution(org, as_of, exposure=exposure),
    }
    return render(request, "platform/home.html", context)


@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    """The language switcher: Django's ``set_language`` (cookie and redirect), and for a signed-in user the
    choice kept with the user (``UserPreference``), so that it follows them to any browser."""
    from django.views.i18n import set_language

    from .middleware import LANGUAGE_SESSION_KEY
    from .services import preference_language_set

    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        preference_language_set(user=request.user, language=language,
                                organization=getattr(request, "organization", None))
        request.session[LANGUAGE_SESSION_KEY] = language
    return set_language(request)


@login_required
@require_POST
def switch_organization(request: HttpRequest) -> HttpResponse:
    try:
        membership = resolve_membership(request.user, request.POST.get("organization"), strict=True)
    except AppError:
        membership = None
    if membership is None or str(membership.organization_id) != request.POST.get("organization"):
        raise Http404(gettext('You are not a member of that organization.'))
    request.session[SESSION_KEY] = membership.organization_id
    return redirect("home")


def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok", "database": connection.vendor})
