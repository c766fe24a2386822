"""The backfill plan: a dry run that says, for each partition of a range, what state it is in and what to run.

Judged from real state, never from files re-read: the partition's evidence (what the last run
decided), the database (raw rows now, the ingest ledger, the five raw checks judged again), the
manifests that declare it and, when the caller has one, the Dagster run history. Nothing is
written to the database (`dry_run_no_db_write`).

States, in the order they are tested:
- `out_of_range`: before WEEK06_PARTITION_START_DATE or after tomorrow (UTC): nothing to do.
- `failed` before any evidence: a run of the partition failed and none ever succeeded.
- `missing`: no evidence: never materialised (or its evidence was lost). Materialise it, unless
  no manifest declares the day and no row is held (then there is nothing to build yet).
- `check_failed`: one of the five raw checks fails now, or the evidence was held by a failed check
  (a dbt test, a raw check): replaying changes nothing until the cause is fixed; investigate.
- `failed`: the last run of the partition failed (its evidence says so, or the Dagster run history
  shows a failed run after the evidence, or before any evidence): rematerialise.
- `stale`: data arrived after the evidence was written (late versions, a new batch, a declared file
  not yet ingested): rematerialise.
- `ok`: the evidence is current and lets downstream proceed (or asks for review): nothing to do.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import psycopg

from orchestration import asset_keys, contracts
from orchestration.config import Settings
from orchestration.evidence.checks import ledger_for_manifests, raw_checks
from orchestration.evidence.report import read_evidence, source_snapshot_id
from orchestration.fileio import write_text_atomic
from orchestration.partitions import days_between, partition_bounds

PLAN_SCHEMA_VERSION = "backfill_plan_v1"
MODE = "dry-run"
STATES = ("ok", "missing", "failed", "stale", "check_failed", "out_of_range")
ACTIONS = {
    "ok": "none",
    "missing": "materialize",
    "failed": "rematerialize",
    "stale": "rematerialize",
    "check_failed": "investigate",
    "out_of_range": "none",
}
# What a (re)materialisation of a partition runs: the week06_data_factory job, upstream first.
REPLAY_ASSETS = (
    asset_keys.MANIFEST_GATE,
    asset_keys.RAW_TICKET_EVENTS,
    asset_keys.SILVER_TICKET_FACT,
    asset_keys.GOLD_KPI_DAILY,
    asset_keys.RUN_EVIDENCE_REPORT,
    asset_keys.DELIVERY_SUMMARY,
)
IDEMPOTENCY_GUARD = (
    "raw.ticket_events unique record_fingerprint (a record is stored once); ops.ingest_ledger per file sha256 "
    "(already_loaded); dbt delete+insert of the partition window"
)
# Evidence reason codes that mean the run itself broke (replay), as opposed to a check that judged the data.
_RUN_BROKE = frozenset(
    {"run_failed", "evidence_step_skipped", "dbt_model_failed", "dbt_results_missing", "dbt_nothing_ran"}
)


@dataclass(frozen=True)
class RunRecord:
    """The latest Dagster run that covered a partition (supplied by the Dagster layer, if any)."""

    run_id: str
    status: str  # SUCCESS, FAILURE, CANCELED, STARTED, ...
    ended_at: datetime | None


def _command(partition: date, action: str) -> str | None:
    if action in ("materialize", "rematerialize"):
        return f"data-factory run --partition {partition.isoformat()}"
    if action == "investigate":
        return f"data-factory evidence --partition {partition.isoformat()} --json"
    return None


def _finished_at(evidence: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(evidence["finished_at"].replace("Z", "+00:00"))


def classify(
    conn: psycopg.Connection,
    settings: Settings,
    partition: date,
    gates: list[dict[str, Any]],
    *,
    last_run: RunRecord | None = None,
    today: date | None = None,
) -> dict[str, Any]:
    """One partition's entry of the plan (backfill_plan_v1 `partitions[]`)."""
    low, high = partition_bounds(settings, today)
    entry: dict[str, Any] = {"partition_key": partition.isoformat()}
    figures: dict[str, Any] = {"expected_input_count": 0, "current_output_count": 0}
    if not low <= partition <= high:
        return _entry(entry, "out_of_range", ["partition_out_of_range"], partition, figures, gates)

    files = ledger_for_manifests(conn, [g["manifest_id"] for g in gates])
    checks = {c.name: c for c in raw_checks(conn, partition, gates, files)}
    raw_rows = int((checks["row_count_output_count"].metadata or {}).get("valid_row_count", 0))
    figures = {"expected_input_count": raw_rows, "current_output_count": _silver_rows(conn, partition)}
    evidence = read_evidence(settings.report_dir, partition)
    if evidence is not None:
        entry["last_run_id"] = evidence["run_id"]
        entry["downstream_decision"] = evidence.get("downstream_decision")
        entry["evidence_path"] = evidence["report_path"]

    if evidence is None and last_run is not None and last_run.status == "FAILURE":
        entry["last_run_id"] = last_run.run_id
        return _entry(entry, "failed", ["run_failed"], partition, figures, gates)
    if evidence is None:
        declared = any(g["assets"] for g in gates)
        codes = ["evidence_missing"] + ([] if declared or raw_rows else ["structured_manifest_missing_or_empty"])
        state_entry = _entry(entry, "missing", codes, partition, figures, gates)
        if not declared and not raw_rows:
            state_entry["action"] = "none"
            state_entry["assets"] = []
            state_entry.pop("command", None)
        return state_entry

    # The five checks judged now: a broken record or a rejected file is not fixed by a replay. A
    # declared file not yet ingested is not broken data: completeness and the row count then wait
    # for the replay that loads it.
    incomplete = "ledger_missing" in checks["partition_completeness"].reason_codes
    waiting = ("partition_completeness", "row_count_output_count") if incomplete else ()
    broken = [c for c in checks.values() if c.status == "failed" and c.name not in waiting]
    if broken:
        codes = sorted({code for c in broken for code in c.reason_codes} | {"asset_checks_failed"})
        entry["failed_checks"] = [c.name for c in broken]
        return _entry(entry, "check_failed", codes, partition, figures, gates)

    evidence_codes = set(evidence.get("reason_codes", []))
    finished = _finished_at(evidence)
    if last_run is not None and last_run.run_id != evidence["run_id"] and last_run.status == "FAILURE":
        if last_run.ended_at is None or last_run.ended_at >= finished:
            entry["last_run_id"] = last_run.run_id
            return _entry(entry, "failed", ["run_failed"], partition, figures, gates)
    if evidence.get("downstream_decision") == "hold_downstream":
        if evidence_codes & _RUN_BROKE:
            return _entry(entry, "failed", sorted(evidence_codes & _RUN_BROKE), partition, figures, gates)
        failed = [c["name"] for c in evidence.get("checks", []) if c["status"] == "failed"]
        entry["failed_checks"] = failed
        codes = sorted(evidence_codes & {"dbt_test_failed", "asset_checks_failed"} or {"asset_checks_failed"})
        return _entry(entry, "check_failed", codes, partition, figures, gates)

    stale_codes = []
    if raw_rows != evidence.get("input_row_count") or _loaded_after(conn, partition, finished):
        stale_codes.append("upstream_changed_after_evidence")
    if checks["partition_completeness"].status == "failed":
        stale_codes.append("ledger_missing")
    snapshot = source_snapshot_id(files)
    if snapshot is not None and snapshot != evidence.get("source_snapshot_id"):
        stale_codes.append("upstream_changed_after_evidence")
    if stale_codes:
        return _entry(entry, "stale", sorted(set(stale_codes)), partition, figures, gates)
    return _entry(entry, "ok", [], partition, figures, gates)


