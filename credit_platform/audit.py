"""The audit ledger: append-only, hash-chained per organization.

Each entry's hash is SHA-256 over its previous entry's hash and a canonical JSON of its content
(organization, sequence number, time, actor, action, object, before, after, reason). Changing any
stored field, deleting an entry or re-ordering entries breaks the chain at that entry, and
``verify_audit`` names the first broken link.

Appends lock the organization's ``AuditHead`` row, so sequence numbers are gap-free under
concurrency; ``audit_append_many`` chains a whole batch (a nightly regrade, a dunning run's credit
holds) under one lock and one bulk insert (COPY on PostgreSQL for large batches).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pandas as pd
from django.db import models, transaction
from django.utils import timezone

from .bulk import insert_frame, is_postgres
from .models import AuditEntry, AuditHead, Organization

GENESIS = "0" * 64
SYSTEM_ACTOR = "system"
_VERIFY_CHUNK = 5000  # ~5,000 entries x ~1 KB: a few MB per fetch
# Batches from this size are written by COPY on PostgreSQL: writing 4,000 entries (a dunning chunk's credit
# holds) took 0.81 s through bulk_create's INSERT and 0.16 s by COPY plus the id read-back (profiled); 80,200
# entries in 20 batches, hashing included, 11.2-11.5 s against 15.3-18.1 s (docs/benchmarks.md, busy
# machine). Below the threshold one INSERT is as quick and returns the ids directly.
COPY_MIN_ENTRIES = 500


def jsonable(value: Any) -> Any:
    """Turn a value into plain JSON types so that what is hashed equals what is read back."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _canonical_time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    payload = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((prev_hash + "\n" + payload).encode()).hexdigest()


def _hashed(
    organization: int, seq: int, created_at: str, actor_id: Any, actor: str, action: str, object_type: str,
    object_id: str, object_repr: str, before: Any, after: Any, reason: str,
) -> dict[str, Any]:
    """The fields an entry's hash covers, by the names hashed: the one definition that appending and
    verifying share."""
    return {
        "organization": organization, "seq": seq, "created_at": created_at, "actor_id": actor_id,
        "actor": actor, "action": action, "object_type": object_type, "object_id": object_id,
        "object_repr": object_repr, "before": before, "after": after, "reason": reason,
    }


def _hashed_fields(entry: AuditEntry) -> dict[str, Any]:
    return _hashed(
        entry.organization_id, entry.seq, _canonical_time(entry.created_at), entry.actor_id, entry.actor_label,
        entry.action, entry.object_type, entry.object_id, entry.object_repr, entry.before, entry.after,
        entry.reason,
    )


@dataclass(frozen=True)
class AuditEvent:
    """What to record. ``obj`` may be a model instance, an (object_type, object_id) pair or an
    (object_type, object_id, object_repr) triple: the tuples let a batch job record rows it changed in
    SQL without loading them as instances."""

    action: str
    obj: Any
    before: Any = None
    after: Any = None
    reason: str = ""


def _object_ref(obj: Any) -> tuple[str, str, str]:
    if isinstance(obj, models.Model):
        return obj._meta.label_lower, str(obj.pk), str(obj)[:200]
    object_type, object_id, *rest = obj
    return str(object_type), str(object_id), str(rest[0])[:200] if rest else ""


@transaction.atomic
def audit_append_many(
    *, organization: Organization | int, actor: Any, events: Sequence[AuditEvent], returning: bool = True
) -> list[AuditEntry]:
    """Append events in order under one lock; returns the saved entries (with ``returning=False`` a
    large batch returns none: a batch job that does not read them back saves building them).

    The chain is computed on plain dicts (the hashed fields are the row's own values), and a large batch
    goes to PostgreSQL by COPY."""
    if not events:
        return []
    org_id = organization if isinstance(organization, int) else organization.pk
    AuditHead.objects.get_or_create(organization_id=org_id)
    head = AuditHead.objects.select_for_update().get(organization_id=org_id)
    now = timezone.now()
    created = _canonical_time(now)
    actor_user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    actor_id = actor_user.pk if actor_user else None
    actor_label = actor_user.get_username() if actor_user else (str(actor) if actor else SYSTEM_ACTOR)
    rows = []
    prev, seq = head.hash, head.seq
    for event in events:
        seq += 1
        object_type, object_id, object_repr = _object_ref(event.obj)
        fields = _hashed(
            org_id, seq, created, actor_id, actor_label, event.action, object_type, object_id, object_repr,
            jsonable(event.before), jsonable(event.after), event.reason,
        )
        digest = entry_hash(prev, fields)
        rows.append({**fields, "prev_hash": prev, "hash": digest})
        prev = digest
    AuditHead.objects.filter(pk=org_id).update(seq=seq, hash=prev)
    if len(rows) >= COPY_MIN_ENTRIES and is_postgres():
        _copy_rows(rows, now)
        if not returning:
            return []
        return list(
            AuditEntry.objects.filter(organization_id=org_id, seq__gt=head.seq, seq__lte=seq).order_by("seq")
        )
    entries = [
        AuditEntry(
            organization_id=org_id, seq=r["seq"], created_at=now, actor=actor_user, actor_label=actor_label,
            action=r["action"], object_type=r["object_type"], object_id=r["object_id"],
            object_repr=r["object_repr"], before=r["before"], after=r["after"], reason=r["reason"],
            prev_hash=r["prev_hash"], hash=r["hash"],
        )
        for r in rows
    ]
    AuditEntry.objects.bulk_create(entries, batch_size=2000)
    return entries


