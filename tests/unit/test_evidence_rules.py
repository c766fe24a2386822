"""The course's decision rule, each evidence reason code, and evidence that breaks its contract is never written."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from orchestration import reasons
from orchestration.cli import main
from orchestration.evidence.checks import (
    Check,
    duplicate_idempotency,
    manifest_consistency,
    partition_completeness,
    required_field_null_rate,
    row_count_output_count,
)
from orchestration.evidence.report import dbt_checks, decide, render_markdown, write_evidence
from orchestration.evidence.rows import evidence_rows


@pytest.mark.parametrize(
    ("checks", "dry_run", "expected"),
    [
        ([Check("a", "passed")], False, ("success", "proceed_to_week07")),
        ([Check("a", "passed"), Check("b", "warning")], False, ("warning", "manual_review_required")),
        ([Check("a", "warning"), Check("b", "failed")], False, ("failed", "hold_downstream")),
        ([Check("a", "failed")], True, ("failed", "hold_downstream")),
        ([Check("a", "passed")], True, ("skipped", "dry_run_only")),
        ([Check("a", "failed", core=False)], False, ("warning", "manual_review_required")),
        # an absent optional neighbour is skipped, never passed, and never holds anything
        (
            [Check("lakehouse_state", "skipped", ("week04_lakehouse_not_available",), core=False)],
            False,
            ("success", "proceed_to_week07"),
        ),
    ],
)
def test_decision_rule(checks: list[Check], dry_run: bool, expected: tuple[str, str]) -> None:
    assert decide(checks, dry_run=dry_run) == expected


def test_missing_dbt_results_fail_the_partition() -> None:
    checks, invocation = dbt_checks(None)
    assert invocation is None
    assert [(c.name, c.status, c.reason_codes) for c in checks] == [("dbt_build", "failed", ("dbt_results_missing",))]


def test_check_status_is_the_course_vocabulary() -> None:
    with pytest.raises(ValueError, match="success"):
        Check("a", "success")


def test_invalid_evidence_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="evidence_invalid"):
        write_evidence({"partition_key": date(2026, 4, 17).isoformat(), "status": "great"}, tmp_path)
    assert not list(tmp_path.rglob("*.json"))


@pytest.mark.parametrize(
    ("judgments", "status"),
    [
        (["accept"], "passed"),
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
    check = manifest_consistency([{"manifest_id": "m", "assets": assets}])
    assert check.status == status
    assert len(check.reason_codes) == len([j for j in judgments if j != "accept"])


def test_evidence_markdown_explains_its_reason_codes() -> None:
    ledger = {"lines_read": 3, "loaded": 1, "duplicates": 0, "rejected": 2}
    by_reason = {"malformed_json": 1, "contract_required:priority": 1}
    row_check = Check(
        "row_count_output_count", "warning", ("rejected_lines_present",), {**ledger, "rejected_by_reason": by_reason}
    )
    evidence = {
        "partition_key": "2026-04-17",
        "status": "warning",
        "downstream_decision": "manual_review_required",
        "run_id": "r1",
        "input_row_count": 1,
        "output_row_count": 1,
        "checks": [row_check.to_dict()],
        "reason_codes": ["rejected_lines_present"],
    }
    text = render_markdown(evidence)
    assert "- `rejected_lines_present`: Some lines of the partition's files were rejected." in text
    assert "- `malformed_json`: The line is not valid JSON." in text
    assert "- `contract_required:priority`: The record breaks ticket_v1" in text


# ---------------------------------------------------------------- one case per evidence reason code

_FINGERPRINT = "a" * 64
_GATES = [
    {
        "manifest_id": "m",
        "assets": [{"source_id": "s", "sha256": _FINGERPRINT, "loadable": True, "judgment": "accept", "reasons": []}],
    }
]


def _file(**counts: int) -> dict[str, object]:
    base = {"source_id": "s", "source_fingerprint": _FINGERPRINT, "run_id": "r", "lines_read": 3, "loaded": 3}
    return {**base, "duplicates": 0, "rejected": 0, "rejected_by_reason": {}, **counts}


def _raw(rows: int = 3, payloads: int = 3, **nulls: int) -> dict[str, object]:
    fields = ("ticket_id", "status", "priority", "product_line", "created_at")
    return {
        "rows": rows,
        "records": rows,
        "payloads": payloads,
        "tickets": 2,
        "nulls": {f: nulls.get(f, 0) for f in fields},
    }


def _dbt(*results: tuple[str, str]) -> dict[str, object]:
    return {
        "metadata": {"invocation_id": "inv"},
        "results": [{"unique_id": uid, "status": status} for uid, status in results],
    }


@pytest.mark.parametrize(
    ("checks", "code", "status"),
    [
        (lambda: [manifest_consistency([])], "structured_manifest_missing_or_empty", "failed"),
        (lambda: [partition_completeness(_GATES, [], _raw())], "ledger_missing", "failed"),
        (lambda: [partition_completeness(_GATES, [_file()], _raw(0, 0))], "partition_has_no_seed_rows", "warning"),
        (lambda: [row_count_output_count([_file()], _raw(0, 0))], "no_valid_input_rows", "failed"),
        (lambda: [row_count_output_count([_file(loaded=2, rejected=1)], _raw())], "rejected_lines_present", "warning"),
        (lambda: [duplicate_idempotency(_raw(rows=4, payloads=3))], "duplicate_payload", "failed"),
        (lambda: [required_field_null_rate(_raw(status=1))], "required_field_nulls_detected", "failed"),
        (lambda: dbt_checks(_dbt())[0], "dbt_nothing_ran", "failed"),
        (lambda: dbt_checks(_dbt(("model.p.ticket_fact", "error")))[0], "dbt_model_failed", "failed"),
        (
            lambda: dbt_checks(_dbt(("model.p.ticket_fact", "skipped"), ("test.p.t", "fail")))[0],
            "dbt_test_failed",
            "failed",
        ),
        (lambda: dbt_checks(_dbt(("test.p.t", "warn")))[0], "dbt_test_warned", "warning"),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_evidence_reason_code_is_produced(checks, code: str, status: str) -> None:
    produced = [c for c in checks() if code in c.reason_codes]
    assert produced and all(c.status == status for c in produced)
    assert reasons.lookup(code) is not None


def test_versions_of_a_ticket_are_not_duplicates() -> None:
    # 3 rows, 3 distinct records, 2 tickets: one ticket has two versions, which is how the factory keeps history.
    check = duplicate_idempotency(_raw(rows=3, payloads=3))
    assert check.status == "passed"
    assert check.metadata and check.metadata["ticket_versions_beyond_first"] == 1


def test_evidence_missing_for_a_partition_never_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WEEK06_REPORT_DIR", str(tmp_path))
    assert main(["evidence", "--partition", "2026-02-01", "--json"]) == 1
    row = json.loads(capsys.readouterr().out)
    assert (row["status"], row["reason_codes"]) == ("not_available", ["evidence_missing"])


def test_evidence_rows_name_every_partition_of_the_range_in_order(tmp_path: Path) -> None:
    rows = evidence_rows(tmp_path, date(2026, 2, 1), date(2026, 2, 3), run_id="some-run")
    assert [r["partition_key"] for r in rows] == ["2026-02-01", "2026-02-02", "2026-02-03"]
    assert all(r["downstream_decision"] is None and r["reason_codes"] == ["evidence_missing"] for r in rows)


def test_invalid_argument_for_a_bad_setting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WEEK06_PARTITION_START_DATE", "the first of January")
    assert main(["evidence", "--partition", "2026-02-01"]) == 2
    assert "invalid_argument" in capsys.readouterr().err
