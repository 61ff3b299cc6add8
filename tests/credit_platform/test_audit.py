"""The audit ledger: chained, append-only, and verify_audit names the first broken link."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from credit_platform.audit import COPY_MIN_ENTRIES, AuditEvent, audit_append, audit_append_many, audit_verify
from credit_platform.errors import AppError
from credit_platform.models import AuditEntry
from credit_platform.roles import Role
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _write(org, n=5):
    customer = CustomerFactory(organization=org)
    for i in range(n):
        audit_append(organization=org, actor=None, action="customer.limit_changed", obj=customer,
                     before={"credit_limit": str(i * 1000)}, after={"credit_limit": str((i + 1) * 1000)})
    return list(AuditEntry.objects.for_organization(org).order_by("seq"))


def _tamper(sql, params):
    """Change the ledger behind the application's back (bypassing the PostgreSQL trigger)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # as a superuser could: triggers off for this session
            cursor.execute("SET session_replication_role = replica")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = DEFAULT")


def test_entries_chain_per_organization(org, other_org):
    entries = _write(org, 3)
    _write(other_org, 2)
    assert [e.seq for e in entries] == [1, 2, 3]
    assert entries[0].prev_hash == "0" * 64
    assert entries[1].prev_hash == entries[0].hash
    assert entries[2].prev_hash == entries[1].hash
    assert audit_verify(org) == (3, None)
    assert audit_verify(other_org) == (2, None)


def test_batch_append_continues_the_chain(org):
    entries = _write(org, 2)
    batch = audit_append_many(organization=org, actor="nightly", events=[
        AuditEvent("score.grade_changed", ("customers.customer", i), {"grade": 3}, {"grade": 4}) for i in range(10)
    ])
    assert batch[0].prev_hash == entries[-1].hash and batch[-1].seq == 12
    assert batch[0].actor_label == "nightly"
    assert audit_verify(org) == (12, None)


def test_a_large_batch_reads_back_as_it_was_hashed_and_verifies(org, member):
    """A batch of COPY_MIN_ENTRIES or more takes the COPY path on PostgreSQL (INSERT on SQLite): the
    stored entries, JSON, NULLs, non-ASCII text, time and actor included, hash exactly as written."""
    user = member(org, Role.CREDIT_MANAGER)
    _write(org, 1)
    n = COPY_MIN_ENTRIES + 3
    events = [
        AuditEvent(
            "customer.status_changed",
            ("customers.customer", i, f"上海华信 {i} \"GmbH\", ok"),
            {"status": "active"} if i % 2 else None,
            {"status": "on_hold", "amount": Decimal("12.50"), "day": dt.date(2026, 3, 5), "ids": [i, None]},
            "dunning level Final notice (+30 days)" if i % 3 else "",
        )
        for i in range(n)
    ]
    batch = audit_append_many(organization=org, actor=user, events=events)
    stored = list(AuditEntry.objects.for_organization(org).filter(seq__gte=batch[0].seq).order_by("seq"))
    assert [e.pk for e in batch] == [e.pk for e in stored] and all(e.pk for e in batch)
    fields = ["seq", "created_at", "actor_id", "actor_label", "object_repr", "before", "after", "reason", "hash"]
    assert [[getattr(e, f) for f in fields] for e in stored] == [[getattr(e, f) for f in fields] for e in batch]
    assert stored[0].before is None and stored[1].after["amount"] == "12.50" and stored[0].actor_id == user.pk
    assert audit_verify(org) == (batch[-1].seq, None)
    audit_append(organization=org, actor=None, action="x.after", obj=("t", 1))  # the chain goes on
    assert audit_verify(org) == (batch[-1].seq + 1, None)


def test_altered_entry_is_detected_and_named(org, capsys):
    entries = _write(org, 5)
    target = entries[2]
    _tamper("UPDATE credit_platform_auditentry SET after = %s WHERE id = %s",
            ['{"credit_limit": "999999"}', target.pk])
    checked, brk = audit_verify(org)
    assert checked == 2 and brk.seq == 3 and brk.entry_id == target.pk
    assert "altered" in brk.problem
    with pytest.raises(CommandError) as exc:
        call_command("verify_audit")
    assert f"entry #3 (id {target.pk})" in str(exc.value)
    assert "BROKEN" in capsys.readouterr().out


def test_deleted_entry_is_detected(org):
    entries = _write(org, 4)
    _tamper("DELETE FROM credit_platform_auditentry WHERE id = %s", [entries[1].pk])
    _, brk = audit_verify(org)
    assert brk.seq == 2 and "missing" in brk.problem


def test_removed_tail_is_detected(org):
    entries = _write(org, 4)
    _tamper("DELETE FROM credit_platform_auditentry WHERE id = %s", [entries[-1].pk])
    _, brk = audit_verify(org)
    assert brk is not None and "newer entries were removed" in brk.problem


def test_intact_ledger_verifies(org, capsys):
    _write(org, 3)
    call_command("verify_audit", organization=org.slug)
    assert "3 entries, chain intact" in capsys.readouterr().out


def test_application_refuses_changes(org):
    entry = _write(org, 1)[0]
    entry.action = "forged"
    with pytest.raises(AppError):
        entry.save()
    with pytest.raises(AppError):
        entry.delete()
    with pytest.raises(AppError):
        AuditEntry.objects.filter(pk=entry.pk).update(action="forged")
    with pytest.raises(AppError):
        AuditEntry.objects.filter(pk=entry.pk).delete()


@pytest.mark.postgres
def test_database_refuses_update_and_delete(org):
    entry = _write(org, 1)[0]
    for sql in ("UPDATE credit_platform_auditentry SET action = 'x' WHERE id = %s",
                "DELETE FROM credit_platform_auditentry WHERE id = %s"):
        with pytest.raises(Exception, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [entry.pk])
    assert AuditEntry.objects.get(pk=entry.pk).action == "customer.limit_changed"
