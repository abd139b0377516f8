# One-command set-up: every target creates .venv (with uv, for speed) and installs the provider and
# the sandbox distribution (sandbox/) with their test extras when missing, so a fresh machine needs
# only python3 (>= 3.11).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: venv test test-deps lint unit demo bench fault-matrix clean

$(STAMP): pyproject.toml sandbox/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check uv
	$(BIN)/uv pip install -q --python $(BIN)/python -e ".[test]" -e "./sandbox[test]"
	# The editable build leaves an egg-info in the tree; seen from the repo root it would register the
	# provider's plugin twice (Airflow warns "already registered"). The installed dist-info is what counts.
	rm -rf airflow_provider_binance_loan.egg-info sandbox/src/binance_loan_sandbox.egg-info
	touch $(STAMP)

venv: $(STAMP)

## System packages pip cannot provide (redis-server for the shared-budget tests); no-op when present.
test-deps:
	bash scripts/install_test_deps.sh

## The test command (CI runs exactly this): lint, type-check, then the whole suite (the provider's
## tests/ and the sandbox's sandbox/tests, see testpaths in pyproject.toml).
test: venv test-deps lint
	$(BIN)/python -m pytest -q

lint: venv
	$(BIN)/ruff check airflow_binance_loan dags tests bench scripts sandbox
	$(BIN)/mypy

unit: venv
	$(BIN)/python -m pytest -q tests/unit

## The main job: month-end settlement against the local sandbox, end to end.
demo: venv
	$(BIN)/python scripts/demo.py

bench: venv test-deps
	$(BIN)/python bench/pacing.py
	$(BIN)/python bench/overhead.py
	$(BIN)/python bench/shared_budget.py --accounts 120 360
	$(BIN)/python bench/import_cost.py

fault-matrix: venv
	$(BIN)/python bench/fault_matrix.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

## The real-deployment test tier (CI runs it after `make test`): PostgreSQL, the sandbox, Airflow's
## api-server, scheduler, dag-processor and triggerer as separate processes on 127.0.0.1, the
## scenarios through the REST API and CLI, and the UI in Debian's Chromium. Installs what is missing
## (apt, the e2e extra), stops everything at the end, prints the results folder. See e2e/README.md.
## `make e2e EXECUTOR=celery`: CeleryExecutor with Redis and two workers instead of LocalExecutor.
EXECUTOR ?= local
.PHONY: e2e
e2e: venv
	$(BIN)/ruff check e2e
	EXECUTOR=$(EXECUTOR) bash e2e/run.sh
