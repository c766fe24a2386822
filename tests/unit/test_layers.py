"""The layering holds: the import contracts agree with each other, and importing code does no work.

`make lint` runs the contracts themselves (lint-imports, configured in pyproject.toml); these tests
guard what the contracts cannot say.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _contracts() -> dict[str, dict[str, object]]:
    config = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    return {c["id"]: c for c in config["contracts"]}


def test_every_core_module_is_forbidden_dagster() -> None:
    contracts = _contracts()
    layers = contracts["layers"]["layers"]
    assert isinstance(layers, list)
    core_layer = {name.strip() for name in layers[-1].split(":")}
    present = {name for name in core_layer if not name.startswith("(")}
    optional = {name.strip("()") for name in core_layer - present}
    present |= {name for name in optional if (PROJECT_ROOT / "orchestration" / f"{name}.py").exists()}
    forbidden_sources = contracts["core-without-dagster"]["source_modules"]
    assert isinstance(forbidden_sources, list)
    assert {m.removeprefix("orchestration.") for m in forbidden_sources} == present - {"bench", "bench_dbt"}


def test_the_cli_door_is_the_module_the_runner_allows() -> None:
    """The one CLI module let through to the runner is the one the runner lets in, and it exists."""
    contracts = _contracts()
    door = contracts["cli-door"]["ignore_imports"]
    allowed = contracts["runner-for-cli"]["allowed_importers"]
    assert isinstance(allowed, list) and len(allowed) == 1
    assert door == [f"{allowed[0]} -> orchestration.defs.runner"]
    assert allowed[0].startswith("orchestration.cli.")
    assert (PROJECT_ROOT / (allowed[0].replace(".", "/") + ".py")).is_file()


def test_importing_the_cli_loads_no_dagster_dbt_or_database_driver() -> None:
    """`data-factory --help` and `data-factory gate` stay quick: the commands import the core inside themselves."""
    script = """
import sys
import orchestration.cli, orchestration.cli.parser
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {"dagster", "dagster_dbt", "dbt", "psycopg"})
heavy += sorted(m for m in sys.modules if m.startswith("orchestration.defs"))
sys.exit(", ".join(heavy) or None)
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]


def test_importing_the_dagster_layer_reads_no_environment_and_runs_no_dbt() -> None:
    """A bad start date and a dbt that must not run: importing still works; building the definitions does not."""
    script = """
import subprocess, sys

real_popen = subprocess.Popen

class NoDbt(real_popen):
    def __init__(self, args, *rest, **kwargs):
        if "dbt" in str(args):
            raise AssertionError(f"dbt ran at import time: {args}")
        super().__init__(args, *rest, **kwargs)

subprocess.Popen = NoDbt
import orchestration.cli, orchestration.definitions, orchestration.defs.assembly, orchestration.defs.runner
import orchestration.cli.commands.job, orchestration.cli.parser
import orchestration.defs.dbt_models, orchestration.defs.partitions, orchestration.defs.jobs, orchestration.defs.sensors
import orchestration.defs.lake
try:
    orchestration.definitions.defs()
except ValueError as exc:
    print("built lazily:", exc)
else:
    sys.exit("the bad start date was never read")
"""
    env = {"PATH": "/usr/bin:/bin", "WEEK06_PARTITION_START_DATE": "not-a-date", "HOME": str(PROJECT_ROOT)}
    done = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "built lazily" in done.stdout
