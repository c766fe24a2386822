"""With a password in the DSN, nothing the product prints, logs or stores contains it: stdout and
stderr (debug logging on), Dagster's run storage and event logs (hence metadata), evidence, dbt's
artifacts and logs, and every table of the database."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from orchestration.config import DBT_PROJECT_DIR
from orchestration.db.connection import connect
from tests.helpers import jsonl, ticket, write_source

pytestmark = pytest.mark.heavy


def _files_holding(root: Path, secret: bytes) -> list[str]:
    found = []
    for path in root.rglob("*"):
        try:
            if path.is_file() and not path.is_symlink() and secret in path.read_bytes():
                found.append(str(path))
        except OSError:
            continue
    return found


def _tables_holding(url: str, secret: str) -> list[str]:
    found = []
    with connect(url) as conn:
        tables = conn.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema not in ('pg_catalog', 'information_schema') and table_type = 'BASE TABLE'"
        ).fetchall()
        for schema, table in tables:
            query = sql.SQL("select count(*) from {}.{} t where strpos(t::text, %s) > 0").format(
                sql.Identifier(schema), sql.Identifier(table)
            )
            if conn.execute(query, (secret,)).fetchone()[0]:  # type: ignore[index]
                found.append(f"{schema}.{table}")
    return found


def test_a_dsn_password_is_never_leaked(empty_db: str, tmp_path: Path) -> None:
    secret = f"pw-{uuid.uuid4().hex}"
    url = make_conninfo(empty_db, password=secret)
    env = dict(
        os.environ,
        DATABASE_URL=url,
        WEEK06_REPORT_DIR=str(tmp_path / "reports"),
        DAGSTER_HOME=str(tmp_path / "dagster"),
    )
    manifest = write_source(tmp_path / "src", "t.jsonl", jsonl(ticket(1), b"{broken", ticket(2)))
    cli = [sys.executable, "-m", "orchestration.cli", "-v"]
    commands = [
        ["ingest", "--manifest", str(manifest), "--json"],
        ["db", "url"],
        ["db", "env"],
        ["db", "status", "--json"],
        ["run", "--partition", "2026-04-17", "--json"],
        ["evidence", "--partition", "2026-04-17", "--json"],
    ]
    printed = []
    for command in commands:
        done = subprocess.run([*cli, *command], env=env, capture_output=True, text=True, timeout=900)
        assert done.returncode in (0, 1), (command, done.stderr[-2000:])
        printed.append((command[0], done.stdout + done.stderr))
    # A refused connection's error names the DSN: it must be redacted too.
    bad = make_conninfo(url, port="1", host="127.0.0.1", connect_timeout="2")
    refused = subprocess.run(
        [*cli, "ingest", "--manifest", str(manifest), "--json"],
        env=dict(env, DATABASE_URL=bad),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode == 3
    printed.append(("refused", refused.stdout + refused.stderr))

    assert [name for name, text in printed if secret in text] == []
    assert any("run_id" in text for name, text in printed if name == "run")  # the run did happen
    assert _files_holding(tmp_path / "reports", secret.encode()) == []
    assert _files_holding(tmp_path / "dagster", secret.encode()) == []
    assert list((tmp_path / "dagster").rglob("*.db")), "Dagster stored nothing: the scan proves nothing"
    assert _files_holding(DBT_PROJECT_DIR / "target", secret.encode()) == []
    assert _files_holding(DBT_PROJECT_DIR / "logs", secret.encode()) == []
    assert _tables_holding(empty_db, secret) == []
