from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from credit_platform.forms import parse_id
from credit_platform.models import Membership
from credit_platform.permissions import require_capability
from credit_platform.roles import Cap
from credit_platform.services import membership_revoke, membership_update
from credit_platform.tenancy import SESSION_KEY

from . import services
from .forms import AcceptForm, CompleteLoadForm, InviteForm, MembershipForm, OrganizationForm
from .models import Invitation


def _apply_errors(form: Any, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errs in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errs)
    else:
        form.add_error(None, exc.messages)


@login_required
@require_http_methods(["GET", "POST"])
def organization_new(request: HttpRequest) -> HttpResponse:
    """Any signed-in person may open an organization; they become its administrator."""
    form = OrganizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            org = services.organization_setup(admin=request.user, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            request.session[SESSION_KEY] = org.pk
            messages.success(request, _("%(name)s is created; you are its administrator. Invite your team.")
                             % {"name": org.name})
            return redirect("onboarding-team")
    status = 400 if request.method == "POST" else 200
    return render(request, "onboarding/organization_new.html", {"form": form}, status=status)


def _admin_org(request: HttpRequest) -> Any:
    if not request.user.is_authenticated:
        raise Http404
    org = getattr(request, "organization", None)
    if org is None:
        raise Http404("You are not a member of any organization.")
    require_capability(request, Cap.ORG_ADMIN)
    return org


@login_required
@require_http_methods(["GET", "POST"])
def team(request: HttpRequest) -> HttpResponse:
    org = _admin_org(request)
    invite = InviteForm(request.POST if request.POST.get("action") == "invite" else None)
    if request.method == "POST" and request.POST.get("action") == "invite" and invite.is_valid():
        try:
            _inv, link = services.invitation_create(organization=org, actor=request.user,
                                                    base_url=request.build_absolute_uri("/"), **invite.cleaned_data)
        except ValidationError as exc:
            _apply_errors(invite, exc)
        else:
            messages.success(request, _("Invitation sent to %(email)s. Link: %(link)s")
                             % {"email": invite.cleaned_data["email"], "link": link})
            return redirect("onboarding-team")
    memberships = (Membership.objects.filter(organization=org).select_related("user")
                   .order_by("user__username"))
    rows = [(m, MembershipForm(initial={"role": m.role, "approval_limit": m.approval_limit,
                                        "is_active": m.is_active}, prefix=f"m{m.pk}")) for m in memberships]
    invitations = Invitation.objects.for_organization(org).filter(status=Invitation.Status.PENDING)
    status = 400 if request.method == "POST" else 200
    return render(request, "onboarding/team.html", {"rows": rows, "invite": invite, "invitations": invitations,
                                                    "organization": org}, status=status)


@login_required
@require_POST
def membership_change(request: HttpRequest, pk: int) -> HttpResponse:
    org = _admin_org(request)
    membership = get_object_or_404(Membership.objects.filter(organization=org), pk=pk)
    if request.POST.get("action") == "revoke":
        if membership.user_id == request.user.pk:
            messages.error(request, _("You cannot remove yourself."))
        else:
            membership_revoke(membership=membership, actor=request.user, reason="removed on the team page")
            messages.success(request, _("%(user)s was removed.") % {"user": membership.user.get_username()})
        return redirect("onboarding-team")
    form = MembershipForm(request.POST, prefix=f"m{membership.pk}")
    if form.is_valid():
        try:
            membership_update(membership=membership, actor=request.user, reason="team page", **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))
        else:
            messages.success(request, _("%(user)s was updated.") % {"user": membership.user.get_username()})
    else:
        messages.error(request, "; ".join(f"{k}: {' '.join(str(e) for e in v)}" for k, v in form.errors.items()))
    return redirect("onboarding-team")


@login_required
@require_POST
def invitation_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    org = _admin_org(request)
    invitation = get_object_or_404(Invitation.objects.for_organization(org), pk=parse_id(pk))
    try:
        services.invitation_revoke(invitation=invitation, actor=request.user)
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    return redirect("onboarding-team")


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    invitation = services.invitation_by_token(token)
    if invitation is None:
        return render(request, "onboarding/accept.html", {"invalid": True}, status=404)
    signed_in = request.user.is_authenticated
    form = None if signed_in else AcceptForm(request.POST or None, initial={"username": invitation.email})
    if request.method == "POST" and (signed_in or (form is not None and form.is_valid())):
        try:
            with transaction.atomic():
                if signed_in:
                    membership = services.invitation_accept(token=token, user=request.user)
                else:
                    assert form is not None
                    membership = services.invitation_accept(token=token, username=form.cleaned_data["username"],
                                                            password=form.cleaned_data["password1"])
        except ValidationError as exc:
            if form is not None:
                _apply_errors(form, exc)
            else:
                messages.error(request, "; ".join(exc.messages))
        else:
            if not signed_in:
                login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
            request.session[SESSION_KEY] = membership.organization_id
            messages.success(request, _("Welcome to %(org)s.") % {"org": membership.organization.name})
            return redirect("home")
    status = 400 if request.method == "POST" else 200
    return render(request, "onboarding/accept.html", {"invitation": invitation, "form": form}, status=status)


@login_required
@require_POST
def historical_load_complete(request: HttpRequest) -> HttpResponse:
    org = getattr(request, "organization", None)
    if org is None:
        raise Http404("You are not a member of any organization.")
    require_capability(request, Cap.IMPORT)
    form = CompleteLoadForm(request.POST)
    if not form.is_valid():
        messages.error(request, "; ".join(str(e) for errs in form.errors.values() for e in errs))
        return redirect("import-new")
    try:
        services.historical_load_complete(organization=org, actor=request.user,
                                          rescore_dates=form.cleaned_data["rescore_dates"])
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    else:
        messages.success(request, _("The historical load is complete; the organization is being re-scored."))
    return redirect("import-new")
