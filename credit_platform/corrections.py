"""Creating and correcting records the way accountants expect: a created record goes to the ledger with
its values; a correction names the fields it may change, needs a reason, and goes to the ledger with the
old and new value of each field it changed. Fields outside ``editable`` (a posted invoice's number,
customer, currency, dates and amount...) are refused: those are corrected by a new document (a credit
note, a reversal), never by rewriting the old one.

The apps' services (``receivables.services.invoice_correct``, ``customers.services.statement_correct``...)
are thin uses of these two functions, so that every correction has the same shape in the ledger.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import models
from django.utils.translation import gettext

from .audit import audit_append
from .errors import AppError, ErrorCode


def values_of(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """Field values as the ledger records them: foreign keys by id."""
    out: dict[str, Any] = {}
    for name in fields:
        field = obj._meta.get_field(name)
        out[name] = getattr(obj, field.attname) if isinstance(field, models.ForeignKey) else getattr(obj, name)
    return out


def record_create(*, obj: models.Model, fields: Iterable[str], actor: Any, action: str, reason: str = "",
                  exclude: Iterable[str] = ()) -> Any:
    """Validate and save a new record; the ledger gets its values. Call inside the service's transaction."""
    obj.full_clean(exclude=list(exclude) or None)
    obj.save()
    audit_append(organization=obj.organization_id, actor=actor, action=action, obj=obj,  # type: ignore[attr-defined]
                 after=values_of(obj, fields), reason=reason)
    return obj


def record_correct(*, obj: models.Model, changes: Mapping[str, Any], editable: Iterable[str], actor: Any,
                   action: str, reason: str, what: str) -> Any:
    """Apply ``changes`` to the stored row of ``obj`` (locked), validated; the ledger gets the reason and the
    old and new value of each changed field. No change: nothing is written. Returns the stored row."""
    editable = tuple(editable)
    refused = sorted(set(changes) - set(editable))
    if refused:
        raise AppError(
            ErrorCode.VALIDATION,
            gettext('%(join)s of a recorded %(what)s cannot be changed; only %(join2)s can be corrected (record a '
                    'new document, e.g. a credit note, to change the rest).') % {
                'join': ', '.join(refused), 'what': what, 'join2': ', '.join(editable)},
            details={"fields": refused},
        )
    model = type(obj)
    stored = model._default_manager.select_for_update().get(pk=obj.pk)
    before = values_of(stored, editable)
    for name, value in changes.items():
        setattr(stored, name, value)
    after = values_of(stored, editable)
    changed = [k for k in editable if before[k] != after[k]]
    if not changed:
        return stored
    if not reason.strip():
        raise AppError(ErrorCode.VALIDATION, gettext('A correction of a %(what)s needs a reason; none was given.') % {
            'what': what},
                       details={"fields": changed})
    stored.full_clean()
    stored.save(update_fields=changed)
    audit_append(organization=stored.organization_id, actor=actor, action=action, obj=stored,  # type: ignore[attr-defined]
                 before={k: before[k] for k in changed}, after={k: after[k] for k in changed}, reason=reason.strip())
    return stored
