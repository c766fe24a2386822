"""The command tree of `data-factory`: its subcommands, their options and the argument types, each
subcommand bound to the `cmd_*` function that carries it out."""

from __future__ import annotations

import argparse
from datetime import date

from orchestration.cli.commands.backfill import cmd_backfill_plan
from orchestration.cli.commands.data import cmd_gate, cmd_generate, cmd_ingest
from orchestration.cli.commands.db import cmd_db
from orchestration.cli.commands.lake import cmd_lake
from orchestration.cli.commands.run import cmd_demo, cmd_evidence, cmd_run
from orchestration.cli.commands.serve import cmd_serve

# What `data-factory --help` opens with; the exit codes are orchestration.cli.errors'.
DESCRIPTION = """`data-factory`: the command line over the core. Logs go to stderr.

Exit codes: 0 success; 1 completed but something was refused or a check failed; 2 bad
invocation or unreadable manifest; 3 environment problem (database unreachable or lost mid-run,
a folder that cannot be written, object store unreachable or refusing our keys); 130 interrupted
(Ctrl-C). Under `--json` every command prints exactly one JSON document on stdout, whatever its
exit code.
"""


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"a rate is between 0 and 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="data-factory", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging on stderr")
    sub = parser.add_subparsers(dest="command", required=True)

    db = sub.add_parser("db", help="embedded PostgreSQL (no-op with DATABASE_URL)")
    db.add_argument("action", choices=["up", "down", "status", "url", "env"])
    db.add_argument("--json", action="store_true")
    db.set_defaults(func=cmd_db)

    gen = sub.add_parser("generate", help="write ticket_v1 JSONL + source_manifest_v1 manifests")
    gen.add_argument("--out", required=True)
    gen.add_argument("--start", required=True, type=_day)
    gen.add_argument("--days", required=True, type=int)
    gen.add_argument("--tickets-per-day", required=True, type=int)
    gen.add_argument("--seed", type=int, default=7)
    gen.add_argument("--invalid-rate", type=_rate, default=0.01)
    gen.add_argument("--duplicate-rate", type=_rate, default=0.01)
    gen.add_argument("--late-rate", type=_rate, default=0.1)
    gen.add_argument("--json", action="store_true")
    gen.set_defaults(func=cmd_generate)

    gate = sub.add_parser("gate", help="judge a manifest's files")
    gate.add_argument("--manifest", required=True)
    gate.add_argument("--source-root", help="files must resolve inside it (default: the manifest folder's parent)")
    gate.add_argument("--json", action="store_true")
    gate.set_defaults(func=cmd_gate)

    ing = sub.add_parser("ingest", help="gate, then load the accepted files into raw.ticket_events")
    ing.add_argument("--manifest", required=True)
    ing.add_argument("--source-root")
    ing.add_argument("--dry-run", action="store_true", help="do everything, then roll back")
    ing.add_argument("--reread", action="store_true", help="read files already ingested again (still idempotent)")
    ing.add_argument("--json", action="store_true")
    ing.set_defaults(func=cmd_ingest)

    run = sub.add_parser("run", help="run the week06_data_factory job in-process for a partition or range")
    run.add_argument("--partition", type=_day)
    run.add_argument("--start", type=_day)
    run.add_argument("--end", type=_day, help="inclusive")
    run.add_argument("--json", action="store_true")
    run.set_defaults(func=cmd_run)

    ev = sub.add_parser("evidence", help="show a partition's run evidence")
    ev.add_argument("--partition", required=True, type=_day)
    ev.add_argument("--json", action="store_true")
    ev.set_defaults(func=cmd_evidence)

    plan = sub.add_parser(
        "backfill-plan", help="each partition's state, action and exact command (a dry run unless --execute)"
    )
    plan.add_argument("--start", required=True, type=_day)
    plan.add_argument("--end", required=True, type=_day, help="inclusive")
    plan.add_argument(
        "--execute",
        action="store_true",
        help="replay the partitions the plan names (one run per contiguous range), then plan again",
    )
    plan.add_argument("--json", action="store_true")
    plan.set_defaults(func=cmd_backfill_plan)

    lake = sub.add_parser("lake", help="the parquet lake Spark reads: land raw partitions as parquet")
    lake_sub = lake.add_subparsers(dest="lake_command", required=True)
    export = lake_sub.add_parser(
        "export", help="land each partition's raw rows as parquet under the lake root (unchanged ones are skipped)"
    )
    export.add_argument("--partition", type=_day)
    export.add_argument("--start", type=_day)
    export.add_argument("--end", type=_day, help="inclusive")
    export.add_argument("--lake-root", help="default WEEK06_LAKE_ROOT, else .local/lake")
    export.add_argument("--force", action="store_true", help="rewrite partitions even when unchanged")
    export.add_argument("--json", action="store_true")
    export.set_defaults(func=cmd_lake)

    demo = sub.add_parser("demo", help="what `make demo` runs: the job over the seed partitions, and a table")
    demo.set_defaults(func=cmd_demo)

    srv = sub.add_parser(
        "serve", help="production Dagster without Docker: code server, webserver, daemon on PostgreSQL storage"
    )
    srv.add_argument("--host", default="127.0.0.1", help="address all three listen on (default 127.0.0.1)")
    srv.add_argument("--port", type=int, default=3000, help="webserver port (default 3000)")
    srv.add_argument("--code-server-port", type=int, default=4000, help="gRPC code server port (default 4000)")
    srv.add_argument("--home", help="DAGSTER_HOME of the stack (default .local/dagster-serve)")
    srv.add_argument(
        "--max-concurrent-runs",
        type=int,
        help="queued run coordinator limit (default DAGSTER_MAX_CONCURRENT_RUNS, else 2; -1: no limit)",
    )
    srv.set_defaults(func=cmd_serve)
    return parser
