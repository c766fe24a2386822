"""The delivery summary: over a run's partitions, what a downstream consumer may take, derived from evidence.

Writes our `delivery_summary_v1` JSON per partition (reports/week06/delivery_summary/<partition>.json,
validated) and the course's `reports/week06/week06_delivery_summary.md` over all of them.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from orchestration import contracts
from orchestration.evidence.checks import RAW_CHECK_NAMES
from orchestration.evidence.externals import ExternalState
from orchestration.evidence.report import check_counts, evidence_engine, ingest_totals
from orchestration.fileio import write_text_atomic

SUMMARY_SCHEMA_VERSION = "delivery_summary_v1"
COURSE_SUMMARY = "week06_delivery_summary.md"


def summary_path(report_dir: Path, partition_key: str) -> Path:
    return report_dir / "delivery_summary" / f"{partition_key}.json"


def kpi_rows(conn: psycopg.Connection, partition_key: str) -> int | None:
    if not conn.execute("select to_regclass('gold.support_kpi_daily') is not null").fetchone()[0]:  # type: ignore[index]
        return None
    row = conn.execute(
        "select count(*) from gold.support_kpi_daily where partition_date = %s", (partition_key,)
    ).fetchone()
    return int(row[0]) if row else None


def build_summary(
    evidence: dict[str, Any], externals: list[ExternalState], *, kpi_row_count: int | None = None
) -> dict[str, Any]:
    """One partition's delivery_summary_v1, validated."""
    totals = ingest_totals(evidence) or {}
    counts = check_counts(evidence)
    checks = {c["name"]: c["status"] for c in evidence["checks"]}
    summary: dict[str, Any] = {
        "summary_schema_version": SUMMARY_SCHEMA_VERSION,
        "partition_key": evidence["partition_key"],
        "generated_at": datetime.now(UTC).isoformat(),
        "run_id": evidence["run_id"],
        "status": evidence["status"],
        "downstream_decision": evidence["downstream_decision"],
        "evidence_path": evidence["report_path"],
        "reason_codes": evidence["reason_codes"],
        "manifest_ids": [evidence["manifest_id"]] if "manifest_id" in evidence else [],
        "counts": {
            "lines_read": int(totals.get("lines_read") or 0),
            "loaded": int(totals.get("loaded") or 0),
            "duplicates": int(totals.get("duplicates") or 0),
            "rejected": int(totals.get("rejected") or 0),
            "rejected_by_reason": totals.get("rejected_by_reason") or {},
            "raw_rows": evidence.get("input_row_count"),
            "silver_rows": evidence.get("output_row_count"),
            "kpi_rows": kpi_row_count,
        },
        "checks": {
            "passed": counts["passed"],
            "warned": counts["warning"],
            "failed": counts["failed"],
            "skipped": counts["skipped"],
        },
        "asset_checks": {name: checks.get(name, "skipped") for name in RAW_CHECK_NAMES},
        "external": {e.name: {"status": e.status, "reason_codes": list(e.reason_codes)} for e in externals},
        "data_release_id": evidence["data_release_id"],
        "git_sha": evidence["git_sha"],
        "trace_id": evidence["trace_id"],
    }
    for key in ("output_snapshot_id", "source_snapshot_id"):
        if evidence.get(key) is not None:
            summary[key] = str(evidence[key])
    contracts.require_valid(contracts.DELIVERY_SUMMARY, summary, "delivery_summary_invalid")
    return summary


def render_course_markdown(summaries: list[dict[str, Any]], externals: list[ExternalState]) -> str:
    """The course's week06_delivery_summary.md, one section per partition of the run."""
    lines = ["# Week06 Delivery Summary", ""]
    if summaries:
        lines += [
            "| partition_key | status | downstream_decision | run_evidence | reason_codes |",
            "|---|---|---|---|---|",
        ]
        for s in summaries:
            lines.append(
                f"| `{s['partition_key']}` | `{s['status']}` | `{s['downstream_decision']}` | "
                f"`{s['evidence_path']}` | `{', '.join(s['reason_codes'])}` |"
            )
    lines += ["", "## Figures", ""]
    for s in summaries:
        c = s["counts"]
        lines.append(
            f"- `{s['partition_key']}`: lines read {c['lines_read']}, loaded {c['loaded']}, duplicates "
            f"{c['duplicates']}, rejected {c['rejected']}; raw rows {c['raw_rows']}, silver rows {c['silver_rows']}, "
            f"KPI rows {c['kpi_rows']}; checks {s['checks']['passed']} passed, {s['checks']['warned']} warned, "
            f"{s['checks']['failed']} failed, {s['checks']['skipped']} skipped"
        )
    lines += ["", "## Boundary", ""]
    for e in externals:
        lines.append(f"- {e.name}: `{e.status}` {', '.join(e.reason_codes)} (observation only, never built here)")
    lines += [
        "- Ticket versions are kept: two versions of a ticket are not duplicates; the same record twice is.",
        "- A failed core check holds the partition downstream (`hold_downstream`).",
    ]
    return "\n".join(lines) + "\n"


def write_delivery(
    report_dir: Path, evidence_documents: list[dict[str, Any]], externals: list[ExternalState], url: str | None = None
) -> tuple[Path, list[Path]]:
    """Write every partition's delivery_summary_v1 JSON and the course's Markdown over them."""
    kpis: dict[str, int | None] = {}
    if url is not None:
        from orchestration.db.connection import connect

        with connect(url) as conn:
            # Gold in PostgreSQL is the partition's output only when PostgreSQL built it (not Spark).
            kpis = {
                e["partition_key"]: kpi_rows(conn, e["partition_key"])
                for e in evidence_documents
                if evidence_engine(e) == "postgres"
            }
    summaries = [build_summary(e, externals, kpi_row_count=kpis.get(e["partition_key"])) for e in evidence_documents]
    paths = []
    for s in summaries:
        path = summary_path(report_dir, s["partition_key"])
        write_text_atomic(path, json.dumps(s, indent=2) + "\n")
        paths.append(path)
    course = report_dir / COURSE_SUMMARY
    write_text_atomic(course, render_course_markdown(summaries, externals))
    return course, paths
