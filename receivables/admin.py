from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import DateField, Value
from django.http import HttpRequest
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from credit_platform.admin_base import CorrectionForm, ReadOnlyTenantAdmin, TenantAdmin
from credit_platform.errors import AppError
from credit_platform.permissions import has_capability
from credit_platform.roles import Cap

from .dunning.messages import validate_template
from .dunning.policy import POLICY_FIELDS, dunning_level_save, dunning_policy_create, dunning_policy_update
from .ecl import ecl_settings_update
from .models import (
    Allocation,
    CallNote,
    CollectionProfile,
    CollectionTask,
    CreditNote,
    Dispute,
    DunningAction,
    DunningLevel,
    DunningMessage,
    DunningPolicy,
    DunningRun,
    EclSettings,
    EclSnapshot,
    Invoice,
    Order,
    Payment,
    PromiseInvoice,
    PromiseToPay,
    StatementDispatch,
)
from .services import (
    CREDIT_NOTE_EDITABLE,
    INVOICE_EDITABLE,
    ORDER_EDITABLE,
    PAYMENT_EDITABLE,
    PROFILE_FIELDS,
    TASK_EDITABLE,
    call_note_add,
    collection_profile_update,
    collection_task_create,
    collection_task_update,
    credit_note_correct,
    credit_note_record,
    dispute_open,
    dispute_resolve,
    invoice_correct,
    invoice_create,
    order_correct,
    order_create,
    payment_apply_on_account,
    payment_correct,
    payment_record,
    promise_cancel,
    task_complete,
)


class RecordedOnlyMixin:
    """Records that are made once and never edited (call notes, promises, disputes): the change page shows
    them read-only; their life-cycle moves through the admin actions, which call the services."""

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request)  # type: ignore[misc]


class AllocationInline(admin.TabularInline):
    model = Allocation
    fk_name = "invoice"
    extra = 0
    fields = ("allocated_on", "amount", "payment", "credit_note")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Order)
class OrderAdmin(TenantAdmin):
    """Orders are amended with a reason (date, amount, status: old and new values in the ledger)."""

    change_capability = Cap.RECEIVABLES_EDIT
    form = CorrectionForm
    posted_readonly_fields = ("number", "customer", "currency")
    list_display = ["number", "customer", "order_date", "amount", "currency", "status"]
    list_filter = ["status", "currency"]
    search_fields = ["number", "customer__legal_name", "customer__external_id"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]
    date_hierarchy = "order_date"

    def save_model(self, request: HttpRequest, obj: Order, form: Any, change: bool) -> None:
        if change:
            changes, reason = self.correction(form, ORDER_EDITABLE)
            order_correct(order=obj, changes=changes, actor=request.user, reason=reason)
            return
        d = form.cleaned_data
        self.adopt(obj, order_create(customer=d["customer"], number=d["number"], order_date=d["order_date"],
                                     amount=d["amount"], currency=d["currency"], status=d["status"],
                                     actor=request.user))


class InvoiceStateFilter(admin.SimpleListFilter):
    """Open / overdue / settled, from the derived open balance (annotated by get_queryset)."""

    title = gettext_lazy("state")
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("open", pgettext_lazy("amount", "Open")), ("overdue", gettext_lazy("Overdue")),
                ("settled", gettext_lazy("Settled"))]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        if self.value() == "open":
            return queryset.filter(open_amount__gt=0)
        if self.value() == "overdue":
            return queryset.filter(open_amount__gt=0, due_date__lt=request.organization.local_date())  # type: ignore[attr-defined]
        if self.value() == "settled":
            return queryset.filter(open_amount__lte=0)
        return queryset


