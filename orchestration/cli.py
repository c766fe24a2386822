"""`data-factory`: the command line over the core. Logs go to stderr.

Exit codes: 0 success; 1 completed but something was refused or a check failed; 2 bad
invocation or unreadable manifest; 3 environment problem (database unreachable or lost mid-run,
a folder that cannot be written, object store unreachable or refusing our keys); 130 interrupted
(Ctrl-C). Under `--json` every command prints exactly one JSON document on stdout, whatever its
exit code.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import re
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date
from pathlib import Path
from typing import Any

from orchestration.config import Settings

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_ENV, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
log = logging.getLogger("data_factory")
_emitted = False  # whether this command printed its JSON document already


class UsageError(Exception):
    pass


class EnvironmentProblem(Exception):
    """The machine, not the input: a folder that cannot be written, a database lost (exit code 3)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


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
    global _emitted
    if as_json:
        sys.stdout.write(json.dumps(document, indent=2, default=str) + "\n")
        sys.stdout.flush()
        _emitted = True
    else:
        human()


def _require_writable(path: Path, name: str) -> None:
    """Fail before any work when a folder the run writes to cannot be written."""
    import tempfile

    from orchestration.fileio import display_path

    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise EnvironmentProblem(
            "folder_not_writable", f"{name} ({display_path(path)}) cannot be written: {exc.strerror or exc}"
        ) from None


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
    from orchestration.gate.manifest_gate import judge_manifest
    from orchestration.gate.manifests import ManifestUnreadable
    from orchestration.gate.verdicts import unreadable_report
    from orchestration.sources.digests import DigestCache

    manifest = Path(args.manifest)
    try:
        result = judge_manifest(
            manifest, _source_root(args, settings), settings.object_store, DigestCache(settings.digest_cache)
        )
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
    if _environment_problem(r["code"] for a in document["assets"] for r in a["reasons"]):
        return EXIT_ENV
    return EXIT_REFUSED if result.refused else EXIT_OK


def _environment_problem(codes: Any) -> bool:
    """An object store that cannot be reached or refuses our keys is the deployment's problem (exit 3)."""
    from orchestration.sources.object_store import ENVIRONMENT_CODES

    return not ENVIRONMENT_CODES.isdisjoint(codes)


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

    environment = _environment_problem(r["code"] for f in document["files"] for r in f["reasons"])
    if result.connection_lost or environment:
        document["exit_code"] = EXIT_ENV
    _emit(document, args.json, human)
    if result.connection_lost or environment:
        return EXIT_ENV
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
    from orchestration.evidence.report import check_counts, ingest_totals, read_evidence
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
        counts = check_counts(evidence)
        rows.append(
            {
                "partition_key": evidence["partition_key"],
                "status": evidence["status"],
                "downstream_decision": evidence.get("downstream_decision"),
                "report_path": evidence["report_path"],
                "reason_codes": evidence["reason_codes"],
                "run_id": evidence["run_id"],
                "ingest": ingest_totals(evidence),
                "input_row_count": evidence.get("input_row_count"),
                "output_row_count": evidence.get("output_row_count"),
                "checks_passed": counts["passed"],
                "checks_warned": counts["warning"],
                "checks_failed": counts["failed"],
                "checks_skipped": counts["skipped"],
            }
        )
    return rows


def _print_table(rows: list[dict[str, Any]]) -> None:
    header: tuple[str, ...] = ("partition", "read", "loaded", "dups", "rejected", "raw", "silver")
    header += ("checks ok/warn/fail/skip", "decision")
    table: list[tuple[str, ...]] = [header]
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
                f"{r.get('checks_passed', 0)}/{r.get('checks_warned', 0)}/{r.get('checks_failed', 0)}"
                f"/{r.get('checks_skipped', 0)}",
                str(r.get("downstream_decision") or r["status"]),
            )
        )
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for n, row in enumerate(table):
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


