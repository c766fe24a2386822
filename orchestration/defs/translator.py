"""How dbt nodes become Dagster assets: week06 keys, one group, owners, and a link to the dbt docs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dagster import AssetCheckSpec, AssetKey, AssetSpec
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtProject

GROUP_NAME = "week06_data_factory"


class FactoryDbtTranslator(DagsterDbtTranslator):
    def __init__(self, docs_url: str) -> None:
        super().__init__(DagsterDbtTranslatorSettings(enable_asset_checks=True, enable_code_references=False))
        self._docs_url = docs_url.rstrip("/")

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        meta_key = ((dbt_resource_props.get("meta") or {}).get("dagster") or {}).get("asset_key")
        if meta_key is None:
            meta_key = ((dbt_resource_props.get("config") or {}).get("meta") or {}).get("dagster", {}).get("asset_key")
        if meta_key:
            return AssetKey(list(meta_key))
        # Anything not given an explicit key still lands under week06/<folder>/<name>.
        folder = (dbt_resource_props.get("fqn") or ["", "dbt"])[1:2] or ["dbt"]
        return AssetKey(["week06", *folder, dbt_resource_props["name"]])

    def get_asset_check_spec(
        self,
        asset_spec: AssetSpec,
        manifest: Mapping[str, Any],
        unique_id: str,
        project: DbtProject | None,
    ) -> AssetCheckSpec | None:
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None:
            return None
        # dbt already enforces severity=error (it skips everything downstream of a failed test).
        # A Dagster-blocking check would also fail the step and skip the run evidence, leaving a
        # partition with no verdict; the evidence step turns the failure into hold_downstream.
        severity = manifest["nodes"].get(unique_id, {}).get("config", {}).get("severity") or "error"
        return spec._replace(blocking=False, metadata={**spec.metadata, "dbt_severity": severity.lower()})

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return GROUP_NAME

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> Sequence[str] | None:
        owner = (dbt_resource_props.get("meta") or {}).get("owner") or (
            (dbt_resource_props.get("config") or {}).get("meta") or {}
        ).get("owner")
        return [f"team:{owner}"] if owner else None

    def get_metadata(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, Any]:
        metadata = dict(super().get_metadata(dbt_resource_props))
        unique_id = dbt_resource_props.get("unique_id", "")
        kind = dbt_resource_props.get("resource_type", "model")
        metadata["dbt_docs_url"] = f"{self._docs_url}/#!/{kind}/{unique_id}"
        materialized = (dbt_resource_props.get("config") or {}).get("materialized")
        if materialized:
            metadata["materialization"] = materialized
        return metadata
