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

DEFAULT_PARTITION_START = "2026-01-01"
DEFAULT_PARTITION = "2026-04-17"
DEFAULT_DATABASE_NAME = "support_factory"


def _path_from_env(name: str, default: Path) -> Path:
    raw = os.environ.get(name)
    if not raw:
        return default
    path = Path(raw).expanduser()
    return path if path.is_absolute() else (PROJECT_ROOT / path)


def _location_from_env(name: str, default: Path) -> str:
    """A folder or a URL (s3://...): URLs are kept as written, paths made absolute like _path_from_env."""
    raw = (os.environ.get(name) or "").strip()
    if "://" in raw:
        return raw.rstrip("/")
    return str(_path_from_env(name, default))


DBT_TARGETS = ("postgres", "spark")


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
    # The dbt target (engine) that builds staging/silver/gold: postgres (default) or spark.
    dbt_target: str = field(default="postgres")
    # Where raw rows land as parquet for Spark (a folder; s3:// is refused until supported).
    lake_root: str = field(default=str(PROJECT_ROOT / ".local" / "lake"))
    # Spark's warehouse (silver, gold as parquet) and its embedded Derby metastore.
    spark_dir: Path = field(default=PROJECT_ROOT / ".local" / "spark")
    # Processes that parse big files beside the one that writes; 0 parses in-process.
    ingest_workers: int = field(default=1)

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
            dbt_target=(env.get("WEEK06_DBT_TARGET") or "postgres").strip(),
            lake_root=_location_from_env("WEEK06_LAKE_ROOT", PROJECT_ROOT / ".local" / "lake"),
            spark_dir=_path_from_env("WEEK06_SPARK_DIR", PROJECT_ROOT / ".local" / "spark"),
        )
