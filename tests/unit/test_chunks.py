"""Cutting files into chunks: every byte hashed once, every line numbered once, long lines skipped."""

from __future__ import annotations

import hashlib
import io
import random

import pytest

from orchestration.ingest import chunks


def _lines_of(content: bytes, limit: int) -> list[tuple[int, bytes | int]]:
    """Reference: (line number, line without its ending) or (number, byte size) for an over-limit line."""
    pieces = content.removeprefix(b"\xef\xbb\xbf").split(b"\n")
    if pieces and pieces[-1] == b"":
        pieces.pop()
    out: list[tuple[int, bytes | int]] = []
    for number, piece in enumerate(pieces, 1):
        over = len(piece) > limit + 1 or (len(piece) == limit + 1 and not piece.endswith(b"\r"))
        out.append((number, piece if not over else -1))
    return out


def _cut(
    content: bytes, limit: int, block: int, chunk_bytes: int, chunk_lines: int | None = None
) -> tuple[list[tuple[int, bytes | int]], str]:
    digest = hashlib.sha256()
    got: list[tuple[int, bytes | int]] = []
    chunks.READ_BLOCK, saved = block, chunks.READ_BLOCK
    try:
        for chunk in chunks.read_chunks(io.BytesIO(content), limit, digest, chunk_bytes, chunk_lines):
            assert chunk.line_count <= (chunk_lines or chunks.CHUNK_LINES)
            if chunk.long_line is not None:
                got.append((chunk.first_line, -1))
                continue
            lines = chunk.data.split(b"\n")
            if chunk.data.endswith(b"\n"):
                lines.pop()
            assert len(lines) == chunk.line_count
            got.extend((chunk.first_line + i, line) for i, line in enumerate(lines))
    finally:
        chunks.READ_BLOCK = saved
    return got, digest.hexdigest()


@pytest.mark.parametrize("seed", range(40))
def test_chunks_hold_every_line_once_whatever_the_block_size(seed: int) -> None:
    rng = random.Random(seed)
    limit = rng.choice([8, 20, 64])
    lines = []
    for _ in range(rng.randint(0, 60)):
        size = rng.choice([0, 1, 5, limit - 1, limit, limit + 1, limit + 2, 3 * limit, 10 * limit])
        text = bytes(rng.choice(b'abc{}:,\t"') for _ in range(size))
        lines.append(text + (b"\r" if rng.random() < 0.2 else b""))
    content = (b"\xef\xbb\xbf" if rng.random() < 0.3 else b"") + b"\n".join(lines)
    if lines and rng.random() < 0.5:
        content += b"\n"
    got, digest = _cut(
        content,
        limit,
        block=rng.choice([1, 3, 7, 16, 100]),
        chunk_bytes=rng.choice([1, 10, 50, 10_000]),
        chunk_lines=rng.choice([1, 2, 3, 7, 1000]),
    )
    expected = _lines_of(content, limit)
    # Over-limit lines the reader could hold (shorter than a block) are left to the parser, which
    # rejects them by length; only compare those as "some line at this number".
    assert [n for n, _ in got] == [n for n, _ in expected]
    for (n, mine), (_, reference) in zip(got, expected, strict=True):
        if reference == -1 and mine != -1:
            assert isinstance(mine, bytes) and len(mine) > limit
        else:
            assert mine == reference, n
    assert digest == hashlib.sha256(content).hexdigest()


def test_a_line_far_over_the_limit_is_never_held_whole() -> None:
    content = b'{"a": 1}\n' + b"x" * 5_000_000 + b"\n" + b'{"b": 2}'
    digest = hashlib.sha256()
    found = list(chunks.read_chunks(io.BytesIO(content), 1000, digest, 1 << 20))
    longs = [c for c in found if c.long_line is not None]
    assert len(longs) == 1 and longs[0].first_line == 2
    size, head = longs[0].long_line  # type: ignore[misc]
    assert size == 5_000_001 and len(head) == 1001
    assert max(len(c.data) for c in found) < 10_000
    assert digest.hexdigest() == hashlib.sha256(content).hexdigest()


def test_a_file_of_tiny_lines_is_cut_by_lines_too() -> None:
    """500 000 blank lines (500 KB, under one chunk's bytes): chunks of at most CHUNK_LINES lines,
    so the rejects one chunk gives (each far bigger than its line) stay bounded."""
    content = b"\n" * 500_000
    digest = hashlib.sha256()
    found = list(chunks.read_chunks(io.BytesIO(content), 1000, digest))
    assert max(c.line_count for c in found) == chunks.CHUNK_LINES
    assert sum(c.line_count for c in found) == 500_000
    assert [c.first_line for c in found] == list(range(1, 500_001, chunks.CHUNK_LINES))
    assert digest.hexdigest() == hashlib.sha256(content).hexdigest()