@admin.register(Invoice)
class InvoiceAdmin(TenantAdmin):
    """A posted invoice keeps its number, customer, currency, issue date and amount (a credit note
    corrects the amount); its due date and order link are corrected with a reason, in the ledger with the
    old and new values."""

    change_capability = Cap.RECEIVABLES_EDIT
    form = CorrectionForm
    posted_readonly_fields = ("number", "customer", "currency", "issue_date", "amount")
    list_display = ["number", "customer", "issue_date", "due_date", "amount", "currency", "open_amount",
                    "days_past_due"]
    list_filter = [InvoiceStateFilter, "currency", "due_date"]
    search_fields = ["number", "customer__legal_name", "customer__external_id"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer", "order"]
    readonly_fields = ["open_amount", "days_past_due"]
    inlines = [AllocationInline]
    date_hierarchy = "issue_date"

    def get_queryset(self, request: HttpRequest) -> Any:
        # Balances as of the organization's business date (receivables.balances), which rides on each row,
        # so the days-past-due column needs no per-request state.
        today = request.organization.local_date()  # type: ignore[attr-defined]
        business_date = Value(today, output_field=DateField())
        return super().get_queryset(request).with_balances(today).annotate(business_date=business_date)

    @admin.display(description=pgettext_lazy("amount", "Open"), ordering="open_amount")
    def open_amount(self, obj: Invoice) -> Any:
        return getattr(obj, "open_amount", None)

    @admin.display(description=gettext_lazy("Days past due"))
    def days_past_due(self, obj: Invoice) -> int:
        if not hasattr(obj, "business_date"):
            return 0  # the add form: nothing is due yet
        return obj.days_past_due(obj.business_date, getattr(obj, "open_amount", None))

    def save_model(self, request: HttpRequest, obj: Invoice, form: Any, change: bool) -> None:
        if change:
            changes, reason = self.correction(form, INVOICE_EDITABLE)
            invoice_correct(invoice=obj, changes=changes, actor=request.user, reason=reason)
            return
        d = form.cleaned_data
        self.adopt(obj, invoice_create(customer=d["customer"], number=d["number"], issue_date=d["issue_date"],
                                       due_date=d["due_date"], amount=d["amount"], currency=d["currency"],
                                       order=d.get("order"), actor=request.user))


class CashAddForm(forms.ModelForm):
    """Recording a payment or credit note applies it: to the invoice named here, else to the customer's
    oldest open invoices in its currency (what is left stays on account)."""

    apply_to_invoice = forms.CharField(
        label=_("Apply to invoice"), max_length=64, required=False,
        help_text=_("Invoice number; empty: the oldest open invoices in the same currency first."),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        number = (data.get("apply_to_invoice") or "").strip()
        data["invoice"] = None
        if not number:
            return data
        invoice = Invoice.objects.for_organization(self.instance.organization_id).filter(number=number).first()
        customer = data.get("customer")
        if invoice is None:
            self.add_error("apply_to_invoice", _("No invoice %(number)s in your organization.") % {"number": number})
        elif customer is not None and invoice.customer_id != customer.pk:
            self.add_error("apply_to_invoice", _("Invoice %(number)s belongs to another customer.")
                           % {"number": number})
        elif data.get("currency") and invoice.currency != data["currency"]:
            self.add_error("apply_to_invoice", _("Invoice %(number)s is in %(currency)s.")
                           % {"number": number, "currency": invoice.currency})
        else:
            data["invoice"] = invoice
        return data


class CashAdmin(TenantAdmin):
    add_form: type[forms.ModelForm] = CashAddForm

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:
            kwargs.setdefault("form", self.add_form)
        return super().get_form(request, obj, change, **kwargs)


@admin.register(Payment)
class PaymentAdmin(CashAdmin):
    """Recording a payment applies it (``payment_record``); afterwards only its method can be corrected
    (with a reason): the amount, date, customer and currency are what was applied to invoices."""

    change_capability = Cap.RECEIVABLES_EDIT
    form = CorrectionForm
    posted_readonly_fields = ("reference", "customer", "received_on", "amount", "currency")
    list_display = ["reference", "customer", "received_on", "amount", "currency", "method", "unapplied"]
    list_filter = ["method", "currency"]
    search_fields = ["reference", "customer__legal_name", "customer__external_id"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]
    readonly_fields = ["unapplied"]
    date_hierarchy = "received_on"
    actions = ["apply_on_account"]

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).with_unapplied()

    @admin.display(description=gettext_lazy("Unapplied"))
    def unapplied(self, obj: Payment) -> Any:
        return obj.unapplied if obj.pk else None

    def save_model(self, request: HttpRequest, obj: Payment, form: Any, change: bool) -> None:
        if change:
            changes, reason = self.correction(form, PAYMENT_EDITABLE)
            payment_correct(payment=obj, changes=changes, actor=request.user, reason=reason)
            return
        d = form.cleaned_data
        payment, _result = payment_record(customer=d["customer"], reference=d["reference"],
                                          received_on=d["received_on"], amount=d["amount"], currency=d["currency"],
                                          method=d["method"], invoice=d.get("invoice"), actor=request.user)
        self.adopt(obj, payment)

    @admin.action(description=_("Apply cash on account to the oldest open invoices"), permissions=["change"])
    def apply_on_account(self, request: HttpRequest, queryset: Any) -> None:
        applied = [payment_apply_on_account(payment=p, actor=request.user) for p in queryset]
        done = [r for r in applied if r is not None and r.allocations]
        self.message_user(request, _("%(n)d payment(s) applied to open invoices.") % {"n": len(done)})


@admin.register(CreditNote)
class CreditNoteAdmin(CashAdmin):
    """Recording a credit note applies it (``credit_note_record``); afterwards only its stated reason can be
    corrected (with a reason for the correction)."""

    change_capability = Cap.RECEIVABLES_EDIT
    form = CorrectionForm
    posted_readonly_fields = ("number", "customer", "issue_date", "amount", "currency")
    list_display = ["number", "customer", "issue_date", "amount", "currency", "reason"]
    search_fields = ["number", "customer__legal_name"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]

    def save_model(self, request: HttpRequest, obj: CreditNote, form: Any, change: bool) -> None:
        if change:
            changes, reason = self.correction(form, CREDIT_NOTE_EDITABLE)
            credit_note_correct(note=obj, changes=changes, actor=request.user, reason=reason)
            return
        d = form.cleaned_data
        self.adopt(obj, credit_note_record(customer=d["customer"], number=d["number"], issue_date=d["issue_date"],
                                           amount=d["amount"], currency=d["currency"], reason=d.get("reason", ""),
                                           invoice=d.get("invoice"), actor=request.user))


@admin.register(Allocation)
class AllocationAdmin(ReadOnlyTenantAdmin):
    list_display = ["invoice", "allocated_on", "amount", "payment", "credit_note"]
    search_fields = ["invoice__number", "payment__reference", "credit_note__number"]
    list_select_related = ["invoice", "payment", "credit_note"]


# --- collections ----------------------------------------------------------------------------------


class DunningLevelForm(forms.ModelForm):
    """The same checks as the dunning page (``dunning_level_save``): every template must compile."""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for field in ("subject_en", "body_en", "subject_zh", "body_zh"):
            if data.get(field):
                try:
                    validate_template(data[field], field)
                except forms.ValidationError as exc:
                    self.add_error(None, exc)
        return data


class DunningLevelInline(admin.StackedInline):
    model = DunningLevel
    form = DunningLevelForm
    extra = 0
    can_delete = False  # levels that fired are referred to by their actions: deactivate them instead
    fields = ["days", "name", "is_active", "send_message", "task", "credit_hold", "subject_en", "body_en",
              "subject_zh", "body_zh"]

    # The policy's capability, not Django's per-model permission table (which no member has).
    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return has_capability(request, Cap.VIEW)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return has_capability(request, Cap.POLICY_EDIT)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return has_capability(request, Cap.POLICY_EDIT)


@admin.register(DunningPolicy)
class DunningPolicyAdmin(TenantAdmin):
    """Edits here go through the dunning page's services: validated (templates compile) and audited, as a
    policy change is a credit decision."""

    change_capability = Cap.POLICY_EDIT
    list_display = ["name", "is_default", "min_amount", "run_hour", "promise_grace_days"]
    posted_readonly_fields = ("is_default",)
    inlines = [DunningLevelInline]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        d = form.cleaned_data
        if change:
            changes = {f: d[f] for f in form.changed_data if f in POLICY_FIELDS}
            dunning_policy_update(policy=obj, actor=request.user, reason="admin", **changes)
            return
        values = {f: d[f] for f in POLICY_FIELDS if f in d}
        self.adopt(obj, dunning_policy_create(organization=request.organization,  # type: ignore[attr-defined]
                                              actor=request.user, reason="admin",
                                              is_default=d.get("is_default", False), **values))

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        for level in formset.save(commit=False):
            dunning_level_save(level=level, actor=request.user, reason="admin")


@admin.register(CollectionProfile)
class CollectionProfileAdmin(TenantAdmin):
    change_capability = Cap.COLLECTIONS
    list_display = ["customer", "collector", "policy", "do_not_dun", "language", "statement_monthly"]
    list_filter = ["do_not_dun", "statement_monthly", "language"]
    search_fields = ["customer__legal_name", "customer__external_id"]
    list_select_related = ["customer", "collector", "policy"]
    autocomplete_fields = ["customer"]
    posted_readonly_fields = ("customer",)

    def save_model(self, request: HttpRequest, obj: CollectionProfile, form: Any, change: bool) -> None:
        customer = obj.customer if change else form.cleaned_data["customer"]
        changes = {f: form.cleaned_data[f] for f in PROFILE_FIELDS if f in form.cleaned_data}
        profile = collection_profile_update(customer=customer, actor=request.user, reason="admin", **changes)
        if not change:
            self.adopt(obj, profile)


@admin.register(DunningRun)
class DunningRunAdmin(ReadOnlyTenantAdmin):
    list_display = ["run_date", "status", "attempts", "actions", "messages", "tasks", "holds",
                    "promises_broken",
                    "started_at", "finished_at"]
    list_filter = ["status"]
    date_hierarchy = "run_date"


@admin.register(DunningAction)
class DunningActionAdmin(ReadOnlyTenantAdmin):
    list_display = ["run_date", "invoice", "customer", "level", "open_amount", "currency"]
    list_select_related = ["invoice", "customer", "level"]
    search_fields = ["invoice__number", "customer__external_id"]
    show_full_result_count = False  # millions of rows: no COUNT(*) per page


@admin.register(DunningMessage)
class DunningMessageAdmin(ReadOnlyTenantAdmin):
    list_display = ["created_at", "customer", "level", "language", "to_email", "status", "attempts",
                    "sent_at"]
    list_filter = ["status", "language"]
    list_select_related = ["customer", "level"]
    search_fields = ["customer__external_id", "to_email"]
    show_full_result_count = False


@admin.register(CollectionTask)
class CollectionTaskAdmin(TenantAdmin):
    """Open tasks are re-assigned (to members of the organization only), re-dated or re-worded; they are
    closed through the actions (``task_complete``)."""

    change_capability = Cap.COLLECTIONS
    list_display = ["due_date", "kind", "status", "customer", "assigned_to", "title"]
    list_filter = ["status", "kind"]
    list_select_related = ["customer", "assigned_to"]
    search_fields = ["customer__legal_name", "customer__external_id", "title"]
    autocomplete_fields = ["customer"]
    readonly_fields = ["status", "run", "completed_at", "completed_by"]
    posted_readonly_fields = ("customer", "kind")
    actions = ["mark_done", "cancel"]

    def save_model(self, request: HttpRequest, obj: CollectionTask, form: Any, change: bool) -> None:
        d = form.cleaned_data
        if change:
            changes = {f: d[f] for f in form.changed_data if f in TASK_EDITABLE}
            collection_task_update(task=obj, changes=changes, actor=request.user, reason="admin")
            return
        self.adopt(obj, collection_task_create(customer=d["customer"], kind=d["kind"], title=d["title"],
                                               due_date=d["due_date"], assigned_to=d.get("assigned_to"),
                                               note=d.get("note", ""), actor=request.user))

    def _close(self, request: HttpRequest, queryset: Any, cancel: bool) -> None:
        closed, refused = 0, []
        for task in queryset.filter(status=CollectionTask.Status.OPEN):
            try:
                task_complete(task=task, actor=request.user, note="admin", cancel=cancel)
            except AppError as exc:  # e.g. a managers' hand-over, closed by a credit manager only
                refused.append(exc.message)
                continue
            closed += 1
        self.message_user(request, _("%(n)d task(s) closed.") % {"n": closed})
        for reason in dict.fromkeys(refused):
            self.message_user(request, reason, messages.ERROR)

    @admin.action(description=_("Mark the selected tasks done"), permissions=["change"])
    def mark_done(self, request: HttpRequest, queryset: Any) -> None:
        self._close(request, queryset, cancel=False)

    @admin.action(description=_("Cancel the selected tasks"), permissions=["change"])
    def cancel(self, request: HttpRequest, queryset: Any) -> None:
        self._close(request, queryset, cancel=True)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        """A hand-over of the managers' queue is closed by a credit manager only (as on the pages)."""
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.is_managers_handover and not has_capability(request, Cap.POLICY_EDIT):
            fields += [f for f in ("status", "assigned_to") if f not in fields]
        return fields


class PromiseInvoiceInline(admin.TabularInline):
    model = PromiseInvoice
    extra = 0
    fields = ("invoice", "open_amount")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PromiseToPay)
