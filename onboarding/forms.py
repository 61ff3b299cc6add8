from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from credit_platform.bounds import money_validators
from credit_platform.money import CURRENCY_CHOICES
from credit_platform.roles import Role

MONTHS = [(i, _m) for i, _m in enumerate([
    _("January"), _("February"), _("March"), _("April"), _("May"), _("June"), _("July"), _("August"),
    _("September"), _("October"), _("November"), _("December")], start=1)]


def _zones() -> list[tuple[str, str]]:
    return [(z, z) for z in sorted(zoneinfo.available_timezones()) if "/" in z and not z.startswith("Etc/")]


class OrganizationForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    slug = forms.SlugField(label=_("Short name (slug)"), max_length=60, required=False,
                           help_text=_("Used in URLs and commands; derived from the name when empty."))
    base_currency = forms.ChoiceField(label=_("Base currency"), choices=CURRENCY_CHOICES, initial="EUR")
    time_zone = forms.ChoiceField(label=_("Time zone"), initial="Europe/Berlin")
    fiscal_year_start_month = forms.TypedChoiceField(label=_("Fiscal year starts in"), choices=MONTHS, coerce=int,
                                                     initial=1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = _zones()  # type: ignore[attr-defined]


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("E-mail"))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.CREDIT_OFFICER)
    approval_limit = forms.DecimalField(label=_("Approval limit"), required=False, min_value=0, decimal_places=2,
                                        max_digits=18, validators=money_validators(),
                                        help_text=_("Largest limit (base currency) this person may approve."))


class MembershipForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    approval_limit = forms.DecimalField(label=_("Approval limit"), required=False, min_value=0, decimal_places=2,
                                        max_digits=18, validators=money_validators())
    is_active = forms.BooleanField(label=_("Active"), required=False)


class AcceptForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    password1 = forms.CharField(label=_("Password"), widget=forms.PasswordInput)
    password2 = forms.CharField(label=_("Password again"), widget=forms.PasswordInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", _("The two passwords differ."))
        return data


class CompleteLoadForm(forms.Form):
    rescore_dates = forms.CharField(
        label=_("Also re-score as of (past dates, YYYY-MM-DD, comma separated)"), required=False)

    def clean_rescore_dates(self) -> list[dt.date]:
        out = []
        for part in self.cleaned_data["rescore_dates"].replace(";", ",").split(","):
            if part.strip():
                try:
                    out.append(dt.date.fromisoformat(part.strip()))
                except ValueError:
                    raise forms.ValidationError(_("'%(value)s' is not a date (YYYY-MM-DD).")
                                                % {"value": part.strip()[:20]}) from None
        return out
