"""Build, validate and write one partition's run evidence (the course's week06_run_evidence_v1), from plain inputs.

Inputs are the database (ledger, raw and silver rows), the manifests covering the partition, a dbt
`run_results.json` and the optional Week04/Week05 neighbours; nothing here knows about Dagster.
The document is exactly the course's contract (contracts/course/week06_run_evidence.schema.json):
what we know beyond it travels in `checks[].metadata`, `source_snapshot_id` and `output_snapshot_id`,
and an absent optional value is omitted, never null.

- `input_row_count`: the valid rows the partition holds in raw.ticket_events (every stored version of
  a ticket created that day, whichever batch delivered it).
- `output_row_count`: the rows written for the partition into silver.ticket_fact (one per ticket).
- `source_snapshot_id`: sha256 over the sorted `source_id:sha256` of the files the partition's manifests
  declared and the ledger accounted for.
- `output_snapshot_id`: an order-independent checksum (md5 of the sorted row hashes) of its silver rows.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import psycopg

from orchestration import contracts, reasons
from orchestration.asset_keys import RUN_EVIDENCE_REPORT
from orchestration.config import Settings
from orchestration.evidence.checks import (
    RAW_CHECK_NAMES,
    Check,
    ledger_for_manifests,
    raw_checks,
    render_checks_markdown,
)
from orchestration.evidence.externals import ExternalState, observe_externals
from orchestration.fileio import display_path, write_text_atomic
from orchestration.partitions import days_between

EVIDENCE_SCHEMA_VERSION = "week06_run_evidence_v1"
RUN_EVIDENCE_SUMMARY = "run_evidence_summary.md"
ASSET_CHECKS_SUMMARY = "asset_checks_summary.md"
# Where the saved run_results carry the dbt target that built the partition (postgres | spark).
ENGINE_KEY = "week06_dbt_target"
_DBT_STATUS = {
    "pass": "passed",
    "success": "passed",
    "warn": "warning",
    "fail": "failed",
    "error": "failed",
    "skipped": "skipped",
    "runtime error": "failed",
}

__all__ = ["Check", "build_evidence", "decide", "dbt_checks", "write_evidence", "read_evidence"]


def decide(checks: list[Check], *, dry_run: bool = False) -> tuple[str, str]:
    """(status, downstream_decision) by the course's rule: a failed core check holds downstream."""
    if any(c.status == "failed" and c.core for c in checks):
        return "failed", "hold_downstream"
    if dry_run:
        return "skipped", "dry_run_only"
    if any(c.status in ("warning", "failed") for c in checks):
        return "warning", "manual_review_required"
    return "success", "proceed_to_week07"


def evidence_paths(report_dir: Path, partition: date) -> tuple[Path, Path]:
    base = report_dir / "run_evidence" / partition.isoformat()
    return base.with_suffix(".json"), base.with_suffix(".md")


# ---------------------------------------------------------------- inputs from the database


def _relation_exists(conn: psycopg.Connection, name: str) -> bool:
    return conn.execute("select to_regclass(%s) is not null", (name,)).fetchone()[0]  # type: ignore[index]


def silver_figures(conn: psycopg.Connection, partition: date) -> dict[str, Any]:
    """Silver rows of a partition and an order-independent checksum of them (none before dbt built it)."""
    if not _relation_exists(conn, "silver.ticket_fact"):
        return {}
    count, checksum = conn.execute(
        """
        select count(*), md5(coalesce(string_agg(row_hash, '' order by row_hash), ''))
        from (select md5(t::text) as row_hash from silver.ticket_fact as t
              where t.partition_date = %s) as hashed
        """,
        (partition,),
    ).fetchone()  # type: ignore[misc]
    return {"output_row_count": int(count), "output_snapshot_id": checksum}


def source_snapshot_id(files: list[dict[str, Any]]) -> str | None:
    """sha256 over the sorted `source_id:sha256` of the partition's ingested files."""
    if not files:
        return None
    lines = sorted(f"{f['source_id']}:{f['source_fingerprint']}" for f in files)
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


