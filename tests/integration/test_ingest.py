"""Ingest against the real database: idempotence, full accounting, atomicity, concurrency, hostile lines."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from pathlib import Path

import pytest

from orchestration.cli import main
from orchestration.config import Settings
from orchestration.db.connection import connect
from orchestration.ingest.loader import ingest_manifest
from tests.conftest import course_fixture
from tests.helpers import jsonl, ticket, write_source


def _scalar(url: str, sql: str, *params: object) -> object:
    with connect(url) as conn:
        return conn.execute(sql, params).fetchone()[0]  # type: ignore[index]


def _ingest(url: str, manifest: Path, **options: object):
    return ingest_manifest(url, manifest, settings=Settings.from_env(), **options)


MIXED = jsonl(
    ticket(1),
    ticket(2),
    ticket(1),  # the same record again: a duplicate
    ticket(1, status="in_progress", updated_at="2026-04-17T09:00:00Z", assignee_id="agent-1"),  # new version
    b'{"ticket_id": "TKT-20260417-000009", "broken',
    b"\xc3\x28",
    ticket(3, status="reopened"),
    b"",
    ticket(4, day="2025-06-01"),
)


def test_every_line_is_accounted_and_rejects_are_kept(empty_db: str, tmp_path: Path) -> None:
    result = _ingest(empty_db, write_source(tmp_path, "mixed.jsonl", MIXED))
    (f,) = result.files
    assert (f.lines_read, f.loaded, f.duplicates, f.rejected) == (9, 3, 1, 5)
    assert f.rejected_by_reason == {
        "blank_line": 1,
        "contract_enum:status": 1,
        "malformed_json": 1,
        "partition_out_of_range": 1,
        "undecodable_bytes": 1,
    }
    assert f.touched_partitions == ["2026-04-17"]
    assert _scalar(empty_db, "select count(*) from raw.ticket_events") == 3
    assert _scalar(empty_db, "select count(distinct ticket_id) from raw.ticket_events") == 2
    with connect(empty_db) as conn:
        rejects = conn.execute(
            "select line_number, reason_codes[1] from ops.ingest_rejects order by line_number"
        ).fetchall()
        ledger = conn.execute("select lines_read, loaded, duplicates, rejected from ops.ingest_ledger").fetchall()
        anchors = conn.execute(
            "select distinct manifest_id, batch_id, run_id, source_fingerprint from raw.ticket_events"
        ).fetchall()
    assert rejects == [
        (5, "malformed_json"),
        (6, "undecodable_bytes"),
        (7, "contract_enum:status"),
        (8, "blank_line"),
        (9, "partition_out_of_range"),
    ]
    assert ledger == [(9, 3, 1, 5)]
    assert anchors == [
        (result.gate.manifest_id, result.gate.batch_id, result.run_id, hashlib.sha256(MIXED).hexdigest())
    ]


def test_second_ingest_adds_nothing(empty_db: str, tmp_path: Path) -> None:
    manifest = write_source(tmp_path, "mixed.jsonl", MIXED)
    first = _ingest(empty_db, manifest)
    again = _ingest(empty_db, manifest)
    assert again.files[0].status == "already_loaded" and again.files[0].previous_run_id == first.run_id
    reread = _ingest(empty_db, manifest, reread=True)  # read it all again: fingerprints keep it idempotent
    (f,) = reread.files
    assert (f.lines_read, f.loaded, f.duplicates, f.rejected) == (9, 0, 4, 5)
    assert _scalar(empty_db, "select count(*) from raw.ticket_events") == 3
    # The same records redelivered in another file are duplicates too.
    other = write_source(tmp_path, "redelivered.jsonl", jsonl(ticket(2), ticket(1)), source_id="structured:tickets:x")
    (g,) = _ingest(empty_db, other).files
    assert (g.loaded, g.duplicates) == (0, 2)


def test_dry_run_writes_nothing(empty_db: str, tmp_path: Path) -> None:
    result = _ingest(empty_db, write_source(tmp_path, "mixed.jsonl", MIXED), dry_run=True)
    assert result.dry_run and result.files[0].loaded == 3
    for table in ("raw.ticket_events", "ops.ingest_ledger", "ops.ingest_rejects", "ops.ingest_state"):
        assert _scalar(empty_db, f"select count(*) from {table}") == 0, table


def test_file_changed_after_the_gate_leaves_tables_untouched(empty_db: str, tmp_path: Path) -> None:
    from orchestration.gate.manifest_gate import judge_manifest
    from orchestration.ingest.loader import ingest_gated

    manifest = write_source(tmp_path, "t.jsonl", jsonl(ticket(1), ticket(2)))
    gate = judge_manifest(manifest)
    (tmp_path / "data" / "t.jsonl").write_bytes(jsonl(ticket(1), ticket(2), ticket(3)))
    result = ingest_gated(empty_db, gate, settings=Settings.from_env())
    assert result.status == "failed"
    assert result.files[0].reasons[0]["code"] == "file_changed_during_ingest"
    assert _scalar(empty_db, "select count(*) from raw.ticket_events") == 0
    assert _scalar(empty_db, "select count(*) from ops.ingest_ledger") == 0


def test_oversize_line_is_rejected_without_losing_its_neighbours(
    empty_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEEK06_MAX_LINE_BYTES", "2000")
    big = ticket(2, description="x" * 5000)
    (f,) = _ingest(empty_db, write_source(tmp_path, "big.jsonl", jsonl(ticket(1), big, ticket(3)))).files
    assert (f.lines_read, f.loaded, f.rejected, f.rejected_by_reason) == (3, 2, 1, {"line_too_long": 1})
    assert _scalar(empty_db, "select raw_bytes from ops.ingest_rejects") > 5000


def test_concurrent_ingests_of_one_source_serialise(empty_db: str, tmp_path: Path) -> None:
    records = [ticket(n) for n in range(1, 301)]
    manifest = write_source(tmp_path, "many.jsonl", jsonl(*records))
    results: list = []
    threads = [threading.Thread(target=lambda: results.append(_ingest(empty_db, manifest))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(r.files[0].status for r in results)
    assert statuses == ["already_loaded", "already_loaded", "loaded"]
    assert _scalar(empty_db, "select count(*) from raw.ticket_events") == 300
    assert _scalar(empty_db, "select count(*) from ops.ingest_ledger") == 1


def test_course_seed_file_loads_unchanged(empty_db: str, tmp_path: Path, capsys) -> None:
    manifest = write_source(tmp_path, "tickets-seed-001.jsonl", course_fixture("tickets-seed-001.jsonl").read_bytes())
    assert main(["ingest", "--manifest", str(manifest), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["status"] == "success"
    assert document["totals"] == {
        "lines_read": 2,
        "loaded": 2,
        "duplicates": 0,
        "rejected": 0,
        "rejected_by_reason": {},
    }
    assert document["touched_partitions"] == ["2026-04-17"]


def test_cli_exit_codes(empty_db: str, tmp_path: Path, capsys) -> None:
    assert main(["ingest", "--manifest", str(write_source(tmp_path, "mixed.jsonl", MIXED))]) == 1
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    assert main(["gate", "--manifest", str(bad)]) == 2
    assert "manifest_malformed_json" in capsys.readouterr().err
    assert main(["gate", "--manifest", str(course_fixture("manifest_week02_practice_v1.json")), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["manifest_id"] == "manifest-week02-practice-20260420-001"


def test_bom_and_crlf_exports_load(empty_db: str, tmp_path: Path) -> None:
    content = b"\xef\xbb\xbf" + jsonl(ticket(1), ticket(2)).replace(b"\n", b"\r\n")
    (f,) = _ingest(empty_db, write_source(tmp_path, "windows.jsonl", content)).files
    assert (f.lines_read, f.loaded, f.rejected) == (2, 2, 0)


def test_run_refuses_partitions_out_of_range(capsys) -> None:
    assert main(["run", "--partition", "2025-12-31"]) == 2
    assert "partition_out_of_range" in capsys.readouterr().err
    assert main(["run", "--start", "2026-04-17", "--end", "2026-04-10"]) == 2
    assert main(["run"]) == 2


# One line per line-level reason code (the line-length limit is lowered to 3,000 bytes below).
_NO_PRIORITY = {k: v for k, v in ticket(11).items() if k != "priority"}
CODE_LINES: list[tuple[str, bytes | dict]] = [
    ("blank_line", b"   "),
    ("undecodable_bytes", b"\xff\xfe{}"),
    ("malformed_json", b'{"ticket_id": "TKT-20260417-000009", "broken'),
    ("not_an_object", b'["TKT-20260417-000001"]'),
    ("contract_enum:status", ticket(12, status="reopened")),
    ("contract_required:priority", json.dumps(_NO_PRIORITY).encode()),
    ("contract_format:created_at", ticket(13, created_at="yesterday")),
    ("contract_additional_properties:csat_score", ticket(14, csat_score=5)),
    ("nul_character", ticket(15, subject="a\u0000b")),
    ("invalid_unicode", json.dumps(ticket(16, subject="\ud800")).encode()),
    ("invalid_timestamp", ticket(17, updated_at="9999-12-31T23:59:59-23:59")),
    ("partition_out_of_range", ticket(18, day="2025-06-01")),
    ("line_too_long", ticket(19, description="x" * 4000)),
]


def test_every_line_reason_code_is_reachable(empty_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEEK06_MAX_LINE_BYTES", "3000")
    content = jsonl(ticket(1), *(line for _, line in CODE_LINES), ticket(2))
    (f,) = _ingest(empty_db, write_source(tmp_path, "codes.jsonl", content)).files
    expected = {code: 1 for code, _ in CODE_LINES}
    assert f.rejected_by_reason == expected
    assert (f.lines_read, f.loaded, f.duplicates, f.rejected) == (len(CODE_LINES) + 2, 2, 0, len(CODE_LINES))
    with connect(empty_db) as conn:
        kept = dict(conn.execute("select reason_codes[1], line_number from ops.ingest_rejects").fetchall())
    assert kept == {code: n for n, (code, _) in enumerate(CODE_LINES, 2)}


def test_file_unreadable_after_the_gate(empty_db: str, tmp_path: Path) -> None:
    from orchestration.gate.manifest_gate import judge_manifest
    from orchestration.ingest.loader import ingest_gated

    gate = judge_manifest(write_source(tmp_path, "gone.jsonl", jsonl(ticket(1))))
    (tmp_path / "data" / "gone.jsonl").unlink()
    (f,) = ingest_gated(empty_db, gate, settings=Settings.from_env()).files
    assert (f.status, f.reasons[0]["code"]) == ("failed", "file_unreadable")
    assert _scalar(empty_db, "select count(*) from ops.ingest_ledger") == 0


def test_database_error_rolls_back_only_that_file(empty_db: str, tmp_path: Path) -> None:
    """A file the database refuses (here: a constraint a DBA added) leaves nothing; the next file loads."""
    good = write_source(tmp_path, "good.jsonl", jsonl(ticket(1), ticket(2)))
    bad = write_source(tmp_path, "bad.jsonl", jsonl(ticket(3), ticket(4, customer_id="cust-blocked")))
    with connect(empty_db) as conn:
        conn.execute(
            "alter table raw.ticket_events add constraint test_no_blocked check (customer_id <> 'cust-blocked')"
        )
        conn.commit()
    try:
        (failed,) = _ingest(empty_db, bad).files
        (loaded,) = _ingest(empty_db, good).files
    finally:
        with connect(empty_db) as conn:
            conn.execute("alter table raw.ticket_events drop constraint test_no_blocked")
            conn.commit()
    assert (failed.status, failed.reasons[0]["code"]) == ("failed", "database_error")
    assert "test_no_blocked" in failed.reasons[0]["message"]
    assert (loaded.status, loaded.loaded) == ("loaded", 2)
    assert _scalar(empty_db, "select count(*) from raw.ticket_events") == 2
    assert _scalar(empty_db, "select count(*) from ops.ingest_ledger") == 1


def test_database_unreachable_exits_3_without_the_password(tmp_path: Path, monkeypatch, capsys) -> None:
    manifest = write_source(tmp_path, "t.jsonl", jsonl(ticket(1)))
    monkeypatch.setenv("DATABASE_URL", "postgresql://factory:s3cret-pw@127.0.0.1:1/nowhere?connect_timeout=2")
    assert main(["ingest", "--manifest", str(manifest), "--json"]) == 3
    out, err = capsys.readouterr()
    assert "database_unreachable" in out + err
    assert "s3cret-pw" not in out + err


def test_late_versions_touch_their_creation_partition(empty_db: str, tmp_path: Path) -> None:
    late = ticket(5, day="2026-04-14", status="resolved", updated_at="2026-04-17T10:00:00Z")
    result = _ingest(empty_db, write_source(tmp_path, "late.jsonl", jsonl(ticket(1), late)))
    assert result.touched_partitions == ["2026-04-14", "2026-04-17"]
    assert result.to_dict()["touched_partitions"] == ["2026-04-14", "2026-04-17"]


def test_duplicates_across_chunks_and_runs_are_found(
    empty_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Redelivered records far apart in one file (different chunks), then in another source's file."""
    from orchestration.ingest import chunks

    monkeypatch.setattr(chunks, "CHUNK_BYTES", 256 * 1024)  # about 40 chunks
    monkeypatch.setattr(chunks, "READ_BLOCK", 64 * 1024)
    records = [ticket(n) for n in range(1, 12_001)]
    content = jsonl(*records, *records[:1000])  # the first 1,000 again, 11,000 lines later
    assert len(content) > 20 * chunks.CHUNK_BYTES
    (first,) = _ingest(empty_db, write_source(tmp_path, "big.jsonl", content)).files
    assert (first.lines_read, first.loaded, first.duplicates) == (13_000, 12_000, 1_000)
    assert first.write_path == "direct"
    other = write_source(tmp_path, "other.jsonl", jsonl(*records[5000:5500], ticket(20_000)), source_id="structured:x")
    (second,) = _ingest(empty_db, other).files
    assert (second.loaded, second.duplicates) == (1, 500)
    assert _scalar(empty_db, "select count(*) from raw.ticket_events") == 12_001


