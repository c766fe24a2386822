"""Locate the dbt project and executable, turn a partition range into dbt vars, keep the manifest fresh."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

from orchestration.config import DBT_PROJECT_DIR, PROJECT_ROOT, Settings

MACROS_DIR = PROJECT_ROOT / "macros"
TARGET_DIR = DBT_PROJECT_DIR / "target"
MANIFEST_PATH = TARGET_DIR / "manifest.json"
PARTIAL_PARSE_NAME = "partial_parse.msgpack"
WINDOW_VAR_NAMES = ("partition_date", "partition_start", "partition_end")


def dbt_executable() -> str:
    """The dbt next to this interpreter (works without an activated venv), else the one on PATH."""
    beside = Path(sys.executable).parent / "dbt"
    if beside.exists():
        return str(beside)
    found = shutil.which("dbt")
    if found is None:
        raise FileNotFoundError("dbt is not installed in this environment (pip install dbt-postgres)")
    return found


def window_vars(first: date, last: date) -> dict[str, str]:
    """dbt vars for the inclusive partition range first..last (one day -> partition_date)."""
    if last < first:
        raise ValueError(f"partition range ends before it starts: {first}..{last}")
    if first == last:
        return {"partition_date": first.isoformat()}
    return {"partition_start": first.isoformat(), "partition_end": (last + timedelta(days=1)).isoformat()}


def vars_arg(first: date, last: date) -> str:
    return json.dumps(window_vars(first, last))


def window_env(first: date, last: date) -> dict[str, str]:
    """The window as the env vars the partition_window macro reads when no var is given.

    The Dagster job passes its window this way rather than as `--vars`: dbt hashes the command
    line vars into its saved parse (target/partial_parse.msgpack) and re-parses the whole project
    whenever they change, i.e. for every new partition; the macro reads these at execution only.
    """
    given = window_vars(first, last)
    # All three, the unused ones empty: a value left in the caller's environment never mixes in.
    return {f"WEEK06_WINDOW_{name.upper()}": given.get(name, "") for name in WINDOW_VAR_NAMES}


def keep_partial_parse(invocation_target: Path, target_dir: Path = TARGET_DIR) -> bool:
    """Make an invocation's saved parse the project's, so that the next invocation starts from it.

    dagster-dbt gives each invocation its own target folder and seeds it with the project's
    target/partial_parse.msgpack, but never writes the result back: without this, every run
    would start from the parse of `dbt parse` (whose profile and vars may differ from a build's).
    """
    produced = invocation_target / PARTIAL_PARSE_NAME
    if not produced.exists():
        return False
    target_dir.mkdir(parents=True, exist_ok=True)
    staging = target_dir / f".{PARTIAL_PARSE_NAME}.{os.getpid()}"
    shutil.copyfile(produced, staging)
    os.replace(staging, target_dir / PARTIAL_PARSE_NAME)  # atomic: concurrent runs read a whole file
    return True


def _newest_source_mtime() -> float:
    newest = 0.0
    for folder in (DBT_PROJECT_DIR / "models", DBT_PROJECT_DIR / "tests", DBT_PROJECT_DIR / "docs", MACROS_DIR):
        for path in folder.rglob("*"):
            if path.is_file():
                newest = max(newest, path.stat().st_mtime)
    for name in ("dbt_project.yml", "profiles.yml"):
        path = DBT_PROJECT_DIR / name
        if path.exists():
            newest = max(newest, path.stat().st_mtime)
    return newest


def manifest_is_stale() -> bool:
    return not MANIFEST_PATH.exists() or MANIFEST_PATH.stat().st_mtime < _newest_source_mtime()


def connection_env() -> dict[str, str]:
    """The libpq variables a build runs with (DATABASE_URL, else the embedded server if it is up).

    dbt hashes the profile's connection (host, port, user, database) into its saved parse: a
    `dbt parse` under other values than the builds' would make the next build re-parse it all.
    Nothing is started here; with no server up, the environment stays as it is.
    """
    from orchestration.db import embedded
    from orchestration.db.connection import ConnectionParams, DatabaseUnreachable

    try:
        url = embedded.database_url(Settings.from_env(), start=False)
    except DatabaseUnreachable:
        return {}
    return ConnectionParams.from_url(url).as_env()


def ensure_manifest(env: dict[str, str] | None = None) -> Path:
    """Run `dbt parse` when the manifest is missing or older than the project files; return its path."""
    if not manifest_is_stale():
        return MANIFEST_PATH
    completed = subprocess.run(
        [dbt_executable(), "parse", "--quiet", "--no-send-anonymous-usage-stats"],
        cwd=DBT_PROJECT_DIR,
        env={**os.environ, **(connection_env() if env is None else env), "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR)},
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0 or not MANIFEST_PATH.exists():
        raise RuntimeError(
            "dbt_parse_failed: `dbt parse` failed in dbt_project/:\n"
            + (completed.stdout[-2000:] + completed.stderr[-2000:])
        )
    os.utime(MANIFEST_PATH)  # parse may leave an older mtime when nothing changed
    return MANIFEST_PATH


def prune_invocation_dirs(keep: int = 20) -> int:
    """dagster-dbt gives every invocation its own folder under target/; keep only the newest."""
    dirs = sorted(
        (p for p in TARGET_DIR.glob("*-*") if p.is_dir() and (p / "run_results.json").exists()),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for stale in dirs[keep:]:
        shutil.rmtree(stale, ignore_errors=True)
    return max(0, len(dirs) - keep)


def engine_env(settings: Settings) -> dict[str, str]:
    """What dbt's profiles.yml reads to pick and place the engine (absolute paths: dbt runs in dbt_project/)."""
    return {
        "WEEK06_DBT_TARGET": settings.dbt_target,
        "WEEK06_LAKE_ROOT": settings.lake_root,
        "WEEK06_SPARK_DIR": str(settings.spark_dir),
    }
