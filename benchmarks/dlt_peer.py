"""`make bench` (dlt peer): the same file loaded by dlt and by the factory's ingest, side by side in one run.

dlt (https://dlthub.com) is what a user would otherwise pick to load JSONL into PostgreSQL. It runs
in its own environment (.venv-bench, made by `make bench-env`), so the product never depends on it;
without that environment its side is reported `not_available`.

On a database of its own (`factory_dlt_bench`), for each size (default ~100k and ~1M records:
1 and 10 days of 50,000 generated tickets, the 10 days joined into one file):
  - ours: the factory's ingest of the file's manifest (gate, parse, ticket_v1 contract,
    fingerprints, dedup, ledger, rejects, state; one transaction), into empty tables;
  - dlt:  benchmarks/dlt_load.py, a dlt pipeline merging on the record fingerprint into an empty
    dataset (see its docstring: it validates no contract, so it does less than ours).
Both sides are timed inside their process (imports and interpreter start not counted). dlt is
skipped at a size when the rate it showed at the previous size predicts more than --dlt-budget-s
seconds: the report then says so, with the estimate.
Target (issue 14): ours >= 5x dlt's throughput at 100k and at 1M records.
Results: reports/benchmarks/dlt_peer.json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from benchmarks.ingest import _join, _reset, _run_child
from orchestration.config import PROJECT_ROOT, Settings
from orchestration.db import embedded
from orchestration.db.connection import ConnectionParams, connect, redact
from orchestration.fileio import write_text_atomic
from orchestration.generate import generate

BENCH_DATABASE = "factory_dlt_bench"
OUT_DIR = PROJECT_ROOT / "reports" / "benchmarks"
BENCH_PYTHON = PROJECT_ROOT / ".venv-bench" / "bin" / "python"
DLT_LOAD = Path(__file__).resolve().parent / "dlt_load.py"
START = date(2026, 3, 1)
TARGET_RATIO = 5.0


def _dlt_env(url: str) -> dict[str, str]:
    p = ConnectionParams.from_url(url)
    # libpq takes `host` from the query when it is a socket folder; dlt keeps the query as it is.
    dsn = f"postgresql://{p.user}:{p.password}@localhost:{p.port}/{p.dbname}"
    if p.host.startswith("/"):
        dsn += f"?host={p.host}"
    else:
        dsn = dsn.replace("@localhost:", f"@{p.host}:")
    return {**os.environ, "DESTINATION__POSTGRES__CREDENTIALS": dsn, "RUNTIME__LOG_LEVEL": "ERROR"}


def _dlt(url: str, path: Path, dataset: str) -> dict[str, Any]:
    with connect(url) as conn:
        conn.execute(f'drop schema if exists "{dataset}" cascade')
        conn.execute(f'drop schema if exists "{dataset}_staging" cascade')
        conn.commit()
    done = subprocess.run(
        [str(BENCH_PYTHON), str(DLT_LOAD), str(path), dataset],
        env=_dlt_env(url),
        cwd=DLT_LOAD.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"dlt load failed:\n{redact(done.stderr[-3000:])}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    with connect(url) as conn:
        row = conn.execute(f'select count(*) from "{dataset}".ticket_events').fetchone()
        result["rows_in_table"] = int(row[0]) if row else 0
    return result


def bench(days_list: list[int], tickets_per_day: int, budget_s: float, out_dir: Path) -> dict[str, Any]:
    settings = Settings.from_env()
    url = embedded.ensure_database(embedded.database_url(settings), BENCH_DATABASE)
    dlt_ready = BENCH_PYTHON.exists()
    sizes: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="sdf-bench-dlt-") as tmp:
        root = Path(tmp)
        print(f"generating {max(days_list)} days x {tickets_per_day:,} tickets ...", file=sys.stderr)
        generate(root, START, max(days_list), tickets_per_day, seed=11)
        daily = sorted((root / "data").glob("*.jsonl"))
        daily_manifests = sorted((root / "manifests").glob("*.json"))
        dlt_rate: float | None = None
        for days in sorted(days_list):
            if days == 1:
                path, manifest = daily[0], daily_manifests[0]
            else:
                whole, manifest = _join(root, daily[:days], daily_manifests[0])
                path = whole
            lines = sum(block.count(b"\n") for block in _blocks(path))
            print(f"{lines:,} lines: ours ...", file=sys.stderr)
            _reset(url)
            ours = _run_child(url, root, [manifest])
            entry: dict[str, Any] = {
                "lines": lines,
                "megabytes": round(path.stat().st_size / 1e6),
                "ours": {
                    "seconds": round(ours["seconds"], 2),
                    "records_per_s": round(lines / ours["seconds"]),
                    "loaded": ours["totals"]["loaded"],
                    "duplicates": ours["totals"]["duplicates"],
                    "rejected": ours["totals"]["rejected"],
                },
            }
            estimate = lines / dlt_rate if dlt_rate else None
            if not dlt_ready:
                entry["dlt"] = {"status": "not_available", "why": "no .venv-bench (make bench-env)"}
            elif estimate is not None and estimate > budget_s:
                entry["dlt"] = {
                    "status": "skipped",
                    "why": f"estimated {estimate:.0f} s from its rate at the previous size, over the "
                    f"{budget_s:.0f} s budget (--dlt-budget-s)",
                }
            else:
                print(f"{lines:,} lines: dlt ...", file=sys.stderr)
                d = _dlt(url, path, f"dlt_peer_{days}d")
                dlt_rate = lines / d["seconds"]
                entry["dlt"] = {
                    "status": "measured",
                    "seconds": round(d["seconds"], 2),
                    "records_per_s": round(dlt_rate),
                    "rows_in_table": d["rows_in_table"],
                    "skipped_lines": d["skipped"],
                    "version": d["dlt"],
                }
                entry["ours_vs_dlt"] = round(d["seconds"] / ours["seconds"], 2)
                entry["target_met"] = entry["ours_vs_dlt"] >= TARGET_RATIO
            sizes.append(entry)
    report = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "target_ratio": TARGET_RATIO,
        "sizes": sizes,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out_dir / "dlt_peer.json", json.dumps(report, indent=2) + "\n")
    write_text_atomic(out_dir / "dlt_peer.md", markdown(report))
    return report


def _blocks(path: Path) -> Any:
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            yield block


def markdown(report: dict[str, Any]) -> str:
    lines = [
        f"# Ingest vs dlt ({report['measured_at']})",
        "",
        "The same file, loaded side by side in one run into empty tables of the same PostgreSQL. "
        "ours: the factory's ingest (contract validation, fingerprints, dedup, ledger). "
        "dlt: a pipeline merging on the record fingerprint (no contract validation).",
        "",
        "| lines | MB | ours records/s | ours s | dlt records/s | dlt s | ours / dlt | target >= "
        f"{report['target_ratio']}x |",
        "|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for s in report["sizes"]:
        d = s["dlt"]
        if d["status"] == "measured":
            dlt_cells = f"{d['records_per_s']:,} | {d['seconds']} | {s['ours_vs_dlt']}x | {s['target_met']}"
        else:
            dlt_cells = f"{d['status']} | | | {d['why']}"
        lines.append(
            f"| {s['lines']:,} | {s['megabytes']} | {s['ours']['records_per_s']:,} | {s['ours']['seconds']} "
            f"| {dlt_cells} |"
        )
    lines += ["", "Measured on a shared machine: compare the ratios, not the absolute figures.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.dlt_peer", description=__doc__.split("\n")[0])
    parser.add_argument("--days", default="1,10", help="sizes, as days of generated tickets (comma separated)")
    parser.add_argument("--tickets-per-day", type=int, default=50_000)
    parser.add_argument("--dlt-budget-s", type=float, default=900.0)
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args(argv)
    days_list = [int(d) for d in args.days.split(",")]
    report = bench(days_list, args.tickets_per_day, args.dlt_budget_s, args.out)
    print(markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
