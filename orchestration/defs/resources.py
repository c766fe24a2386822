"""Resources: settings and the database URL come from the environment, never from code."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from dagster import ConfigurableResource
from dagster_dbt import DbtCliResource

from orchestration.config import Settings
from orchestration.db import embedded
from orchestration.db.connection import ConnectionParams, connect
from orchestration.db.schema import ensure_schema


class FactoryResource(ConfigurableResource):  # type: ignore[misc]
    """Access to the factory's settings and database (DATABASE_URL or the embedded server)."""

    def settings(self) -> Settings:
        return Settings.from_env()

    def database_url(self) -> str:
        settings = self.settings()
        url = embedded.database_url(settings)
        with connect(url) as conn:
            ensure_schema(conn)
        return url

    def export_dbt_env(self) -> str:
        """Expose the connection as libpq variables for dbt's profiles.yml (dbt runs as a subprocess)."""
        url = self.database_url()
        os.environ.update(ConnectionParams.from_url(url).as_env())
        return url


class FactoryDbtCliResource(DbtCliResource):  # type: ignore[misc]
    """dagster-dbt's CLI resource, minus the dbt adapter it builds in the run's own process.

    Before starting each dbt subprocess, dagster-dbt 0.29 loads dbt's profile, project and
    adapter in the calling process (seconds of imports, before dbt itself can start), only to
    fetch column metadata or row counts on request. The factory requests neither; dagster-dbt
    treats a missing adapter as supported (it is what it does for the dbt Fusion engine).
    """

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> Any:
        return None