def _run_job(
    settings: Settings, first: date, last: date, log_file: Path | None = None
) -> tuple[Any, list[dict[str, Any]]]:
    """Run the job; its dbt and Dagster logs go to stderr, or to `log_file` (the demo keeps the screen quiet)."""
    from datetime import datetime

    from orchestration.db import embedded
    from orchestration.db.connection import connect
    from orchestration.defs.runner import run_partitions
    from orchestration.evidence.completion import ensure_evidence

    url = embedded.database_url(settings)
    with connect(url):  # unreachable -> exit 3 before any run starts
        pass
    _require_writable(settings.report_dir, "WEEK06_REPORT_DIR")
    _require_writable(settings.dagster_home, "DAGSTER_HOME")
    verbose = logging.getLogger().isEnabledFor(logging.DEBUG)
    dagster_logger = logging.getLogger("dagster")
    if not verbose:
        dagster_logger.setLevel(logging.INFO if log_file else logging.WARNING)
    level = "DEBUG" if verbose else ("INFO" if log_file else "WARNING")
    started = datetime.now(UTC)
    with contextlib.ExitStack() as stack:
        if log_file is None:
            # dbt's own log lines are echoed on stdout; stdout belongs to the result (--json, the table).
            stack.enter_context(contextlib.redirect_stdout(sys.stderr))
        else:
            log_file.parent.mkdir(parents=True, exist_ok=True)
            sink = stack.enter_context(log_file.open("w", encoding="utf-8"))
            for screen in logging.getLogger().handlers:  # the screen keeps warnings only
                stack.callback(screen.setLevel, screen.level)
                screen.setLevel(logging.WARNING)
            handler = logging.StreamHandler(sink)
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
            logging.getLogger().addHandler(handler)
            stack.callback(logging.getLogger().removeHandler, handler)
            stack.enter_context(contextlib.redirect_stdout(sink))
            stack.enter_context(contextlib.redirect_stderr(sink))
        outcome = run_partitions(first, last, log_level=level)
    _raise_if_database_was_lost(url, settings, outcome)
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


# How a lost server shows in dbt's and psycopg's messages (restart, terminated backend, shutdown).
_CONNECTION_LOST = re.compile(
    r"database_connection_lost|database_unreachable|terminating connection|server closed the connection"
    r"|connection already closed|connection (?:to server .*)?(?:was lost|failed)|could not connect to server"
    r"|the database system is (?:shutting down|starting up|in recovery mode)|SSL connection has been closed",
    re.I,
)


def _raise_if_database_was_lost(url: str, settings: Settings, outcome: Any) -> None:
    """A run whose database went away failed because of the environment, not the data: exit 3,
    whatever dbt's tests then reported (a test that could not run looks like a failed test)."""
    from orchestration.db.connection import DatabaseUnreachable, connect, redact
    from orchestration.evidence.report import load_run_results

    try:
        with connect(url, connect_timeout=5):
            pass
    except DatabaseUnreachable as exc:
        raise EnvironmentProblem(
            "database_unreachable",
            f"the database went away during run {outcome.run_id}: {str(exc).removeprefix('database_unreachable: ')}",
        ) from None
    messages = list(getattr(outcome, "errors", []))
    run_results = load_run_results(settings.report_dir, outcome.run_id) or {}
    messages += [str(r.get("message") or "") for r in run_results.get("results", []) if r.get("status") == "error"]
    lost = next((m for m in messages if _CONNECTION_LOST.search(m)), None)
    if lost is not None:
        raise EnvironmentProblem(
            "database_connection_lost",
            f"the connection to the database broke during run {outcome.run_id}: {redact(lost).strip()[:300]}",
        )


def _run_exit(outcome: Any, rows: list[dict[str, Any]]) -> int:
    if not outcome.success or any(r["downstream_decision"] in (None, "hold_downstream") for r in rows):
        return EXIT_REFUSED
    return EXIT_OK


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    first, last = _partition_args(args)
    _check_range(settings, first, last)
    outcome, rows = _run_job(settings, first, last)
    code = _run_exit(outcome, rows)
    held = [r["partition_key"] for r in rows if r["downstream_decision"] in (None, "hold_downstream")]
    document = {
        "run_id": outcome.run_id,
        # The command's verdict: the job ran and every partition may go downstream (exit code 0).
        "success": code == EXIT_OK,
        "exit_code": code,
        "job_success": outcome.success,
        "failed_steps": outcome.failed_steps,
        "held_partitions": held,
        "partitions": rows,
    }

    def human() -> None:
        verdict = "succeeded" if outcome.success else "FAILED " + str(outcome.failed_steps)
        print(f"run {outcome.run_id}: {verdict}" + (f"; held downstream: {', '.join(held)}" if held else ""))
        _print_table(rows)

    _emit(document, args.json, human)
    return code


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
    from orchestration.gate.manifests import ManifestUnreadable, load_manifest, manifest_partitions

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
    from orchestration.fileio import display_path

    first, last = _seed_partitions(settings)
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
    outcome, rows = _run_job(settings, first, last, log_file=log_file)
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


# ---------------------------------------------------------------- backfill plan


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
    plan = build_plan(url, settings, args.start, args.end, last_runs=_last_runs(settings, args.start, args.end))
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

        _emit(plan, args.json, human)
        return EXIT_OK

    # --execute: replay exactly the partitions the plan names, one single run per contiguous range,
    # then plan again: what the second plan still lists is what the replay did not settle.
    runs = []
    for first, last in replay_ranges(plan["partitions"]):
        outcome, rows = _run_job(settings, first, last)
        runs.append(
            {
                "start": first.isoformat(),
                "end": last.isoformat(),
                "run_id": outcome.run_id,
                "job_success": outcome.success,
                "exit_code": _run_exit(outcome, rows),
                "decisions": {r["partition_key"]: r["downstream_decision"] for r in rows},
            }
        )
    after = build_plan(url, settings, args.start, args.end, last_runs=_last_runs(settings, args.start, args.end))
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

    _emit(document, args.json, executed)
    return code


