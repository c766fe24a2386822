"""`make bench` (run overhead): does a partition run cost its work, or the orchestration around it?

On a database of its own (`factory_run_bench`, on the embedded PostgreSQL or DATABASE_URL's
server), with the demo input (seeds/) loaded and built once, the script times in one run,
interleaved, each repetition:

- the work done by hand: a bare ingest of the partition's manifests (`data-factory ingest`) plus a
  bare `dbt build --vars '{partition_date: D}'` in dbt_project/ (its own target folder, so its
  partial parse stays warm as it does for a user who runs dbt again);
- `data-factory run --partition D` (the core job, in-process);
- the run a UI launch starts: `dagster job execute` of the job, with the job's own executor, in a
  process that loads the definitions as a run worker does;
- the same three for a range of partitions (one run, one dbt invocation).

Targets (issue 14): run <= 1.5x the work by hand; UI-launched run <= 2x; a range of N partitions
costs its data, not N runs. Each ratio is the median over repetitions of ratios paired within one
repetition; wall time and CPU time (user + system of every process the command started) are both
reported, since the machine is shared and its wall clock is noisy.
Results: reports/benchmarks/run_overhead.json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from orchestration.config import DBT_PROJECT_DIR, PROJECT_ROOT, SEEDS_DIR, Settings
from orchestration.db import embedded
from orchestration.db.connection import ConnectionParams, connect
from orchestration.db.schema import ensure_schema
from orchestration.fileio import write_text_atomic
from orchestration.transform.dbt_project import dbt_executable, vars_arg

BENCH_DATABASE = "factory_run_bench"
OUT_DIR = PROJECT_ROOT / "reports" / "benchmarks"
DAY = date(2026, 4, 12)
RANGE = (date(2026, 4, 10), date(2026, 4, 17))
TARGET_RUN = 1.5
TARGET_UI_RUN = 2.0


@dataclass(frozen=True)
class Timed:
    wall_s: float
    cpu_s: float


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _bin(name: str) -> str:
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else name


class Bench:
    def __init__(self, url: str, work: Path) -> None:
        self.work = work
        # Every command sees the bench database, its own Dagster home and report folder.
        self.env = {
            **os.environ,
            "DATABASE_URL": url,
            "DAGSTER_HOME": str(work / "dagster"),
            "WEEK06_REPORT_DIR": str(work / "reports"),
            "WEEK06_MANIFEST_DIR": str(SEEDS_DIR / "manifests"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        }
        self.dbt_env = {
            **self.env,
            **ConnectionParams.from_url(url).as_env(),
            "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
            "DBT_TARGET_PATH": str(work / "dbt-target"),
            "DBT_LOG_PATH": str(work / "dbt-logs"),
        }
        (work / "dagster").mkdir()
        (work / "dagster" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")

    def _call(self, command: list[str], *, cwd: Path = PROJECT_ROOT, env: dict[str, str] | None = None) -> Timed:
        cpu = _children_cpu()
        started = time.perf_counter()
        done = subprocess.run(command, cwd=cwd, env=env or self.env, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - started
        if done.returncode not in (0, 1):  # 1: completed with a warning or a refused line (demo data has both)
            raise RuntimeError(
                f"{' '.join(command)} exited {done.returncode}:\n{done.stdout[-2000:]}{done.stderr[-3000:]}"
            )
        return Timed(wall, _children_cpu() - cpu)

    def ingest(self, first: date, last: date) -> Timed:
        walls, cpus = 0.0, 0.0
        for manifest in _manifests(first, last):
            t = self._call([_bin("data-factory"), "ingest", "--manifest", str(manifest), "--json"])
            walls, cpus = walls + t.wall_s, cpus + t.cpu_s
        return Timed(walls, cpus)

    def dbt_build(self, first: date, last: date) -> Timed:
        return self._call(
            [dbt_executable(), "build", "--vars", vars_arg(first, last)], cwd=DBT_PROJECT_DIR, env=self.dbt_env
        )

    def run(self, first: date, last: date) -> Timed:
        window = (
            ["--partition", first.isoformat()]
            if first == last
            else ["--start", first.isoformat(), "--end", last.isoformat()]
        )
        return self._call([_bin("data-factory"), "run", *window, "--json"])

    def ui_run(self, first: date, last: date) -> Timed:
        if first == last:
            tags = {"dagster/partition": first.isoformat()}
        else:
            tags = {
                "dagster/asset_partition_range_start": first.isoformat(),
                "dagster/asset_partition_range_end": last.isoformat(),
            }
        return self._call(
            [
                _bin("dagster"),
                "job",
                "execute",
                "-m",
                "orchestration.definitions",
                "-j",
                _job_name(),
                "--tags",
                json.dumps(tags),
            ]
        )


def _job_name() -> str:
    """The core job's name: the course's `week06_data_factory`, or its former name on older trees."""
    sources = "".join(p.read_text() for p in (PROJECT_ROOT / "orchestration" / "defs").rglob("*.py"))
    return (
        "week06_data_factory"
        if re.search(r"""define_asset_job\(\s*(name=)?["']week06_data_factory["']""", sources)
        else "week06_data_factory_job"
    )


def _manifests(first: date, last: date) -> list[Path]:
    days = {d.strftime("%Y%m%d") for d in _days(first, last)}
    return [p for p in sorted((SEEDS_DIR / "manifests").glob("*.json")) if p.stem.split("-")[2] in days]


def _days(first: date, last: date) -> list[date]:
    return [date.fromordinal(n) for n in range(first.toordinal(), last.toordinal() + 1)]


def _reset(url: str) -> None:
    with connect(url) as conn:
        conn.execute("drop schema if exists raw, ops, staging, silver, gold cascade")
        conn.commit()
        ensure_schema(conn)
        conn.commit()


def _median(values: list[float]) -> float:
    return float(statistics.median(values))


def _summary(name: str, work: list[Timed], run: list[Timed], ui: list[Timed]) -> dict[str, Any]:
    def figures(samples: list[Timed]) -> dict[str, float]:
        return {
            "wall_s": round(_median([s.wall_s for s in samples]), 2),
            "cpu_s": round(_median([s.cpu_s for s in samples]), 2),
        }

    def ratio(samples: list[Timed], attr: str) -> float:
        return round(_median([getattr(s, attr) / getattr(w, attr) for s, w in zip(samples, work, strict=True)]), 2)

    return {
        "window": name,
        "work_by_hand": figures(work),
        "run": figures(run),
        "ui_run": figures(ui),
        "run_vs_work_wall": ratio(run, "wall_s"),
        "run_vs_work_cpu": ratio(run, "cpu_s"),
        "ui_run_vs_work_wall": ratio(ui, "wall_s"),
        "ui_run_vs_work_cpu": ratio(ui, "cpu_s"),
    }


def bench(repeat: int, out_dir: Path, label: str, database: str = BENCH_DATABASE) -> dict[str, Any]:
    settings = Settings.from_env()
    url = embedded.ensure_database(embedded.database_url(settings), database)
    _reset(url)
    with tempfile.TemporaryDirectory(prefix="sdf-bench-run-") as tmp:
        b = Bench(url, Path(tmp))
        print("loading and building the demo input once (not counted) ...", file=sys.stderr)
        b.run(*RANGE)
        b.ingest(*RANGE)
        b.dbt_build(DAY, DAY)
        b.dbt_build(*RANGE)
        b.ui_run(DAY, DAY)
        samples: dict[str, dict[str, list[Timed]]] = {
            w: {"work": [], "run": [], "ui": []} for w in ("one partition", "range")
        }
        for i in range(repeat):  # interleaved: drift of the shared machine hits every command alike
            print(f"repetition {i + 1}/{repeat} ...", file=sys.stderr)
            for name, (first, last) in (("one partition", (DAY, DAY)), ("range", RANGE)):
                ingest, dbt = b.ingest(first, last), b.dbt_build(first, last)
                samples[name]["work"].append(Timed(ingest.wall_s + dbt.wall_s, ingest.cpu_s + dbt.cpu_s))
                samples[name]["run"].append(b.run(first, last))
                samples[name]["ui"].append(b.ui_run(first, last))
    one = _summary(f"one partition ({DAY})", **samples["one partition"])
    rng = _summary(f"range {RANGE[0]}..{RANGE[1]} ({len(_days(*RANGE))} partitions)", **samples["range"])
    run_range_vs_one = _median(
        [r.wall_s / o.wall_s for r, o in zip(samples["range"]["run"], samples["one partition"]["run"], strict=True)]
    )
    work_range_vs_one = _median(
        [r.wall_s / o.wall_s for r, o in zip(samples["range"]["work"], samples["one partition"]["work"], strict=True)]
    )
    report: dict[str, Any] = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "label": label,
        "repetitions": repeat,
        "input": "seeds/ (the demo input: 8 daily manifests, ~1.3k lines)",
        "one_partition": one,
        "range": rng,
        "range_vs_one_partition_wall": {"run": round(run_range_vs_one, 2), "work_by_hand": round(work_range_vs_one, 2)},
        "targets": {
            "run_vs_work": TARGET_RUN,
            "run_vs_work_met": one["run_vs_work_wall"] <= TARGET_RUN,
            "ui_run_vs_work": TARGET_UI_RUN,
            "ui_run_vs_work_met": one["ui_run_vs_work_wall"] <= TARGET_UI_RUN,
        },
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out_dir / "run_overhead.json", json.dumps(report, indent=2) + "\n")
    write_text_atomic(out_dir / "run_overhead.md", markdown(report))
    return report


