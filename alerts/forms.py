"""Forms of the alerts pages: the filters, the bulk bar, one alert's action."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from credit_platform.bounds import NOTE_MAX_CHARS
from credit_platform.forms import IdListField
from credit_platform.models import Membership

from .models import Alert


def member_choices(organization: Any) -> Any:
    users = Membership.objects.filter(organization=organization, is_active=True).values_list("user_id", flat=True)
    return get_user_model().objects.filter(pk__in=users).order_by("username")


class BulkForm(forms.Form):
    """The list's bulk bar: one ``alerts`` value per ticked row."""

    alerts = IdListField()
    action = forms.ChoiceField(choices=[("acknowledge", _("Acknowledge")), ("assign", _("Assign"))])
    assignee: forms.ModelChoiceField = forms.ModelChoiceField(queryset=None, required=False,
                                                              empty_label=_("Nobody"), label=_("Assignee"))

    def __init__(self, *args: Any, organization: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = member_choices(organization)  # type: ignore[attr-defined]


class ActionForm(forms.Form):
    """One alert's action; dismissing needs a reason, snoozing a date."""

    action = forms.ChoiceField(choices=[
        ("acknowledge", _("Acknowledge")), ("resolve", _("Resolve")), ("dismiss", _("Dismiss")),
        ("reopen", _("Re-open")), ("assign", _("Assign")), ("snooze", _("Snooze"))])
    reason = forms.CharField(required=False, max_length=NOTE_MAX_CHARS, label=_("Reason"))
    until = forms.DateField(required=False, label=_("Snooze until"))
    assignee: forms.ModelChoiceField = forms.ModelChoiceField(queryset=None, required=False,
                                                              empty_label=_("Nobody"), label=_("Assignee"))

    def __init__(self, *args: Any, organization: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = member_choices(organization)  # type: ignore[attr-defined]


class FilterForm(forms.Form):
    status = forms.ChoiceField(required=False, choices=[
        ("active", _("Open or acknowledged")), ("snoozed", _("Snoozed")), *Alert.Status.choices, ("all", _("All"))])
    severity = forms.ChoiceField(required=False, choices=[("", _("Any severity")), *Alert.Severity.choices])
    indicator = forms.CharField(required=False, max_length=60)
    assignee = forms.CharField(required=False, max_length=20)
    customer = forms.CharField(required=False, max_length=200)
