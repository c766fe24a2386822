"""`backfill-plan`: each partition's state, action and exact command; a dry run unless --execute,
which replays what the plan names and plans again."""

from __future__ import annotations

import argparse
from typing import Any

from orchestration.cli.commands.job import last_runs, run_exit, run_job
from orchestration.cli.errors import EXIT_OK, EXIT_REFUSED, UsageError
from orchestration.cli.output import emit
from orchestration.config import Settings


def cmd_backfill_plan(args: argparse.Namespace, settings: Settings) -> int:
    from orchestration.backfill.plan import build_plan, needs_action, replay_ranges, write_plan
    from orchestration.db import embedded
    from orchestration.db.connection import connect
    from orchestration.db.schema import ensure_schema

    if args.end < args.start:
        raise UsageError(f"partition_out_of_range: --end {args.end} is before --start {args.start}")
    url = embedded.database_url(settings)
    with connect(url) as conn:  # unreachable -> exit 3; the schema may not exist yet on a fresh database
        ensure_schema(conn)
    plan = build_plan(url, settings, args.start, args.end, last_runs=last_runs(settings, args.start, args.end))
    plan_path, _ = write_plan(plan, settings)

    def show(shown: dict[str, Any], title: str) -> None:
        print(f"backfill plan {shown['start']}..{shown['end']} ({title})")
        for p in shown["partitions"]:
            listed = ", ".join(p["reason_codes"]) or "-"
            print(f"  {p['partition_key']}  {p['state']:<12} {p['action']:<13} {listed}")

    if not args.execute:

        def human() -> None:
            show(plan, "dry run, nothing written to the database")
            for command in plan["commands"]:
                print(f"  run: {command}")
            print(f"plan: {plan_path.name} and backfill_plan_<partition>.json in {plan_path.parent.name}/")

        emit(plan, args.json, human)
        return EXIT_OK

    # --execute: replay exactly the partitions the plan names, one single run per contiguous range,
    # then plan again: what the second plan still lists is what the replay did not settle.
    runs = []
    for first, last in replay_ranges(plan["partitions"]):
        outcome, rows = run_job(settings, first, last)
        runs.append(
            {
                "start": first.isoformat(),
                "end": last.isoformat(),
                "run_id": outcome.run_id,
                "job_success": outcome.success,
                "exit_code": run_exit(outcome, rows),
                "decisions": {r["partition_key"]: r["downstream_decision"] for r in rows},
            }
        )
    after = build_plan(url, settings, args.start, args.end, last_runs=last_runs(settings, args.start, args.end))
    write_plan(after, settings)
    remaining = [p["partition_key"] for p in after["partitions"] if needs_action(p)]
    code = EXIT_OK if all(r["exit_code"] == EXIT_OK for r in runs) and not remaining else EXIT_REFUSED
    document = {
        "executed": True,
        "exit_code": code,
        "runs": runs,
        "remaining": remaining,
        "plan": plan,
        "plan_after": after,
    }

    def executed() -> None:
        show(plan, "before")
        for r in runs:
            verdict = "succeeded" if r["job_success"] else "FAILED"
            print(f"  replayed {r['start']}..{r['end']}: run {r['run_id']} {verdict}")
        if not runs:
            print("  nothing to replay")
        show(after, "after")
        print("still to do: " + (", ".join(remaining) if remaining else "nothing"))

    emit(document, args.json, executed)
    return code
