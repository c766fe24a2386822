"""Every command answers: one JSON document under --json whatever the exit code, the documented exit
code for each kind of failure (2 input, 3 environment, 130 interrupted), never a raw traceback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from orchestration.cli import main
from orchestration.db.connection import connect
from orchestration.generate import generate
from tests.helpers import jsonl, ticket, write_source


def _one_document(out: str) -> dict:
    document = json.loads(out)  # exactly one JSON value on stdout, nothing else
    assert isinstance(document, dict)
    return document


@pytest.mark.parametrize(
    ("argv", "exit_code", "reason"),
    [
        (["ingest", "--manifest", "no/such/manifest.json"], 2, "manifest_missing"),
        (["gate", "--manifest", "no/such/manifest.json"], 2, "manifest_missing"),
        (["run", "--partition", "2025-12-31"], 2, "partition_out_of_range"),
        (["run", "--start", "2026-04-17"], 2, "invalid_argument"),
        (["evidence", "--partition", "2026-01-02"], 1, None),  # a day no test runs: no evidence
    ],
)
def test_json_on_every_exit_code(argv: list[str], exit_code: int, reason: str | None, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main([*argv, "--json"]) == exit_code
    captured = capsys.readouterr()
    document = _one_document(captured.out)
    if reason is not None:  # the gate's own unreadable report (gate_report_v1) lists it among its reasons
        assert document.get("reason_code", reason) == reason and reason in json.dumps(document)
        assert document.get("exit_code", exit_code) == exit_code and reason in captured.err
    assert "Traceback" not in captured.err


def test_ingest_json_when_the_database_is_unreachable(tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    manifest = write_source(tmp_path, "t.jsonl", jsonl(ticket(1)))
    monkeypatch.setenv("DATABASE_URL", "postgresql://factory:s3cret-pw@127.0.0.1:1/nowhere?connect_timeout=2")
    assert main(["ingest", "--manifest", str(manifest), "--json"]) == 3
    captured = capsys.readouterr()
    document = _one_document(captured.out)
    assert (document["reason_code"], document["exit_code"]) == ("database_unreachable", 3)
    assert "s3cret-pw" not in captured.out + captured.err


@pytest.mark.parametrize("variable", ["WEEK06_REPORT_DIR", "DAGSTER_HOME"])
def test_run_with_an_unwritable_folder_exits_3(
    pg_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys,
    variable: str,  # type: ignore[no-untyped-def]
) -> None:
    """A folder that cannot be created or written (here: below a regular file, which stops root
    too) is an environment failure found before the run starts: exit 3, reason code, JSON."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(variable, str(blocker / "below"))
    assert main(["run", "--partition", "2026-04-17", "--json"]) == 3
    captured = capsys.readouterr()
    document = _one_document(captured.out)
    assert (document["reason_code"], document["success"]) == ("folder_not_writable", False)
    assert variable in document["message"] and "Traceback" not in captured.err


def test_ctrl_c_during_an_ingest_exits_130_without_a_traceback(empty_db: str, tmp_path: Path) -> None:
    """SIGINT while a file is being loaded: exit 130, one JSON document, the file's transaction
    rolled back (nothing of it in any table), no traceback on stderr."""
    generate(tmp_path, date(2026, 4, 10), 1, 12000, seed=3)
    manifest = next((tmp_path / "manifests").glob("*.json"))
    command = [sys.executable, "-m", "orchestration.cli", "ingest", "--manifest", str(manifest), "--json"]
    victim = subprocess.Popen(
        command, env=dict(os.environ, DATABASE_URL=empty_db), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )

    def in_transaction() -> bool:
        with connect(empty_db) as conn:
            return bool(conn.execute("select count(*) from pg_locks where locktype = 'advisory'").fetchone()[0])

    deadline = time.monotonic() + 60
    while not in_transaction():
        assert victim.poll() is None and time.monotonic() < deadline, "the ingest never opened its transaction"
        time.sleep(0.02)
    victim.send_signal(signal.SIGINT)
    out, err = victim.communicate(timeout=60)
    if victim.returncode == 0 or victim.returncode == 1:
        pytest.skip("the file committed before the signal arrived")  # pragma: no cover - timing
    assert victim.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert _one_document(out)["reason_code"] == "interrupted"
    with connect(empty_db) as conn:
        for table in ("raw.ticket_events", "ops.ingest_ledger", "ops.ingest_rejects", "ops.ingest_state"):
            assert conn.execute(f"select count(*) from {table}").fetchone()[0] == 0, table  # type: ignore[index]
