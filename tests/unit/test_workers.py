"""The parse-worker pool's own failure paths (orchestration.ingest.workers), with real worker processes."""

from __future__ import annotations

import threading
from datetime import date
from typing import Any

from orchestration.ingest.chunks import Chunk
from orchestration.ingest.workers import ParsePool, WorkerFailed

SETUP = (date(2026, 4, 10), date(2026, 4, 10), 1 << 20)


def test_a_pipe_closed_under_the_reader_fails_the_map_instead_of_hanging_it() -> None:
    """When the pool is closed while its reader thread reads (the database went away mid-file),
    the read raises ValueError on the closed pipe. The map must end with WorkerFailed: before, the
    reader thread died with a traceback on stderr and left the consumer waiting for ever."""
    pool = ParsePool(1, SETUP)
    outcome: list[Any] = []
    try:
        stdout = pool._procs[0].stdout
        assert stdout is not None
        stdout.close()  # what close() does to a pipe while the reader is on it

        def consume() -> None:
            try:
                outcome.append(list(pool.map_ordered(iter([(Chunk(first_line=1, data=b"{}\n", line_count=1), "")]), 2)))
            except BaseException as exc:  # noqa: BLE001 - handed to the test thread
                outcome.append(exc)

        consumer = threading.Thread(target=consume, daemon=True)
        consumer.start()
        consumer.join(timeout=60)
        assert not consumer.is_alive(), "the map hung after its reader lost the pipe"
    finally:
        pool.close()
    assert len(outcome) == 1 and isinstance(outcome[0], WorkerFailed), outcome
