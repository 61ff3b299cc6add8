"""Re-scores after imports wait for the batch, so that no half-loaded book is graded.

Loading a customer's invoices before its payments once re-scored every customer at grade 10 (PD 62.8%)
for a moment, leaving 200 grade changes in the ledger. An import therefore does not re-score at once:
it notes its customers under a per-organization sequence number in the cache and schedules one re-score
``SCORING_IMPORT_RESCORE_DELAY_SECONDS`` later. When the re-score runs, it does nothing if a later import
has been noted since (that one's re-score will come); the last import of a batch re-scores the customers
of every import of the batch, once.

* With a broker: a Celery task with a countdown (``scoring.refresh_after_imports``); the cache must be
  shared (Redis: ``REDIS_URL``). Without a shared cache a re-score cannot see later imports and simply
  re-scores its own customers (correct, just not debounced).
* Embedded mode (no broker): a timer thread of the process; ``flush_pending`` runs what is pending at
  once (the ``import`` command calls it before it exits, so a one-off command still ends up re-scored).
* A delay of 0 re-scores right after the commit, as single records (API, admin) always do.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

from django.conf import settings
from django.core.cache import cache
from django.db import close_old_connections, connections, transaction

logger = logging.getLogger(__name__)

# Long enough for any batch of imports to finish; the nightly run re-scores everyone anyway.
KEY_TTL = 2 * 24 * 3600

_lock = threading.Lock()
# Embedded mode: the pending timer of each organization in this process, with its sequence number.
_pending: dict[int, tuple[threading.Timer, int, list[int]]] = {}


def _seq_key(organization_id: int) -> str:
    return f"scoring:rescore:{organization_id}:seq"


def _ids_key(organization_id: int, seq: int) -> str:
    return f"scoring:rescore:{organization_id}:ids:{seq}"


def _done_key(organization_id: int) -> str:
    return f"scoring:rescore:{organization_id}:done"


def rescore_after_import(organization_id: int, customer_ids: Iterable[int]) -> None:
    """Call inside the import's transaction: the customers are noted once it commits."""
    ids = sorted({int(c) for c in customer_ids})
    if ids:
        transaction.on_commit(lambda: note_import(organization_id, ids), robust=True)


def note_import(organization_id: int, ids: list[int]) -> None:
    from .tasks import refresh_after_imports, refresh_customers

    delay = settings.SCORING_IMPORT_RESCORE_DELAY_SECONDS
    if delay <= 0:
        refresh_customers.delay(organization_id, ids)
        return
    cache.add(_seq_key(organization_id), 0, KEY_TTL)
    try:
        seq = cache.incr(_seq_key(organization_id))
    except ValueError:  # expired between add and incr
        cache.set(_seq_key(organization_id), 1, KEY_TTL)
        seq = 1
    cache.set(_ids_key(organization_id, seq), ids, KEY_TTL)
    if settings.CELERY_TASK_ALWAYS_EAGER:
        _schedule_here(organization_id, seq, ids, delay)
    else:
        refresh_after_imports.apply_async((organization_id, seq, ids), countdown=delay)


def refresh_after_imports(organization_id: int, seq: int, ids: list[int]) -> int:
    """The re-score of import ``seq``: nothing if a later import was noted since; else the customers of
    this import and of every earlier one not yet re-scored, once. Returns the scores written."""
    from .services import score_refresh_customers

    current = cache.get(_seq_key(organization_id))
    if current is not None and current != seq:
        return 0  # superseded: the last import of the batch re-scores these customers too
    done = cache.get(_done_key(organization_id), 0)
    if done >= seq:
        done = 0
    keys = [_ids_key(organization_id, k) for k in range(done + 1, seq)] if current is not None else []
    batch = set(ids)
    for earlier in cache.get_many(keys).values():
        batch.update(earlier)
    written = score_refresh_customers(organization_id, sorted(batch))
    cache.set(_done_key(organization_id), seq, KEY_TTL)
    cache.delete_many([*keys, _ids_key(organization_id, seq)])
    return written


def _schedule_here(organization_id: int, seq: int, ids: list[int], delay: float) -> None:
    timer = threading.Timer(delay, _fire, args=(organization_id, seq, ids))
    timer.daemon = True
    with _lock:
        previous = _pending.get(organization_id)
        _pending[organization_id] = (timer, seq, ids)
    if previous is not None:
        previous[0].cancel()  # it would find itself superseded anyway
    timer.start()


def _fire(organization_id: int, seq: int, ids: list[int]) -> None:
    with _lock:
        entry = _pending.get(organization_id)
        if entry is not None and entry[1] == seq:
            del _pending[organization_id]
    close_old_connections()
    try:
        refresh_after_imports(organization_id, seq, ids)
    except Exception:  # a failed re-score is retried by the nightly run; the thread must not die loudly
        logger.exception("re-score after the imports of organization %s failed", organization_id)
    finally:
        connections.close_all()


def pending_timers() -> list[threading.Timer]:
    with _lock:
        return [entry[0] for entry in _pending.values()]


def flush_pending() -> int:
    """Embedded mode: run the pending re-scores of this process now (a command about to exit)."""
    with _lock:
        entries = list(_pending.items())
        _pending.clear()
    written = 0
    for organization_id, (timer, seq, ids) in entries:
        timer.cancel()
        written += refresh_after_imports(organization_id, seq, ids)
    return written
