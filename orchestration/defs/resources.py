"""The course's resources: week06_postgres, week06_minio, week06_reports (plus `dbt`, in definitions.py).

Settings come from the environment when used (never from code, never shown as config): a DSN
password or an object-store secret never reaches the Dagster UI, a log line or a repr.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

from dagster import ConfigurableResource
from dagster_dbt import DbtCliResource
from packaging import version

from orchestration.config import Settings
from orchestration.db import embedded
from orchestration.db.connection import ConnectionParams, DatabaseUnreachable, connect, redact
from orchestration.db.schema import ensure_schema
from orchestration.sources.object_store import ObjectStoreConfig
from orchestration.transform.dbt_project import engine_env


class Week06PostgresResource(ConfigurableResource):
    """The factory's database: DATABASE_URL, or the embedded server under WEEK06_PG_DATA_DIR."""

    def settings(self) -> Settings:
        return Settings.from_env()

    def database_url(self) -> str:
        """The URL (may carry a password: pass it to a driver, never print it), schema ensured."""
        url = embedded.database_url(self.settings())
        with connect(url) as conn:
            ensure_schema(conn)
        return url

    @property
    def masked_url(self) -> str:
        """The URL with its password masked (starts nothing: says so when the embedded server is down)."""
        try:
            return redact(embedded.database_url(self.settings(), start=False))
        except DatabaseUnreachable:
            return "not running (embedded PostgreSQL; `data-factory db up`)"

    def export_dbt_env(self) -> str:
        """Expose the connection (libpq variables) and the engine (target, lake, Spark folder) to dbt's
        profiles.yml: dbt runs as a subprocess."""
        url = self.database_url()
        os.environ.update(ConnectionParams.from_url(url).as_env())
        os.environ.update(engine_env(self.settings()))
        return url


class Week06MinioResource(ConfigurableResource):
    """The object store s3:// sources are read from: the course's MINIO_ENDPOINT, MINIO_ACCESS_KEY and
    MINIO_SECRET_KEY (plus MINIO_REGION, MINIO_SECURE), as orchestration.sources.object_store reads them.

    Without MINIO_ENDPOINT it is `not_configured`, and says so; s3:// files are then
    `not_available` (remote_source_not_configured). It never pretends to work.
    """

    def config(self) -> ObjectStoreConfig:
        """The store's configuration for the gate and the ingest (its repr never shows a key)."""
        return Settings.from_env().object_store

    @property
    def endpoint(self) -> str | None:
        """The endpoint as it may be shown (scheme, host, port), None when not configured."""
        config = self.config()
        return config.shown_endpoint if config.configured else None

    @property
    def access_key(self) -> str | None:
        return self.config().access_key

    def secret_key(self) -> str | None:
        """The secret, for a client library only: never log, print or put it in metadata."""
        return self.config().secret_key

    @property
    def configured(self) -> bool:
        return self.config().configured

    @property
    def status(self) -> str:
        return "configured" if self.configured else "not_configured"

    def describe(self) -> dict[str, object]:
        """What may be shown: the endpoint, region, whether keys are set, never their values."""
        config = self.config()
        return {
            "status": self.status,
            **config.describe(),
            "access_key_set": bool(config.access_key),
            "secret_key_set": bool(config.secret_key),
        }

    def __repr__(self) -> str:
        secret = "***" if self.secret_key() else None
        return f"Week06MinioResource(status={self.status!r}, endpoint={self.endpoint!r}, secret_key={secret!r})"

    __str__ = __repr__


class Week06ReportsResource(ConfigurableResource):
    """The report folders (WEEK06_REPORT_DIR, default reports/week06) the course's files go to."""

    def settings(self) -> Settings:
        return Settings.from_env()

    @property
    def report_dir(self) -> Path:
        return self.settings().report_dir

    @property
    def run_evidence_dir(self) -> Path:
        return self.report_dir / "run_evidence"

    @property
    def backfill_dir(self) -> Path:
        return self.report_dir / "backfill"

    @property
    def delivery_dir(self) -> Path:
        return self.report_dir / "delivery_summary"


def week06_resources() -> dict[str, ConfigurableResource]:
    """The course's three resources by their course names."""
    return {
        "week06_postgres": Week06PostgresResource(),
        "week06_minio": Week06MinioResource(),
        "week06_reports": Week06ReportsResource(),
    }


class FactoryDbtCliResource(DbtCliResource):
    """dagster-dbt's CLI resource, minus the dbt adapter it builds in the run's own process.

    Before starting each dbt subprocess, dagster-dbt 0.29 loads dbt's profile, project and
    adapter in the calling process (seconds of imports, before dbt itself can start), only to
    fetch column metadata or row counts on request. The factory requests neither; dagster-dbt
    treats a missing adapter as supported (it is what it does for the dbt Fusion engine).
    """

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> Any:
        return None

    @cached_property
    def _cli_version(self) -> version.Version:
        """The version of the dbt that runs, without starting it.

        dagster-dbt 0.29 learns it by running `dbt --version` before every dbt invocation: a whole
        dbt process start, which also asks PyPI for the latest release (2.0-3.1 s measured here, on
        the critical path of every run, and at the mercy of the network). When the executable is
        the dbt installed beside this interpreter, it is the dbt-core this process can import, so
        its version is read from the package; any other executable is asked as dagster-dbt does.
        """
        beside = Path(sys.executable).parent / "dbt"
        if beside.exists() and Path(self.dbt_executable).resolve() == beside.resolve():
            from dbt.version import __version__ as installed

            return version.parse(installed)
        return super()._cli_version
