"""Build, validate and write one partition's run evidence (JSON + Markdown), from plain inputs.

Inputs are the database (ledger, raw and silver counts), the manifests covering the partition
and a dbt `run_results.json`; nothing here knows about Dagster.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import psycopg

from orchestration import contracts, reasons
from orchestration.config import Settings
from orchestration.fileio import display_path, write_text_atomic
from orchestration.ingest.loader import sum_counts
from orchestration.partitions import days_between

EVIDENCE_SCHEMA_VERSION = "run_evidence_v1"
EVIDENCE_ASSET_KEY = "week06/ops/run_evidence_report"
# Where the saved run_results carry the dbt target that built the partition (postgres | spark).
ENGINE_KEY = "week06_dbt_target"
_DBT_STATUS = {
    "pass": "success",
    "success": "success",
    "warn": "warning",
    "fail": "failed",
    "error": "failed",
    "skipped": "skipped",
    "runtime error": "failed",
}


@dataclass(frozen=True)
class Check:
    name: str
    status: str
    reason_codes: tuple[str, ...] = ()
    metadata: dict[str, Any] | None = None
    core: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "reason_codes": list(self.reason_codes),
            "metadata": dict(self.metadata or {}, core=self.core),
        }


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


def ledger_for_manifests(conn: psycopg.Connection, manifest_ids: list[str]) -> list[dict[str, Any]]:
    """The accounting of each distinct file of these manifests, as of the run that first read it."""
    if not manifest_ids:
        return []
    rows = conn.execute(
        """
        select distinct on (source_id, source_fingerprint)
               source_id, source_fingerprint, manifest_id, run_id, lines_read, loaded, duplicates,
               rejected, rejected_by_reason
        from ops.ingest_ledger
        where manifest_id = any(%s)
        order by source_id, source_fingerprint, ledger_id
        """,
        (manifest_ids,),
    ).fetchall()
    keys = (
        "source_id",
        "source_fingerprint",
        "manifest_id",
        "run_id",
        "lines_read",
        "loaded",
        "duplicates",
        "rejected",
        "rejected_by_reason",
    )
    return [dict(zip(keys, row, strict=True)) for row in rows]


def _relation_exists(conn: psycopg.Connection, name: str) -> bool:
    return conn.execute("select to_regclass(%s) is not null", (name,)).fetchone()[0]  # type: ignore[index]


def partition_figures(conn: psycopg.Connection, partition: date) -> dict[str, Any]:
    """Raw rows, silver rows and an order-independent checksum of the silver rows of a partition."""
    raw_rows = conn.execute(
        "select count(*) from raw.ticket_events where partition_date = %s", (partition,)
    ).fetchone()[0]  # type: ignore[index]
    figures: dict[str, Any] = {
        "input_row_count": int(raw_rows),
        "output_row_count": None,
        "output_checksum": None,
    }
    if _relation_exists(conn, "silver.ticket_fact"):
        count, checksum = conn.execute(
            """
            select count(*), md5(coalesce(string_agg(row_hash, '' order by row_hash), ''))
            from (select md5(t::text) as row_hash from silver.ticket_fact as t
                  where t.partition_date = %s) as hashed
            """,
            (partition,),
        ).fetchone()  # type: ignore[misc]
        figures["output_row_count"] = int(count)
        figures["output_checksum"] = checksum
    return figures


# ---------------------------------------------------------------- checks


def gate_check(gates: list[dict[str, Any]]) -> Check:
    """Gate judgments of the manifests covering the partition (dicts from GateResult.to_dict)."""
    if not gates:
        return Check("manifest_gate", "warning", ("no_manifest_for_partition",), {"manifests": 0})
    judgments = [a["judgment"] for g in gates for a in g["assets"]]
    codes = sorted({r["code"] for g in gates for a in g["assets"] for r in a["reasons"]})
    # not_available: a declared file could not be examined (e.g. remote), so the partition may lack data.
    refused_or_doubtful = {"quarantine", "warn", "not_available"}
    status = "failed" if "reject" in judgments else "warning" if refused_or_doubtful & set(judgments) else "success"
    return Check(
        "manifest_gate",
        status,
        tuple(codes),
        {
            "manifests": len(gates),
            "assets": len(judgments),
            "judgments": {j: judgments.count(j) for j in sorted(set(judgments))},
        },
    )


def ledger_checks(gates: list[dict[str, Any]], files: list[dict[str, Any]]) -> list[Check]:
    loadable = {(a["source_id"], a["sha256"]) for g in gates for a in g["assets"] if a["loadable"]}
    accounted = {(f["source_id"], f["source_fingerprint"]) for f in files}
    missing = sorted(f"{s}@{h[:12]}" for s, h in loadable - accounted)
    unbalanced = [f["source_id"] for f in files if f["lines_read"] != f["loaded"] + f["duplicates"] + f["rejected"]]
    totals = sum_counts(files)
    checks = [
        Check(
            "ingest_ledger_complete",
            "failed" if missing else "success",
            ("ledger_missing",) if missing else (),
            {"files_not_ingested": missing},
        ),
        Check(
            "ingest_ledger_balanced",
            "failed" if unbalanced else "success",
            ("ledger_unbalanced",) if unbalanced else (),
            {"unbalanced": unbalanced},
        ),
        Check(
            "rejected_lines",
            "warning" if totals["rejected"] else "success",
            ("rejected_lines_present",) if totals["rejected"] else (),
            {"rejected": totals["rejected"], "rejected_by_reason": totals["rejected_by_reason"]},
            core=False,
        ),
    ]
    return checks


def dbt_checks(run_results: dict[str, Any] | None) -> tuple[list[Check], str | None]:
    """One check per dbt node of the invocation (models and tests), plus the invocation itself."""
    if run_results is None:
        return [
            Check("dbt_build", "failed", ("dbt_results_missing",), {"detail": "no dbt run_results for this partition"})
        ], None
    invocation_id = (run_results.get("metadata") or {}).get("invocation_id")
    engine = run_results.get(ENGINE_KEY) or "postgres"
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
        checks.append(
            Check(
                f"dbt:{unique_id}",
                status,
                codes,
                {
                    "resource_type": resource_type,
                    "failures": result.get("failures"),
                    "message": (result.get("message") or "")[:300] or None,
                    "execution_time_s": round(float(result.get("execution_time") or 0), 3),
                    "engine": engine,
                },
            )
        )
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
) -> dict[str, Any]:
    manifest_ids = [g["manifest_id"] for g in gates]
    files = ledger_for_manifests(conn, manifest_ids)
    figures = partition_figures(conn, partition)
    if (run_results or {}).get(ENGINE_KEY, "postgres") != "postgres":
        # Silver was built by another engine: PostgreSQL's silver (if any) is not this run's output.
        figures.update(output_row_count=None, output_checksum=None)
    checks = [gate_check(gates), *ledger_checks(gates, files)]
    dbt, invocation_id = dbt_checks(run_results)
    checks.extend(dbt)
    checks.extend(extra_checks)
    if figures["input_row_count"] == 0:
        checks.append(Check("partition_has_rows", "warning", ("empty_partition",), {}, core=False))
    status, decision = decide(checks, dry_run=dry_run)
    json_path, _ = evidence_paths(settings.report_dir, partition)
    reason_codes = sorted({code for c in checks for code in c.reason_codes})
    return {
        "evidence_schema_version": EVIDENCE_SCHEMA_VERSION,
        "run_id": run_id,
        "asset_key": EVIDENCE_ASSET_KEY,
        "partition_key": partition.isoformat(),
        "status": status,
        "started_at": started_at.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "report_path": display_path(json_path),
        "reason_codes": reason_codes,
        "manifest_id": manifest_ids[0] if len(manifest_ids) == 1 else None,
        "batch_id": gates[0]["batch_id"] if len(gates) == 1 else None,
        "input_row_count": figures["input_row_count"],
        "output_row_count": figures["output_row_count"],
        "dbt_invocation_id": invocation_id,
        "trace_id": settings.trace_id,
        "git_sha": settings.git_sha,
        "data_release_id": settings.release_id,
        "downstream_decision": decision,
        "checks": [c.to_dict() for c in checks],
        "manifests": [
            {"manifest_id": g["manifest_id"], "batch_id": g["batch_id"], "status": g["status"]} for g in gates
        ],
        "ingest": {
            "totals": sum_counts(files),
            "files": [{k: v for k, v in f.items() if k not in ("manifest_id",)} for f in files],
        },
        "output_checksum": figures["output_checksum"],
    }


def render_markdown(evidence: dict[str, Any]) -> str:
    totals = evidence["ingest"]["totals"]
    failed = [c for c in evidence["checks"] if c["status"] == "failed"]
    warned = [c for c in evidence["checks"] if c["status"] == "warning"]
    lines = [
        f"# Run evidence: partition {evidence['partition_key']}",
        "",
        f"- status: **{evidence['status']}**; downstream decision: **{evidence['downstream_decision']}**",
        f"- run: `{evidence['run_id']}`; dbt invocation: `{evidence['dbt_invocation_id']}`",
        f"- manifests: {', '.join(m['manifest_id'] for m in evidence['manifests']) or 'none'}",
        f"- lines read {totals['lines_read']}, loaded {totals['loaded']}, duplicates "
        f"{totals['duplicates']}, rejected {totals['rejected']} {totals['rejected_by_reason'] or ''}",
        f"- raw rows {evidence['input_row_count']}, silver rows {evidence['output_row_count']}, "
        f"output checksum `{evidence['output_checksum']}`",
        f"- checks: {len(evidence['checks'])} run, {len(failed)} failed, {len(warned)} warned",
        f"- reason codes: {', '.join(evidence['reason_codes']) or 'none'}",
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


def write_evidence(evidence: dict[str, Any], report_dir: Path) -> Path:
    """Validate against run_evidence_v1, then write JSON and Markdown atomically. Returns the JSON path."""
    contracts.require_valid(contracts.RUN_EVIDENCE, evidence, "evidence_invalid")
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

    days = days_between(first, last)
    gate = gate_partitions(settings.manifest_dir, days, settings.source_root)
    run_results = load_run_results(settings.report_dir, run_id)
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
            )
            write_evidence(evidence, settings.report_dir)
            written.append(evidence)
    return written


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
    record_partitions(
        url, settings, min(missing), max(missing), run_id=run_id, started_at=started_at, extra_checks=(gap,)
    )
    return missing
