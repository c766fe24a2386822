"""The dlt side of the peer benchmark: load one JSONL file with dlt, merging on a key, into PostgreSQL.

Runs in its own environment (.venv-bench, `make bench-env`), which has dlt and nothing of the
factory: the product never depends on dlt. Usage:

    .venv-bench/bin/python benchmarks/dlt_load.py FILE DATASET

with the connection in dlt's own env vars (DESTINATION__POSTGRES__CREDENTIALS__HOST, __PORT,
__USERNAME, __PASSWORD, __DATABASE), so no password is on a command line.

Prints one JSON document: records yielded, lines skipped, seconds of `pipeline.run` (extract,
normalize, load; the interpreter start and the imports are not counted, as for the factory's side).

What dlt is asked to do is what a user would write to get the factory's identity semantics:
every line parsed (lines that are not a JSON object are skipped), a `record_fingerprint` (sha256
of the canonical JSON, as the factory computes it) as the merge key, so a re-delivered version
is loaded once; nested lists kept as JSON columns (max_table_nesting=0, dlt's fastest shape,
close to the factory's jsonb payload). dlt validates no contract: it does less work than the
factory's ingest, which also validates every record against ticket_v1 and keeps a ledger.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dlt


def _records(path: Path, skipped: list[int]) -> Iterator[list[dict[str, Any]]]:
    page: list[dict[str, Any]] = []
    with path.open("rb") as handle:
        for raw in handle:
            try:
                record = json.loads(raw)
            except ValueError:
                skipped[0] += 1
                continue
            if not isinstance(record, dict):
                skipped[0] += 1
                continue
            canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            record["record_fingerprint"] = hashlib.sha256(canonical.encode()).hexdigest()
            page.append(record)
            if len(page) == 10_000:
                yield page
                page = []
    if page:
        yield page


def main(argv: list[str]) -> int:
    path, dataset = Path(argv[0]), argv[1]
    skipped = [0]
    with tempfile.TemporaryDirectory(prefix="sdf-dlt-") as tmp:
        resource = dlt.resource(
            _records(path, skipped),
            name="ticket_events",
            write_disposition="merge",
            primary_key="record_fingerprint",
            max_table_nesting=0,
        )
        pipeline = dlt.pipeline(
            pipeline_name="sdf_dlt_peer",
            pipelines_dir=tmp,
            destination="postgres",
            dataset_name=dataset,
            progress=None,
        )
        started = time.perf_counter()
        pipeline.run(resource)
        seconds = time.perf_counter() - started
        rows = pipeline.last_trace.last_normalize_info.row_counts.get("ticket_events", 0)
    print(json.dumps({"seconds": seconds, "rows_normalized": rows, "skipped": skipped[0], "dlt": dlt.__version__}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
