"""`make bench`: throughput of the generator and of the ingest, side by side with a hand-written
baseline (json.loads + jsonschema + INSERT per row), measured in one run and reported as ratios.

The machine is shared and noisy: read the ratios, not the absolute numbers.
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from orchestration import contracts
from orchestration.config import Settings
from orchestration.db import embedded
from orchestration.db.connection import connect
from orchestration.db.schema import ensure_schema
from orchestration.generate import generate
from orchestration.ingest.loader import ingest_manifest
from orchestration.ingest.records import canonical_json, parse_timestamp, record_fingerprint

BENCH_DATABASE = "factory_bench"


def _reset(url: str) -> None:
    with connect(url) as conn:
        ensure_schema(conn)
        conn.execute("truncate raw.ticket_events, ops.ingest_ledger, ops.ingest_rejects, ops.ingest_state")
        conn.execute("drop table if exists public.baseline_ticket_events")
        conn.execute(
            "create table public.baseline_ticket_events (record_fingerprint text primary key, "
            "ticket_id text, created_at timestamptz, payload jsonb)"
        )
        conn.commit()


def _baseline(url: str, files: list[Path]) -> dict[str, int]:
    """What one writes by hand: parse, validate with jsonschema, insert each row."""
    validator = contracts.validator(contracts.TICKET)
    counts = {"lines": 0, "loaded": 0, "rejected": 0}
    with connect(url) as conn, conn.cursor() as cur:
        for path in files:
            rows = []
            with path.open("rb") as handle:
                for raw in handle:
                    counts["lines"] += 1
                    try:
                        record = json.loads(raw)
                    except ValueError:
                        counts["rejected"] += 1
                        continue
                    if not isinstance(record, dict) or not validator.is_valid(record):
                        counts["rejected"] += 1
                        continue
                    rows.append(
                        (
                            record_fingerprint(record),
                            record["ticket_id"],
                            parse_timestamp(record["created_at"]),
                            canonical_json(record),
                        )
                    )
            cur.executemany(
                "insert into public.baseline_ticket_events values (%s, %s, %s, %s::jsonb) on conflict do nothing", rows
            )
            counts["loaded"] += len(rows)
        conn.commit()
    return counts


def _timed(fn: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - started


def main() -> int:
    settings = Settings.from_env()
    admin_url = embedded.database_url(settings)
    url = embedded.ensure_database(admin_url, BENCH_DATABASE)
    days, per_day = 4, 4000
    with tempfile.TemporaryDirectory(prefix="sdf-bench-") as tmp:
        root = Path(tmp)
        summary, gen_s = _timed(lambda: generate(root, date(2026, 4, 10), days, per_day, seed=11))
        lines = summary.records
        manifests = sorted((root / "manifests").glob("*.json"))
        files = sorted((root / "data").glob("*.jsonl"))
        _reset(url)
        results, factory_s = _timed(lambda: [ingest_manifest(url, m, settings=settings) for m in manifests])
        factory_lines = sum(r.to_dict()["totals"]["lines_read"] for r in results)
        _, rerun_s = _timed(lambda: [ingest_manifest(url, m, settings=settings, reread=True) for m in manifests])
        baseline, baseline_s = _timed(lambda: _baseline(url, files))
    report = {
        "measured_at": datetime.now(UTC).isoformat(),
        "lines": lines,
        "generator_lines_per_s": round(lines / gen_s),
        "factory_ingest_lines_per_s": round(factory_lines / factory_s),
        "factory_reread_lines_per_s": round(factory_lines / rerun_s),
        "baseline_lines_per_s": round(baseline["lines"] / baseline_s),
        "ratio_factory_vs_baseline": round(baseline_s / factory_s, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "note": "baseline = json.loads + jsonschema + executemany INSERT in one transaction; "
        "the factory also writes ledger, rejects and state, and keeps file-level atomicity",
    }
    out = settings.report_dir / "bench" / "ingest.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    for key, value in report.items():
        print(f"{key:>30}: {value}")
    print(f"{'report':>30}: {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
