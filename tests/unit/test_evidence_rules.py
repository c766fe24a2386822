"""The course's decision rule, and evidence that breaks its contract is never written."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from orchestration.evidence.report import Check, dbt_checks, decide, gate_check, render_markdown, write_evidence


@pytest.mark.parametrize(
    ("checks", "dry_run", "expected"),
    [
        ([Check("a", "success")], False, ("success", "proceed_to_week07")),
        ([Check("a", "success"), Check("b", "warning")], False, ("warning", "manual_review_required")),
        ([Check("a", "warning"), Check("b", "failed")], False, ("failed", "hold_downstream")),
        ([Check("a", "failed")], True, ("failed", "hold_downstream")),
        ([Check("a", "success")], True, ("skipped", "dry_run_only")),
        ([Check("a", "failed", core=False)], False, ("warning", "manual_review_required")),
        ([Check("a", "not_available", core=False)], False, ("success", "proceed_to_week07")),
    ],
)
def test_decision_rule(checks: list[Check], dry_run: bool, expected: tuple[str, str]) -> None:
    assert decide(checks, dry_run=dry_run) == expected


def test_missing_dbt_results_fail_the_partition() -> None:
    checks, invocation = dbt_checks(None)
    assert invocation is None
    assert [(c.name, c.status, c.reason_codes) for c in checks] == [("dbt_build", "failed", ("dbt_results_missing",))]


def test_invalid_evidence_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="evidence_invalid"):
        write_evidence({"partition_key": date(2026, 4, 17).isoformat(), "status": "great"}, tmp_path)
    assert not list(tmp_path.rglob("*.json"))


@pytest.mark.parametrize(
    ("judgments", "status"),
    [
        (["accept"], "success"),
        (["accept", "warn"], "warning"),
        (["accept", "not_available"], "warning"),  # a declared file that could not be read is never a pass
        (["not_available", "reject"], "failed"),
    ],
)
def test_gate_check_of_a_partition(judgments: list[str], status: str) -> None:
    assets = [
        {"judgment": j, "reasons": [] if j == "accept" else [{"code": f"{j}_reason", "message": "m"}]}
        for j in judgments
    ]
    check = gate_check([{"assets": assets}])
    assert check.status == status
    assert len(check.reason_codes) == len([j for j in judgments if j != "accept"])


def test_evidence_markdown_explains_its_reason_codes() -> None:
    evidence = {
        "partition_key": "2026-04-17",
        "status": "warning",
        "downstream_decision": "manual_review_required",
        "run_id": "r1",
        "dbt_invocation_id": None,
        "manifests": [],
        "ingest": {
            "totals": {
                "lines_read": 3,
                "loaded": 1,
                "duplicates": 0,
                "rejected": 2,
                "rejected_by_reason": {"malformed_json": 1, "contract_required:priority": 1},
            }
        },
        "input_row_count": 1,
        "output_row_count": 1,
        "output_checksum": None,
        "checks": [],
        "reason_codes": ["rejected_lines_present"],
    }
    text = render_markdown(evidence)
    assert "- `rejected_lines_present`: Some lines of the partition's files were rejected." in text
    assert "- `malformed_json`: The line is not valid JSON." in text
    assert "- `contract_required:priority`: The record breaks ticket_v1" in text
