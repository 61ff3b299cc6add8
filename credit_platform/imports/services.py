"""Writes of the import pages: keep an uploaded file, log it and queue its import (audited).

The import itself runs as the Celery task ``imports.run`` (``tasks.import_run`` -> ``engine.run_import``),
on a worker when a broker is configured. In embedded mode (no broker: tasks run in-process) a file larger
than ``IMPORT_INLINE_MAX_BYTES`` runs on a background thread of the web process, so that the request
answers at once and the import page follows the import (it refreshes while queued or running).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connections, transaction

from credit_platform.audit import audit_append
from credit_platform.models import ImportLog, Organization

logger = logging.getLogger(__name__)

# Background imports of this process (embedded mode), so that a test or a shutdown can wait for them.
BACKGROUND: list[threading.Thread] = []


def _store(organization: Organization, file_name: str, chunks: Iterable[bytes]) -> tuple[Path, int]:
    folder = Path(settings.MEDIA_ROOT) / "imports" / str(organization.pk)
    folder.mkdir(parents=True, exist_ok=True)
    stored = folder / f"{uuid.uuid4().hex}{Path(file_name).suffix.lower()}"
    size = 0
    with open(stored, "wb") as fh:
        for chunk in chunks:
            fh.write(chunk)
            size += len(chunk)
    return stored, size


@transaction.atomic
def import_enqueue(*, organization: Organization, kind: str, file_name: str, chunks: Iterable[bytes], user: Any,
                   dry_run: bool = False, encoding: str = "utf-8") -> ImportLog:
    """Keep the upload, log it as queued (in the ledger: who sent which file) and start its import once
    this transaction commits."""
    stored, size = _store(organization, file_name, chunks)
    log = ImportLog.objects.create(
        organization=organization, kind=kind, file_name=file_name[:255], stored_path=str(stored),
        user=user if getattr(user, "is_authenticated", False) else None, dry_run=dry_run,
    )
    audit_append(organization=organization, actor=user, action="import.queued", obj=log,
                 after={"kind": kind, "file": log.file_name, "bytes": size, "dry_run": dry_run})
    # robust: the import's own failure is recorded in its log, never turned into an error of the upload
    transaction.on_commit(lambda: _dispatch(log.pk, encoding, size), robust=True)
    return log


def _dispatch(log_id: int, encoding: str, size: int) -> None:
    from .tasks import import_run

    if settings.CELERY_TASK_ALWAYS_EAGER and size > settings.IMPORT_INLINE_MAX_BYTES:
        thread = threading.Thread(target=_run_in_background, args=(log_id, encoding), daemon=True,
                                  name=f"import-{log_id}")
        BACKGROUND[:] = [t for t in BACKGROUND if t.is_alive()]
        BACKGROUND.append(thread)
        thread.start()
        return
    import_run.delay(log_id, encoding)


def _run_in_background(log_id: int, encoding: str) -> None:
    from .tasks import import_run

    close_old_connections()
    try:
        import_run.apply(args=(log_id, encoding), throw=False)
    except Exception:  # the log records the failure (run_import); nothing else may break the thread
        logger.exception("background import %s failed", log_id)
    finally:
        connections.close_all()
