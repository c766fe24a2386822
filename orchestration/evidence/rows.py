"""The written run evidence of a range of partitions, one flat row each: what a person or a script
checks after a run (`data-factory run`, `evidence`, `demo`), read back from the reports, not rebuilt."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from orchestration.evidence.report import check_counts, ingest_totals, read_evidence
from orchestration.partitions import days_between


def evidence_rows(report_dir: Path, first: date, last: date, run_id: str | None = None) -> list[dict[str, Any]]:
    """One row per partition from `first` to `last` (inclusive), in order.

    A partition without evidence, or (given `run_id`) whose evidence another run wrote, is
    `not_available` with `evidence_missing` and no decision: older evidence must not pass for
    this run's verdict.
    """
    rows: list[dict[str, Any]] = []
    for day in days_between(first, last):
        evidence = read_evidence(report_dir, day)
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
