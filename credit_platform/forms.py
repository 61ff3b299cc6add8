"""Form fields shared by the pages: ids posted by forms, parsed strictly.

Ids travel in form values, URLs and data attributes unlocalized (``|unlocalize``); a value such as
"1,577" (an id rendered with the thousands separator) or "abc" is refused with a located error
instead of being split, guessed or passed to the database (where it would be a 500 or, split on the
comma, the wrong customers).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import BadRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

# Primary keys are 64-bit (BigAutoField): a larger number is no id, and would overflow SQLite's integer.
MAX_ID = 2**63 - 1


def parse_id(raw: Any, *, label: str = "id") -> int:
    """One id from a request: ASCII digits only, 1..2^63-1; anything else is a ``BadRequest`` (400)."""
    text = "" if raw is None else str(raw).strip()
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) <= MAX_ID:
        raise BadRequest(_("%(label)s: '%(value)s' is not an id (a whole number).") % {
            "label": label, "value": text[:40]})
    return int(text)


class IdField(forms.IntegerField):
    default_error_messages = {"invalid": gettext_lazy("'%(value)s' is not an id (a whole number).")}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        kwargs.setdefault("widget", forms.HiddenInput)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> int | None:
        if value in self.empty_values:
            return None
        text = str(value).strip()
        if not (text.isascii() and text.isdigit()):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid",
                                        params={"value": text[:40]})
        return int(text)


class IdListField(forms.Field):
    """Several ids posted under one name (one checkbox per row): every value must be an id."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {"invalid": gettext_lazy("'%(value)s' is not an id (a whole number).")}

    def to_python(self, value: Any) -> list[int]:
        if value in self.empty_values:
            return []
        values = value if isinstance(value, list | tuple) else [value]
        out = []
        for raw in values:
            text = str(raw).strip()
            if not (text.isascii() and text.isdigit()) or not 0 < int(text) <= MAX_ID:
                raise forms.ValidationError(self.error_messages["invalid"], code="invalid",
                                            params={"value": text[:40]})
            out.append(int(text))
        return out


def form_errors_text(form: forms.BaseForm) -> str:
    """A form's errors as one sentence: "field: reason; field: reason"."""
    parts: list[str] = []
    for name, errors in form.errors.items():
        label = (form.fields[name].label or name) if name in form.fields else ""
        parts.extend(f"{label}: {e}" if label else str(e) for e in errors)
    return "; ".join(parts)


def require_valid(form: forms.BaseForm) -> dict[str, Any]:
    """The cleaned data of a form whose input is not something a page offers (hidden ids, actions):
    invalid input is malformed, answered 400 with what was wrong."""
    if not form.is_valid():
        raise BadRequest(form_errors_text(form))
    return form.cleaned_data


def reason_param(request: Any, name: str = "reason") -> str:
    """A free-text reason posted with an action (it goes to the audit ledger): at most NOTE_MAX_CHARS."""
    from .bounds import NOTE_MAX_CHARS

    text = request.POST.get(name, "").strip()
    if len(text) > NOTE_MAX_CHARS:
        raise BadRequest(_("%(name)s: %(n)s characters; at most %(max)s are allowed.") % {
            "name": name, "n": len(text), "max": NOTE_MAX_CHARS})
    return text
