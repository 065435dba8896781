# LienHiep — the commands a developer needs. `make run` and `make test` work on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: install run test test-unit lint format bench docs clean compose-check

# Install exactly what uv.lock pins (uv itself comes from PyPI if missing).
$(VENV)/.installed: pyproject.toml uv.lock
	@command -v uv >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --disable-pip-version-check uv
	uv sync --frozen --python $(PYTHON)
	@touch $@

install: $(VENV)/.installed

run: install
	$(PY) -m deploy.local

# Lint and types first (seconds), then every test.
test: lint
	$(PY) -m pytest $(PYTEST_ARGS)

test-unit: install
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

# Lint, format check and type check (ruff and mypy, configured in pyproject.toml).
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Each benchmark prints its figure beside the raw limit it measured in the same run.
bench: install
	$(PY) bench/bus.py
	$(PY) bench/membership_import.py
	$(PY) bench/registration_rush.py
	$(PY) bench/notifications.py
	$(PY) bench/gateway.py
	$(PY) bench/webhooks.py
	$(PY) bench/contests.py

# Regenerate the generated documents (the tests check they are current).
docs: install
	$(PY) -m shared.contracts > docs/asyncapi.json
	$(PY) -m shared.settings --rewrite README.md

# The file's secrets have no default: check it with stand-ins (tests/deploy does the same).
compose-check:
	INTERNAL_IDENTITY_SECRET=compose-check RABBITMQ_PASSWORD=compose-check docker-compose config --quiet

clean:
	rm -rf $(VENV) var .pytest_cache