def _silver_rows(conn: psycopg.Connection, partition: date) -> int:
    if not conn.execute("select to_regclass('silver.ticket_fact') is not null").fetchone()[0]:  # type: ignore[index]
        return 0
    row = conn.execute("select count(*) from silver.ticket_fact where partition_date = %s", (partition,)).fetchone()
    return int(row[0]) if row else 0


def _loaded_after(conn: psycopg.Connection, partition: date, moment: datetime) -> bool:
    row = conn.execute(
        "select exists (select 1 from raw.ticket_events where partition_date = %s and ingested_at > %s)",
        (partition, moment),
    ).fetchone()
    return bool(row and row[0])


def _entry(
    entry: dict[str, Any],
    state: str,
    codes: list[str],
    partition: date,
    figures: dict[str, int],
    gates: list[dict[str, Any]],
) -> dict[str, Any]:
    action = ACTIONS[state]
    entry.update(
        state=state,
        action=action,
        reason_codes=list(dict.fromkeys(codes)),
        assets=list(REPLAY_ASSETS) if action in ("materialize", "rematerialize") else [],
        expected_input_count=figures["expected_input_count"],
        current_output_count=figures["current_output_count"],
    )
    command = _command(partition, action)
    if command:
        entry["command"] = command
    manifest_ids = [g["manifest_id"] for g in gates]
    if manifest_ids:
        entry["manifest_ids"] = manifest_ids
    return entry


