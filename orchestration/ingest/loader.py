"""Load the accepted files of one manifest into raw.ticket_events: one transaction per file.

Rows, rejects, ledger and state of a file commit together or not at all; concurrent ingests of
the same source serialise on a transaction-level advisory lock; a record's identity is its
fingerprint, so loading the same content twice adds nothing.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, BinaryIO

import psycopg

from orchestration.config import Settings
from orchestration.db.connection import connect, redact
from orchestration.db.schema import ensure_schema
from orchestration.fileio import display_path
from orchestration.gate.manifest_gate import judge_manifest
from orchestration.gate.verdicts import AssetJudgment, GateResult
from orchestration.ingest.records import RecordParser
from orchestration.ingest.results import CONNECTION_LOST, FileResult, IngestResult, new_run_id, sum_counts
from orchestration.ingest.workers import ParsePool, WorkerFailed
from orchestration.ingest.writer import STORED_PARTITIONS, Writer, scan_file
from orchestration.partitions import partition_bounds
from orchestration.sources.digests import DigestCache, Observation
from orchestration.sources.object_store import ObjectChanged, ObjectStoreError

PARALLEL_MIN_BYTES = 16 << 20  # smaller files are parsed in-process: starting workers costs ~1 s


class FileChanged(Exception):
    reason_code = "file_changed_during_ingest"


class ChecksumMismatch(Exception):
    """An object's bytes, verified while streamed, are not what its manifest declared."""

    reason_code = "checksum_mismatch"


def _open_source(asset: AssetJudgment) -> BinaryIO:
    """The asset's bytes as a stream: the local file, or the object pinned to the ETag the gate saw."""
    if asset.object is not None:
        return asset.object.open()  # type: ignore[return-value]
    assert asset.path is not None
    return asset.path.open("rb")


