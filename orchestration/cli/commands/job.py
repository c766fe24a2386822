"""Running the job in-process, for `run`, `demo` and `backfill-plan --execute`: the CLI's one door
into Dagster. orchestration.defs.runner is imported here only, and inside the functions, so that the
commands that never run the job never load Dagster (import-linter holds this door, see pyproject.toml).
"""

from __future__ import annotations

import contextlib
import logging
import re
import sys
from datetime import UTC, date
from pathlib import Path
from typing import Any

from orchestration.cli.errors import EXIT_OK, EXIT_REFUSED, EnvironmentProblem
from orchestration.config import Settings


def run_job(
    settings: Settings, first: date, last: date, log_file: Path | None = None
) -> tuple[Any, list[dict[str, Any]]]:
    """Run the job; its dbt and Dagster logs go to stderr, or to `log_file` (the demo keeps the screen quiet)."""
    from datetime import datetime

    from orchestration.db import embedded
    from orchestration.db.connection import connect
    from orchestration.defs.runner import run_partitions
    from orchestration.evidence.completion import ensure_evidence
    from orchestration.evidence.rows import evidence_rows

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
    rows = evidence_rows(settings.report_dir, first, last, outcome.run_id)
    return outcome, rows


def held(row: dict[str, Any]) -> bool:
    """A partition downstream may not take: its evidence holds it, or there is no evidence of this run."""
    return row["downstream_decision"] in (None, "hold_downstream")


def run_exit(outcome: Any, rows: list[dict[str, Any]]) -> int:
    """0 only when the job succeeded and every partition may go downstream; else 1."""
    if not outcome.success or any(held(r) for r in rows):
        return EXIT_REFUSED
    return EXIT_OK


def last_runs(settings: Settings, first: date, last: date) -> dict[date, Any]:
    """The latest Dagster run of each partition, from the instance under DAGSTER_HOME (if there is one)."""
    from orchestration.defs.runner import partition_run_history

    return partition_run_history(first, last)


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