# ---------------------------------------------------------------- checks beyond the raw asset's five


def engine_of(run_results: dict[str, Any] | None) -> str:
    """The dbt target that produced these results (saved beside them); results from before engines existed: postgres."""
    return str((run_results or {}).get(ENGINE_KEY) or "postgres")


def dbt_checks(run_results: dict[str, Any] | None) -> tuple[list[Check], str | None]:
    """One check per dbt node of the invocation (models and tests)."""
    if run_results is None:
        return [
            Check("dbt_build", "failed", ("dbt_results_missing",), {"detail": "no dbt run_results for this partition"})
        ], None
    invocation_id = (run_results.get("metadata") or {}).get("invocation_id")
    engine = engine_of(run_results)
    checks = []
    for result in run_results.get("results", []):
        unique_id = result.get("unique_id", "")
        resource_type = unique_id.split(".", 1)[0]
        status = _DBT_STATUS.get(str(result.get("status")), "failed")
        codes: tuple[str, ...] = ()
        if status == "failed":
            codes = ("dbt_test_failed",) if resource_type == "test" else ("dbt_model_failed",)
        elif status == "warning":
            codes = ("dbt_test_warned",)
        metadata: dict[str, Any] = {
            "resource_type": resource_type,
            "execution_time_s": round(float(result.get("execution_time") or 0), 3),
            "engine": engine,
        }
        if result.get("failures") is not None:
            metadata["failures"] = result["failures"]
        if result.get("message"):
            metadata["message"] = str(result["message"])[:300]
        checks.append(Check(f"dbt:{unique_id}", status, codes, metadata))
    if not checks:
        checks.append(Check("dbt_build", "failed", ("dbt_nothing_ran",), {}))
    return checks, invocation_id


# ---------------------------------------------------------------- assembly and writing


def build_evidence(
    conn: psycopg.Connection,
    *,
    partition: date,
    run_id: str,
    started_at: datetime,
    gates: list[dict[str, Any]],
    run_results: dict[str, Any] | None,
    settings: Settings,
    dry_run: bool = False,
    extra_checks: tuple[Check, ...] = (),
    externals: list[ExternalState] | None = None,
) -> dict[str, Any]:
    manifest_ids = [g["manifest_id"] for g in gates]
    files = ledger_for_manifests(conn, manifest_ids)
    checks = raw_checks(conn, partition, gates, files)
    input_row_count = checks[1].metadata["valid_row_count"] if checks[1].metadata else 0
    dbt, invocation_id = dbt_checks(run_results)
    checks.extend(dbt)
    externals = observe_externals(settings) if externals is None else externals
    checks.extend(e.as_check() for e in externals)
    checks.extend(extra_checks)
    status, decision = decide(checks, dry_run=dry_run)
    codes = [code for c in checks for code in c.reason_codes]
    if any(c.status == "failed" and c.name in RAW_CHECK_NAMES for c in checks):
        codes.append("asset_checks_failed")
    json_path, _ = evidence_paths(settings.report_dir, partition)
    evidence: dict[str, Any] = {
        "evidence_schema_version": EVIDENCE_SCHEMA_VERSION,
        "run_id": run_id,
        "asset_key": RUN_EVIDENCE_REPORT,
        "partition_key": partition.isoformat(),
        "status": status,
        "started_at": started_at.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "report_path": display_path(json_path),
        "reason_codes": sorted(set(codes)),
    }
    if len(gates) == 1:
        evidence["manifest_id"] = gates[0]["manifest_id"]
        evidence["batch_id"] = gates[0]["batch_id"]
    evidence["input_row_count"] = input_row_count
    if engine_of(run_results) == "postgres":
        evidence.update(silver_figures(conn, partition))
    # else silver was built by another engine (Spark): PostgreSQL's silver, if any, is not this
    # run's output, so output_row_count and output_snapshot_id are left out (the schema allows it).
    snapshot = source_snapshot_id(files)
    if snapshot is not None:
        evidence["source_snapshot_id"] = snapshot
    if invocation_id:
        evidence["dbt_invocation_id"] = str(invocation_id)
    lakehouse = next((e for e in externals if e.available and "lakehouse_snapshot_id" in e.metadata), None)
    if lakehouse is not None:
        evidence["lakehouse_snapshot_id"] = lakehouse.metadata["lakehouse_snapshot_id"]
    evidence["data_release_id"] = settings.release_id
    evidence["trace_id"] = settings.trace_id
    evidence["git_sha"] = settings.git_sha
    evidence["downstream_decision"] = decision
    evidence["checks"] = [c.to_dict() for c in checks]
    return evidence


