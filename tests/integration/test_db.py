"""`data-factory db`: a real embedded PostgreSQL that starts, is idempotent, stops and recovers from kill -9."""

from __future__ import annotations

import json
import os
import signal
import tempfile
import time
from pathlib import Path

import psycopg
import pytest

from orchestration.cli import main
from tests.conftest import SESSION_ROOT


@pytest.fixture()
def own_server(monkeypatch: pytest.MonkeyPatch):
    # A server of its own: this test stops and kills it, which must not touch the session's server.
    # Under the session's private root, not pytest's numbered temp dirs: a concurrent pytest session
    # on the same machine prunes those, and would pull the data directory from under the server.
    root = Path(tempfile.mkdtemp(prefix="dbup-", dir=SESSION_ROOT))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("WEEK06_PG_DATA_DIR", str(root / "pg"))
    yield root
    main(["db", "down"])


def _status(capsys: pytest.CaptureFixture[str]) -> tuple[int, dict]:
    capsys.readouterr()
    code = main(["db", "status", "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_up_is_idempotent_down_stops_and_kill_is_recovered(own_server: Path, capsys) -> None:
    code, before = _status(capsys)
    assert code == 3 and before["running"] is False and before["detail"] == "not initialised"

    assert main(["db", "up"]) == 0
    code, first = _status(capsys)
    assert code == 0 and first["running"] and first["mode"] == "embedded"

    assert main(["db", "up"]) == 0  # second up: same server, nothing restarted
    _, second = _status(capsys)
    assert second["pid"] == first["pid"]

    assert main(["db", "url"]) == 0
    url = capsys.readouterr().out.strip()
    with psycopg.connect(url) as conn:
        assert conn.execute("select current_database()").fetchone()[0] == os.environ["WEEK06_DATABASE_NAME"]
        assert conn.execute("select to_regclass('raw.ticket_events') is not null").fetchone()[0]

    os.kill(first["pid"], signal.SIGKILL)  # a crashed server leaves its pid and lock files behind
    time.sleep(0.5)
    code, dead = _status(capsys)
    assert code == 3 and not dead["running"]
    assert main(["db", "up"]) == 0
    code, revived = _status(capsys)
    assert code == 0 and revived["running"] and revived["pid"] != first["pid"]

    assert main(["db", "down"]) == 0
    code, stopped = _status(capsys)
    assert code == 3 and stopped["detail"] == "stopped"
    assert main(["db", "down"]) == 0  # stopping a stopped server is fine


def test_env_prints_exports_for_dbt(own_server: Path, capsys) -> None:
    assert main(["db", "up"]) == 0
    capsys.readouterr()
    assert main(["db", "env"]) == 0
    lines = capsys.readouterr().out.splitlines()
    exported = dict(line.removeprefix("export ").split("=", 1) for line in lines if line.startswith("export "))
    assert {"PGHOST", "PGPORT", "PGUSER", "PGDATABASE"} <= exported.keys()
    assert exported["PGDATABASE"] == f"'{os.environ['WEEK06_DATABASE_NAME']}'"


def test_unreachable_database_url_is_exit_3_without_password(monkeypatch, capsys) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://scott:tiger-secret@127.0.0.1:1/nowhere")
    assert main(["db", "status"]) == 3
    assert main(["ingest", "--manifest", "/nonexistent.json"]) in (2, 3)
    captured = capsys.readouterr()
    assert "tiger-secret" not in captured.out + captured.err
