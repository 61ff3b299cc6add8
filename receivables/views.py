"""Pages under /receivables/: receivable figures, the collections worklist and a customer's collections
file, the dunning policy and its runs, the ECL reserve, statements of account. Thin: parse, call a
selector or service, render."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext, pgettext
from django.views.generic import TemplateView, View

from credit_platform.bounds import parse_date_param
from credit_platform.errors import AppError
from credit_platform.exports import export_format, export_response
from credit_platform.forms import parse_id, require_valid
from credit_platform.money import ZERO
from credit_platform.permissions import TenantViewMixin, has_capability, require_capability
from credit_platform.roles import Cap
from customers.models import Customer

from . import ecl, services
from .collections import collections_file, worklist, worklist_page
from .dunning.messages import subject_preview
from .dunning.policy import dunning_level_save, dunning_policy_ensure_default, dunning_policy_update
from .dunning.run import RunRequest, dunning_run_request
from .forms import (
    AssignForm,
    CallNoteForm,
    DisputeForm,
    EclSettingsForm,
    LevelForm,
    PolicyForm,
    ProfileForm,
    PromiseForm,
    ResolveDisputeForm,
    TaskActionForm,
)
from .kpis import DIMENSIONS, ByDimension, receivable_figures_and_portfolio
from .models import (
    CollectionTask,
    Dispute,
    DunningLevel,
    DunningPolicy,
    DunningRun,
    EclSnapshot,
    StatementDispatch,
)
from .selectors import AGING_BUCKETS, invoices_of
from .statements import (
    attachment_filename,
    statement_build,
    statement_pdf,
    statement_recipient,
    statement_send,
)


def _confirm(request: HttpRequest, **context: Any) -> HttpResponse:
    """The confirmation step of an action that e-mails customers or changes their credit status: a page that
    posts the same action again with ``confirm=1`` (works without JavaScript)."""
    return render(request, "receivables/confirm.html", context)


def _level_effect(level: DunningLevel) -> str:
    what = []
    if level.send_message:
        what.append(_("an e-mail to the customer"))
    if level.task:
        what.append(_("a task: %(task)s") % {"task": level.get_task_display()})
    if level.credit_hold:
        what.append(_("credit hold of the customer"))
    return _("%(name)s (%(days)+d days): %(what)s") % {
        "name": level.name, "days": level.days, "what": ", ".join(what) or _("recorded only")}


def _add_errors(form: Any, exc: ValidationError) -> None:
    """A service's ValidationError on the form that sent the input: per field where the form has the field,
    else as a form error; the user's input stays in the form."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


# The breakdowns of Aging & DSO, by name (marked for translation, translated where shown).
DIMENSION_LABELS = {
    "portfolio": gettext_noop("Portfolio"),
    "customer": gettext_noop("Customer"),
    "group": gettext_noop("Group"),
    "sector": gettext_noop("Sector"),
    "country": gettext_noop("Country"),
    "collector": gettext_noop("Collector"),
}


def _as_of(request: HttpRequest) -> dt.date:
    """The ``as_of`` of the query string, else the organization's today. A value that is not a date, or
    one outside the supported dates (credit_platform.bounds), answers 400 saying so."""
    return parse_date_param(request.GET.get("as_of", "")) or request.organization.local_date()  # type: ignore[attr-defined]