def markdown(report: dict[str, Any]) -> str:
    lines = [
        f"# Run overhead ({report['measured_at']}{', ' + report['label'] if report['label'] else ''})",
        "",
        f"Input: {report['input']}. Medians of {report['repetitions']} interleaved repetitions; "
        "ratios are paired within a repetition. CPU = user + system of every process started.",
        "",
        "| window | command | wall s | CPU s | wall ratio to the work | CPU ratio |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for key in ("one_partition", "range"):
        s = report[key]
        lines += [
            f"| {s['window']} | bare ingest + bare `dbt build` | {s['work_by_hand']['wall_s']} | "
            f"{s['work_by_hand']['cpu_s']} | 1.00 | 1.00 |",
            f"| | `data-factory run` | {s['run']['wall_s']} | {s['run']['cpu_s']} | "
            f"{s['run_vs_work_wall']} | {s['run_vs_work_cpu']} |",
            f"| | UI-launched run (`dagster job execute`) | {s['ui_run']['wall_s']} | {s['ui_run']['cpu_s']} | "
            f"{s['ui_run_vs_work_wall']} | {s['ui_run_vs_work_cpu']} |",
        ]
    t = report["targets"]
    r = report["range_vs_one_partition_wall"]
    lines += [
        "",
        f"Range over one partition (wall): run {r['run']}x, work by hand {r['work_by_hand']}x.",
        "",
        "| target | measured (wall) | met |",
        "|---|---:|---|",
        f"| `data-factory run` <= {t['run_vs_work']}x the work | {report['one_partition']['run_vs_work_wall']} "
        f"| {t['run_vs_work_met']} |",
        f"| UI-launched run <= {t['ui_run_vs_work']}x the work | {report['one_partition']['ui_run_vs_work_wall']} "
        f"| {t['ui_run_vs_work_met']} |",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run_overhead", description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    parser.add_argument("--label", default="", help="a note written into the report (e.g. before/after)")
    parser.add_argument("--database", default=BENCH_DATABASE, help="the database it (re)creates its tables in")
    args = parser.parse_args(argv)
    report = bench(args.repeat, args.out, args.label, args.database)
    print(markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