def ingest_totals(evidence: dict[str, Any]) -> dict[str, Any] | None:
    """The ledger figures of the partition's files, as the evidence's row_count_output_count carries them."""
    for check in evidence.get("checks", []):
        if check["name"] == "row_count_output_count":
            meta = check.get("metadata") or {}
            return {k: meta.get(k) for k in ("lines_read", "loaded", "duplicates", "rejected", "rejected_by_reason")}
    return None


def evidence_engine(evidence: dict[str, Any]) -> str:
    """The dbt target that built the partition, as its dbt checks' metadata name it (postgres by default)."""
    for check in evidence.get("checks", []):
        engine = (check.get("metadata") or {}).get("engine")
        if check["name"].startswith("dbt:") and engine:
            return str(engine)
    return "postgres"


def check_counts(evidence: dict[str, Any]) -> dict[str, int]:
    statuses = [c["status"] for c in evidence.get("checks", [])]
    return {s: statuses.count(s) for s in ("passed", "warning", "failed", "skipped")}


def render_markdown(evidence: dict[str, Any]) -> str:
    totals = ingest_totals(evidence) or {}
    counts = check_counts(evidence)
    lines = [
        f"# Run evidence: partition {evidence['partition_key']}",
        "",
        f"- status: **{evidence['status']}**; downstream decision: **{evidence['downstream_decision']}**",
        f"- run: `{evidence['run_id']}`; dbt invocation: `{evidence.get('dbt_invocation_id', '-')}`",
        f"- manifest: {evidence.get('manifest_id', 'several or none (see manifest_consistency)')}",
        f"- lines read {totals.get('lines_read', '-')}, loaded {totals.get('loaded', '-')}, duplicates "
        f"{totals.get('duplicates', '-')}, rejected {totals.get('rejected', '-')} "
        f"{totals.get('rejected_by_reason') or ''}",
        f"- valid input rows {evidence.get('input_row_count', '-')}, "
        f"silver rows {evidence.get('output_row_count', '-')}, "
        f"output snapshot `{evidence.get('output_snapshot_id', '-')}`",
        f"- checks: {len(evidence['checks'])} run, {counts['passed']} passed, {counts['warning']} warned, "
        f"{counts['failed']} failed, {counts['skipped']} skipped",
        f"- reason codes: {', '.join(evidence['reason_codes']) or 'none'}",
        f"- trace {evidence.get('trace_id')}, release {evidence.get('data_release_id')}, git {evidence.get('git_sha')}",
        "",
        "| check | status | reason codes |",
        "|---|---|---|",
    ]
    lines += [f"| {c['name']} | {c['status']} | {', '.join(c['reason_codes'])} |" for c in evidence["checks"]]
    codes = dict.fromkeys([*evidence["reason_codes"], *(totals.get("rejected_by_reason") or {})])
    if codes:
        lines += ["", "What the reason codes mean:", ""]
        lines += [f"- `{code}`: {reasons.sentence(code)}" for code in codes]
    return "\n".join(lines) + "\n"


def validate_evidence(evidence: dict[str, Any]) -> None:
    """Raise ContractViolation (evidence_invalid) unless the course's schema accepts the document."""
    contracts.require_valid(contracts.RUN_EVIDENCE, evidence, "evidence_invalid")