class OverviewView(TenantViewMixin, TemplateView):
    """Aging & DSO as of any date, with every row of the breakdown (paginated, sortable, exportable)."""

    template_name = "receivables/overview.html"
    SORTS = ("label", "total", "overdue", "dso", "add", "cei")

    def _params(self) -> tuple[dt.date, str, str]:
        as_of = _as_of(self.request)
        dimension = self.request.GET.get("by", "customer")
        if dimension not in DIMENSIONS or dimension == "portfolio":
            dimension = "customer"
        sort = self.request.GET.get("sort", "-total")
        return as_of, dimension, sort if sort.lstrip("-") in self.SORTS else "-total"

    @staticmethod
    def _sorted(items: list[Any], sort: str, value: Callable[[Any], Any]) -> list[Any]:
        """Stable: items equal by the sort key keep the largest open balance first."""
        def key(item: Any) -> Any:
            v = value(item)
            return (v is None, str(v).lower() if sort.lstrip("-") == "label" else (v or 0))
        return sorted(items, key=key, reverse=sort.startswith("-"))

    def _read(self) -> tuple[dt.date, str, list[Any], Any, str]:
        """Every row's figures, sorted (the export, and the sorts by a computed figure)."""
        as_of, dimension, sort = self._params()
        rows, portfolio = receivable_figures_and_portfolio(self.request.organization, as_of, dimension)
        field = sort.lstrip("-")
        return as_of, dimension, self._sorted(rows, sort, lambda r: getattr(r, field)), portfolio, sort

    def get(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponse:
        fmt = export_format(request)
        if not fmt:
            return super().get(request, *args, **kwargs)
        as_of, dimension, rows, _portfolio, _sort = self._read()
        headers = [_(DIMENSION_LABELS[dimension]), pgettext("amount", "Open"), *[_(b[1]) for b in AGING_BUCKETS],
                   _("DSO"), _("ADD"), _("CEI (%)"), _("As of")]
        data = ([r.label, r.total, *[amount for _k, _l, amount in r.buckets], round(r.dso, 1), round(r.add, 1),
                 round(r.cei, 1) if r.cei is not None else None, as_of] for r in rows)
        return export_response(fmt, f"aging-by-{dimension}-{as_of.isoformat()}", headers, data)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        as_of, dimension, sort = self._params()
        if sort.lstrip("-") in ("label", "total"):
            # sorted by what every key's read gives (name, open balance): figures for the page's rows only
            book = ByDimension.read(self.request.organization, as_of, dimension)
            value = book.label if sort.lstrip("-") == "label" else (lambda k: book.totals.get(k, ZERO))
            page = Paginator(self._sorted(book.keys, sort, value), 50).get_page(self.request.GET.get("page"))
            shown, portfolio, count = book.figures(page.object_list), book.portfolio, len(book.keys)
        else:
            as_of, dimension, rows, portfolio, sort = self._read()
            page = Paginator(rows, 50).get_page(self.request.GET.get("page"))
            shown, count = list(page.object_list), len(rows)
        keep = self.request.GET.copy()
        keep.pop("page", None)
        keep.pop("sort", None)
        return {
            **super().get_context_data(**kwargs),
            "as_of": as_of,
            "dimension": dimension,
            "dimension_label": _(DIMENSION_LABELS[dimension]),
            "dimensions": [(d, _(DIMENSION_LABELS[d])) for d in DIMENSIONS if d != "portfolio"],
            "fig": portfolio,
            "rows": shown,
            "page_obj": page,
            "row_count": count,
            "current_sort": sort,
            "sort_base": keep.urlencode(),
        }


class WorklistView(TenantViewMixin, TemplateView):
    template_name = "receivables/worklist.html"

    def _rows(self) -> tuple[dt.date, str, list[Any]]:
        org, req = self.request.organization, self.request
        as_of = org.local_date()
        scope = req.GET.get("scope", "mine" if req.membership.role == "collector" else "all")
        rows = worklist(
            org,
            as_of,
            collector=req.user if scope == "mine" else None,
            unassigned=scope == "unassigned",
            q=req.GET.get("q", "").strip(),
        )
        return as_of, scope, rows

    def get(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponse:
        fmt = export_format(request)
        if not fmt:
            return super().get(request, *args, **kwargs)
        as_of, _scope, rows = self._rows()
        items = worklist_page(request.organization, as_of, rows)
        headers = [_("Customer"), _("External id"), _("Overdue"), _("Max DPD"), _("Risk ×"), _("Priority"),
                   _("Next action"), _("Promise"), _("Collector"), _("Last contact")]
        data = ([it.customer.legal_name, it.customer.external_id, it.overdue, it.max_dpd, round(it.weight, 2),
                 it.priority, it.next_action, it.promise.amount if it.promise else None,
                 it.collector.get_username() if it.collector else "",
                 it.last_contact.date() if hasattr(it.last_contact, "date") else it.last_contact] for it in items)
        return export_response(fmt, f"worklist-{as_of.isoformat()}", headers, data)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        org, req = self.request.organization, self.request
        as_of, scope, rows = self._rows()
        page = Paginator(rows, 50).get_page(req.GET.get("page"))
        mine = Q(assigned_to=req.user)
        if has_capability(req, Cap.POLICY_EDIT):
            mine |= Q(assigned_to__isnull=True)  # managers also see the managers' queue
        tasks = (
            CollectionTask.objects.for_organization(org)
            .filter(mine, status="open", due_date__lte=as_of)
            .select_related("customer")
            .order_by("due_date")[:10]
        )
        query = req.GET.copy()
        query.pop("page", None)
        return {
            **super().get_context_data(**kwargs),
            "as_of": as_of,
            "scope": scope,
            "page_obj": page,
            "items": worklist_page(org, as_of, list(page.object_list)),
            "total": len(rows),
            "overdue_total": sum((r[3].overdue for r in rows), 0),
            "tasks_due": tasks,
            "assign_form": AssignForm(organization=org),
            "querystring": query.urlencode(),
            "can_work": has_capability(req, Cap.COLLECTIONS),
            "q": req.GET.get("q", ""),
        }

    def post(self, request: Any) -> HttpResponse:
        require_capability(request, Cap.COLLECTIONS)
        form = AssignForm(request.POST, organization=request.organization)
        data = require_valid(form)
        if not data["customers"]:
            messages.error(request, _("Tick the customers to assign first."))
            return redirect(request.get_full_path())
        n = services.collection_assign(
            organization=request.organization,
            customer_ids=form.customer_ids(),
            collector=data["collector"],
            actor=request.user,
        )
        messages.success(request, ngettext("%(n)d customer assigned.", "%(n)d customers assigned.", n) % {"n": n})
        return redirect(request.get_full_path())


class CustomerFileView(TenantViewMixin, TemplateView):
    template_name = "receivables/customer.html"

    def customer(self) -> Customer:
        return get_object_or_404(
            Customer.objects.for_organization(self.request.organization).select_related(
                "country", "sector", "group"
            ),
            pk=self.kwargs["pk"],
        )

    def open_invoices(self, customer: Customer) -> Any:
        return (
            invoices_of(self.request.organization)
            .filter(customer=customer)
            .open(self.request.organization.local_date())
            .order_by("due_date")
        )

    def promise_form(self, customer: Customer, invoices: Any, *args: Any, **kwargs: Any) -> PromiseForm:
        return PromiseForm(*args, invoices=invoices, made_on=self.request.organization.local_date(),
                           horizon=services.promise_horizon(customer), **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        org = self.request.organization
        customer = self.customer()
        as_of = org.local_date()
        f = collections_file(org, customer, as_of)
        invoices = self.open_invoices(customer)
        forms = {
            "promise_form": self.promise_form(
                customer, invoices, initial={"promised_date": as_of + dt.timedelta(days=7)}
            ),
            "dispute_form": DisputeForm(invoices=invoices),
            "note_form": CallNoteForm(),
            "profile_form": ProfileForm(instance=services.collection_profile_get(customer), organization=org),
        }
        forms.update(kwargs.pop("forms", {}))
        return {
            **super().get_context_data(**kwargs),
            **forms,
            "file": f,
            "customer": customer,
            "as_of": as_of,
            "can_work": has_capability(self.request, Cap.COLLECTIONS),
            "can_manage": has_capability(self.request, Cap.POLICY_EDIT),
        }

    def post(self, request: Any, pk: int) -> HttpResponse:
        require_capability(request, Cap.COLLECTIONS)
        customer = self.customer()
        action = request.POST.get("action", "")
        user = request.user
        invoices = self.open_invoices(customer)
        form: Any = None
        try:
            if action == "promise":
                form = self.promise_form(customer, invoices, request.POST)
                if form.is_valid():
                    try:
                        promise = services.promise_create(customer=customer, actor=user, **form.cleaned_data)
                    except ValidationError as exc:  # the service's rules (dates, invoices): on the form
                        _add_errors(form, exc)
                    else:
                        self._report_promise(request, promise)
                        return self._back()
                return self.render_to_response(self.get_context_data(forms={"promise_form": form}))
            if action == "dispute":
                form = DisputeForm(request.POST, invoices=invoices)
                if form.is_valid():
                    services.dispute_open(actor=user, **form.cleaned_data)
                    messages.success(request, _("Dispute opened; dunning of the invoice pauses."))
                    return self._back()
                return self.render_to_response(self.get_context_data(forms={"dispute_form": form}))
            if action == "resolve":
                data = require_valid(ResolveDisputeForm(request.POST))
                dispute = get_object_or_404(
                    Dispute.objects.for_organization(request.organization),
                    pk=data["dispute"],
                    customer=customer,
                )
                services.dispute_resolve(
                    dispute=dispute,
                    status=data["status"],
                    actor=user,
                    resolution=data["resolution"],
                )
                messages.success(request, _("Dispute closed."))
                return self._back()
            if action == "note":
                form = CallNoteForm(request.POST)
                if form.is_valid():
                    services.call_note_add(customer=customer, actor=user, **form.cleaned_data)
                    messages.success(request, _("Call logged."))
                    return self._back()
                return self.render_to_response(self.get_context_data(forms={"note_form": form}))
            if action == "profile":
                form = ProfileForm(
                    request.POST,
                    instance=services.collection_profile_get(customer),
                    organization=request.organization,
                )
                if form.is_valid():
                    services.collection_profile_update(
                        customer=customer,
                        actor=user,
                        **{f: form.cleaned_data[f] for f in services.PROFILE_FIELDS},
                    )
                    messages.success(request, _("Collections settings saved."))
                    return self._back()
                return self.render_to_response(self.get_context_data(forms={"profile_form": form}))
            if action in ("task_done", "task_cancel"):
                task = get_object_or_404(
                    CollectionTask.objects.for_organization(request.organization),
                    pk=require_valid(TaskActionForm(request.POST))["task"],
                    customer=customer,
                )
                services.task_complete(task=task, actor=user, cancel=action == "task_cancel")
                messages.success(request, _("Task closed."))
                return self._back()
            if action == "statement":
                as_of = request.organization.local_date()
                to = statement_recipient(customer)
                if not to:
                    messages.error(request, _("No statement was sent: the customer has no e-mail address."))
                    return self._back()
                if request.POST.get("confirm") != "1":
                    return _confirm(
                        request,
                        title=_("E-mail a statement of account?"),
                        message=_("The statement of account of %(customer)s as of %(date)s (open items, aging and "
                                  "payments of the last 90 days) will be e-mailed to %(to)s.") % {
                            "customer": customer.legal_name, "date": as_of.isoformat(), "to": to},
                        fields={"action": "statement"},
                        confirm_label=_("E-mail the statement"),
                        post_url=request.path,
                        cancel_url=request.path,
                    )
                d = statement_send(customer=customer, as_of=as_of, actor=user)
                self._report_statement(request, StatementDispatch.objects.get(pk=d.pk))
                return self._back()
        except (AppError, ValidationError) as exc:
            if isinstance(exc, AppError) and exc.status == 403:
                raise PermissionDenied(exc.message) from None
            messages.error(
                request, getattr(exc, "message", None) or "; ".join(getattr(exc, "messages", [str(exc)]))
            )
            return self._back()
        messages.error(request, _("Unknown action."))
        return self._back()

    @staticmethod
    def _report_promise(request: Any, promise: Any) -> None:
        covered = list(promise.coverage.select_related("invoice"))
        if covered:
            messages.success(request, _(
                "Promise to pay recorded; dunning of %(n)s invoice(s) (%(numbers)s) pauses until %(date)s."
            ) % {"n": len(covered), "numbers": ", ".join(c.invoice.number for c in covered[:10])
                 + ("…" if len(covered) > 10 else ""), "date": promise.promised_date.isoformat()})
        else:
            messages.warning(request, _(
                "Promise to pay recorded. Its amount pays no open invoice in full, so dunning continues; "
                "tick the invoices it is for to pause their dunning."))

    @staticmethod
    def _report_statement(request: Any, d: StatementDispatch) -> None:
        """Say what happened to the statement: sent right away (embedded mode), queued, or why not."""
        if d.status == "sent":
            messages.success(request, _("Statement of account sent to %(to)s.") % {"to": d.to_email})
        elif d.status == "no_address":
            messages.error(request, _("No statement was sent: the customer has no e-mail address."))
        elif d.status == "failed":
            messages.error(request, _("The statement could not be sent: %(error)s") % {"error": d.error[:300]})
        else:
            messages.info(request, _("Statement of account queued for %(to)s.") % {"to": d.to_email})

    def _back(self) -> HttpResponse:
        return HttpResponseRedirect(reverse("collections-file", args=[self.kwargs["pk"]]))


class StatementPdfView(TenantViewMixin, View):
    def get(self, request: Any, pk: int) -> HttpResponse:
        customer = get_object_or_404(Customer.objects.for_organization(request.organization), pk=pk)
        as_of = _as_of(request)
        pdf = statement_pdf(statement_build(request.organization, customer, as_of))
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = content_disposition_header(
            False, attachment_filename(customer.external_id, as_of)
        ) or ""
        return response


class DunningView(TenantViewMixin, TemplateView):
    template_name = "receivables/dunning.html"

    def policy(self) -> DunningPolicy:
        org = self.request.organization
        return DunningPolicy.objects.for_organization(org).filter(
            is_default=True
        ).first() or dunning_policy_ensure_default(org, actor=self.request.user)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        policy = self.policy()
        levels = list(policy.levels.order_by("days"))
        for lv in levels:  # the subject as a customer reads it, not its template source
            preview = subject_preview(lv.subject_en, organization=self.request.organization, level=lv.name)
            lv.subject_preview = preview  # type: ignore[attr-defined]
        edit = self.request.GET.get("level")
        edit_level = next((lv for lv in levels if str(lv.pk) == edit), None)
        org = self.request.organization
        runs = list(DunningRun.objects.for_organization(org).order_by("-run_date")[:15])
        today = org.local_date()
        context = {
            "policy": policy,
            "levels": levels,
            "policy_form": PolicyForm(instance=policy),
            "level_form": LevelForm(instance=edit_level)
            if edit_level
            else (LevelForm() if edit == "new" else None),
            "edit_level": edit_level,
            "editing": edit,
            "runs": runs,
            "today": today,
            "today_done": any(r.run_date == today and r.status == DunningRun.Status.COMPLETED for r in runs),
            "can_edit": has_capability(self.request, Cap.POLICY_EDIT),
            "can_run": has_capability(self.request, Cap.DUNNING_RUN),
        }
        context.update(kwargs.pop("forms", {}))
        return {**super().get_context_data(**kwargs), **context}

    def post(self, request: Any) -> HttpResponse:
        action = request.POST.get("action")
        if action == "run":
            require_capability(request, Cap.DUNNING_RUN)
            policy = self.policy()  # the page shows (and so creates) the default policy; a first POST gets it too
            org, today = request.organization, request.organization.local_date()
            done = DunningRun.objects.for_organization(org).filter(
                run_date=today, status=DunningRun.Status.COMPLETED
            ).exists()
            if request.POST.get("confirm") != "1" and not done:  # a completed run adds nothing: no need to ask
                levels = [lv for lv in policy.levels.order_by("days") if lv.is_active]
                return _confirm(
                    request,
                    title=_("Run today's dunning now?"),
                    message=_("Today's dunning run (%(date)s) starts now instead of after %(hour)s:00. It sends "
                              "every reminder that is due today and cannot be undone:") % {
                        "date": today.isoformat(), "hour": policy.run_hour},
                    details=[_level_effect(lv) for lv in levels],
                    fields={"action": "run"},
                    confirm_label=_("Run dunning now"),
                    post_url=request.path,
                    cancel_url=request.path,
                )
            self._report(request, dunning_run_request(organization=request.organization, actor=request.user))
            return redirect("collections-dunning")
        require_capability(request, Cap.POLICY_EDIT)
        policy = self.policy()
        if action == "policy":
            form = PolicyForm(request.POST, instance=DunningPolicy.objects.get(pk=policy.pk))
            if form.is_valid():
                dunning_policy_update(policy=policy, actor=request.user, **form.cleaned_data)
                messages.success(request, _("Policy saved."))
                return redirect("collections-dunning")
            return self.render_to_response(self.get_context_data(forms={"policy_form": form}))
        if action == "level":
            pk = request.POST.get("level")
            instance = (
                get_object_or_404(
                    DunningLevel.objects.for_organization(request.organization),
                    pk=parse_id(pk, label="level"),
                )
                if pk
                else DunningLevel(policy=policy)
            )
            level_form = LevelForm(request.POST, instance=instance)
            if level_form.is_valid():
                try:
                    dunning_level_save(level=level_form.save(commit=False), actor=request.user)
                except ValidationError as exc:
                    level_form.add_error(None, exc)
                else:
                    messages.success(request, _("Level saved."))
                    return redirect("collections-dunning")
            return self.render_to_response(
                self.get_context_data(forms={"level_form": level_form, "editing": pk or "new"})
            )
        messages.error(request, _("Unknown action."))
        return redirect("collections-dunning")

    @staticmethod
    def _report(request: Any, result: RunRequest) -> None:
        day, state = result.run_date.isoformat(), RunRequest.State
        if result.state == state.ALREADY_COMPLETED:
            messages.info(request, _("Today's dunning run (%(day)s) has already completed; running it again adds "
                                     "nothing.") % {"day": day})
        elif result.state == state.COMPLETED:
            messages.success(request, _(
                "Dunning run of %(day)s completed: %(actions)s action(s) created, %(messages)s customer message(s), "
                "%(holds)s customer(s) put on credit hold.") % {
                "day": day, "actions": result.actions, "messages": result.messages, "holds": result.holds})
        elif result.state == state.NOT_QUEUED:
            messages.error(request, _(
                "Dunning run of %(day)s could not be queued: the task queue is unreachable (%(error)s). Nothing was "
                "run; try again when the workers' broker is back.") % {"day": day, "error": result.error})
        elif result.state == state.FAILED and result.run is not None:
            messages.error(request, _(
                "Dunning run of %(day)s failed (%(error)s); the next run resumes where it stopped.") % {
                "day": day, "error": result.run.error})
        else:
            messages.info(request, _("Dunning run of %(day)s queued; its result appears under Recent runs.") % {
                "day": day})


class EclView(TenantViewMixin, TemplateView):
    template_name = "receivables/ecl.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        org = self.request.organization
        as_of = _as_of(self.request)
        settings = ecl.settings_for(org)
        movement = ecl.ecl_movement(org, as_of, settings)
        matrix = movement.closing.matrix
        segments = sorted(matrix.loss_rates, key=lambda s: (s != "", s))
        labels = ecl.segment_labels(matrix.segment_by, segments)
        matrix_rows = [
            (_(labels.get(s, s or "Portfolio")), matrix.used_rolls[s], matrix.loss_rates[s]) for s in segments
        ]
        return {
            **super().get_context_data(**kwargs),
            "as_of": as_of,
            "movement": movement,
            "reserve": movement.closing,
            "matrix": matrix,
            "matrix_rows": matrix_rows,
            "buckets": ecl.ECL_BUCKETS,
            "roll_labels": [
                f"{a[1]} → {b[1]}" for a, b in zip(ecl.ECL_BUCKETS, ecl.ECL_BUCKETS[1:-1], strict=False)
            ],
            "settings_form": kwargs.get("settings_form") or EclSettingsForm(instance=settings),
            "snapshots": EclSnapshot.objects.for_organization(org)[:12],
            "can_edit": has_capability(self.request, Cap.POLICY_EDIT),
        }

    def post(self, request: Any) -> HttpResponse:
        require_capability(request, Cap.POLICY_EDIT)
        org = request.organization
        if request.POST.get("action") == "snapshot":
            snap = ecl.ecl_snapshot_record(organization=org, as_of=_as_of(request), actor=request.user)
            messages.success(
                request, _("Reserve of %(day)s recorded: %(amount)s %(currency)s.") % {
                    "day": snap.as_of, "amount": f"{snap.total:,.2f}", "currency": snap.base_currency}
            )
            return redirect(f"{reverse('collections-ecl')}?as_of={snap.as_of}")
        form = EclSettingsForm(request.POST, instance=ecl.settings_for(org))
        if form.is_valid():
            ecl.ecl_settings_update(organization=org, actor=request.user, **form.cleaned_data)
            messages.success(request, _("ECL settings saved."))
            return redirect("collections-ecl")
        return self.render_to_response(self.get_context_data(settings_form=form))


class InvoiceListView(TenantViewMixin, TemplateView):
    """Invoices as of a date, with the list conventions: search, filters (state, currency, customer),
    sortable columns, pages of 50, CSV/XLSX export of the filtered list. Open amounts come from the one
    open-balance rule (``Invoice.objects.with_balances``)."""

    template_name = "receivables/invoices.html"
    SORTS = {"number": "number", "issued": "issue_date", "due": "due_date", "amount": "amount",
             "open": "open_amount", "customer": "customer__legal_name"}

    def _query(self) -> tuple[dt.date, Any, str]:
        org, params = self.request.organization, self.request.GET
        as_of = _as_of(self.request)
        qs = (invoices_of(org).filter(issue_date__lte=as_of).with_balances(as_of)
              .select_related("customer"))
        state = params.get("state", "")
        if state == "open":
            qs = qs.filter(open_amount__gt=0)
        elif state == "overdue":
            qs = qs.filter(open_amount__gt=0, due_date__lt=as_of)
        elif state == "settled":
            qs = qs.filter(open_amount__lte=0)
        if params.get("currency"):
            qs = qs.filter(currency=params["currency"].upper()[:3])
        if params.get("customer", "").isdigit():
            qs = qs.filter(customer_id=int(params["customer"]))
        q = params.get("q", "").strip()
        if q:
            qs = qs.filter(Q(number__icontains=q) | Q(customer__legal_name__icontains=q)
                           | Q(customer__external_id__iexact=q))
        sort = params.get("sort", "-due")
        key = sort.lstrip("-")
        if key not in self.SORTS:
            sort, key = "-due", "due"
        qs = qs.order_by(("-" if sort.startswith("-") else "") + self.SORTS[key], "pk")
        return as_of, qs, sort

    def get(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponse:
        fmt = export_format(request)
        if not fmt:
            return super().get(request, *args, **kwargs)
        as_of, qs, _sort = self._query()
        headers = [_("Number"), _("Customer"), _("External id"), _("Issued"), _("Due"), _("Currency"), _("Amount"),
                   pgettext("amount", "Open"), _("Days past due"), _("As of")]
        data = ([i.number, i.customer.legal_name, i.customer.external_id, i.issue_date, i.due_date, i.currency,
                 i.amount, i.open_amount, i.days_past_due(as_of, i.open_amount), as_of] for i in qs.iterator())
        return export_response(fmt, f"invoices-{as_of.isoformat()}", headers, data)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        as_of, qs, sort = self._query()
        page = Paginator(qs, 50).get_page(self.request.GET.get("page"))
        for inv in page.object_list:
            inv.dpd = inv.days_past_due(as_of, inv.open_amount)
        keep = self.request.GET.copy()
        keep.pop("page", None)
        keep.pop("sort", None)
        return {**super().get_context_data(**kwargs), "as_of": as_of, "page_obj": page,
                "invoices": page.object_list, "count": page.paginator.count, "params": self.request.GET,
                "current_sort": sort, "sort_base": keep.urlencode()}