def _prior_load(cur: psycopg.Cursor[Any], asset: AssetJudgment) -> tuple[str] | None:
    """The run that already loaded this exact file (same source and sha256), if any.

    An object is the loaded one only if the store still serves the same ETag/version: a declared
    checksum alone is a claim, and an object replaced under its key is read again.
    """
    etag, version = (asset.object.etag, asset.object.version_id) if asset.object is not None else (None, None)
    return cur.execute(
        "select run_id from ops.ingest_ledger where source_id = %s and source_fingerprint = %s "
        "and (%s::text is null or source_etag = %s) and (%s::text is null or source_version = %s) "
        "order by ledger_id limit 1",
        (asset.source_id, asset.sha256, etag, etag, version, version),
    ).fetchone()


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
    pool: Any = None,
    safe: bool = False,
) -> FileResult:
    assert (asset.path is not None or asset.object is not None) and asset.sha256 is not None
    etag, version = (asset.object.etag, asset.object.version_id) if asset.object is not None else (None, None)
    result = FileResult(asset.source_id, asset.location, "loaded", asset.sha256, asset.size_bytes)
    started = datetime.now(UTC)
    try:
        with conn.transaction(), conn.cursor() as cur:
            cur.execute("select pg_advisory_xact_lock(hashtext(%s)::bigint)", (asset.source_id,))
            if not reread:
                prior = _prior_load(cur, asset)
                if prior is not None:
                    result.status = "already_loaded"
                    result.previous_run_id = prior[0]
                    result.reasons.append(
                        {"code": "already_loaded", "message": f"this exact file was loaded by run {prior[0]}"}
                    )
                    return result
            ingested_at = datetime.now(UTC)
            ingested_text = ingested_at.isoformat()
            # The file's sha256 was checked by the gate; the anchors carry it, and the scan re-hashes
            # what it actually reads, so a file changed in between is caught before anything commits.
            anchors = (gate.manifest_id, gate.batch_id, run_id, asset.source_id, asset.sha256, trace_id, ingested_at)
            reject_anchors = (run_id, gate.manifest_id, asset.source_id, asset.source_path, asset.sha256, ingested_text)
            writer = Writer(cur, anchors, reject_anchors, safe, settings.max_reject_rows)
            stored = {day.isoformat() for (day,) in cur.execute(STORED_PARTITIONS)}
            seen = Observation.of(asset.path) if asset.path is not None else None
            scan = scan_file(lambda: _open_source(asset), parser, settings.max_line_bytes, writer, stored, pool)
            if scan.sha256 != asset.sha256:
                if asset.object is None:
                    raise FileChanged(f"{display_path(asset.path or Path())} changed between the gate and the ingest")
                if any(r.code == "missing_checksum" for r in asset.reasons):  # the gate measured it
                    raise ObjectChanged(f"{asset.source_path} changed after the gate measured its sha256")
                raise ChecksumMismatch(
                    f"{asset.source_path}: declared sha256 {asset.sha256[:12]}..., "
                    f"the object's bytes have {scan.sha256[:12]}..."
                )
            if seen is not None:  # verified while read: later steps and runs need not hash it again
                DigestCache(settings.digest_cache).remember(seen, scan.sha256, scan.size)
            loaded = sum(writer.loaded_by_partition.values())
            touched = sorted(writer.loaded_by_partition)
            rejected = sum(scan.reasons.values())
            cur.execute(
                """
                insert into ops.ingest_ledger (run_id, manifest_id, batch_id, source_id, source_path,
                    source_fingerprint, size_bytes, lines_read, loaded, duplicates, rejected,
                    rejected_by_reason, rejects_not_stored, touched_partitions, trace_id, started_at, finished_at,
                    source_etag, source_version)
                values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s::date[], %s, %s, %s, %s, %s)
                """,
                (
                    run_id,
                    gate.manifest_id,
                    gate.batch_id,
                    asset.source_id,
                    asset.source_path,
                    scan.sha256,
                    scan.size,
                    scan.lines,
                    loaded,
                    scan.valid - loaded,
                    rejected,
                    json.dumps(dict(scan.reasons)),
                    writer.rejects_not_stored,
                    touched,
                    trace_id,
                    started,
                    datetime.now(UTC),
                    etag,
                    version,
                ),
            )
            window = gate.manifest.get("selection_window") or {}
            cur.execute(
                """
                insert into ops.ingest_state as s (source_id, checkpoint, cursor_field, cursor_value,
                    watermark, last_run_id, last_manifest_id, last_batch_id, updated_at)
                values (%s, %s, %s, %s, %s, %s, %s, %s, %s)
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
                    scan.sha256,
                    window.get("cursor_field"),
                    scan.cursor_value,
                    ingested_at,
                    run_id,
                    gate.manifest_id,
                    gate.batch_id,
                    ingested_at,
                ),
            )
            result.size_bytes = scan.size
            result.lines_read = scan.lines
            result.loaded = loaded
            result.duplicates = scan.valid - loaded
            result.rejected = rejected
            result.rejected_by_reason = dict(sorted(scan.reasons.items()))
            result.rejects_not_stored = writer.rejects_not_stored
            result.touched_partitions = touched
            result.write_path = "conflict_safe" if safe else "direct"
            if dry_run:
                raise psycopg.Rollback()
    except psycopg.errors.UniqueViolation:
        if safe:
            raise
        # Another transaction committed some of the same records while this one was copying:
        # everything of this file rolled back; do it again on the conflict-safe path.
        return _ingest_file(
            conn,
            gate,
            asset,
            run_id=run_id,
            parser=parser,
            settings=settings,
            trace_id=trace_id,
            dry_run=dry_run,
            reread=reread,
            pool=pool,
            safe=True,
        )
    except FileChanged as exc:
        return _failed(result, FileChanged.reason_code, str(exc))
    except ChecksumMismatch as exc:
        return _failed(result, ChecksumMismatch.reason_code, str(exc))
    except ObjectStoreError as exc:
        return _failed(result, exc.reason_code, exc.message)
    except WorkerFailed as exc:
        return _failed(result, WorkerFailed.reason_code, str(exc))
    except OSError as exc:
        shown = asset.source_path if asset.object is not None else display_path(asset.path or Path())
        return _failed(result, "file_unreadable", f"{shown}: {exc.strerror or exc}")
    except psycopg.Error as exc:
        if conn.broken or conn.closed:  # the server went away (restarted, backend terminated)
            return _failed(result, CONNECTION_LOST, f"the connection was lost: {redact(str(exc)).strip()[:300]}")
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
    bounds = partition_bounds(settings)
    parser = RecordParser(*bounds)
    files: list[FileResult] = []
    pool = None
    try:
        with connect(url) as conn:
            ensure_schema(conn)
            # Workers cost about a second to start: only for a big file that will really be read.
            big = [a for a in gate.assets if a.loadable and (a.size_bytes or 0) >= PARALLEL_MIN_BYTES]
            if big and not reread:
                with conn.transaction(), conn.cursor() as cur:
                    big = [a for a in big if _prior_load(cur, a) is None]
            if big and settings.ingest_workers > 0:
                try:
                    pool = ParsePool(settings.ingest_workers, (*bounds, settings.max_line_bytes))
                except (WorkerFailed, OSError):
                    pool = None  # no worker could start: parse in this process, slower but the same result
            for asset in gate.assets:
                if not asset.loadable:
                    refused = FileResult(asset.source_id, asset.location, "refused", asset.sha256, asset.size_bytes)
                    refused.reasons = [r.to_dict() for r in asset.reasons]
                    files.append(refused)
                    continue
                if conn.broken or conn.closed:  # lost on an earlier file: the rest are not tried
                    files.append(
                        _failed(
                            FileResult(asset.source_id, asset.location, "failed", asset.sha256, asset.size_bytes),
                            CONNECTION_LOST,
                            "not attempted: the connection to the database was lost on an earlier file",
                        )
                    )
                    continue
                use_pool = pool if (asset.size_bytes or 0) >= PARALLEL_MIN_BYTES else None
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
                        pool=use_pool,
                    )
                )
    finally:
        if pool is not None:
            pool.close()
    return IngestResult(run_id=run_id, gate=gate, files=files, dry_run=dry_run)


def ingest_window(
    url: str, gates: list[GateResult], first: date, last: date, *, settings: Settings, run_id: str
) -> dict[str, Any]:
    """Ingest every manifest gated for the partitions first..last; return the run's summary.

    `stale_partitions_outside_run`: partitions outside first..last that received rows (late
    versions of older tickets): their downstream assets are stale and need a replay.
    """
    results = [ingest_gated(url, g, settings=settings, run_id=run_id) for g in gates]
    files = [f for r in results for f in r.files]
    totals = sum_counts([f.to_dict() for f in files])
    touched = sorted({p for r in results for p in r.touched_partitions})
    window = (first.isoformat(), last.isoformat())
    return {
        "files": files,
        "totals": totals,
        "touched_partitions": touched,
        "stale_partitions_outside_run": [p for p in touched if not (window[0] <= p <= window[1])],
        "failed": [f for f in files if f.status == "failed"],
        "reason_codes": sorted({r["code"] for f in files for r in f.reasons} | set(totals["rejected_by_reason"])),
    }


def ingest_manifest(
    url: str,
    manifest_path: Path,
    *,
    settings: Settings,
    source_root: Path | None = None,
    **options: Any,
) -> IngestResult:
    """Gate the manifest, then load what the gate accepted (see `ingest_gated`)."""
    gate = judge_manifest(
        manifest_path, source_root or settings.source_root, settings.object_store, DigestCache(settings.digest_cache)
    )
    return ingest_gated(url, gate, settings=settings, **options)
