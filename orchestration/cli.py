"""`data-factory`: the command line over the core (DESIGN.md section 10). Logs go to stderr.

Exit codes: 0 success; 1 completed but something was refused or a check failed; 2 bad
invocation or unreadable manifest; 3 environment problem (database unreachable).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date
from pathlib import Path
from typing import Any

from orchestration.config import Settings

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_ENV = 0, 1, 2, 3
log = logging.getLogger("data_factory")


class UsageError(Exception):
    pass


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


def _emit(document: Any, as_json: bool, human: Callable[[], None]) -> None:
    if as_json:
        sys.stdout.write(json.dumps(document, indent=2, default=str) + "\n")
    else:
        human()


# ---------------------------------------------------------------- db


def cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    from orchestration.db import embedded
    from orchestration.db.connection import ConnectionParams, redact

    if args.action == "up":
        current = embedded.up(settings)
        from orchestration.db.connection import connect
        from orchestration.db.schema import ensure_schema

        assert current.url is not None
        with connect(current.url) as conn:
            ensure_schema(conn)
    elif args.action == "down":
        current = embedded.down(settings)
    elif args.action == "url":
        print(redact(embedded.database_url(settings)) if settings.database_url else embedded.database_url(settings))
        return EXIT_OK
    elif args.action == "env":
        url = embedded.database_url(settings)
        params = ConnectionParams.from_url(url)
        for key, value in params.as_env().items():
            if key == "PGPASSWORD":
                if value:
                    print("# PGPASSWORD is not printed: export it yourself (or use ~/.pgpass)")
                continue
            print(f"export {key}={_shell_quote(value)}")
        return EXIT_OK
    else:
        current = embedded.status(settings)
    document = current.to_dict()
    _emit(
        document,
        args.json,
        lambda: print(
            f"{document['mode']} PostgreSQL: {'running' if document['running'] else 'not running'}"
            f" ({document['detail']})"
            + (f"\nurl: {document['url']}" if document["url"] else "")
            + (f"\ndata dir: {document['data_dir']}" if document["data_dir"] else "")
        ),
    )
    if args.action == "status" and not current.running:
        return EXIT_ENV
    return EXIT_OK


def _shell_quote(value: str) -> str:
    return "'" + value.replace("'", "'\"'\"'") + "'"


# ---------------------------------------------------------------- generate


def cmd_generate(args: argparse.Namespace, settings: Settings) -> int:
    from orchestration.generate.generator import generate

    started = time.perf_counter()
    summary = generate(
        Path(args.out),
        args.start,
        args.days,
        args.tickets_per_day,
        seed=args.seed,
        invalid_rate=args.invalid_rate,
        duplicate_rate=args.duplicate_rate,
        late_rate=args.late_rate,
    )
    document = summary.to_dict()
    elapsed = time.perf_counter() - started
    _emit(
        document,
        args.json,
        lambda: print(
            f"wrote {document.get('records')} lines in {len(document.get('files', []))} daily batches to "
            f"{args.out} in {elapsed:.1f}s (invalid {document.get('invalid')}, duplicates "
            f"{document.get('duplicates')}, late updates {document.get('late_updates')})"
        ),
    )
    return EXIT_OK


# ---------------------------------------------------------------- gate / ingest


def cmd_gate(args: argparse.Namespace, settings: Settings) -> int:
    from orchestration.gate.manifest_gate import ManifestUnreadable, judge_manifest, unreadable_report

    manifest = Path(args.manifest)
    try:
        result = judge_manifest(manifest, _source_root(args, settings))
    except ManifestUnreadable as err:
        if not args.json:
            raise
        # Scripts get their one JSON document (status `unreadable`) even when there is nothing to judge.
        _emit(unreadable_report(manifest, err), True, lambda: None)
        print(f"data-factory: {err}", file=sys.stderr)
        return EXIT_USAGE
    document = result.to_dict()

    def human() -> None:
        print(f"{document['manifest_id']}: {document['status']}")
        for asset in document["assets"]:
            reasons = "; ".join(f"{r['code']}: {r['message']}" for r in asset["reasons"]) or "ok"
            judgment = asset["judgment"]
            if asset["metadata_judgment"] != judgment:
                judgment += f" (metadata alone: {asset['metadata_judgment']})"
            loadable = "loadable" if asset["loadable"] else "not loadable"
            print(f"  {asset['source_id']}: {judgment}, {loadable} ({reasons})")

    _emit(document, args.json, human)
    return EXIT_REFUSED if result.refused else EXIT_OK


def _source_root(args: argparse.Namespace, settings: Settings) -> Path | None:
    return Path(args.source_root) if getattr(args, "source_root", None) else settings.source_root


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from orchestration.db import embedded
    from orchestration.ingest.loader import ingest_manifest

    url = embedded.database_url(settings)
    result = ingest_manifest(
        url,
        Path(args.manifest),
        settings=settings,
        source_root=_source_root(args, settings),
        dry_run=args.dry_run,
        reread=args.reread,
    )
    document = result.to_dict()

    def human() -> None:
        t = document["totals"]
        print(
            f"{document['manifest_id']} run {document['run_id']}: {document['status']}"
            + (" (dry run: nothing written)" if document["dry_run"] else "")
        )
        for f in document["files"]:
            print(
                f"  {f['source_id']}: {f['status']} read {f['lines_read']} loaded {f['loaded']} "
                f"duplicates {f['duplicates']} rejected {f['rejected']} {f['rejected_by_reason'] or ''}"
                + "".join(f"\n    {r['code']}: {r['message']}" for r in f["reasons"])
            )
        print(
            f"  total: read {t['lines_read']} loaded {t['loaded']} duplicates {t['duplicates']} "
            f"rejected {t['rejected']}; touched partitions: {', '.join(document['touched_partitions']) or '-'}"
        )

    _emit(document, args.json, human)
    if result.status == "failed":
        return EXIT_REFUSED
    return EXIT_OK if result.status == "success" else EXIT_REFUSED


# ---------------------------------------------------------------- run / evidence / demo


def _partition_args(args: argparse.Namespace) -> tuple[date, date]:
    if args.partition and (args.start or args.end):
        raise UsageError("give either --partition or --start/--end, not both")
    if args.partition:
        return args.partition, args.partition
    if not (args.start and args.end):
        raise UsageError("give --partition D, or --start D and --end D (inclusive)")
    if args.end < args.start:
        raise UsageError(f"--end {args.end} is before --start {args.start}")
    return args.start, args.end


def _check_range(settings: Settings, first: date, last: date) -> None:
    from orchestration.partitions import partition_bounds

    low, high = partition_bounds(settings)
    if first < low or last > high:
        raise UsageError(f"partition_out_of_range: partitions run from {low} to {high}; asked {first}..{last}")


def _evidence_rows(settings: Settings, first: date, last: date, run_id: str | None = None) -> list[dict[str, Any]]:
    from orchestration.evidence.report import read_evidence
    from orchestration.partitions import days_between

    rows: list[dict[str, Any]] = []
    for day in days_between(first, last):
        evidence = read_evidence(settings.report_dir, day)
        if evidence is None or (run_id is not None and evidence["run_id"] != run_id):
            rows.append(
                {
                    "partition_key": day.isoformat(),
                    "status": "not_available",
                    "downstream_decision": None,
                    "report_path": None,
                    "reason_codes": ["evidence_missing"],
                }
            )
            continue
        checks = evidence.get("checks", [])
        rows.append(
            {
                "partition_key": evidence["partition_key"],
                "status": evidence["status"],
                "downstream_decision": evidence.get("downstream_decision"),
                "report_path": evidence["report_path"],
                "reason_codes": evidence["reason_codes"],
                "run_id": evidence["run_id"],
                "ingest": evidence.get("ingest", {}).get("totals"),
                "input_row_count": evidence.get("input_row_count"),
                "output_row_count": evidence.get("output_row_count"),
                "checks_passed": sum(1 for c in checks if c["status"] == "success"),
                "checks_warned": sum(1 for c in checks if c["status"] == "warning"),
                "checks_failed": sum(1 for c in checks if c["status"] == "failed"),
            }
        )
    return rows


def _print_table(rows: list[dict[str, Any]]) -> None:
    header = ("partition", "read", "loaded", "dups", "rejected", "raw", "silver", "checks ok/warn/fail", "decision")
    table = [header]
    for r in rows:
        t = r.get("ingest") or {}
        table.append(
            (
                r["partition_key"],
                str(t.get("lines_read", "-")),
                str(t.get("loaded", "-")),
                str(t.get("duplicates", "-")),
                str(t.get("rejected", "-")),
                str(r.get("input_row_count", "-")),
                str(r.get("output_row_count", "-")),
                f"{r.get('checks_passed', 0)}/{r.get('checks_warned', 0)}/{r.get('checks_failed', 0)}",
                str(r.get("downstream_decision") or r["status"]),
            )
        )
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for n, row in enumerate(table):
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


def _run_job(settings: Settings, first: date, last: date) -> tuple[Any, list[dict[str, Any]]]:
    from datetime import datetime

    from orchestration.db import embedded
    from orchestration.db.connection import connect
    from orchestration.defs.runner import run_partitions
    from orchestration.evidence.report import ensure_evidence

    url = embedded.database_url(settings)
    with connect(url):  # unreachable -> exit 3 before any run starts
        pass
    verbose = logging.getLogger().isEnabledFor(logging.DEBUG)
    if not verbose:
        logging.getLogger("dagster").setLevel(logging.WARNING)
    started = datetime.now(UTC)
    # dbt's own log lines are echoed on stdout; stdout belongs to the result (--json, the table).
    with contextlib.redirect_stdout(sys.stderr):
        outcome = run_partitions(first, last, log_level="DEBUG" if verbose else "WARNING")
    ensure_evidence(
        url,
        settings,
        first,
        last,
        run_id=outcome.run_id,
        started_at=started,
        run_succeeded=outcome.success,
        failed_steps=outcome.failed_steps,
    )
    rows = _evidence_rows(settings, first, last, outcome.run_id)
    return outcome, rows


def _run_exit(outcome: Any, rows: list[dict[str, Any]]) -> int:
    if not outcome.success or any(r["downstream_decision"] in (None, "hold_downstream") for r in rows):
        return EXIT_REFUSED
    return EXIT_OK


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    first, last = _partition_args(args)
    _check_range(settings, first, last)
    outcome, rows = _run_job(settings, first, last)
    document = {
        "run_id": outcome.run_id,
        "success": outcome.success,
        "failed_steps": outcome.failed_steps,
        "partitions": rows,
    }

    def human() -> None:
        print(f"run {outcome.run_id}: {'succeeded' if outcome.success else 'FAILED ' + str(outcome.failed_steps)}")
        _print_table(rows)

    _emit(document, args.json, human)
    return _run_exit(outcome, rows)


def cmd_evidence(args: argparse.Namespace, settings: Settings) -> int:
    rows = _evidence_rows(settings, args.partition, args.partition)
    row = rows[0]
    _emit(
        row,
        args.json,
        lambda: print(
            f"{row['partition_key']}: {row['status']} -> {row['downstream_decision']} "
            f"({', '.join(row['reason_codes']) or 'no reason codes'})\n{row['report_path'] or ''}"
        ),
    )
    if row["downstream_decision"] is None:
        return EXIT_REFUSED
    return EXIT_REFUSED if row["downstream_decision"] == "hold_downstream" else EXIT_OK


def _seed_partitions(settings: Settings) -> tuple[date, date]:
    from orchestration.gate.manifest_gate import ManifestUnreadable, load_manifest, manifest_partitions

    covered: set[date] = set()
    for path in sorted(settings.manifest_dir.glob("*.json")):
        try:
            covered.update(manifest_partitions(load_manifest(path)))
        except ManifestUnreadable:
            continue
    if not covered:
        raise UsageError(f"no readable manifest in {settings.manifest_dir}")
    return min(covered), max(covered)


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from orchestration.db import embedded
    from orchestration.db.connection import connect
    from orchestration.db.schema import ensure_schema

    first, last = _seed_partitions(settings)
    url = embedded.database_url(settings)
    with connect(url) as conn:
        ensure_schema(conn)
        before = conn.execute("select count(*) from raw.ticket_events").fetchone()[0]  # type: ignore[index]
    print(
        f"support-data-factory demo: partitions {first}..{last} from {settings.manifest_dir.name}/ "
        f"(one Dagster run, one dbt build)",
        file=sys.stderr,
    )
    started = time.perf_counter()
    outcome, rows = _run_job(settings, first, last)
    with connect(url) as conn:
        after = conn.execute("select count(*) from raw.ticket_events").fetchone()[0]  # type: ignore[index]
    elapsed = time.perf_counter() - started
    print()
    print(
        f"Dagster run {outcome.run_id}: {'succeeded' if outcome.success else 'FAILED'} in {elapsed:.0f}s; "
        f"new raw rows this run: {after - before} (raw.ticket_events holds {after})"
    )
    print()
    _print_table(rows)
    print()
    print("Where to look next:")
    print(
        f"  evidence:   {settings.report_dir.name}/run_evidence/<partition>.json and .md "
        f"(e.g. {rows[-1]['report_path']})"
    )
    print("  Dagster UI: make dev   -> http://127.0.0.1:3000 (this run is in the run list)")
    print("  dbt docs:   make docs  -> http://127.0.0.1:8080")
    print("  SQL:        eval \"$(.venv/bin/data-factory db env)\" && psql -c 'select * from ops.ingest_ledger'")
    if not outcome.success:
        print(f"failed steps: {outcome.failed_steps}", file=sys.stderr)
        return EXIT_REFUSED
    return EXIT_OK


# ---------------------------------------------------------------- lake


def cmd_lake(args: argparse.Namespace, settings: Settings) -> int:
    from orchestration.db import embedded
    from orchestration.lake.export import LakeError, check_lake_root, export_partitions

    first, last = _partition_args(args)
    _check_range(settings, first, last)
    lake_root = args.lake_root or settings.lake_root
    try:
        check_lake_root(lake_root)  # refuse before starting or reaching any database
        export = export_partitions(embedded.database_url(settings), lake_root, first, last, force=args.force)
    except LakeError as exc:
        print(f"data-factory: {exc}", file=sys.stderr)
        return EXIT_ENV if str(exc).startswith("spark_extra_missing") else EXIT_USAGE
    document = export.to_dict()

    def human() -> None:
        print(f"lake {document['lake_root']}: {document['rows']} rows, partitions {document['partitions_by_status']}")
        for p in export.partitions:
            if p.status != "empty":
                print(f"  {p.partition_key}  {p.status:<9} {p.rows:>7} rows")

    _emit(document, args.json, human)
    return EXIT_OK


# ---------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="data-factory", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
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

    run = sub.add_parser("run", help="run week06_data_factory_job in-process for a partition or range")
    run.add_argument("--partition", type=_day)
    run.add_argument("--start", type=_day)
    run.add_argument("--end", type=_day, help="inclusive")
    run.add_argument("--json", action="store_true")
    run.set_defaults(func=cmd_run)

    ev = sub.add_parser("evidence", help="show a partition's run evidence")
    ev.add_argument("--partition", required=True, type=_day)
    ev.add_argument("--json", action="store_true")
    ev.set_defaults(func=cmd_evidence)

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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from orchestration.contracts import ContractViolation
    from orchestration.db.connection import DatabaseUnreachable, redact
    from orchestration.gate.manifest_gate import ManifestUnreadable

    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        stream=sys.stderr,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        settings = Settings.from_env()
        return int(args.func(args, settings))
    except UsageError as exc:
        print(f"data-factory: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ManifestUnreadable as exc:
        print(f"data-factory: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ContractViolation as exc:  # our own output broke its contract: refuse to show it
        print(f"data-factory: {redact(str(exc))}", file=sys.stderr)
        return EXIT_REFUSED
    except ValueError as exc:
        print(f"data-factory: invalid_argument: {redact(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except DatabaseUnreachable as exc:
        print(f"data-factory: {redact(str(exc))}", file=sys.stderr)
        return EXIT_ENV


if __name__ == "__main__":
    sys.exit(main())
