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


def ensure_manifest(env: dict[str, str] | None = None) -> Path:
    """Run `dbt parse` when the manifest is missing or older than the project files; return its path."""
    if not manifest_is_stale():
        return MANIFEST_PATH
    completed = subprocess.run(
        [dbt_executable(), "parse", "--quiet", "--no-send-anonymous-usage-stats"],
        cwd=DBT_PROJECT_DIR,
        env={**os.environ, **(env or {}), "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR)},
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
