# Two commands for a newcomer: `make run` (demo on http://127.0.0.1:8000) and `make test`.
# Both use the virtual environment in .venv, created on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
RUNTIME := $(VENV)/.runtime-installed
DEV := $(VENV)/.dev-installed

.PHONY: run test lint install dev-install worker beat reset bench clean constraints

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# constraints.txt pins every package (direct and indirect), so a newcomer, CI and production install the
# versions the suite passed with.
$(RUNTIME): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install -q -c constraints.txt -e .
	touch $@

$(DEV): pyproject.toml constraints.txt $(RUNTIME)
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'
	touch $@

install: $(RUNTIME)
dev-install: $(DEV)

run: $(RUNTIME)
	$(BIN)/python manage.py compile_catalogs
	$(BIN)/python manage.py migrate --noinput -v0
	$(BIN)/python manage.py seed_demo
	@echo "Serving http://127.0.0.1:8000 (Ctrl-C to stop)"
	$(BIN)/python manage.py runserver 127.0.0.1:8000

test: $(DEV)
	$(BIN)/python manage.py compile_catalogs
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
	$(BIN)/pip install -q -c constraints.txt -e '.[bench]'
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# Start over with an empty embedded database (the demo is re-seeded by the next `make run`).
reset:
	rm -f var/db.sqlite3

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .mypy_cache .ruff_cache

# Re-pin constraints.txt from a fresh environment with every extra (after editing pyproject.toml).
constraints:
	rm -rf /tmp/credit-constraints-venv
	$(PYTHON) -m venv /tmp/credit-constraints-venv
	/tmp/credit-constraints-venv/bin/pip install -q --upgrade pip
	/tmp/credit-constraints-venv/bin/pip install -q -e '.[dev,bench]'
	{ echo "# Every package the project installs, pinned: make run, make test and CI install with -c constraints.txt."; \
	  echo "# Regenerate with 'make constraints' after changing pyproject.toml."; \
	  /tmp/credit-constraints-venv/bin/pip freeze --exclude-editable | grep -v '^credit-platform' | sort -f; } > constraints.txt
	rm -rf /tmp/credit-constraints-venv
