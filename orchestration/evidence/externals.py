"""The course's optional neighbours of Week06: the Week04 lakehouse and the Week05 analytics mart.

Both are observed, never built here. Each is `not_available` (with the course's reason code) when
switched off (LAKEHOUSE_ENABLED / ANALYTICS_ENABLED) or when its report is absent or unreadable;
never reported as passed without the report that proves it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestration.config import Settings
from orchestration.evidence.checks import Check
from orchestration.fileio import display_path

LAKEHOUSE_STATE = "lakehouse_state"
SUPPORT_KPI_MART = "support_kpi_mart"


@dataclass(frozen=True)
class ExternalState:
    name: str
    status: str  # success | not_available
    reason_codes: tuple[str, ...]
    report_path: str
    enabled: bool
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def available(self) -> bool:
        return self.status == "success"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "reason_codes": list(self.reason_codes),
            "enabled": self.enabled,
            "report_path": self.report_path,
            **self.metadata,
        }

    def as_check(self) -> Check:
        """Evidence lists an external as a check: skipped (not_available) unless its report proves it."""
        status = "passed" if self.available else "skipped"
        metadata = {"external_status": self.status, "enabled": self.enabled, "report_path": self.report_path}
        metadata.update(self.metadata)
        return Check(self.name, status, self.reason_codes, metadata, core=False)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return document if isinstance(document, dict) else None


def lakehouse_state(settings: Settings) -> ExternalState:
    """Week04: a materialization report naming the snapshot of silver.ticket_fact."""
    code = "week04_lakehouse_not_available"
    path = settings.week04_report_path
    shown = display_path(path)
    if not settings.lakehouse_enabled:
        return ExternalState(
            LAKEHOUSE_STATE, "not_available", (code,), shown, False, {"detail": "LAKEHOUSE_ENABLED is off"}
        )
    report = _read_json(path)
    table = ((report or {}).get("tables") or {}).get("silver.ticket_fact") or {}
    snapshot_id = table.get("snapshot_id") if isinstance(table, dict) else None
    if snapshot_id in (None, ""):
        detail = "no report" if report is None else "the report names no silver.ticket_fact snapshot"
        return ExternalState(LAKEHOUSE_STATE, "not_available", (code,), shown, True, {"detail": detail})
    return ExternalState(LAKEHOUSE_STATE, "success", (), shown, True, {"lakehouse_snapshot_id": snapshot_id})


def support_kpi_mart(settings: Settings) -> ExternalState:
    """Week05: the analytics dbt project's run_results.json (its invocation id)."""
    code = "week05_analytics_not_available"
    path = settings.week05_run_results_path
    shown = display_path(path)
    if not settings.analytics_enabled:
        return ExternalState(
            SUPPORT_KPI_MART, "not_available", (code,), shown, False, {"detail": "ANALYTICS_ENABLED is off"}
        )
    report = _read_json(path)
    invocation_id = ((report or {}).get("metadata") or {}).get("invocation_id")
    if not invocation_id:
        detail = "no run_results.json" if report is None else "run_results.json has no invocation_id"
        return ExternalState(SUPPORT_KPI_MART, "not_available", (code,), shown, True, {"detail": detail})
    return ExternalState(SUPPORT_KPI_MART, "success", (), shown, True, {"analytics_invocation_id": str(invocation_id)})


def observe_externals(settings: Settings) -> list[ExternalState]:
    return [lakehouse_state(settings), support_kpi_mart(settings)]