def replay_ranges(partitions: list[dict[str, Any]]) -> list[tuple[date, date]]:
    """The contiguous runs of partitions to (re)materialise, first..last each: one single run apiece."""
    ranges: list[tuple[date, date]] = []
    for p in partitions:
        if p["action"] not in ("materialize", "rematerialize"):
            continue
        day = date.fromisoformat(p["partition_key"])
        if ranges and ranges[-1][1] + timedelta(days=1) == day:
            ranges[-1] = (ranges[-1][0], day)
        else:
            ranges.append((day, day))
    return ranges


def range_commands(partitions: list[dict[str, Any]]) -> list[str]:
    """One single-run command per contiguous run of partitions to (re)materialise."""
    return [_range_command(first, last) for first, last in replay_ranges(partitions)]


def _range_command(first: date, last: date) -> str:
    if first == last:
        return f"data-factory run --partition {first.isoformat()}"
    return f"data-factory run --start {first.isoformat()} --end {last.isoformat()}"


def needs_action(entry: dict[str, Any]) -> bool:
    """Whether a partition of the plan still asks for something (a replay, or an investigation)."""
    return bool(entry["action"] != "none")


def build_plan(
    url: str,
    settings: Settings,
    first: date,
    last: date,
    *,
    last_runs: Mapping[date, RunRecord] | None = None,
    today: date | None = None,
) -> dict[str, Any]:
    """The plan of first..last (inclusive), validated against backfill_plan_v1."""
    from orchestration.db.connection import connect
    from orchestration.gate.manifest_gate import gate_partitions
    from orchestration.sources.digests import DigestCache

    if last < first:
        raise ValueError(f"partition_out_of_range: the range ends ({last}) before it starts ({first})")
    days = days_between(first, last)
    gate = gate_partitions(
        settings.manifest_dir, days, settings.source_root, settings.object_store, DigestCache(settings.digest_cache)
    )
    entries = []
    with connect(url) as conn:
        for day in days:
            gates = [g.to_dict() for g in gate.for_partition(day)]
            entries.append(classify(conn, settings, day, gates, last_run=(last_runs or {}).get(day), today=today))
    plan = {
        "plan_schema_version": PLAN_SCHEMA_VERSION,
        "generated_at": datetime.now(UTC).isoformat(),
        "start": first.isoformat(),
        "end": last.isoformat(),
        "mode": MODE,
        "operator": settings.operator,
        "reason_codes": ["dry_run_no_db_write"],
        "states": {s: sum(1 for e in entries if e["state"] == s) for s in STATES},
        "commands": range_commands(entries),
        "partitions": entries,
    }
    contracts.require_valid(contracts.BACKFILL_PLAN, plan, "backfill_plan_invalid")
    return plan


# ---------------------------------------------------------------- the course's per-partition file


def backfill_dir(report_dir: Path) -> Path:
    return report_dir / "backfill"


def course_partition_file(entry: dict[str, Any], settings: Settings, generated_at: str) -> dict[str, Any]:
    """The course's backfill_plan_<partition>.json record for one entry of the plan."""
    day = date.fromisoformat(entry["partition_key"])
    impact = (
        "holds: " + ", ".join(entry["assets"])
        if entry["assets"]
        else "none: nothing is rematerialised for this partition"
    )
    document = {
        "partition_key": entry["partition_key"],
        "window_start": datetime.combine(day, time.min, tzinfo=UTC).isoformat(),
        "window_end": datetime.combine(day, time.max, tzinfo=UTC).isoformat(),
        "upstream_manifest_id": (entry.get("manifest_ids") or [None])[0],
        "expected_input_count": entry["expected_input_count"],
        "current_output_count": entry["current_output_count"],
        "gap_reason": entry["reason_codes"][0] if entry["reason_codes"] else "no_gap_detected",
        "proposed_action": entry["action"] if "command" not in entry else f"{entry['action']}: {entry['command']}",
        "idempotency_guard": IDEMPOTENCY_GUARD,
        "downstream_impact": impact,
        "operator": settings.operator,
        "timestamp": generated_at,
        "mode": MODE,
    }
    contracts.require_valid(contracts.BACKFILL_PARTITION, document, "backfill_plan_invalid")
    return document


def write_plan(plan: dict[str, Any], settings: Settings) -> tuple[Path, list[Path]]:
    """Write the plan (backfill/plan_<start>_<end>.json) and the course's file of each partition."""
    folder = backfill_dir(settings.report_dir)
    plan_path = folder / f"plan_{plan['start']}_{plan['end']}.json"
    write_text_atomic(plan_path, json.dumps(plan, indent=2) + "\n")
    written = []
    for entry in plan["partitions"]:
        path = folder / f"backfill_plan_{entry['partition_key']}.json"
        document = course_partition_file(entry, settings, plan["generated_at"])
        write_text_atomic(path, json.dumps(document, indent=2) + "\n")
        written.append(path)
    return plan_path, written