def write_evidence(evidence: dict[str, Any], report_dir: Path) -> Path:
    """Validate against the course's schema, then write JSON and Markdown atomically. Returns the JSON path."""
    validate_evidence(evidence)
    json_path, md_path = evidence_paths(report_dir, date.fromisoformat(evidence["partition_key"]))
    write_text_atomic(json_path, json.dumps(evidence, indent=2, sort_keys=False) + "\n")
    write_text_atomic(md_path, render_markdown(evidence))
    return json_path


def read_evidence(report_dir: Path, partition: date) -> dict[str, Any] | None:
    json_path, _ = evidence_paths(report_dir, partition)
    if not json_path.exists():
        return None
    document: dict[str, Any] = json.loads(json_path.read_text(encoding="utf-8"))
    return document


def write_summaries(report_dir: Path, documents: list[dict[str, Any]]) -> tuple[Path, Path]:
    """The course's run_evidence_summary.md and asset_checks_summary.md, over a run's partitions."""
    lines = [
        "# Week06 Run Evidence Summary",
        "",
        "| asset_key | partition | status | downstream_decision | reason_codes |",
        "|---|---|---|---|---|",
    ]
    for e in documents:
        lines.append(
            f"| {e['asset_key']} | {e['partition_key']} | {e['status']} | {e.get('downstream_decision', '')} | "
            f"{', '.join(e['reason_codes'])} |"
        )
    summary = report_dir / RUN_EVIDENCE_SUMMARY
    write_text_atomic(summary, "\n".join(lines) + "\n")
    rows = [
        (e["partition_key"], Check(c["name"], c["status"], tuple(c["reason_codes"])))
        for e in documents
        for c in e["checks"]
        if c["name"] in RAW_CHECK_NAMES
    ]
    checks = report_dir / ASSET_CHECKS_SUMMARY
    write_text_atomic(checks, render_checks_markdown(rows))
    return summary, checks


def run_results_path(report_dir: Path, run_id: str) -> Path:
    return report_dir / "dbt" / run_id / "run_results.json"


def save_run_results(report_dir: Path, run_id: str, run_results: dict[str, Any], *, engine: str | None = None) -> Path:
    """Keep the dbt invocation's results beside the evidence that cites them, with the engine (dbt target)."""
    path = run_results_path(report_dir, run_id)
    document = dict(run_results, **({ENGINE_KEY: engine} if engine else {}))
    write_text_atomic(path, json.dumps(document) + "\n")
    return path


def load_run_results(report_dir: Path, run_id: str) -> dict[str, Any] | None:
    path = run_results_path(report_dir, run_id)
    if not path.exists():
        return None
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def record_partitions(
    url: str,
    settings: Settings,
    first: date,
    last: date,
    *,
    run_id: str,
    started_at: datetime,
    extra_checks: tuple[Check, ...] = (),
) -> list[dict[str, Any]]:
    """Build, validate and write the evidence of every partition first..last of one run."""
    from orchestration.db.connection import connect
    from orchestration.gate.manifest_gate import gate_partitions
    from orchestration.sources.digests import DigestCache

    days = days_between(first, last)
    # Unchanged files are not re-hashed: their digest is remembered from the gate of this run.
    gate = gate_partitions(
        settings.manifest_dir, days, settings.source_root, settings.object_store, DigestCache(settings.digest_cache)
    )
    run_results = load_run_results(settings.report_dir, run_id)
    externals = observe_externals(settings)
    written = []
    with connect(url) as conn:
        for day in days:
            evidence = build_evidence(
                conn,
                partition=day,
                run_id=run_id,
                started_at=started_at,
                gates=[g.to_dict() for g in gate.for_partition(day)],
                run_results=run_results,
                settings=settings,
                extra_checks=extra_checks,
                externals=externals,
            )
            write_evidence(evidence, settings.report_dir)
            written.append(evidence)
    write_summaries(settings.report_dir, written)
    return written
