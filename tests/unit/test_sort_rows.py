"""The writer's split of a parsed chunk into rows surely new (sent as byte ranges) and rows to
probe against the table first, held to a plain reference over many chunks."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from orchestration.ingest.chunks import ParsedChunk
from orchestration.ingest.writer import SeenFilter, sort_rows


def _chunk(rows: list[tuple[str, str]]) -> ParsedChunk:
    parsed = ParsedChunk()
    offset = 0
    parts = []
    for fingerprint, day in rows:
        line = f"<{fingerprint}|{day}>".encode()
        parts.append(line)
        offset += len(line)
        parsed.ends.append(offset)
        parsed.fingerprints.append(fingerprint)
        parsed.days.append(day)
    parsed.blob = b"".join(parts)
    return parsed


@pytest.mark.parametrize("bits", [1 << 27, 64])  # 64 bits: the filter answers "maybe" to nearly all
def test_sort_rows_sends_every_row_once_and_probes_every_row_it_cannot_rule_out(bits: int) -> None:
    rng = random.Random(7)
    seen, stored, written = SeenFilter(bits), {"2026-04-03"}, set()
    days = [f"2026-04-0{d}" for d in range(1, 6)]
    pool = [f"{n:064x}" for n in range(3000)]
    for _ in range(40):
        fingerprints = list(dict.fromkeys(rng.sample(pool, rng.randint(0, 200))))  # distinct within a chunk
        rows = [(fp, rng.choice(days)) for fp in fingerprints]
        parsed = _chunk(rows)
        chunk = sort_rows(parsed, seen, stored)
        new = b"".join(bytes(view) for view in chunk.new)
        new_rows = [row for row in rows if f"<{row[0]}|{row[1]}>".encode() in new]
        # every row once, in order: the new ranges and the probed rows together are the chunk
        assert len(new_rows) + len(chunk.check) == len(rows)
        assert new == b"".join(f"<{fp}|{day}>".encode() for fp, day in new_rows)
        for fp, day in rows:
            if fp in written or day in stored:
                assert chunk.check[fp] == (day, f"<{fp}|{day}>".encode())
        assert chunk.new_days == Counter(day for _, day in new_rows)
        assert all(chunk.new_days.values())
        if bits > 64:  # a filter this big has no false "maybe" at these sizes
            assert set(chunk.check) == {fp for fp, day in rows if fp in written or day in stored}
        written.update(fingerprints)
