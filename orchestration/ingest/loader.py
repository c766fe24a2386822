"""Load the accepted files of one manifest into raw.ticket_events: one transaction per file.

Rows, rejects, ledger and state of a file commit together or not at all; concurrent ingests of
the same source serialise on a transaction-level advisory lock; a record's identity is its
fingerprint, so loading the same content twice adds nothing.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import psycopg

from orchestration.config import Settings
from orchestration.db.connection import connect, redact
from orchestration.db.schema import ensure_schema
from orchestration.gate.manifest_gate import AssetJudgment, GateResult, judge_manifest
from orchestration.ingest.records import RECORD_COLUMNS, RecordParser, Rejection, TicketVersion
from orchestration.partitions import partition_bounds

CHUNK_LINES = 5_000
ANCHOR_COLUMNS = ("manifest_id", "batch_id", "run_id", "source_id", "source_fingerprint", "trace_id", "ingested_at")


class FileChanged(Exception):
    reason_code = "file_changed_during_ingest"


def new_run_id() -> str:
    return f"ingest-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


@dataclass
class FileResult:
    source_id: str
    location: str
    status: str  # loaded | already_ingested | refused | failed
    source_fingerprint: str | None = None
    size_bytes: int | None = None
    lines_read: int = 0
    loaded: int = 0
    duplicates: int = 0
    rejected: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    touched_partitions: list[str] = field(default_factory=list)
    reasons: list[dict[str, str]] = field(default_factory=list)
    previous_run_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def sum_counts(files: list[dict[str, Any]]) -> dict[str, Any]:
    """Totals of per-file accounting (FileResult dicts or ledger rows)."""
    by_reason: Counter[str] = Counter()
    for f in files:
        by_reason.update({code: int(n) for code, n in (f.get("rejected_by_reason") or {}).items()})
    return {
        "lines_read": sum(int(f["lines_read"]) for f in files),
        "loaded": sum(int(f["loaded"]) for f in files),
        "duplicates": sum(int(f["duplicates"]) for f in files),
        "rejected": sum(int(f["rejected"]) for f in files),
        "rejected_by_reason": dict(sorted(by_reason.items())),
    }


@dataclass
class IngestResult:
    run_id: str
    gate: GateResult
    files: list[FileResult]
    dry_run: bool

    @property
    def status(self) -> str:
        if any(f.status == "failed" for f in self.files):
            return "failed"
        if any(f.status == "refused" or f.rejected for f in self.files):
            return "completed_with_refusals"
        return "success"

    @property
    def touched_partitions(self) -> list[str]:
        return sorted({p for f in self.files for p in f.touched_partitions})

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "manifest_id": self.gate.manifest_id,
            "batch_id": self.gate.batch_id,
            "status": self.status,
            "dry_run": self.dry_run,
            "gate_status": self.gate.status,
            "files": [f.to_dict() for f in self.files],
            "totals": sum_counts([f.to_dict() for f in self.files]),
            "touched_partitions": self.touched_partitions,
        }


def _read_lines(handle: BinaryIO, limit: int, digest: Any) -> Iterator[tuple[bytes, int]]:
    """Yield (line without its newline, true byte length); lines over `limit` come back cut short.

    Memory stays bounded by `limit` whatever the file holds.
    """
    first = True
    while True:
        piece = handle.readline(limit + 1)
        if not piece:
            return
        digest.update(piece)
        length = len(piece)
        if first:
            first = False
            piece = piece.removeprefix(b"\xef\xbb\xbf")  # the byte-order mark some exporters write
        if len(piece) > limit and not piece.endswith(b"\n"):
            while not piece.endswith(b"\n"):  # drain the rest of an oversize line
                more = handle.readline(1 << 20)
                if not more:
                    break
                digest.update(more)
                length += len(more)
                piece = more
            yield b"", -length
            continue
        line = piece[:-1] if piece.endswith(b"\n") else piece
        if line.endswith(b"\r"):
            line = line[:-1]
        yield line, length


def _copy_rows(cur: psycopg.Cursor, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    if not rows:
        return
    with cur.copy(f"copy {table} ({', '.join(columns)}) from stdin") as copy:
        for row in rows:
            copy.write_row(row)


_STAGE_DDL = """
create temp table _stage_events (
    record_fingerprint text, ticket_id text, partition_date date, created_at timestamptz,
    updated_at timestamptz, resolved_at timestamptz, sla_due_at timestamptz, status text,
    priority text, category text, product_line text, sla_tier text, customer_id text,
    assignee_id text, pii_level text, quality_gate text, payload text, source_line integer
) on commit drop;
create temp table _stage_rejects (
    line_number integer, reason_codes text[], detail text, raw_excerpt text, raw_bytes integer
) on commit drop;
"""
_REJECT_COLUMNS = ("line_number", "reason_codes", "detail", "raw_excerpt", "raw_bytes")


def _stage_file(
    cur: psycopg.Cursor, path: Path, parser: RecordParser, max_line_bytes: int
) -> tuple[str, int, int, int, Counter[str]]:
    """Parse the whole file into the stage tables; returns sha256, size, lines, valid, reject counts."""
    digest = hashlib.sha256()
    lines = valid = size = 0
    reasons: Counter[str] = Counter()
    good: list[tuple[Any, ...]] = []
    bad: list[tuple[Any, ...]] = []

    def flush() -> None:
        _copy_rows(cur, "_stage_events", RECORD_COLUMNS, good)
        _copy_rows(cur, "_stage_rejects", _REJECT_COLUMNS, bad)
        good.clear()
        bad.clear()

    with path.open("rb") as handle:
        for raw, length in _read_lines(handle, max_line_bytes, digest):
            lines += 1
            size += abs(length)
            outcome: TicketVersion | Rejection
            if length < 0:
                outcome = parser.reject(
                    lines, raw, "oversize_line", f"{-length} bytes, over the {max_line_bytes}-byte limit", -length
                )
            else:
                outcome = parser.parse(lines, raw)
            if isinstance(outcome, TicketVersion):
                valid += 1
                good.append(outcome.row)
            else:
                reasons[outcome.codes[0]] += 1
                bad.append(
                    (outcome.line_number, list(outcome.codes), outcome.detail, outcome.excerpt, outcome.raw_bytes)
                )
            if len(good) + len(bad) >= CHUNK_LINES:
                flush()
    flush()
    return digest.hexdigest(), size, lines, valid, reasons


def _ingest_file(
    conn: psycopg.Connection,
    gate: GateResult,
    asset: AssetJudgment,
    *,
    run_id: str,
    parser: RecordParser,
    settings: Settings,
    trace_id: str | None,
    dry_run: bool,
    reread: bool,
) -> FileResult:
    assert asset.path is not None and asset.sha256 is not None
    result = FileResult(asset.source_id, asset.location, "loaded", asset.sha256, asset.size_bytes)
    started = datetime.now(UTC)
    try:
        with conn.transaction(), conn.cursor() as cur:
            cur.execute("select pg_advisory_xact_lock(hashtext(%s)::bigint)", (asset.source_id,))
            if not reread:
                prior = cur.execute(
                    "select run_id from ops.ingest_ledger where source_id = %s and source_fingerprint = %s "
                    "order by ledger_id limit 1",
                    (asset.source_id, asset.sha256),
                ).fetchone()
                if prior is not None:
                    result.status = "already_ingested"
                    result.previous_run_id = prior[0]
                    result.reasons.append(
                        {"code": "already_ingested", "message": f"this exact file was loaded by run {prior[0]}"}
                    )
                    return result
            cur.execute(_STAGE_DDL)
            sha, size, lines, valid, reasons = _stage_file(cur, asset.path, parser, settings.max_line_bytes)
            if sha != asset.sha256:
                raise FileChanged(f"{asset.path} changed between the gate and the ingest")
            ingested_at = datetime.now(UTC)
            anchors = (gate.manifest_id, gate.batch_id, run_id, asset.source_id, sha, trace_id, ingested_at)
            record_cols = ", ".join(RECORD_COLUMNS).replace("payload", "payload::jsonb")
            inserted = cur.execute(
                f"""
                with ins as (
                    insert into raw.ticket_events ({", ".join(RECORD_COLUMNS)}, {", ".join(ANCHOR_COLUMNS)})
                    select distinct on (record_fingerprint) {record_cols},
                           %s, %s, %s, %s, %s, %s, %s
                    from _stage_events
                    order by record_fingerprint, source_line
                    on conflict (record_fingerprint) do nothing
                    returning partition_date
                )
                select partition_date, count(*) from ins group by partition_date order by partition_date
                """,
                anchors,
            ).fetchall()
            loaded = sum(int(n) for _, n in inserted)
            touched = [d.isoformat() for d, _ in inserted]
            rejected = sum(reasons.values())
            cur.execute(
                """
                insert into ops.ingest_rejects (run_id, manifest_id, source_id, source_path, source_fingerprint,
                    line_number, reason_codes, detail, raw_excerpt, raw_bytes, rejected_at)
                select %s, %s, %s, %s, %s, line_number, reason_codes, detail, raw_excerpt, raw_bytes, %s
                from _stage_rejects order by line_number
                """,
                (run_id, gate.manifest_id, asset.source_id, str(asset.path), sha, ingested_at),
            )
            cur.execute(
                """
                insert into ops.ingest_ledger (run_id, manifest_id, batch_id, source_id, source_path,
                    source_fingerprint, size_bytes, lines_read, loaded, duplicates, rejected,
                    rejected_by_reason, touched_partitions, trace_id, started_at, finished_at)
                values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s::date[], %s, %s, %s)
                """,
                (
                    run_id,
                    gate.manifest_id,
                    gate.batch_id,
                    asset.source_id,
                    str(asset.path),
                    sha,
                    size,
                    lines,
                    loaded,
                    valid - loaded,
                    rejected,
                    json.dumps(dict(reasons)),
                    touched,
                    trace_id,
                    started,
                    datetime.now(UTC),
                ),
            )
            window = gate.manifest.get("selection_window") or {}
            cur.execute(
                """
                insert into ops.ingest_state as s (source_id, checkpoint, cursor_field, cursor_value,
                    watermark, last_run_id, last_manifest_id, last_batch_id, updated_at)
                select %s, %s, %s, (select max(coalesce(updated_at, created_at)) from _stage_events),
                       %s, %s, %s, %s, %s
                on conflict (source_id) do update set
                    checkpoint = excluded.checkpoint,
                    cursor_field = coalesce(excluded.cursor_field, s.cursor_field),
                    cursor_value = greatest(s.cursor_value, excluded.cursor_value),
                    watermark = greatest(s.watermark, excluded.watermark),
                    last_run_id = excluded.last_run_id,
                    last_manifest_id = excluded.last_manifest_id,
                    last_batch_id = excluded.last_batch_id,
                    updated_at = excluded.updated_at
                """,
                (
                    asset.source_id,
                    sha,
                    window.get("cursor_field"),
                    ingested_at,
                    run_id,
                    gate.manifest_id,
                    gate.batch_id,
                    ingested_at,
                ),
            )
            result.size_bytes = size
            result.lines_read = lines
            result.loaded = loaded
            result.duplicates = valid - loaded
            result.rejected = rejected
            result.rejected_by_reason = dict(sorted(reasons.items()))
            result.touched_partitions = touched
            if dry_run:
                raise psycopg.Rollback()
    except FileChanged as exc:
        return _failed(result, FileChanged.reason_code, str(exc))
    except OSError as exc:
        return _failed(result, "file_unreadable", f"{asset.path}: {exc.strerror or exc}")
    except psycopg.Error as exc:
        return _failed(result, "database_error", redact(str(exc)).strip()[:500])
    return result


def _failed(result: FileResult, code: str, message: str) -> FileResult:
    # The transaction rolled back: nothing of this file was written, so nothing is counted.
    failed = FileResult(result.source_id, result.location, "failed", result.source_fingerprint, result.size_bytes)
    failed.reasons.append({"code": code, "message": message})
    return failed


def ingest_gated(
    url: str,
    gate: GateResult,
    *,
    settings: Settings,
    run_id: str | None = None,
    dry_run: bool = False,
    reread: bool = False,
    trace_id: str | None = None,
) -> IngestResult:
    """Load every loadable asset of an already judged manifest; refused assets are reported, not read."""
    run_id = run_id or new_run_id()
    parser = RecordParser(*partition_bounds(settings))
    files: list[FileResult] = []
    with connect(url) as conn:
        ensure_schema(conn)
        for asset in gate.assets:
            if not asset.loadable:
                refused = FileResult(asset.source_id, asset.location, "refused", asset.sha256, asset.size_bytes)
                refused.reasons = [r.to_dict() for r in asset.reasons]
                files.append(refused)
                continue
            files.append(
                _ingest_file(
                    conn,
                    gate,
                    asset,
                    run_id=run_id,
                    parser=parser,
                    settings=settings,
                    trace_id=trace_id if trace_id is not None else settings.trace_id,
                    dry_run=dry_run,
                    reread=reread,
                )
            )
    return IngestResult(run_id=run_id, gate=gate, files=files, dry_run=dry_run)


def ingest_manifest(
    url: str,
    manifest_path: Path,
    *,
    settings: Settings,
    source_root: Path | None = None,
    **options: Any,
) -> IngestResult:
    """Gate the manifest, then load what the gate accepted (see `ingest_gated`)."""
    gate = judge_manifest(manifest_path, source_root or settings.source_root)
    return ingest_gated(url, gate, settings=settings, **options)
