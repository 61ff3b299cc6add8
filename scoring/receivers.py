"""Decoupled hooks: new payment, statement or signal data -> re-score the customer after commit.

File imports announce what they wrote (``imports.engine.import_written``); their re-score waits for the
batch (``rescore``: several imports in a row, e.g. a customer's invoices and then its payments, lead to
one re-score after the last, so that no half-loaded book is graded). Single records saved through the
API or the admin (``post_save``) queue a refresh of their customer at once. Work is deferred with
``transaction.on_commit``: a rolled-back write re-scores nothing, and the score reads the committed data.
"""

from __future__ import annotations

from typing import Any

from . import services
from .rescore import flush_pending, rescore_after_import

# Kinds of data that feed the features (customers' own rows are scored by the nightly run).
FEEDING_KINDS = {"statements", "signals", "payments", "invoices", "credit_notes", "orders", "invoice_export"}


def on_import_written(sender: Any, organization: Any, kind: str, customer_ids: list[int], **kwargs: Any) -> None:
    if kind in FEEDING_KINDS:
        rescore_after_import(organization.pk, customer_ids)


def on_imports_ending(sender: Any, **kwargs: Any) -> None:
    flush_pending()


def on_record_saved(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    if raw or not getattr(instance, "customer_id", None):
        return  # fixtures loading, or a record without a customer
    services.refresh_on_commit(instance.organization_id, [instance.customer_id])
