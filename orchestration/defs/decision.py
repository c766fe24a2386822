"""The downstream decision of each partition's evidence, shown as an asset check on the evidence asset.

proceed_to_week07 (and dry_run_only) pass; manual_review_required fails with severity WARN;
hold_downstream fails with severity ERROR. One evaluation per partition, so the graph and each
partition's page show the verdict, not only the metadata.
"""

from __future__ import annotations

from typing import Any

from dagster import AssetCheckEvaluation, AssetCheckSeverity, AssetCheckSpec, MetadataValue, PartitionsDefinition

from orchestration.defs.keys import RUN_EVIDENCE_REPORT

EVIDENCE_KEY = RUN_EVIDENCE_REPORT
DECISION_CHECK = "downstream_decision"


def decision_spec(partitions: PartitionsDefinition) -> AssetCheckSpec:
    return AssetCheckSpec(
        DECISION_CHECK,
        asset=EVIDENCE_KEY,
        partitions_def=partitions,
        description="May downstream (Week07) trust this partition? The run evidence's downstream_decision.\n\n"
        "Passes for proceed_to_week07 (and dry_run_only); warns for manual_review_required (a non-core check "
        "warned or failed); errors for hold_downstream (a core check failed). Non-blocking: the decision "
        "itself is what holds the partition.",
    )


_SEVERITY = {"manual_review_required": AssetCheckSeverity.WARN, "hold_downstream": AssetCheckSeverity.ERROR}


def decision_evaluation(evidence: dict[str, Any]) -> AssetCheckEvaluation:
    """The check result of one partition's evidence document."""
    decision = evidence.get("downstream_decision") or "hold_downstream"
    not_passed = [c["name"] for c in evidence.get("checks", []) if c["status"] in ("failed", "warning")]
    return AssetCheckEvaluation(
        asset_key=EVIDENCE_KEY,
        check_name=DECISION_CHECK,
        passed=decision not in _SEVERITY,
        severity=_SEVERITY.get(decision, AssetCheckSeverity.WARN),
        partition=evidence["partition_key"],
        description=f"{evidence['partition_key']}: {decision}",
        metadata={
            "downstream_decision": decision,
            "status": evidence["status"],
            "reason_codes": MetadataValue.json(evidence.get("reason_codes", [])),
            "checks_not_passed": MetadataValue.json(not_passed[:50]),
            "evidence_path": MetadataValue.path(evidence["report_path"]),
            "run_id": evidence["run_id"],
        },
    )
