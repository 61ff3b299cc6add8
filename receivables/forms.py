"""Input forms of the collections pages (parsing only; services do the work)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy

from credit_platform.bounds import MONEY_MAX, NOTE_MAX_CHARS
from credit_platform.forms import IdField, IdListField
from credit_platform.models import Membership

from .models import CallNote, CollectionProfile, Dispute, DunningLevel, DunningPolicy, EclSettings

# type=date takes ISO dates whatever the language (a localized value, e.g. 2026/12/06 in Chinese, shows empty)
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def collector_choices(organization: Any) -> Any:
    ids = Membership.objects.filter(organization=organization, is_active=True).values("user_id")
    return get_user_model().objects.filter(pk__in=ids).order_by("username")


class PromiseForm(forms.Form):
    amount = forms.DecimalField(max_digits=18, decimal_places=2, min_value=Decimal("0.01"), max_value=MONEY_MAX,
                                label=gettext_lazy("Amount"))
    promised_date = forms.DateField(widget=DATE, label=gettext_lazy("Promised date"))
    invoices: forms.ModelMultipleChoiceField = forms.ModelMultipleChoiceField(
        queryset=None, required=False, widget=forms.CheckboxSelectMultiple,
        label=gettext_lazy("Invoices"),
        help_text=gettext_lazy("None ticked: the amount covers the oldest open invoices it pays in full."),
    )
    note = forms.CharField(required=False, max_length=500, label=gettext_lazy("Note"))

    def __init__(self, *args: Any, invoices: Any = None, made_on: Any = None, horizon: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["invoices"].queryset = invoices  # type: ignore[attr-defined]
        self.fields["invoices"].label_from_instance = (  # type: ignore[attr-defined]
            lambda inv: f"{inv.number} · {inv.due_date:%Y-%m-%d} · {inv.open_amount:,.2f} {inv.currency}"
        )
        if made_on is not None and horizon is not None:
            latest = made_on + dt.timedelta(days=horizon)
            self.fields["promised_date"].widget.attrs.update({"min": made_on.isoformat(), "max": latest.isoformat()})
            self.fields["promised_date"].help_text = gettext_lazy(
                "From today to %(latest)s (the policy allows %(days)s days).") % {
                    "latest": latest.isoformat(), "days": horizon}


class DisputeForm(forms.Form):
    invoice: forms.ModelChoiceField = forms.ModelChoiceField(queryset=None, label=gettext_lazy("Invoice"))
    reason = forms.ChoiceField(choices=Dispute.Reason.choices, label=gettext_lazy("Reason"))
    amount = forms.DecimalField(max_digits=18, decimal_places=2, min_value=Decimal("0.01"), max_value=MONEY_MAX,
                                required=False, label=gettext_lazy("Disputed amount"))
    description = forms.CharField(required=False, max_length=NOTE_MAX_CHARS, label=gettext_lazy("Description"),
                                  widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, invoices: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["invoice"].queryset = invoices  # type: ignore[attr-defined]


class ResolveDisputeForm(forms.Form):
    dispute = IdField()
    status = forms.ChoiceField(choices=[("resolved", gettext_lazy("Resolved")), ("rejected", gettext_lazy("Rejected"))])
    resolution = forms.CharField(required=False, max_length=500)


class CallNoteForm(forms.ModelForm):
    class Meta:
        model = CallNote
        fields = ["outcome", "contact_person", "note", "next_action_on", "next_action"]
        widgets = {"note": forms.Textarea(attrs={"rows": 2}), "next_action_on": DATE}
        labels = {"outcome": gettext_lazy("Outcome"), "contact_person": gettext_lazy("Contact person"),
                  "note": gettext_lazy("Note"), "next_action_on": gettext_lazy("Next action on"),
                  "next_action": gettext_lazy("Next action")}


class ProfileForm(forms.ModelForm):
    class Meta:
        model = CollectionProfile
        fields = [
            "collector",
            "policy",
            "do_not_dun",
            "do_not_dun_reason",
            "language",
            "dunning_email",
            "statement_monthly",
        ]
        labels = {"collector": gettext_lazy("Collector"), "policy": gettext_lazy("Dunning policy"),
                  "do_not_dun": gettext_lazy("Do not dun"), "do_not_dun_reason": gettext_lazy("Reason for not dunning"),
                  "language": gettext_lazy("Language"), "dunning_email": gettext_lazy("Dunning e-mail"),
                  "statement_monthly": gettext_lazy("Monthly statement")}

    def __init__(self, *args: Any, organization: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["collector"].queryset = collector_choices(organization)  # type: ignore[attr-defined]
        self.fields["policy"].queryset = DunningPolicy.objects.for_organization(organization)  # type: ignore[attr-defined]


class AssignForm(forms.Form):
    """The worklist's "Assign selected": one ``customers`` value per ticked row (no JavaScript needed)."""

    customers = IdListField()
    collector: forms.ModelChoiceField = forms.ModelChoiceField(queryset=None, required=False,
                                                               empty_label=gettext_lazy("Unassigned"),
                                                               label=gettext_lazy("Collector"))

    def __init__(self, *args: Any, organization: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["collector"].queryset = collector_choices(organization)  # type: ignore[attr-defined]

    def customer_ids(self) -> list[int]:
        return list(self.cleaned_data["customers"])


class TaskActionForm(forms.Form):
    task = IdField()


class PolicyForm(forms.ModelForm):
    class Meta:
        model = DunningPolicy
        fields = ["name", "min_amount", "run_hour", "promise_grace_days", "promise_max_days", "statement_day"]
        labels = {"name": gettext_lazy("Name"), "min_amount": gettext_lazy("Minimum amount"),
                  "run_hour": gettext_lazy("Run hour"), "promise_grace_days": gettext_lazy("Promise grace days"),
                  "promise_max_days": gettext_lazy("Promise horizon (days)"),
                  "statement_day": gettext_lazy("Statement day")}


class LevelForm(forms.ModelForm):
    class Meta:
        model = DunningLevel
        fields = [
            "days",
            "name",
            "is_active",
            "send_message",
            "task",
            "credit_hold",
            "subject_en",
            "body_en",
            "subject_zh",
            "body_zh",
        ]
        widgets = {"body_en": forms.Textarea(attrs={"rows": 8}), "body_zh": forms.Textarea(attrs={"rows": 8})}
        labels = {"days": gettext_lazy("Days"), "name": gettext_lazy("Name"), "is_active": gettext_lazy("Active"),
                  "send_message": gettext_lazy("Send a message"), "task": gettext_lazy("Task"),
                  "credit_hold": gettext_lazy("Credit hold"), "subject_en": gettext_lazy("Subject (English)"),
                  "body_en": gettext_lazy("Body (English)"), "subject_zh": gettext_lazy("Subject (Chinese)"),
                  "body_zh": gettext_lazy("Body (Chinese)")}


class EclSettingsForm(forms.ModelForm):
    class Meta:
        model = EclSettings
        fields = ["lookback_periods", "segment_by", "forward_factor", "recovery_rate"]
        labels = {"lookback_periods": gettext_lazy("Look-back periods"), "segment_by": gettext_lazy("Segment by"),
                  "forward_factor": gettext_lazy("Forward-looking factor"),
                  "recovery_rate": gettext_lazy("Recovery rate")}
