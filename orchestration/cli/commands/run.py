"""`run` (the job over a partition or a range, then its evidence), `evidence` (one partition's
verdict) and `demo` (what `make demo` runs: the seed partitions, quietly, and where to look next)."""

from __future__ import annotations

import argparse
import sys
import time

from orchestration.cli.commands.job import held, run_exit, run_job
from orchestration.cli.errors import EXIT_OK, EXIT_REFUSED, UsageError
from orchestration.cli.output import emit, print_table
from orchestration.cli.ranges import check_range, partition_args
from orchestration.config import Settings


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    first, last = partition_args(args)
    check_range(settings, first, last)
    outcome, rows = run_job(settings, first, last)
    code = run_exit(outcome, rows)
    held_keys = [r["partition_key"] for r in rows if held(r)]
    document = {
        "run_id": outcome.run_id,
        # The command's verdict: the job ran and every partition may go downstream (exit code 0).
        "success": code == EXIT_OK,
        "exit_code": code,
        "job_success": outcome.success,
        "failed_steps": outcome.failed_steps,
        "held_partitions": held_keys,
        "partitions": rows,
    }

    def human() -> None:
        verdict = "succeeded" if outcome.success else "FAILED " + str(outcome.failed_steps)
        print(f"run {outcome.run_id}: {verdict}" + (f"; held downstream: {', '.join(held_keys)}" if held_keys else ""))
        print_table(rows)

    emit(document, args.json, human)
    return code


def cmd_evidence(args: argparse.Namespace, settings: Settings) -> int:
    from orchestration.evidence.rows import evidence_rows

    rows = evidence_rows(settings.report_dir, args.partition, args.partition)
    row = rows[0]
    emit(
        row,
        args.json,
        lambda: print(
            f"{row['partition_key']}: {row['status']} -> {row['downstream_decision']} "
            f"({', '.join(row['reason_codes']) or 'no reason codes'})\n{row['report_path'] or ''}"
        ),
    )
    return EXIT_REFUSED if held(row) else EXIT_OK


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from orchestration.db import embedded
    from orchestration.db.connection import connect
    from orchestration.db.schema import ensure_schema
    from orchestration.fileio import display_path
    from orchestration.gate.manifests import covered_range

    seeds = covered_range(settings.manifest_dir)
    if seeds is None:
        raise UsageError(f"no readable manifest in {settings.manifest_dir}")
    first, last = seeds
    url = embedded.database_url(settings)
    with connect(url) as conn:
        ensure_schema(conn)
        before = conn.execute("select count(*) from raw.ticket_events").fetchone()[0]  # type: ignore[index]
    log_file = settings.report_dir / "logs" / "demo.log"
    print(
        f"support-data-factory demo: partitions {first}..{last} from {display_path(settings.manifest_dir)}/ "
        f"(one Dagster run, one dbt build)\n"
        f"dbt and Dagster logs: {display_path(log_file)}",
        file=sys.stderr,
        flush=True,
    )
    started = time.perf_counter()
    outcome, rows = run_job(settings, first, last, log_file=log_file)
    with connect(url) as conn:
        after = conn.execute("select count(*) from raw.ticket_events").fetchone()[0]  # type: ignore[index]
    elapsed = time.perf_counter() - started
    print()
    print(
        f"Dagster run {outcome.run_id}: {'succeeded' if outcome.success else 'FAILED'} in {elapsed:.0f}s; "
        f"new raw rows this run: {after - before} (raw.ticket_events holds {after})"
    )
    print()
    print_table(rows)
    print()
    example = rows[-1]["report_path"] or display_path(settings.report_dir / "run_evidence" / f"{last}.json")
    print("Where to look next:")
    print(f"  evidence:   {display_path(settings.report_dir)}/run_evidence/<partition>.json and .md (e.g. {example})")
    report = display_path(settings.report_dir)
    print(f"  course:     {report}/week06_delivery_summary.md, run_evidence_summary.md, asset_checks_summary.md")
    print(f"  replay:     .venv/bin/data-factory backfill-plan --start {first} --end {last} [--execute]")
    print(f"  logs:       {display_path(log_file)} (dbt and Dagster, this run)")
    print("  Dagster UI: make dev   -> http://127.0.0.1:3000 (this run is in the run list)")
    print("  dbt docs:   make docs  -> http://127.0.0.1:8080")
    print("  SQL:        eval \"$(.venv/bin/data-factory db env)\" && psql -c 'select * from ops.ingest_ledger'")
    if not outcome.success:
        print(f"failed steps: {outcome.failed_steps} (see {display_path(log_file)})", file=sys.stderr)
        return EXIT_REFUSED
    return EXIT_OK
