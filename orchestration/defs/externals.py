"""The course's external neighbours as observable source assets: observed, never materialised here.

week06/external/lakehouse_state (Week04, LAKEHOUSE_ENABLED, WEEK06_WEEK04_REPORT_PATH) and
week06/external/support_kpi_mart (Week05, ANALYTICS_ENABLED, WEEK06_WEEK05_RUN_RESULTS_PATH).
Switched off or absent, an observation says `not_available` with the course's reason code.
"""

from __future__ import annotations

from collections.abc import Callable

from dagster import (
    AssetKey,
    AssetsDefinition,
    AssetSpec,
    DataVersion,
    MetadataValue,
    ObserveResult,
    multi_observable_source_asset,
)

from orchestration.config import Settings
from orchestration.defs.keys import LAKEHOUSE_STATE, SUPPORT_KPI_MART
from orchestration.defs.translator import python_asset_props
from orchestration.evidence.externals import ExternalState, lakehouse_state, support_kpi_mart


def _observation(key: AssetKey, state: ExternalState) -> ObserveResult:
    version = state.metadata.get("lakehouse_snapshot_id") or state.metadata.get("analytics_invocation_id")
    return ObserveResult(
        asset_key=key,
        data_version=DataVersion(str(version) if version else "not_available"),
        metadata={
            "status": state.status,
            "reason_codes": MetadataValue.json(list(state.reason_codes)),
            "enabled": state.enabled,
            "report_path": state.report_path,
            **{k: str(v) for k, v in state.metadata.items()},
        },
    )


def _external(key: AssetKey, observe: Callable[[Settings], ExternalState], description: str) -> AssetsDefinition:
    @multi_observable_source_asset(
        specs=[AssetSpec(key, description=description, **python_asset_props("external", storage=None))],
        name=f"observe_{key.path[-1]}",
    )
    def _observe() -> ObserveResult:
        return _observation(key, observe(Settings.from_env()))

    return _observe


lakehouse_state_asset = _external(
    LAKEHOUSE_STATE,
    lakehouse_state,
    "Week04 lakehouse state (observation only): success with the silver.ticket_fact snapshot id from "
    "WEEK06_WEEK04_REPORT_PATH when LAKEHOUSE_ENABLED; otherwise not_available (week04_lakehouse_not_available).",
)
support_kpi_mart_asset = _external(
    SUPPORT_KPI_MART,
    support_kpi_mart,
    "Week05 support KPI mart (observation only): success with the analytics dbt invocation id from "
    "WEEK06_WEEK05_RUN_RESULTS_PATH when ANALYTICS_ENABLED; otherwise not_available (week05_analytics_not_available).",
)