@pytest.mark.parametrize("workers", [0, 1], ids=["in_process", "parse_workers"])
def test_concurrent_writer_of_the_same_records_is_survived(
    empty_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    """Another transaction inserts one of our records while our COPY runs: the unique index stops
    the COPY, the file is redone on the conflict-safe path, and the record counts as a duplicate.
    On the parse-worker path the redo needs workers again (the aborted pass stopped them)."""
    from orchestration.ingest import chunks, loader
    from orchestration.ingest.records import RECORD_COLUMNS, RecordParser, TicketVersion
    from orchestration.partitions import partition_bounds

    monkeypatch.setenv("WEEK06_INGEST_WORKERS", str(workers))
    monkeypatch.setattr(loader, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(chunks, "CHUNK_BYTES", 64 * 1024)  # many chunks: the conflict comes mid-file

    records = [ticket(n) for n in range(1, 2001)]
    manifest = write_source(tmp_path, "race.jsonl", jsonl(*records))
    version = RecordParser(*partition_bounds(Settings.from_env())).parse(1, json.dumps(records[200]).encode())
    assert isinstance(version, TicketVersion)
    other = connect(empty_db)
    columns = ", ".join(RECORD_COLUMNS)
    placeholders = ", ".join(["%s"] * len(RECORD_COLUMNS))
    other.execute(
        f"insert into raw.ticket_events ({columns}, manifest_id, batch_id, run_id, source_id, "
        f"source_fingerprint, ingested_at) values ({placeholders}, 'm', 'b', 'other-run', 'other', 'x', now())",
        version.row,
    )  # not committed yet: invisible to the ingest's probe, but it holds the unique key
    results: list = []
    worker = threading.Thread(target=lambda: results.append(_ingest(empty_db, manifest)))
    worker.start()
    with connect(empty_db) as watcher:  # commit only once the ingest's COPY waits on our row's key
        watcher.autocommit = True  # pg_stat_activity is frozen for the length of a transaction

        def copy_is_blocked() -> bool:
            return bool(
                watcher.execute(
                    "select count(*) from pg_stat_activity "
                    "where wait_event_type = 'Lock' and wait_event = 'transactionid'"
                ).fetchone()[0]  # type: ignore[index]
            )

        waited = 0.0
        while not copy_is_blocked():
            assert worker.is_alive(), "the ingest ended without waiting on the key"
            assert waited < 60, "the ingest never waited on the key"
            time.sleep(0.05)
            waited += 0.05
    other.commit()
    other.close()
    worker.join(timeout=120)
    (f,) = results[0].files
    assert (f.status, f.lines_read, f.loaded, f.duplicates) == ("loaded", 2000, 1999, 1), f.reasons
    assert f.write_path == "conflict_safe"
    assert _scalar(empty_db, "select count(*) from raw.ticket_events") == 2000


def _state(url: str) -> tuple:
    with connect(url) as conn:
        raw = conn.execute(
            "select record_fingerprint, ticket_id, partition_date, created_at, updated_at, customer_id, assignee_id,"
            " payload::text, source_line from raw.ticket_events order by record_fingerprint"
        ).fetchall()
        ledger = conn.execute(
            "select lines_read, loaded, duplicates, rejected, rejected_by_reason, touched_partitions"
            " from ops.ingest_ledger order by source_id"
        ).fetchall()
        rejects = conn.execute(
            "select line_number, reason_codes, detail, raw_excerpt, raw_bytes"
            " from ops.ingest_rejects order by line_number"
        ).fetchall()
        state = conn.execute("select cursor_value from ops.ingest_state").fetchall()
    return raw, ledger, rejects, state


ODD_TEXT = [
    ticket(20_040, customer_id="cust\ttab\\back\nnew\rret", assignee_id="agent\\x", subject='q"uote\\d \u2028 é'),
    ticket(20_041, customer_id="\\N", assignee_id="\x01\x02", subject="\\N"),
    ticket(20_042, created_at="2026-04-17t23:59:59.9999999z", updated_at="2026-04-18T01:30:00+02:00"),
    ticket(
        20_043, customer_id="😀 \u2028", resolved_at="0001-01-01T00:00:00Z", sla_due_at="9999-12-31T23:59:59.999999Z"
    ),
    ticket(20_044, updated_at=None, resolved_at="1999-12-31T23:59:59.999999-00:30", sla_due_at=None),
]


def test_parse_workers_give_exactly_the_in_process_result(
    empty_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same file through worker processes and in-process: identical rows, ledger, rejects, state;
    and odd text (tabs, backslashes, newlines, \\N, control characters) stored exactly."""
    from orchestration.ingest import chunks, loader

    monkeypatch.setenv("WEEK06_MAX_LINE_BYTES", "3000")
    monkeypatch.setattr(chunks, "CHUNK_BYTES", 256 * 1024)
    monkeypatch.setattr(chunks, "READ_BLOCK", 64 * 1024)
    records = [ticket(n) for n in range(1, 12_001)]
    content = jsonl(*records, *(line for _, line in CODE_LINES), *ODD_TEXT, *records[:700])
    manifest = write_source(tmp_path, "both.jsonl", content)
    states = []
    for workers, threshold in (("0", loader.PARALLEL_MIN_BYTES), ("2", 0)):
        monkeypatch.setenv("WEEK06_INGEST_WORKERS", workers)
        monkeypatch.setattr(loader, "PARALLEL_MIN_BYTES", threshold)
        (f,) = _ingest(empty_db, manifest, reread=True).files
        assert (f.status, f.loaded, f.duplicates, f.rejected) == ("loaded", 12_005, 700, len(CODE_LINES))
        states.append(_state(empty_db))
        with connect(empty_db) as conn:
            conn.execute("truncate raw.ticket_events, ops.ingest_ledger, ops.ingest_rejects, ops.ingest_state")
            conn.commit()
    assert states[0] == states[1]
    by_ticket = {row[1]: row for row in states[0][0]}
    odd = by_ticket["TKT-20260417-020040"]
    assert (odd[5], odd[6]) == ("cust\ttab\\back\nnew\rret", "agent\\x")
    assert json.loads(odd[7])["subject"] == 'q"uote\\d \u2028 é'
    assert (by_ticket["TKT-20260417-020041"][5], by_ticket["TKT-20260417-020041"][6]) == ("\\N", "\x01\x02")
    assert str(by_ticket["TKT-20260417-020042"][3]) == "2026-04-17 23:59:59.999999+00:00"  # truncated, same day
    # Every stored row holds exactly its version's values (rows travel in binary COPY).
    from orchestration.ingest.records import RECORD_COLUMNS, RecordParser, TicketVersion
    from orchestration.partitions import partition_bounds

    parser = RecordParser(*partition_bounds(Settings.from_env()))
    expected = {}
    for number, raw in enumerate(content.splitlines(), 1):
        version = parser.parse(number, raw) if len(raw) <= 3000 else None  # WEEK06_MAX_LINE_BYTES above
        if isinstance(version, TicketVersion) and version.fingerprint not in expected:
            *values, payload, line = version.row
            expected[version.fingerprint] = (*values, json.loads(payload), line)
    with connect(empty_db) as conn:
        conn.execute("truncate raw.ticket_events, ops.ingest_ledger, ops.ingest_rejects, ops.ingest_state")
        conn.commit()
    _ingest(empty_db, manifest, reread=True)
    with connect(empty_db) as conn:
        stored = conn.execute(f"select {', '.join(RECORD_COLUMNS)} from raw.ticket_events").fetchall()
    assert len(stored) == len(expected) == 12_005
    assert {row[0]: tuple(row) for row in stored} == expected


def test_a_dead_parse_worker_fails_the_file_and_leaves_nothing(
    empty_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    from orchestration.ingest import loader, workers

    monkeypatch.setenv("WEEK06_INGEST_WORKERS", "1")
    monkeypatch.setattr(loader, "PARALLEL_MIN_BYTES", 0)
    # A worker that reads its setup and part of a chunk, then dies.
    monkeypatch.setattr(workers, "WORKER_COMMAND", [sys.executable, "-c", "import sys; sys.stdin.buffer.read(5000)"])
    (f,) = _ingest(empty_db, write_source(tmp_path, "w.jsonl", jsonl(*(ticket(n) for n in range(1, 3001))))).files
    assert (f.status, f.reasons[0]["code"]) == ("failed", "ingest_worker_failed")
    for table in ("raw.ticket_events", "ops.ingest_ledger", "ops.ingest_rejects", "ops.ingest_state"):
        assert _scalar(empty_db, f"select count(*) from {table}") == 0, table


def test_a_read_error_in_the_middle_of_a_big_file_fails_it_cleanly(
    empty_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file goes away half-read (an I/O error while the parse workers run): file_unreadable."""
    from orchestration.ingest import chunks, loader, writer

    monkeypatch.setenv("WEEK06_INGEST_WORKERS", "1")
    monkeypatch.setattr(loader, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(chunks, "CHUNK_BYTES", 64 * 1024)
    monkeypatch.setattr(chunks, "READ_BLOCK", 16 * 1024)
    real = chunks.read_chunks

    def failing(handle, limit, digest, chunk_bytes=None):
        for n, chunk in enumerate(real(handle, limit, digest, chunk_bytes)):
            if n == 10:
                raise OSError(5, "Input/output error")
            yield chunk

    monkeypatch.setattr(writer, "read_chunks", failing)
    manifest = write_source(tmp_path, "io.jsonl", jsonl(*(ticket(n) for n in range(1, 3001))))
    (f,) = _ingest(empty_db, manifest).files
    assert f.status == "failed", f
    assert f.reasons[0]["code"] == "file_unreadable"
    assert "Input/output error" in f.reasons[0]["message"]
    for table in ("raw.ticket_events", "ops.ingest_ledger", "ops.ingest_rejects", "ops.ingest_state"):
        assert _scalar(empty_db, f"select count(*) from {table}") == 0, table


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", (0, 0, 0)),
        (b"\xef\xbb\xbf", (0, 0, 0)),
        (b"\n\n", (2, 0, 2)),
        (b"\xef\xbb\xbf\r\n", (1, 0, 1)),
        (jsonl(ticket(1)).rstrip(b"\n"), (1, 1, 0)),  # no final newline
    ],
)
def test_degenerate_files_are_accounted(
    empty_db: str, tmp_path: Path, content: bytes, expected: tuple[int, int, int]
) -> None:
    (f,) = _ingest(empty_db, write_source(tmp_path, "odd.jsonl", content)).files
    assert (f.status, (f.lines_read, f.loaded, f.rejected)) == ("loaded", expected)
    assert f.size_bytes == len(content)


def test_rejects_over_the_cap_are_counted_not_stored(empty_db: str, tmp_path: Path) -> None:
    """WEEK06_MAX_REJECT_ROWS: the first N rejected lines of a file are kept as rows, the rest only
    counted; the ledger still balances (rejected = kept rows + rejects_not_stored)."""
    from dataclasses import replace

    content = jsonl(ticket(1), *[b"{bad"] * 6, b"", ticket(2), b"[1]")
    settings = replace(Settings.from_env(), max_reject_rows=3)
    result = ingest_manifest(empty_db, write_source(tmp_path, "capped.jsonl", content), settings=settings)
    (f,) = result.files
    assert (f.lines_read, f.loaded, f.rejected, f.rejects_not_stored) == (10, 2, 8, 5)
    assert f.rejected_by_reason == {"blank_line": 1, "malformed_json": 6, "not_an_object": 1}
    with connect(empty_db) as conn:
        kept = [n for (n,) in conn.execute("select line_number from ops.ingest_rejects order by 1")]
        ledger = conn.execute("select rejected, rejects_not_stored from ops.ingest_ledger").fetchone()
    assert kept == [2, 3, 4] and ledger == (8, 5)
