"""`make bench` (dbt part): does a partition build cost the partition or the history?

On its own database of the embedded PostgreSQL (or of DATABASE_URL), the script generates a year
of tickets (365 days at ~3k tickets a day, ~1.2M lines), loads it into raw.ticket_events with the
factory's own ingest, and times real `dbt build` invocations (models + tests):

- one partition with 7 days of history vs the same partition with 365 days of history
  (target: ratio <= 1.25, cost follows the partition);
- a 30-day range in one invocation vs one partition, both over 365 days (target: <= 3x).

dbt's parse time (`dbt parse --no-partial-parse`, perf_info.json) and its execution time (the
`elapsed_time` of run_results.json, with the per-node timings summed by models and tests) are
reported separately; the ratios are taken on execution time, which is where the data is. Each
history is measured in a steady state: statistics fresh (vacuum analyze after the load and the
build of the history) and one uncounted warm-up build of the partition. The wall-clock time of
each invocation (process start, imports, parse and execution) is reported too.
Results: reports/benchmarks/dbt_partition_cost.json and .md.

A benchmark, never a test: the machine is shared and noisy, so each figure is the median of
several runs, and the script prints rather than asserts.
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
from orchestration.transform.dbt_project import dbt_executable, window_vars

BENCH_DATABASE = "factory_dbt_bench"
# A past year: the ingest refuses partitions after tomorrow, and the figures must not depend on
# the day the benchmark runs.
HISTORY_START = date(2025, 1, 1)
OUT_DIR = PROJECT_ROOT / "reports" / "benchmarks"
TARGET_HISTORY_RATIO = 1.25
TARGET_RANGE_RATIO = 3.0


@dataclasses.dataclass(frozen=True)
class DbtRun:
    """One timed dbt invocation."""

    label: str
    wall_s: float
    execution_s: float
    models_s: float
    tests_s: float
    nodes: int

    def to_dict(self) -> dict[str, Any]:
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in dataclasses.asdict(self).items()}


class DbtBench:
    """Runs dbt as a user does (a subprocess in dbt_project/), with its own target and log folders."""

    def __init__(self, url: str, work: Path, partition_start: date) -> None:
        self.work = work
        self.env = {
            **os.environ,
            **ConnectionParams.from_url(url).as_env(),
            "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
            "WEEK06_PARTITION_START_DATE": partition_start.isoformat(),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        }
        self.target = work / "target"

    def _invoke(self, args: list[str]) -> float:
        command = [dbt_executable(), *args, "--target-path", str(self.target), "--log-path", str(self.work / "logs")]
        started = time.perf_counter()
        completed = subprocess.run(
            command, cwd=DBT_PROJECT_DIR, env=self.env, capture_output=True, text=True, check=False
        )
        wall = time.perf_counter() - started
        if completed.returncode != 0:
            raise RuntimeError(f"dbt {' '.join(args)} failed:\n{completed.stdout[-3000:]}{completed.stderr[-2000:]}")
        return wall

    def parse_s(self) -> float:
        """A full parse (no partial parsing), as dbt itself measures it (perf_info.json)."""
        self._invoke(["parse", "--no-partial-parse"])
        info = json.loads((self.target / "perf_info.json").read_text())
        return float(info["load_all_elapsed"])

    def build(self, label: str, first: date, last: date, *, full_refresh: bool = False) -> DbtRun:
        args = ["build", "--vars", json.dumps(window_vars(first, last))]
        wall = self._invoke([*args, "--full-refresh"] if full_refresh else args)
        results = json.loads((self.target / "run_results.json").read_text())
        models_s = tests_s = 0.0
        for node in results["results"]:
            if node["status"] not in ("success", "pass"):
                raise RuntimeError(f"dbt node {node['unique_id']} ended {node['status']}: {node.get('message')}")
            spent = sum(_span(t) for t in node.get("timing", []))
            if node["unique_id"].startswith("model."):
                models_s += spent
            else:
                tests_s += spent
        return DbtRun(label, wall, float(results["elapsed_time"]), models_s, tests_s, len(results["results"]))


def _span(timing: dict[str, Any]) -> float:
    started, completed = timing.get("started_at"), timing.get("completed_at")
    if not started or not completed:
        return 0.0
    return (datetime.fromisoformat(completed.rstrip("Z")) - datetime.fromisoformat(started.rstrip("Z"))).total_seconds()


def _reset(url: str) -> None:
    with connect(url) as conn:
        conn.execute("drop schema if exists raw, ops, staging, silver, gold cascade")
        conn.commit()
        ensure_schema(conn)
        conn.commit()


def _ingest(url: str, manifests: list[Path], settings: Settings) -> tuple[int, float]:
    started = time.perf_counter()
    lines = 0
    for manifest in manifests:
        result = ingest_manifest(url, manifest, settings=settings).to_dict()
        lines += int(result["totals"]["lines_read"])
    with connect(url, autocommit=True) as conn:
        conn.execute("vacuum analyze raw.ticket_events")
    return lines, time.perf_counter() - started


def _settle(url: str) -> None:
    """Fresh statistics and no pending autovacuum on the tables a build reads and writes: after a bulk
    load or a full refresh, autovacuum would otherwise run during the measured builds."""
    with connect(url, autocommit=True) as conn:
        for table in ("raw.ticket_events", "silver.ticket_fact", "gold.support_kpi_daily"):
            conn.execute(f"vacuum analyze {table}")


def _raw_rows(url: str) -> int:
    with connect(url) as conn:
        return int(conn.execute("select count(*) from raw.ticket_events").fetchone()[0])  # type: ignore[index]


def _median(runs: list[DbtRun], field: str) -> float:
    return float(statistics.median(getattr(r, field) for r in runs))


def run(days: int, tickets_per_day: int, repeat: int, out_dir: Path) -> dict[str, Any]:
    settings = dataclasses.replace(Settings.from_env(), partition_start=HISTORY_START)
    url = embedded.ensure_database(embedded.database_url(settings), BENCH_DATABASE)
    last_day = HISTORY_START + timedelta(days=days - 1)
    week_first = last_day - timedelta(days=6)
    range_first = last_day - timedelta(days=29)
    _reset(url)
    with tempfile.TemporaryDirectory(prefix="sdf-bench-dbt-") as tmp:
        work = Path(tmp)
        print(f"generating {days} days x {tickets_per_day} tickets ...", file=sys.stderr)
        started = time.perf_counter()
        summary = generate(work / "input", HISTORY_START, days, tickets_per_day, seed=5)
        generate_s = time.perf_counter() - started
        manifests = sorted((work / "input" / "manifests").glob("*.json"))
        recent = manifests[-7:]
        older = manifests[:-7]
        dbt = DbtBench(url, work, HISTORY_START)
        parse_runs = [dbt.parse_s() for _ in range(repeat)]

        print("loading the last 7 days and building them ...", file=sys.stderr)
        recent_lines, recent_ingest_s = _ingest(url, recent, settings)
        week_rows = _raw_rows(url)
        dbt.build("7 days of history: build the week", week_first, last_day)
        _settle(url)
        dbt.build("warm-up (not counted)", last_day, last_day)
        short_history = [dbt.build("one partition, 7 days of history", last_day, last_day) for _ in range(repeat)]

        print(f"loading the other {len(older)} days (the factory's ingest) ...", file=sys.stderr)
        older_lines, older_ingest_s = _ingest(url, older, settings)
        year_rows = _raw_rows(url)
        full_refresh = dbt.build("--full-refresh over all history", last_day, last_day, full_refresh=True)
        _settle(url)
        dbt.build("warm-up (not counted)", last_day, last_day)

        long_history: list[DbtRun] = []
        ranges: list[DbtRun] = []
        for _ in range(repeat):  # interleaved, so drift of the shared machine hits both alike
            long_history.append(dbt.build(f"one partition, {days} days of history", last_day, last_day))
            ranges.append(dbt.build("30-day range, one invocation", range_first, last_day))

    history_ratio = _median(long_history, "execution_s") / _median(short_history, "execution_s")
    range_ratio = _median(ranges, "execution_s") / _median(long_history, "execution_s")
    report: dict[str, Any] = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{os.cpu_count()} cpu(s), shared",
        "history": {
            "first_day": HISTORY_START.isoformat(),
            "days": days,
            "tickets_per_day": tickets_per_day,
            "lines_generated": summary.records,
            "generate_s": round(generate_s, 1),
            "raw_rows_7_days": week_rows,
            "raw_rows_all": year_rows,
            "ingest_lines": recent_lines + older_lines,
            "ingest_s": round(recent_ingest_s + older_ingest_s, 1),
            "ingest_method": "orchestration.ingest.loader.ingest_manifest, one manifest per day",
        },
        "partition": last_day.isoformat(),
        "range": [range_first.isoformat(), last_day.isoformat()],
        "repeat": repeat,
        "dbt_parse_s": {"median": round(statistics.median(parse_runs), 3), "runs": [round(p, 3) for p in parse_runs]},
        "execution_s_median": {
            "partition_7_days_history": round(_median(short_history, "execution_s"), 3),
            "partition_365_days_history": round(_median(long_history, "execution_s"), 3),
            "range_30_days_365_days_history": round(_median(ranges, "execution_s"), 3),
            "full_refresh_all_history": round(full_refresh.execution_s, 3),
        },
        "wall_s_median": {
            "partition_7_days_history": round(_median(short_history, "wall_s"), 3),
            "partition_365_days_history": round(_median(long_history, "wall_s"), 3),
            "range_30_days_365_days_history": round(_median(ranges, "wall_s"), 3),
        },
        "ratios": {
            "history_365_vs_7_days": round(history_ratio, 2),
            "history_target": TARGET_HISTORY_RATIO,
            "history_met": history_ratio <= TARGET_HISTORY_RATIO,
            "range_30_days_vs_one_partition": round(range_ratio, 2),
            "range_target": TARGET_RANGE_RATIO,
            "range_met": range_ratio <= TARGET_RANGE_RATIO,
            "basis": "median dbt execution time (run_results.json elapsed_time), parse excluded",
        },
        "runs": [r.to_dict() for r in (*short_history, full_refresh, *long_history, *ranges)],
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "dbt_partition_cost.json").write_text(json.dumps(report, indent=2) + "\n")
    (out_dir / "dbt_partition_cost.md").write_text(_markdown(report))
    return report


def _markdown(report: dict[str, Any]) -> str:
    h, e, w, r = report["history"], report["execution_s_median"], report["wall_s_median"], report["ratios"]
    met = {True: "met", False: "MISSED"}
    lines = [
        "# dbt partition cost",
        "",
        f"Measured {report['measured_at']} on {report['machine']} (`python -m benchmarks.dbt_partition_cost`).",
        f"History: {h['days']} days from {h['first_day']} at {h['tickets_per_day']} tickets a day, "
        f"{h['lines_generated']:,} lines generated, {h['raw_rows_all']:,} ticket versions loaded into "
        f"raw.ticket_events by the factory's ingest in {h['ingest_s']} s.",
        f"Partition {report['partition']}; range {report['range'][0]} .. {report['range'][1]}; "
        f"medians of {report['repeat']} runs of `dbt build` (models + tests).",
        "",
        "| measurement | dbt execution s | wall s (incl. start + parse) |",
        "|---|---|---|",
        f"| one partition, 7 days of history | {e['partition_7_days_history']} | {w['partition_7_days_history']} |",
        f"| one partition, {h['days']} days of history | {e['partition_365_days_history']} "
        f"| {w['partition_365_days_history']} |",
        f"| 30-day range in one invocation | {e['range_30_days_365_days_history']} "
        f"| {w['range_30_days_365_days_history']} |",
        f"| --full-refresh of all history (once) | {e['full_refresh_all_history']} | |",
        "",
        f"dbt parse (full, no partial parsing): {report['dbt_parse_s']['median']} s.",
        "",
        "| ratio (on execution time) | value | target | |",
        "|---|---|---|---|",
        f"| {h['days']} vs 7 days of history | {r['history_365_vs_7_days']} | <= {r['history_target']} "
        f"| {met[r['history_met']]} |",
        f"| 30-day range vs one partition | {r['range_30_days_vs_one_partition']} | <= {r['range_target']} "
        f"| {met[r['range_met']]} |",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.dbt_partition_cost", description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--tickets-per-day", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args(argv)
    if args.days < 30:
        parser.error("--days must be at least 30 (the range measurement spans 30 days)")
    run(args.days, args.tickets_per_day, args.repeat, args.out)
    # A missed target is reported (MISSED in the table), not turned into a failing exit code:
    # timings on a shared machine must never gate a build.
    print((args.out / "dbt_partition_cost.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
