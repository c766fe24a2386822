"""Cutting a file into chunks of whole lines, and parsing one chunk into COPY-ready rows.

The loader's process only reads blocks, hashes them and cuts them at newlines; parsing a chunk
(in a worker process, or in-process for small files) does all the per-line work, so the loader
stays free to feed PostgreSQL. Memory is bounded by the chunk size (in bytes and in lines: a file
of millions of one-byte lines gives as many rejects, each far bigger than its line) and the line
limit, whatever the file holds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, BinaryIO

from orchestration.ingest.records import RecordParser, Rejection, TicketVersion, copy_binary

CHUNK_BYTES = 2 << 20  # a chunk holds about this many bytes of whole lines
CHUNK_LINES = 8192  # ... and at most this many lines
READ_BLOCK = 1 << 20
_BOM = b"\xef\xbb\xbf"


@dataclass
class Chunk:
    """Whole lines of a file from line `first_line` on (`data`), or one over-limit line (`long_line`)."""

    first_line: int
    data: bytes = b""
    line_count: int = 0
    long_line: tuple[int, bytes] | None = None  # (its bytes in the file, its first bytes)


def read_chunks(
    handle: BinaryIO, limit: int, digest: Any, chunk_bytes: int | None = None, chunk_lines: int | None = None
) -> Iterator[Chunk]:
    """Cut the file into chunks of whole lines (at most `chunk_lines` each); every byte goes
    through `digest` exactly once.

    An unfinished line that grows past `limit` bytes (plus a carriage return) is never held
    whole: its bytes are counted and skipped up to its newline, and it comes as a chunk of its
    own (`long_line`). A leading byte-order mark is dropped.
    """
    chunk_bytes = chunk_bytes or CHUNK_BYTES
    chunk_lines = chunk_lines or CHUNK_LINES
    number = 1  # the number of the next line not yet handed out
    pieces: list[bytes] = []
    gathered = 0
    lines = 0
    pending = b""  # the start of a line whose newline has not been read yet
    draining = 0  # > 0 while skipping an over-limit line: its bytes so far
    head = b""
    opening = handle.read(len(_BOM))
    digest.update(opening)
    carry = b"" if opening == _BOM else opening  # a leading byte-order mark is dropped

    def flush() -> Chunk:
        nonlocal pieces, gathered, lines, number
        chunk = Chunk(number, b"".join(pieces), lines)
        number += lines
        pieces, gathered, lines = [], 0, 0
        return chunk

    while True:
        block = handle.read(READ_BLOCK)
        digest.update(block)
        if carry:
            block, carry = carry + block, b""
        if not block:
            break
        start = 0
        if draining:
            cut = block.find(b"\n")
            if cut < 0:
                draining += len(block)
                continue
            draining += cut + 1
            if pieces:
                yield flush()
            yield Chunk(number, long_line=(draining, head))
            number += 1
            draining, head = 0, b""
            start = cut + 1
        last = block.rfind(b"\n", start)
        if last < 0:
            pending += block[start:]
        else:
            segment = pending + block[start : last + 1]
            pending = block[last + 1 :]
            count = segment.count(b"\n")
            while lines + count > chunk_lines:  # many short lines: cut the segment after the line cap
                cut = -1
                for _ in range(chunk_lines - lines):
                    cut = segment.find(b"\n", cut + 1)
                pieces.append(segment[: cut + 1])
                lines = chunk_lines
                yield flush()
                segment = segment[cut + 1 :]
                count = segment.count(b"\n")
            if segment:
                pieces.append(segment)
                gathered += len(segment)
                lines += count
            if gathered >= chunk_bytes or lines >= chunk_lines:
                yield flush()
        if len(pending) > limit + 1:  # cannot end as a line within the limit
            if pieces:
                yield flush()
            draining, head, pending = len(pending), pending[: limit + 1], b""
    if draining:
        if pieces:
            yield flush()
        yield Chunk(number, long_line=(draining, head))
        return
    if pending:  # the last line has no newline
        pieces.append(pending)
        lines += 1
    if pieces:
        yield flush()


@dataclass
class ParsedChunk:
    """A parsed chunk: its distinct valid rows as binary COPY tuples in one blob, and its rejects."""

    fingerprints: list[str] = field(default_factory=list)
    days: list[str] = field(default_factory=list)
    blob: bytes = b""
    ends: list[int] = field(default_factory=list)  # end offset of each row's tuple in blob
    rejects: list[tuple[Any, ...]] = field(default_factory=list)  # (line_number, codes, detail, excerpt, bytes)
    reasons: Counter[str] = field(default_factory=Counter)
    valid: int = 0  # valid lines, the chunk's own duplicates included
    lines: int = 0
    version_at: datetime | None = None


def parse_chunk(parser: RecordParser, chunk: Chunk, limit: int, prefix: bytes) -> ParsedChunk:
    """Parse every line of a chunk. Each valid row becomes its binary COPY tuple after `prefix`
    (the file's anchors, records.binary_prefix); a record repeated within the chunk is kept once."""
    out = ParsedChunk()
    if chunk.long_line is not None:
        size, head = chunk.long_line
        rejection = parser.reject(
            chunk.first_line, head, "line_too_long", f"{size} bytes, over the {limit}-byte limit", size
        )
        _add_reject(out, rejection)
        out.lines = 1
        return out
    raw_lines = chunk.data.split(b"\n")
    if chunk.data.endswith(b"\n"):
        raw_lines.pop()
    parts: list[bytes] = []
    offset = 0
    seen: set[str] = set()
    days: dict[date, str] = {}  # one string object per day, so pickling shares it
    latest: datetime | None = None
    number = chunk.first_line
    for raw in raw_lines:
        outcome: TicketVersion | Rejection
        if len(raw) > limit:
            outcome = parser.reject(number, raw, "line_too_long", f"{len(raw) + 1} bytes, over the {limit}-byte limit")
        else:
            outcome = parser.parse(number, raw[:-1] if raw.endswith(b"\r") else raw)
        number += 1
        if isinstance(outcome, TicketVersion):
            out.valid += 1
            if latest is None or outcome.version_at > latest:
                latest = outcome.version_at
            fingerprint = outcome.fingerprint
            if fingerprint in seen:
                continue
            seen.add(fingerprint)
            line = copy_binary(outcome, prefix)
            parts.append(line)
            offset += len(line)
            out.ends.append(offset)
            out.fingerprints.append(fingerprint)
            day = days.get(outcome.partition_date)
            if day is None:
                day = days[outcome.partition_date] = outcome.partition_date.isoformat()
            out.days.append(day)
        else:
            _add_reject(out, outcome)
    out.blob = b"".join(parts)
    out.lines = number - chunk.first_line
    out.version_at = latest
    return out


def _add_reject(out: ParsedChunk, rejection: Rejection) -> None:
    out.reasons[rejection.codes[0]] += 1
    out.rejects.append(
        (rejection.line_number, list(rejection.codes), rejection.detail, rejection.excerpt, rejection.raw_bytes)
    )
