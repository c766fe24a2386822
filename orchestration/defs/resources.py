"""Resources: settings and the database URL come from the environment, never from code."""

from __future__ import annotations

import os

from dagster import ConfigurableResource

from orchestration.config import Settings
from orchestration.db import embedded
from orchestration.db.connection import ConnectionParams, connect
from orchestration.db.schema import ensure_schema
from orchestration.transform.dbt_project import engine_env


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
        """Expose the connection (libpq variables) and the engine (target, lake, Spark folder) to dbt's
        profiles.yml: dbt runs as a subprocess."""
        url = self.database_url()
        os.environ.update(ConnectionParams.from_url(url).as_env())
        os.environ.update(engine_env(self.settings()))
        return url
