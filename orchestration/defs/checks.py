"""The course's five asset checks on week06/ingestion/raw_ticket_events_partitioned, as Dagster check results.

The judging is the core's (orchestration/evidence/checks.py), per partition from the database; here
the partitions of a run are folded into one result per check: the worst status wins, and each
partition's status and reason codes stay in the metadata. A failed check has severity ERROR, a
warning WARN; the checks do not block the dbt build (its own tests then still run and report), the
evidence holds the failed partition downstream (`hold_downstream`, `asset_checks_failed`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from dagster import AssetCheckResult, AssetCheckSeverity, AssetCheckSpec, AssetKey, MetadataValue

from orchestration.evidence.checks import RAW_CHECK_DESCRIPTIONS, RAW_CHECK_NAMES, Check

_RANK = {"passed": 0, "skipped": 1, "warning": 2, "failed": 3}


def raw_check_specs(raw_asset: AssetKey) -> list[AssetCheckSpec]:
    return [
        AssetCheckSpec(name=name, asset=raw_asset, description=RAW_CHECK_DESCRIPTIONS[name], blocking=False)
        for name in RAW_CHECK_NAMES
    ]


def fold(name: str, by_partition: dict[date, Check]) -> AssetCheckResult:
    """One check over the run's partitions: the worst status, every partition's verdict in metadata."""
    worst = max((c.status for c in by_partition.values()), key=_RANK.__getitem__, default="skipped")
    codes = sorted({code for c in by_partition.values() for code in c.reason_codes})
    per_partition: dict[str, Any] = {
        day.isoformat(): {"status": c.status, "reason_codes": list(c.reason_codes)}
        for day, c in sorted(by_partition.items())
    }
    metadata: dict[str, Any] = {
        "status": worst,
        "reason_codes": MetadataValue.json(codes),
        "partitions": MetadataValue.json(per_partition),
        "failed_partitions": MetadataValue.json([d for d, v in per_partition.items() if v["status"] == "failed"]),
    }
    if len(by_partition) == 1:
        (only,) = by_partition.values()
        metadata["details"] = MetadataValue.json(only.metadata or {})
    return AssetCheckResult(
        check_name=name,
        passed=worst in ("passed", "skipped"),
        severity=AssetCheckSeverity.ERROR if worst == "failed" else AssetCheckSeverity.WARN,
        metadata=metadata,
    )


def fold_all(per_day: dict[date, list[Check]]) -> list[AssetCheckResult]:
    return [
        fold(name, {day: next(c for c in checks if c.name == name) for day, checks in per_day.items()})
        for name in RAW_CHECK_NAMES
    ]
