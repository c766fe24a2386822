"""Inside one file's transaction: read, parse and write its rows, chunk by chunk.

The writer COPYs rows surely new straight into raw.ticket_events and probes the others first; a
Bloom filter keeps "surely new" cheap without memory that grows with the file. The caller
(loader.py) owns the transaction, the ledger and the redo on the conflict-safe path.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, BinaryIO

import psycopg

from orchestration.ingest.chunks import Chunk, ParsedChunk, parse_chunk, read_chunks
from orchestration.ingest.records import (
    COPY_SIGNATURE,
    COPY_TRAILER,
    RECORD_COLUMNS,
    RecordParser,
    binary_prefix,
)

PREFETCH_CHUNKS = 3  # chunks parsed ahead of the writer by the worker processes (bounds memory)
ANCHOR_COLUMNS = ("manifest_id", "batch_id", "run_id", "source_id", "source_fingerprint", "trace_id", "ingested_at")
# The columns of a row's binary COPY tuple: the file's anchors first (records.binary_prefix).
_COPY_COLUMNS = ", ".join(ANCHOR_COLUMNS + RECORD_COLUMNS)


_PROBE = "select record_fingerprint from raw.ticket_events where record_fingerprint = any(%s)"
_REJECT_COLUMNS = (
    "run_id",
    "manifest_id",
    "source_id",
    "source_path",
    "source_fingerprint",
    "line_number",
    "reason_codes",
    "detail",
    "raw_excerpt",
    "raw_bytes",
    "rejected_at",
)
_STAGE_DDL = (
    f"create temp table if not exists _stage_events on commit drop as "
    f"select {_COPY_COLUMNS} from raw.ticket_events with no data"
)


@dataclass
class SortedChunk:
    """What the writer sends for one parsed chunk: rows surely new (byte ranges of the blob, their
    days counted), rows to probe first, and the rejects."""

    new: list[memoryview | bytes] = field(default_factory=list)
    new_days: Counter[str] = field(default_factory=Counter)
    check: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # fingerprint -> (day, COPY tuple)
    rejects: list[tuple[Any, ...]] = field(default_factory=list)


class SeenFilter:
    """A fixed-size Bloom filter of the fingerprints this transaction has written.

    It answers "surely not written yet" or "maybe": a maybe costs one index probe, never a wrong
    answer, and its memory (16 MiB) does not grow with the file. Positions come from the string's
    own hash (computed once per fingerprint and cached by Python; fixed within a process, which is
    all a per-transaction filter needs). At 1M fingerprints about 2 in 10^4 fresh rows are probed
    for nothing; at 10M, about 2 in 100.
    """

    def __init__(self, bits: int = 1 << 27) -> None:
        self._bits = bytearray(bits >> 3)
        self._mask = bits - 1

    def add_all(self, fingerprints: list[str]) -> list[int]:
        """Add each fingerprint in turn; the positions of those that may have been added before
        (by an earlier chunk, or earlier in this list)."""
        bits, mask = self._bits, self._mask
        maybe = []
        for index, fingerprint in enumerate(fingerprints):
            value = hash(fingerprint)
            a, b = value & mask, (value >> 32) & mask
            byte_a, bit_a, byte_b, bit_b = a >> 3, 1 << (a & 7), b >> 3, 1 << (b & 7)
            if bits[byte_a] & bit_a and bits[byte_b] & bit_b:
                maybe.append(index)
            bits[byte_a] |= bit_a
            bits[byte_b] |= bit_b
        return maybe


def _copy_tuples(cur: psycopg.Cursor, table: str, parts: list[Any]) -> None:
    """COPY binary tuples (records.copy_binary, bytes or memoryviews) into `table`, framed by the
    format's signature and trailer. A memoryview goes to libpq without a copy (psycopg sends it in
    128 KiB slices, which of bytes would each be copied)."""
    with cur.copy(f"copy {table} ({_COPY_COLUMNS}) from stdin (format binary)") as copy:
        copy.write(COPY_SIGNATURE)
        for part in parts:
            copy.write(memoryview(part))
        copy.write(COPY_TRAILER)


class Writer:
    """Writes chunks of one file inside its transaction; runs on a worker thread so the server
    parses and indexes chunk N while Python parses chunk N+1 (libpq waits release the GIL).

    Fast path: probe which fingerprints already exist (rows committed earlier, or written by this
    transaction's earlier chunks), then COPY only the new rows straight into raw.ticket_events:
    each row and index entry is written once. Conflict-safe path (`safe=True`, used when another
    transaction inserted one of the same fingerprints concurrently): COPY into a temporary stage
    and INSERT ... ON CONFLICT DO NOTHING.
    """

    def __init__(
        self,
        cur: psycopg.Cursor,
        anchors: tuple[Any, ...],
        reject_anchors: tuple[Any, ...],
        safe: bool,
        max_reject_rows: int,
    ):
        self.cur = cur
        self.anchors = anchors
        self.reject_anchors = reject_anchors
        self.safe = safe
        self.loaded_by_partition: Counter[str] = Counter()  # ISO day -> rows loaded
        self.reject_room = max_reject_rows  # reject rows this file may still store
        self.rejects_not_stored = 0
        if safe:
            cur.execute(_STAGE_DDL)

    def write(self, chunk: SortedChunk) -> None:
        if chunk.new or chunk.check:
            if self.safe:
                self._write_safe(chunk)
            else:
                self._write_fast(chunk)
        rejects = chunk.rejects[: max(self.reject_room, 0)]
        self.rejects_not_stored += len(chunk.rejects) - len(rejects)
        self.reject_room -= len(rejects)
        if rejects:
            anchors = self.reject_anchors
            with self.cur.copy(f"copy ops.ingest_rejects ({', '.join(_REJECT_COLUMNS)}) from stdin") as copy:
                for reject in rejects:
                    copy.write_row(anchors[:5] + reject + anchors[5:])

    def _write_fast(self, chunk: SortedChunk) -> None:
        existing: set[str] = set()
        if chunk.check:
            existing = {fp for (fp,) in self.cur.execute(_PROBE, (list(chunk.check),))}
        counts = self.loaded_by_partition
        counts.update(chunk.new_days)
        lines = list(chunk.new)
        for fingerprint, (day, line) in chunk.check.items():
            if fingerprint not in existing:
                lines.append(line)
                counts[day] += 1
        if lines:
            # Most chunks are one run of new rows: one view of the parsed blob, sent without a copy.
            _copy_tuples(self.cur, "raw.ticket_events", [lines[0] if len(lines) == 1 else b"".join(lines)])

    def _write_safe(self, chunk: SortedChunk) -> None:
        cur = self.cur
        cur.execute("truncate _stage_events")
        _copy_tuples(cur, "_stage_events", [b"".join(chunk.new), b"".join(line for _, line in chunk.check.values())])
        inserted = cur.execute(
            f"""
            with ins as (
                insert into raw.ticket_events ({_COPY_COLUMNS})
                select {_COPY_COLUMNS} from _stage_events order by source_line
                on conflict (record_fingerprint) do nothing
                returning partition_date
            )
            select partition_date, count(*) from ins group by partition_date
            """
        ).fetchall()
        for day, n in inserted:
            self.loaded_by_partition[day.isoformat()] += int(n)


# Partitions holding at least one row, found by skipping through the partition_date index
# (one index descent per distinct day, not a scan of the table).
STORED_PARTITIONS = """
with recursive days(d) as (
    (select partition_date from raw.ticket_events order by partition_date limit 1)
    union all
    select (select partition_date from raw.ticket_events where partition_date > days.d
            order by partition_date limit 1)
    from days where days.d is not null
)
select d from days where d is not null
"""


@dataclass
class FileScan:
    sha256: str = ""
    size: int = 0
    lines: int = 0
    valid: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    cursor_value: datetime | None = None


def parsed_chunks(
    chunks: Iterator[Chunk], parser: RecordParser, limit: int, prefix: bytes, pool: Any
) -> Generator[ParsedChunk, None, None]:
    """Parse chunks in order: in the worker processes when there is a pool (at most PREFETCH_CHUNKS
    ahead of the writer, so memory stays bounded), else in this process."""
    if pool is None:
        for chunk in chunks:
            yield parse_chunk(parser, chunk, limit, prefix)
        return
    yield from pool.map_ordered(((chunk, prefix) for chunk in chunks), PREFETCH_CHUNKS)


def sort_rows(parsed: ParsedChunk, seen: SeenFilter, stored: set[str]) -> SortedChunk:
    """Rows surely new go out as byte ranges of the parsed blob (most chunks: one range); the
    others are probed first."""
    chunk = SortedChunk(rejects=parsed.rejects)
    blob = memoryview(parsed.blob)
    fingerprints, days, ends = parsed.fingerprints, parsed.days, parsed.ends
    probe = seen.add_all(fingerprints)
    held = stored.intersection(days) if stored else None  # this chunk's days that held rows already
    if held:
        probe = sorted(set(probe).union(index for index, day in enumerate(days) if day in held))
    check = chunk.check
    run_start = 0  # start of the current run of surely-new rows
    for index in probe:
        start, end = ends[index - 1] if index else 0, ends[index]
        if run_start < start:
            chunk.new.append(blob[run_start:start])
        check[fingerprints[index]] = (days[index], bytes(blob[start:end]))
        run_start = end
    if run_start < len(blob):
        chunk.new.append(blob[run_start:])
    new_days = Counter(days)  # counted in C; the rows to probe are few, and taken off after
    for day, _ in check.values():
        new_days[day] -= 1
    chunk.new_days = Counter({day: n for day, n in new_days.items() if n}) if check else new_days
    return chunk


def scan_file(
    opener: Callable[[], BinaryIO], parser: RecordParser, limit: int, writer: Writer, stored: set[str], pool: Any
) -> FileScan:
    """Read, parse and write the file chunk by chunk.

    This process only reads blocks, cuts them into chunks of whole lines and sends rows on: the
    parsing happens in worker processes (big files) and a writer thread sends chunk N while the
    next ones are parsed, so Python's work runs beside PostgreSQL's, not in turn.

    A valid row is "surely new" when its partition held no row when the file's transaction began
    and the filter has not seen its fingerprint in this transaction; every other row is probed
    against the table before the COPY. Rows committed meanwhile by another transaction make the
    COPY fail on the unique index, and the caller redoes the file on the conflict-safe path.
    """
    scan = FileScan()
    seen = SeenFilter()
    digest = hashlib.sha256()
    prefix = binary_prefix(writer.anchors)
    with opener() as handle, ThreadPoolExecutor(1, thread_name_prefix="ingest-writer") as writing:
        in_flight: Future[None] | None = None
        parsing = parsed_chunks(read_chunks(handle, limit, digest), parser, limit, prefix, pool)
        try:
            for parsed in parsing:
                chunk = sort_rows(parsed, seen, stored)
                scan.lines += parsed.lines
                scan.valid += parsed.valid
                scan.reasons.update(parsed.reasons)
                latest = parsed.version_at
                if latest is not None and (scan.cursor_value is None or latest > scan.cursor_value):
                    scan.cursor_value = latest
                if in_flight is not None:
                    in_flight.result()  # one chunk being written, the next ones being parsed
                in_flight = writing.submit(writer.write, chunk)
        finally:
            # Stop the parsing now, not when the exception's traceback is freed: a redo of this
            # file on the conflict-safe path must find the parse pool idle.
            parsing.close()
            if in_flight is not None:
                in_flight.result()
        scan.size = handle.tell()
    scan.sha256 = digest.hexdigest()
    return scan
