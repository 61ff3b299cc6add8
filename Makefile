# Two commands for a newcomer: `make run` (demo on http://127.0.0.1:8000) and `make test`.
# Both use the virtual environment in .venv, created on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
RUNTIME := $(VENV)/.runtime-installed
DEV := $(VENV)/.dev-installed

.PHONY: run test lint install dev-install worker beat reset bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(RUNTIME): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(DEV): pyproject.toml $(RUNTIME)
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

install: $(RUNTIME)
dev-install: $(DEV)

run: $(RUNTIME)
	$(BIN)/python manage.py migrate --noinput -v0
	$(BIN)/python manage.py seed_demo
	@echo "Serving http://127.0.0.1:8000 (Ctrl-C to stop)"
	$(BIN)/python manage.py runserver 127.0.0.1:8000

test: $(DEV)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(DEV)
	$(BIN)/ruff check .
	$(BIN)/mypy .

# Production-like processes (need CELERY_BROKER_URL, e.g. redis://127.0.0.1:6379/1).
worker: $(RUNTIME)
	$(BIN)/celery -A credit_platform worker --loglevel=INFO --concurrency=2

beat: $(RUNTIME)
	$(BIN)/celery -A credit_platform beat --loglevel=INFO

bench: $(DEV)
	$(BIN)/pip install -q -e '.[bench]'
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# Start over with an empty embedded database (the demo is re-seeded by the next `make run`).
reset:
	rm -f var/db.sqlite3

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .mypy_cache .ruff_cache