def _last_runs(settings: Settings, first: date, last: date) -> dict[date, Any]:
    """The latest Dagster run of each partition, from the instance under DAGSTER_HOME (if there is one)."""
    from orchestration.defs.runner import partition_run_history

    return partition_run_history(first, last)


# ---------------------------------------------------------------- serve


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from orchestration import serve
    from orchestration.db import embedded
    from orchestration.db.connection import connect
    from orchestration.db.schema import ensure_schema

    limit = settings.max_concurrent_runs if args.max_concurrent_runs is None else args.max_concurrent_runs
    if limit < -1:
        raise UsageError("invalid_argument: --max-concurrent-runs is -1 (no limit), 0 (hold every run) or more")
    url = embedded.database_url(settings)
    with connect(url) as conn:
        ensure_schema(conn)
    home = Path(args.home).expanduser().resolve() if args.home else serve.ServeOptions.home
    options = serve.ServeOptions(
        host=args.host,
        webserver_port=args.port,
        code_server_port=args.code_server_port,
        home=home,
        max_concurrent_runs=limit,
    )
    return serve.serve(settings, options, url, lambda line: print(f"data-factory serve: {line}", file=sys.stderr))


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
        # A missing extra is the installation's problem (exit 3); a lake root we cannot write, the call's (2).
        exit_code = EXIT_ENV if exc.code == "spark_extra_missing" else EXIT_USAGE
        return _fail(args, exit_code, exc.code, str(exc))
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


def _fail(args: argparse.Namespace, exit_code: int, code: str, message: str) -> int:
    """Say why on stderr; under --json also print the command's one document, if not printed yet."""
    print(f"data-factory: {message if message.startswith(code) else f'{code}: {message}'}", file=sys.stderr)
    if getattr(args, "json", False) and not _emitted:
        document = {
            "command": args.command,
            "status": "interrupted" if exit_code == EXIT_INTERRUPTED else "error",
            "exit_code": exit_code,
            "reason_code": code,
            "message": message,
        }
        if args.command == "run":
            document["success"] = False
        _emit(document, True, lambda: None)
    return exit_code


def main(argv: Sequence[str] | None = None) -> int:
    global _emitted
    _emitted = False
    try:
        return _main(argv)
    except KeyboardInterrupt:  # before the command started or while it was cleaning up
        print("data-factory: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _main(argv: Sequence[str] | None) -> int:
    import errno

    import psycopg

    from orchestration.contracts import ContractViolation
    from orchestration.db.connection import DatabaseUnreachable, redact
    from orchestration.gate.manifests import ManifestUnreadable
    from orchestration.serve import ServeError

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
    except KeyboardInterrupt:
        return _fail(args, EXIT_INTERRUPTED, "interrupted", "stopped before the end; unfinished work was rolled back")
    except UsageError as exc:
        text = str(exc)
        code = text.split(":", 1)[0] if text.startswith("partition_out_of_range:") else "invalid_argument"
        return _fail(args, EXIT_USAGE, code, text)
    except ManifestUnreadable as exc:
        return _fail(args, EXIT_USAGE, exc.code, str(exc))
    except ContractViolation as exc:  # our own output broke its contract: refuse to show it
        return _fail(args, EXIT_REFUSED, getattr(exc, "code", "evidence_invalid"), redact(str(exc)))
    except ValueError as exc:
        return _fail(args, EXIT_USAGE, "invalid_argument", redact(str(exc)))
    except DatabaseUnreachable as exc:
        return _fail(args, EXIT_ENV, "database_unreachable", redact(str(exc)))
    except EnvironmentProblem as exc:
        return _fail(args, EXIT_ENV, exc.code, redact(str(exc)))
    except psycopg.OperationalError as exc:  # the server went away between two statements
        return _fail(args, EXIT_ENV, "database_connection_lost", redact(str(exc)).strip())
    except ServeError as exc:
        return _fail(args, EXIT_ENV, exc.reason_code, redact(str(exc)))
    except OSError as exc:
        writable = exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC)
        code = "folder_not_writable" if writable else "file_unreadable"
        return _fail(args, EXIT_ENV, code, redact(f"{exc.strerror or exc}: {exc.filename or ''}".strip(": ")))


if __name__ == "__main__":
    sys.exit(main())
