"""The libpq parameters handed to dbt and psql (orchestration.db.connection.ConnectionParams)."""

from __future__ import annotations

import pytest

from orchestration.db.connection import ConnectionParams


def test_parts_the_url_leaves_out_come_from_libpq_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """As libpq does: a DATABASE_URL without a password (the secret kept in PGPASSWORD, as in
    infra/) must not give dbt an empty PGPASSWORD; parts the URL names win over the variables."""
    for name in ("PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PGPASSWORD", "from-env")
    monkeypatch.setenv("PGUSER", "env-user")
    env = ConnectionParams.from_url("postgresql://factory@db.example:6543/support_factory").as_env()
    assert env == {
        "PGHOST": "db.example",
        "PGPORT": "6543",
        "PGUSER": "factory",
        "PGPASSWORD": "from-env",
        "PGDATABASE": "support_factory",
    }
    assert ConnectionParams.from_url("postgresql://u:secret@h/d").password == "secret"
    monkeypatch.delenv("PGPASSWORD")
    monkeypatch.delenv("PGUSER")
    bare = ConnectionParams.from_url("postgresql:///d?host=/tmp/pg")
    assert (bare.user, bare.password, bare.port) == ("postgres", "", 5432)
