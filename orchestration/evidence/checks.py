"""The course's five checks on the raw asset, judged per partition from the database (ledger, raw rows).

Names and status vocabulary are the course's (`passed | warning | skipped | failed`). Nothing here
re-reads the source files: the gate's judgments and the ingest ledger say what was declared and
read, `raw.ticket_events` says what is held.

Our model keeps ticket versions: two versions of one ticket (same ticket_id, new content) are not
duplicates; the same record stored twice is. `duplicate_idempotency` says so in its metadata.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import psycopg

from orchestration.ingest.results import sum_counts

CHECK_STATUSES = ("passed", "warning", "skipped", "failed")
RAW_CHECK_NAMES = (
    "manifest_consistency",
    "row_count_output_count",
    "duplicate_idempotency",
    "required_field_null_rate",
    "partition_completeness",
)
# The course's required fields of a ticket (its null-rate check looks at exactly these).
REQUIRED_FIELDS = ("ticket_id", "status", "priority", "product_line", "created_at")
RAW_CHECK_DESCRIPTIONS = {
    "manifest_consistency": "A manifest declares the partition and the gate accepted its files "
    "(reject fails, quarantine/warn/not_available warn).",
    "row_count_output_count": "The partition holds valid rows; the ledger of its files (lines read = loaded + "
    "duplicates + rejected) is in the metadata; rejected lines warn.",
    "duplicate_idempotency": "No record is stored twice in the partition. Two versions of a ticket are not "
    "duplicates (the factory keeps versions); the same record twice is.",
    "required_field_null_rate": "No row of the partition lacks one of the course's required fields "
    "(ticket_id, status, priority, product_line, created_at).",
    "partition_completeness": "Every loadable file the partition's manifests declare has been ingested, "
    "and the partition has rows.",
}


@dataclass(frozen=True)
class Check:
    """One check of a partition's evidence (the course's `checks[]` item)."""

    name: str
    status: str
    reason_codes: tuple[str, ...] = ()
    metadata: dict[str, Any] | None = None
    core: bool = True  # a failed core check holds the partition downstream

    def __post_init__(self) -> None:
        if self.status not in CHECK_STATUSES:
            raise ValueError(f"check {self.name}: status {self.status!r} is not one of {CHECK_STATUSES}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "reason_codes": list(dict.fromkeys(self.reason_codes)),
            "metadata": dict(self.metadata or {}, core=self.core),
        }


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


def raw_partition_figures(conn: psycopg.Connection, partition: date) -> dict[str, Any]:
    """What raw.ticket_events holds for one partition: rows, records, tickets, duplicates, nulls."""
    nulls_sql = ", ".join(
        f"count(*) filter (where coalesce(payload->>'{f}', '') = '') as null_{f}" for f in REQUIRED_FIELDS
    )
    row = conn.execute(
        f"""
        select count(*) as rows,
               count(distinct record_fingerprint) as records,
               count(distinct payload) as payloads,
               count(distinct ticket_id) as tickets,
               max(ingested_at) as last_ingested_at,
               {nulls_sql}
        from raw.ticket_events
        where partition_date = %s
        """,
        (partition,),
    ).fetchone()
    assert row is not None
    rows, records, payloads, tickets, last_ingested_at = row[:5]
    return {
        "rows": int(rows),
        "records": int(records),
        "payloads": int(payloads),
        "tickets": int(tickets),
        "last_ingested_at": last_ingested_at,
        "nulls": {f: int(n) for f, n in zip(REQUIRED_FIELDS, row[5:], strict=True)},
    }


# ---------------------------------------------------------------- the five checks


def manifest_consistency(gates: list[dict[str, Any]]) -> Check:
    """Gate judgments of the manifests covering the partition (dicts from GateResult.to_dict)."""
    if not gates or not any(g["assets"] for g in gates):
        return Check(
            "manifest_consistency",
            "failed",
            ("structured_manifest_missing_or_empty",),
            {"manifest_count": len(gates), "detail": "no manifest declares a file for this partition"},
        )
    judgments = [a["judgment"] for g in gates for a in g["assets"]]
    codes = sorted({r["code"] for g in gates for a in g["assets"] for r in a["reasons"]})
    # not_available: a declared file could not be examined (e.g. remote), so the partition may lack data.
    doubtful = {"quarantine", "warn", "not_available"}
    status = "failed" if "reject" in judgments else "warning" if doubtful & set(judgments) else "passed"
    return Check(
        "manifest_consistency",
        status,
        tuple(codes),
        {
            "manifest_count": len(gates),
            "manifest_ids": [g["manifest_id"] for g in gates],
            "asset_count": len(judgments),
            "judgments": {j: judgments.count(j) for j in sorted(set(judgments))},
        },
    )


def row_count_output_count(files: list[dict[str, Any]], raw: dict[str, Any]) -> Check:
    """Valid rows held for the partition, beside the ledger of the files that declared it."""
    totals = sum_counts(files)
    metadata = {
        "valid_row_count": raw["rows"],
        "ticket_count": raw["tickets"],
        "lines_read": totals["lines_read"],
        "loaded": totals["loaded"],
        "duplicates": totals["duplicates"],
        "rejected": totals["rejected"],
        "rejected_by_reason": totals["rejected_by_reason"],
        "files": [
            {
                k: f[k]
                for k in ("source_id", "source_fingerprint", "run_id", "lines_read", "loaded", "duplicates", "rejected")
            }
            for f in files
        ],
    }
    if raw["rows"] == 0:
        return Check("row_count_output_count", "failed", ("no_valid_input_rows",), metadata)
    if totals["rejected"]:
        return Check("row_count_output_count", "warning", ("rejected_lines_present",), metadata)
    return Check("row_count_output_count", "passed", (), metadata)


def duplicate_idempotency(raw: dict[str, Any]) -> Check:
    """The same record stored twice fails; several versions of a ticket are expected and pass."""
    duplicate_rows = raw["rows"] - raw["payloads"]
    metadata = {
        "row_count": raw["rows"],
        "distinct_records": raw["payloads"],
        "ticket_count": raw["tickets"],
        "ticket_versions_beyond_first": raw["payloads"] - raw["tickets"] if raw["payloads"] else 0,
        "duplicate_rows": duplicate_rows,
        "rule": "two versions of a ticket are not duplicates; the same record twice is",
    }
    if duplicate_rows > 0:
        return Check("duplicate_idempotency", "failed", ("duplicate_payload",), metadata)
    return Check("duplicate_idempotency", "passed", (), metadata)


def required_field_null_rate(raw: dict[str, Any]) -> Check:
    rows = raw["rows"]
    nulls = raw["nulls"]
    metadata = {
        "row_count": rows,
        "nulls": nulls,
        "null_rate": {f: (round(n / rows, 6) if rows else 0.0) for f, n in nulls.items()},
        "threshold": 0.0,
    }
    if rows == 0:
        return Check("required_field_null_rate", "skipped", ("no_valid_input_rows",), metadata)
    if any(nulls.values()):
        return Check("required_field_null_rate", "failed", ("required_field_nulls_detected",), metadata)
    return Check("required_field_null_rate", "passed", (), metadata)


def partition_completeness(gates: list[dict[str, Any]], files: list[dict[str, Any]], raw: dict[str, Any]) -> Check:
    loadable = {(a["source_id"], a["sha256"]) for g in gates for a in g["assets"] if a["loadable"]}
    accounted = {(f["source_id"], f["source_fingerprint"]) for f in files}
    missing = sorted(f"{s}@{(h or '')[:12]}" for s, h in loadable - accounted)
    metadata = {
        "files_declared_loadable": len(loadable),
        "files_not_ingested": missing,
        "partition_row_count": raw["rows"],
    }
    if missing:
        return Check("partition_completeness", "failed", ("ledger_missing",), metadata)
    if raw["rows"] == 0:
        return Check("partition_completeness", "warning", ("partition_has_no_seed_rows",), metadata)
    return Check("partition_completeness", "passed", (), metadata)


def raw_checks(
    conn: psycopg.Connection, partition: date, gates: list[dict[str, Any]], files: list[dict[str, Any]] | None = None
) -> list[Check]:
    """The five checks of one partition, in the course's order."""
    if files is None:
        files = ledger_for_manifests(conn, [g["manifest_id"] for g in gates])
    raw = raw_partition_figures(conn, partition)
    return [
        manifest_consistency(gates),
        row_count_output_count(files, raw),
        duplicate_idempotency(raw),
        required_field_null_rate(raw),
        partition_completeness(gates, files, raw),
    ]


def judge_raw_partitions(url: str, gate: Any, first: date, last: date) -> dict[date, list[Check]]:
    """The five checks of every partition first..last (`gate`: the PartitionGate of those partitions)."""
    from orchestration.db.connection import connect
    from orchestration.partitions import days_between

    with connect(url) as conn:
        return {
            day: raw_checks(conn, day, [g.to_dict() for g in gate.for_partition(day)])
            for day in days_between(first, last)
        }


def render_checks_markdown(rows: list[tuple[str, Check]]) -> str:
    """The course's asset_checks_summary.md: one line per (partition, check)."""
    lines = [
        "# Week06 Asset Checks Summary",
        "",
        "| partition | check | status | reason_codes |",
        "|---|---|---|---|",
    ]
    lines += [f"| {p} | {c.name} | {c.status} | {', '.join(c.reason_codes)} |" for p, c in rows]
    return "\n".join(lines) + "\n"