def _copy_rows(rows: list[dict[str, Any]], created_at: dt.datetime) -> None:
    """COPY a large batch (``credit_platform.bulk.insert_frame``). JSON travels as the text Django's
    JSONField would send; None stays SQL NULL, as the field stores it."""

    def as_json(value: Any) -> str | None:
        return None if value is None else json.dumps(value, ensure_ascii=False)

    frame = pd.DataFrame(
        {
            "organization_id": [r["organization"] for r in rows],
            "seq": [r["seq"] for r in rows],
            "created_at": pd.Timestamp(created_at),
            "actor_id": pd.array([r["actor_id"] for r in rows], dtype="Int64"),
            "actor_label": [r["actor"] for r in rows],
            "action": [r["action"] for r in rows],
            "object_type": [r["object_type"] for r in rows],
            "object_id": [r["object_id"] for r in rows],
            "object_repr": [r["object_repr"] for r in rows],
            "before": [as_json(r["before"]) for r in rows],
            "after": [as_json(r["after"]) for r in rows],
            "reason": [r["reason"] for r in rows],
            "prev_hash": [r["prev_hash"] for r in rows],
            "hash": [r["hash"] for r in rows],
        }
    )
    insert_frame(AuditEntry._meta.db_table, frame)


def audit_append(
    *, organization: Organization | int, actor: Any, action: str, obj: Any,
    before: Any = None, after: Any = None, reason: str = "",
) -> AuditEntry:
    """Record one decision. Call inside the transaction that makes the decision."""
    event = AuditEvent(action=action, obj=obj, before=before, after=after, reason=reason)
    return audit_append_many(organization=organization, actor=actor, events=[event])[0]


@dataclass(frozen=True)
class ChainBreak:
    organization_id: int
    seq: int
    entry_id: int | None
    problem: str

    def __str__(self) -> str:
        where = f"entry #{self.seq}" + (f" (id {self.entry_id})" if self.entry_id is not None else "")
        return f"organization {self.organization_id}: {where}: {self.problem}"


def _iter_entries(org_id: int) -> Iterator[AuditEntry]:
    """Keyset iteration by seq (sentry's utils/query.py idea): constant memory on long ledgers."""
    last = 0
    while True:
        chunk = list(AuditEntry.objects.filter(organization_id=org_id, seq__gt=last).order_by("seq")[:_VERIFY_CHUNK])
        if not chunk:
            return
        yield from chunk
        last = chunk[-1].seq


def audit_verify(organization: Organization | int) -> tuple[int, ChainBreak | None]:
    """Walk one organization's chain; returns (entries checked, first break or None)."""
    org_id = organization if isinstance(organization, int) else organization.pk
    prev, expected_seq, checked = GENESIS, 1, 0
    for entry in _iter_entries(org_id):
        if entry.seq != expected_seq:
            return checked, ChainBreak(
                org_id, expected_seq, None, f"missing: the chain jumps from #{expected_seq - 1} to #{entry.seq}"
            )
        if entry.prev_hash != prev:
            return checked, ChainBreak(org_id, entry.seq, entry.pk, "its link to the previous entry does not match")
        if entry_hash(prev, _hashed_fields(entry)) != entry.hash:
            return checked, ChainBreak(org_id, entry.seq, entry.pk, "its content was altered after it was written")
        prev, expected_seq, checked = entry.hash, expected_seq + 1, checked + 1
    head = AuditHead.objects.filter(organization_id=org_id).first()
    if head is not None and (head.seq, head.hash) != (expected_seq - 1, prev):
        return checked, ChainBreak(
            org_id, expected_seq, None,
            f"the ledger ends at #{expected_seq - 1} but #{head.seq} was written: newer entries were removed",
        )
    return checked, None


def organizations_with_ledgers() -> Iterable[int]:
    return AuditHead.objects.order_by("pk").values_list("organization_id", flat=True)
