"""Configuration from the environment: embedded defaults, services by URL, a clean deploy check."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'engine': s.DATABASES['default']['ENGINE'], 'eager': s.CELERY_TASK_ALWAYS_EAGER, "
    "'broker': s.CELERY_BROKER_URL, 'cache': s.CACHES['default']['BACKEND']}))"
)


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in {
        "DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_SECRET_KEY",
        "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env.update(extra)
    return env


def _probe(tmp_path, **extra):
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=True,
        env=_env(DJANGO_SETTINGS_MODULE="credit_platform.settings.local", CREDIT_VAR_DIR=str(tmp_path), **extra),
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_embedded_defaults_without_environment(tmp_path):
    cfg = _probe(tmp_path)
    assert cfg["engine"] == "django.db.backends.sqlite3"
    assert cfg["eager"] is True and cfg["broker"] == ""
    assert cfg["cache"].endswith("LocMemCache")


def test_services_from_urls(tmp_path):
    cfg = _probe(tmp_path, DATABASE_URL="postgres://u@db.example:5432/credit",
                 CELERY_BROKER_URL="redis://127.0.0.1:6379/1", REDIS_URL="redis://127.0.0.1:6379/0")
    assert cfg["engine"] == "django.db.backends.postgresql"
    assert cfg["eager"] is False and cfg["broker"] == "redis://127.0.0.1:6379/1"
    assert cfg["cache"].endswith("RedisCache")


def test_production_check_deploy_prints_no_warning(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"], cwd=ROOT, capture_output=True, text=True,
        env=_env(DJANGO_SETTINGS_MODULE="credit_platform.settings.production",
                 DJANGO_SECRET_KEY=secrets.token_urlsafe(64), DJANGO_ALLOWED_HOSTS="credit.example.com",
                 DATABASE_URL=f"sqlite:///{tmp_path}/prod.sqlite3", CREDIT_VAR_DIR=str(tmp_path)),
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues (0 silenced)." in output
    assert "WARNING" not in output


def test_production_refuses_to_start_without_secret(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, capture_output=True, text=True,
        env=_env(DJANGO_SETTINGS_MODULE="credit_platform.settings.production", DJANGO_ALLOWED_HOSTS="x",
                 DATABASE_URL="sqlite:///x.db", CREDIT_VAR_DIR=str(tmp_path)),
    )
    assert result.returncode != 0 and "DJANGO_SECRET_KEY" in result.stderr
