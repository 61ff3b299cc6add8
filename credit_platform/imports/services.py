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
def import_enqueue(*, organization: Organization, kind: str, file_name: str, chunks: Iterable[bytes] = (), user: Any,
                   dry_run: bool = False, encoding: str = "utf-8", options: dict[str, Any] | None = None,
                   stored: Path | None = None) -> ImportLog:
    """Keep the upload, log it as queued (in the ledger: who sent which file) and start its import once
    this transaction commits. ``stored``: a file kept already (a staged upload being imported after its
    mapping), imported from where it is."""
    if stored is None:
        stored, size = _store(organization, file_name, chunks)
    else:
        size = stored.stat().st_size
    log = ImportLog.objects.create(
        organization=organization, kind=kind, file_name=file_name[:255], stored_path=str(stored),
        user=user if getattr(user, "is_authenticated", False) else None, dry_run=dry_run,
    )
    audit_append(organization=organization, actor=user, action="import.queued", obj=log,
                 after={"kind": kind, "file": log.file_name, "bytes": size, "dry_run": dry_run,
                        "options": options or {}})
    # robust: the import's own failure is recorded in its log, never turned into an error of the upload
    transaction.on_commit(lambda: _dispatch(log.pk, encoding, size, options), robust=True)
    return log


def _dispatch(log_id: int, encoding: str, size: int, options: dict[str, Any] | None = None) -> None:
    from .tasks import import_run

    if settings.CELERY_TASK_ALWAYS_EAGER and size > settings.IMPORT_INLINE_MAX_BYTES:
        thread = threading.Thread(target=_run_in_background, args=(log_id, encoding, options), daemon=True,
                                  name=f"import-{log_id}")
        BACKGROUND[:] = [t for t in BACKGROUND if t.is_alive()]
        BACKGROUND.append(thread)
        thread.start()
        return
    import_run.delay(log_id, encoding, options)


def _run_in_background(log_id: int, encoding: str, options: dict[str, Any] | None = None) -> None:
    from .tasks import import_run

    close_old_connections()
    try:
        import_run.apply(args=(log_id, encoding, options), throw=False)
    except Exception:  # the log records the failure (run_import); nothing else may break the thread
        logger.exception("background import %s failed", log_id)
    finally:
        connections.close_all()


def mapping_for(organization: Organization, kind: str) -> Any:
    """The organization's saved mapping for files of ``kind``, or None."""
    from .models import ColumnMapping

    return ColumnMapping.objects.for_organization(organization).filter(kind=kind).first()


@transaction.atomic
def mapping_save(*, organization: Organization, kind: str, columns: dict[str, str], defaults: dict[str, str],
                 file_format: dict[str, str], encoding: str = "utf-8", actor: Any = None) -> Any:
    """Keep how this organization's files of ``kind`` are read, for the next file (in the ledger when it
    changes: a mapping decides which column becomes an amount or a date)."""
    from .mapping import norm_header
    from .models import ColumnMapping
    from .spec import FileFormat

    FileFormat.from_dict(file_format)  # refuses an unknown format (ValueError)
    columns = {norm_header(k): v for k, v in columns.items()}
    defaults = {k: v for k, v in defaults.items() if str(v).strip() != ""}
    stored = ColumnMapping.objects.select_for_update().filter(organization=organization, kind=kind).first()
    after = {"columns": columns, "defaults": defaults, "format": file_format, "encoding": encoding}
    before = ({"columns": stored.columns, "defaults": stored.defaults, "format": stored.file_format,
               "encoding": stored.encoding} if stored else None)
    if before == after and stored is not None:
        return stored
    mapping = stored or ColumnMapping(organization=organization, kind=kind)
    mapping.columns, mapping.defaults, mapping.file_format, mapping.encoding = columns, defaults, file_format, encoding
    mapping.updated_by = actor if getattr(actor, "is_authenticated", False) else None
    mapping.save()
    audit_append(organization=organization, actor=actor, action="import_mapping.saved", obj=mapping,
                 before=before, after=after)
    return mapping


@transaction.atomic
def historical_load_start(*, organization: Organization, actor: Any = None) -> Any:
    """Open the organization's historical load (or return the open one): until it is completed, imports
    re-score nothing and the nightly re-score, dunning and alert runs leave the organization alone, so that
    no half-loaded book is graded, dunned or alerted on."""
    from .models import HistoricalLoad

    Organization.objects.select_for_update().get(pk=organization.pk)
    load = HistoricalLoad.objects.for_organization(organization).filter(status=HistoricalLoad.Status.OPEN).first()
    if load is not None:
        return load
    load = HistoricalLoad.objects.create(organization=organization,
                                         started_by=actor if getattr(actor, "is_authenticated", False) else None)
    audit_append(organization=organization, actor=actor, action="historical_load.started", obj=load,
                 after={"status": load.status})
    return load
