"""A scratch PostgreSQL database for a benchmark: created from DATABASE_URL's server, migrated, dropped."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


@contextlib.contextmanager
def scratch_database(name: str, *, keep: bool = False, reuse: str | None = None) -> Iterator[str]:
    """A database named ``<name>_<pid>`` on DATABASE_URL's server, dropped afterwards; with ``keep`` it is
    left in place (its name printed) so that a later run can pass it as ``reuse`` and skip building its
    data; a reused database is never dropped (drop it with ``dropdb`` when done)."""
    import psycopg

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL=postgres://user@host:5432/db (benchmarks run on PostgreSQL).")
    parts = urlparse(url)
    admin = urlunparse(parts._replace(path="/postgres"))
    db = reuse or f"{name}_{os.getpid()}"
    if reuse is None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{db}"')
    scratch = urlunparse(parts._replace(path=f"/{db}"))
    try:
        yield scratch
    finally:
        from django.db import connections

        connections.close_all()
        if keep or reuse is not None:
            print(f"scratch database kept: {db} (reuse it with --reuse {db}; drop it with dropdb)")
        else:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "credit_platform.settings.local")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    t = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"scratch database migrated in {time.perf_counter() - t:.1f}s")


def result_line(figure: str, value: float, baseline: float, target: str, met: bool, unit: str = "") -> str:
    ratio = value / baseline if baseline else float("inf")
    return (f"RESULT {figure}={value:.3f}{unit} baseline={baseline:.3f}{unit} ratio={ratio:.2f} "
            f"target={target} met={'yes' if met else 'no'}")
