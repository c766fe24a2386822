"""The same dbt build on PostgreSQL and on Apache Spark (local mode), timed: where is Spark slower?

On its own database of the embedded PostgreSQL (or of DATABASE_URL) the script generates
`--days` days of tickets, loads them with the factory's ingest, lands them in a private parquet
lake (`lake export`), and times, on each engine, real dbt invocations as a user runs them (a
subprocess in dbt_project/, so Spark's figures include starting its JVM):

- full history: `dbt build --full-refresh` (models and every test, all days);
- one day: `dbt build --vars {partition_date: last day}` over that history (incremental);
- one day, models only: `dbt run` of the same day.

Each figure is the median of `--repeat` runs; the machine's core count and load average are
reported beside them. Results: reports/benchmarks/engines.json and .md. A benchmark, never a
test: it prints and never asserts on time. Needs Java 17 and the `spark` extra.

    python -m benchmarks.bench_engines --days 90 --tickets-per-day 200 --repeat 2
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from orchestration.config import DBT_PROJECT_DIR, PROJECT_ROOT, Settings
from orchestration.db import embedded
from orchestration.db.connection import ConnectionParams, connect
from orchestration.db.schema import ensure_schema
from orchestration.generate import generate
from orchestration.ingest.loader import ingest_manifest
from orchestration.lake.export import export_partitions
from orchestration.transform.dbt_project import dbt_executable

BENCH_DATABASE = "factory_engine_bench"
HISTORY_START = date(2025, 1, 1)  # a past year: figures must not depend on the day of the run
OUT_DIR = PROJECT_ROOT / "reports" / "benchmarks"


@dataclasses.dataclass(frozen=True)
class Timed:
    engine: str
    label: str
    wall_s: float
    nodes: int


def _dbt(env: dict[str, str], work: Path, engine: str, label: str, args: list[str]) -> Timed:
    target = work / f"target-{engine}"
    started = time.perf_counter()
    completed = subprocess.run(
        [dbt_executable(), *args, "--target-path", str(target), "--log-path", str(work / "logs")],
        cwd=DBT_PROJECT_DIR,
        env={**env, "WEEK06_DBT_TARGET": engine},
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if completed.returncode != 0:
        raise RuntimeError(
            f"{engine}: dbt {' '.join(args)} failed:\n{completed.stdout[-3000:]}{completed.stderr[-2000:]}"
        )
    results = json.loads((target / "run_results.json").read_text())["results"]
    return Timed(engine, label, wall, len(results))


def run(days: int, tickets_per_day: int, repeat: int, out_dir: Path) -> dict[str, Any]:
    settings = dataclasses.replace(Settings.from_env(), partition_start=HISTORY_START)
    url = embedded.ensure_database(embedded.database_url(settings), BENCH_DATABASE)
    last_day = HISTORY_START + timedelta(days=days - 1)
    with connect(url) as conn:
        conn.execute("drop schema if exists raw, ops, staging, silver, gold cascade")
        conn.commit()
        ensure_schema(conn)
        conn.commit()
    with tempfile.TemporaryDirectory(prefix="sdf-bench-engines-") as tmp:
        work = Path(tmp)
        print(f"generating and loading {days} days x {tickets_per_day} tickets ...", file=sys.stderr)
        generate(work / "input", HISTORY_START, days, tickets_per_day, seed=11)
        for manifest in sorted((work / "input" / "manifests").glob("*.json")):
            ingest_manifest(url, manifest, settings=settings)
        started = time.perf_counter()
        export = export_partitions(url, work / "lake", HISTORY_START, last_day)
        export_s = time.perf_counter() - started
        env = {
            **os.environ,
            **ConnectionParams.from_url(url).as_env(),
            "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
            "WEEK06_PARTITION_START_DATE": HISTORY_START.isoformat(),
            "WEEK06_LAKE_ROOT": str(work / "lake"),
            "WEEK06_SPARK_DIR": str(work / "spark"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        }
        day = json.dumps({"partition_date": last_day.isoformat()})
        timed: list[Timed] = []
        for _ in range(repeat):  # interleaved: drift of the shared machine hits both engines alike
            for engine in ("postgres", "spark"):
                print(f"{engine}: full history, one day ...", file=sys.stderr)
                timed.append(_dbt(env, work, engine, "full history: build --full-refresh", ["build", "--full-refresh"]))
                timed.append(_dbt(env, work, engine, "one day: build", ["build", "--vars", day]))
                timed.append(_dbt(env, work, engine, "one day: run (models only)", ["run", "--vars", day]))
    labels = list(dict.fromkeys(t.label for t in timed))
    rows = []
    for label in labels:
        medians = {
            engine: statistics.median(t.wall_s for t in timed if t.label == label and t.engine == engine)
            for engine in ("postgres", "spark")
        }
        nodes = next(t.nodes for t in timed if t.label == label)
        rows.append(
            {
                "build": label,
                "nodes": nodes,
                "postgres_s": round(medians["postgres"], 1),
                "spark_s": round(medians["spark"], 1),
                "spark_over_postgres": round(medians["spark"] / medians["postgres"], 1),
            }
        )
    report: dict[str, Any] = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cores": os.cpu_count(), "load_average_1m_at_end": round(os.getloadavg()[0], 1)},
        "history": {"days": days, "tickets_per_day": tickets_per_day, "raw_rows": export.rows},
        "lake_export_s": round(export_s, 1),
        "repeat": repeat,
        "builds": rows,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "engines.json").write_text(json.dumps(report, indent=2) + "\n")
    lines = [
        f"# dbt on PostgreSQL vs Spark (local mode): {days} days, {export.rows} raw rows",
        "",
        f"{report['machine']['cores']} cores, load average {report['machine']['load_average_1m_at_end']} at the end;"
        f" median of {repeat}; wall time of the dbt process (Spark's includes its JVM start).",
        "",
        "| build | dbt nodes | PostgreSQL (s) | Spark (s) | Spark / PostgreSQL |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['build']} | {r['nodes']} | {r['postgres_s']} | {r['spark_s']} | {r['spark_over_postgres']}x |"
        for r in rows
    ]
    lines.append(f"\nlake export of the whole history: {report['lake_export_s']} s")
    (out_dir / "engines.md").write_text("\n".join(lines) + "\n")
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--tickets-per-day", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args()
    report = run(args.days, args.tickets_per_day, args.repeat, args.out)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