class PromiseToPayAdmin(ReadOnlyTenantAdmin):
    """Promises are made on a customer's collections page or through the API (``promise_create``: the
    policy's horizon, the invoices covered, the ledger entry); here they are read, and open ones can be
    cancelled (``promise_cancel``, audited)."""

    list_display = ["customer", "made_on", "promised_date", "amount", "currency", "status", "received"]
    list_filter = ["status"]
    list_select_related = ["customer"]
    search_fields = ["customer__legal_name", "customer__external_id", "coverage__invoice__number"]
    inlines = [PromiseInvoiceInline]
    actions = ["cancel"]

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        return has_capability(request, Cap.COLLECTIONS)

    @admin.action(description=_("Cancel the selected open promises"), permissions=["cancel"])
    def cancel(self, request: HttpRequest, queryset: Any) -> None:
        open_ = list(queryset.filter(status=PromiseToPay.Status.OPEN))
        for promise in open_:
            promise_cancel(promise=promise, actor=request.user, reason="admin")
        self.message_user(request, _("%(n)d promise(s) cancelled.") % {"n": len(open_)})


class DisputeResolveForm(CorrectionForm):
    """An open dispute is closed as resolved or rejected, with the resolution (``dispute_resolve``)."""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.instance.pk is None:
            return data
        if self.instance.status != Dispute.Status.OPEN:
            raise forms.ValidationError(_("The dispute is already %(status)s.") % {"status": self.instance.status})
        if data.get("status") not in (Dispute.Status.RESOLVED, Dispute.Status.REJECTED):
            self.add_error("status", _("Close the dispute as resolved or rejected."))
        return data


