"""A verdict for every partition of a finished run, even when its evidence step never ran.

It sits beside report.py and delivery.py (it needs both) so neither imports the other.
"""

from __future__ import annotations

from datetime import date, datetime

from orchestration.config import Settings
from orchestration.evidence.checks import Check
from orchestration.evidence.delivery import write_delivery
from orchestration.evidence.externals import observe_externals
from orchestration.evidence.report import read_evidence, record_partitions
from orchestration.partitions import days_between


def ensure_evidence(
    url: str,
    settings: Settings,
    first: date,
    last: date,
    *,
    run_id: str,
    started_at: datetime,
    run_succeeded: bool,
    failed_steps: list[str],
) -> list[date]:
    """Give every partition of a finished run a verdict, even when its evidence step never ran.

    That happens when a step failed, or when dbt skipped a model after a failed test (so the
    evidence step had nothing upstream to wait for). Returns the partitions written here.
    """
    days = days_between(first, last)
    missing = [d for d in days if (read_evidence(settings.report_dir, d) or {}).get("run_id") != run_id]
    if not missing:
        return []
    if run_succeeded:
        gap = Check(
            "evidence_step",
            "failed",
            ("evidence_step_skipped",),
            {"detail": "the run ended without its evidence step (an upstream model was skipped)"},
        )
    else:
        gap = Check("dagster_run", "failed", ("run_failed",), {"failed_steps": failed_steps})

    written = record_partitions(
        url, settings, min(missing), max(missing), run_id=run_id, started_at=started_at, extra_checks=(gap,)
    )
    # The delivery summary never ran either: the consumer's view must say "hold" too.
    write_delivery(settings.report_dir, written, observe_externals(settings), url)
    return missing
