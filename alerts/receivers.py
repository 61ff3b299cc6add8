"""Decoupled hook: a file import that wrote data feeding an indicator queues the evaluation of the
customers it touched, after commit. Very large imports (a first load of a whole book) are left to the
nightly sweep, which reads the book set-based anyway."""

from __future__ import annotations

from typing import Any

FEEDING_KINDS = {"statements", "signals", "payments", "invoices", "credit_notes", "orders"}
IMPORT_EVENT_MAX_CUSTOMERS = 5000


def on_import_written(sender: Any, organization: Any, kind: str, customer_ids: list[int], **kwargs: Any) -> None:
    if kind in FEEDING_KINDS and 0 < len(customer_ids) <= IMPORT_EVENT_MAX_CUSTOMERS:
        from .services import evaluate_on_commit

        evaluate_on_commit(organization.pk, customer_ids)
