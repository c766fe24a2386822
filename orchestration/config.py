"""The one place that reads the environment: project paths and settings as a frozen dataclass."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CONTRACTS_DIR = PROJECT_ROOT / "contracts"
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
SEEDS_DIR = PROJECT_ROOT / "seeds"
# `make docs-static` writes the dbt docs site as one file here.
DBT_DOCS_STATIC_FILE = PROJECT_ROOT / "reports" / "dbt_docs" / "index.html"

DEFAULT_PARTITION_START = "2026-01-01"
DEFAULT_PARTITION = "2026-04-17"
DEFAULT_DATABASE_NAME = "support_factory"


def _path_from_env(name: str, default: Path) -> Path:
    raw = os.environ.get(name)
    if not raw:
        return default
    path = Path(raw).expanduser()
    return path if path.is_absolute() else (PROJECT_ROOT / path)


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def _git_sha() -> str | None:
    head = PROJECT_ROOT / ".git" / "HEAD"
    try:
        ref = head.read_text().strip()
        if ref.startswith("ref: "):
            ref_path = PROJECT_ROOT / ".git" / ref[5:]
            if ref_path.exists():
                return ref_path.read_text().strip()
            packed = PROJECT_ROOT / ".git" / "packed-refs"
            for line in packed.read_text().splitlines() if packed.exists() else []:
                if line.endswith(" " + ref[5:]):
                    return line.split(" ", 1)[0]
            return None
        return ref or None
    except OSError:
        return None


def _hour(raw: str | None) -> int:
    """WEEK06_DAILY_SCHEDULE_HOUR: the UTC hour (0-23) by which a day's batch is expected; 6 by default."""
    if not raw:
        return 6
    hour = int(raw)
    if not 0 <= hour <= 23:
        raise ValueError(f"WEEK06_DAILY_SCHEDULE_HOUR must be an hour 0-23, got {raw!r}")
    return hour


def _default_ingest_workers() -> int:
    # One core stays with the writer and PostgreSQL; the rest parse (at most 4).
    return max(0, min(4, (os.cpu_count() or 1) - 1))


@dataclass(frozen=True)
class Settings:
    """Settings read once from the environment (DESIGN.md section 8)."""

    database_url: str | None
    pg_data_dir: Path
    database_name: str
    report_dir: Path
    manifest_dir: Path
    source_root: Path | None
    partition_start: date
    default_partition: date
    trace_id: str | None
    release_id: str | None
    git_sha: str | None
    lakehouse_enabled: bool
    analytics_enabled: bool
    dagster_home: Path
    dbt_docs_url: str
    max_line_bytes: int = field(default=1_048_576)
    # Processes that parse big files beside the one that writes; 0 parses in-process.
    ingest_workers: int = field(default=1)
    # Automation (docs/automation.md): schedules and sensors start stopped unless switched on.
    automation_enabled: bool = field(default=False)
    daily_schedule_hour: int = field(default=6)
    observation_cron: str = field(default="*/15 * * * *")

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        return cls(
            database_url=env.get("DATABASE_URL") or None,
            pg_data_dir=_path_from_env("WEEK06_PG_DATA_DIR", PROJECT_ROOT / ".local" / "pg"),
            database_name=env.get("WEEK06_DATABASE_NAME") or DEFAULT_DATABASE_NAME,
            report_dir=_path_from_env("WEEK06_REPORT_DIR", PROJECT_ROOT / "reports" / "week06"),
            manifest_dir=_path_from_env("WEEK06_MANIFEST_DIR", SEEDS_DIR / "manifests"),
            source_root=(_path_from_env("WEEK06_SOURCE_ROOT", SEEDS_DIR) if env.get("WEEK06_SOURCE_ROOT") else None),
            partition_start=date.fromisoformat(env.get("WEEK06_PARTITION_START_DATE") or DEFAULT_PARTITION_START),
            default_partition=date.fromisoformat(env.get("WEEK06_DEFAULT_PARTITION") or DEFAULT_PARTITION),
            trace_id=env.get("TRACE_ID") or None,
            release_id=env.get("RELEASE_ID") or None,
            git_sha=env.get("GIT_SHA") or _git_sha(),
            lakehouse_enabled=_flag("LAKEHOUSE_ENABLED"),
            analytics_enabled=_flag("ANALYTICS_ENABLED"),
            dagster_home=_path_from_env("DAGSTER_HOME", PROJECT_ROOT / ".local" / "dagster"),
            dbt_docs_url=(env.get("DBT_DOCS_URL") or "http://127.0.0.1:8080").rstrip("/"),
            max_line_bytes=int(env.get("WEEK06_MAX_LINE_BYTES") or 1_048_576),
            ingest_workers=int(env.get("WEEK06_INGEST_WORKERS") or _default_ingest_workers()),
            automation_enabled=_flag("WEEK06_AUTOMATION_ENABLED"),
            daily_schedule_hour=_hour(env.get("WEEK06_DAILY_SCHEDULE_HOUR")),
            observation_cron=env.get("WEEK06_OBSERVATION_CRON") or "*/15 * * * *",
        )