@admin.register(Dispute)
class DisputeAdmin(TenantAdmin):
    change_capability = Cap.COLLECTIONS
    form = DisputeResolveForm
    list_display = ["invoice", "customer", "reason", "amount", "status", "opened_on", "resolved_on"]
    list_filter = ["status", "reason"]
    list_select_related = ["customer", "invoice"]
    search_fields = ["invoice__number", "customer__legal_name", "customer__external_id"]
    autocomplete_fields = ["invoice"]
    posted_readonly_fields = ("invoice", "customer", "reason", "description", "amount", "opened_on", "opened_by",
                              "resolved_on", "resolved_by")

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ["invoice", "reason", "description", "amount"]
        return ["invoice", "customer", "reason", "description", "amount", "opened_on", "opened_by", "status",
                "resolution", "resolved_on", "resolved_by", "correction_reason"]

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is not None:
            # The resolution is the reason: no separate correction reason.
            kwargs.setdefault("form", type("DisputeResolveForm", (DisputeResolveForm,), {"correction_reason": None}))
        return super().get_form(request, obj, change, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = [f for f in self.get_fields(request, obj) if f != "correction_reason"]
        return [(None, {"fields": fields})]

    def save_model(self, request: HttpRequest, obj: Dispute, form: Any, change: bool) -> None:
        d = form.cleaned_data
        if change:
            dispute_resolve(dispute=Dispute.objects.get(pk=obj.pk), status=d["status"], actor=request.user,
                            resolution=d.get("resolution", ""))
            return
        self.adopt(obj, dispute_open(invoice=d["invoice"], reason=d["reason"], description=d.get("description", ""),
                                     amount=d.get("amount"), actor=request.user))


@admin.register(CallNote)
class CallNoteAdmin(RecordedOnlyMixin, TenantAdmin):
    change_capability = Cap.COLLECTIONS
    list_display = ["contacted_at", "customer", "author", "outcome", "next_action_on"]
    list_filter = ["outcome"]
    list_select_related = ["customer", "author"]
    search_fields = ["customer__legal_name", "customer__external_id", "note"]
    autocomplete_fields = ["customer"]
    fields = ["customer", "outcome", "contact_person", "note", "next_action_on", "next_action"]

    def save_model(self, request: HttpRequest, obj: CallNote, form: Any, change: bool) -> None:
        d = form.cleaned_data
        self.adopt(obj, call_note_add(customer=d["customer"], outcome=d["outcome"], note=d.get("note", ""),
                                      contact_person=d.get("contact_person", ""),
                                      next_action_on=d.get("next_action_on"), next_action=d.get("next_action", ""),
                                      actor=request.user))


@admin.register(StatementDispatch)
class StatementDispatchAdmin(ReadOnlyTenantAdmin):
    list_display = ["created_at", "customer", "as_of", "kind", "to_email", "status", "sent_at"]
    list_filter = ["status", "kind"]
    list_select_related = ["customer"]


@admin.register(EclSettings)
class EclSettingsAdmin(TenantAdmin):
    change_capability = Cap.POLICY_EDIT
    list_display = ["lookback_periods", "segment_by", "forward_factor", "recovery_rate", "updated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        org = getattr(request, "organization", None)
        exists = org is not None and EclSettings.objects.for_organization(org).exists()
        return not exists and super().has_add_permission(request)

    def save_model(self, request: HttpRequest, obj: EclSettings, form: Any, change: bool) -> None:
        fields = ("lookback_periods", "segment_by", "forward_factor", "recovery_rate")
        changes = {f: form.cleaned_data[f] for f in fields if f in form.cleaned_data}
        saved = ecl_settings_update(organization=request.organization,  # type: ignore[attr-defined]
                                    actor=request.user, reason="admin", **changes)
        if not change:
            self.adopt(obj, saved)


@admin.register(EclSnapshot)
class EclSnapshotAdmin(ReadOnlyTenantAdmin):
    list_display = ["as_of", "total", "collective", "individual", "base_currency", "created_by", "created_at"]
