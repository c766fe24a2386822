"""The Dagster definitions honour the course's Week06 contract (what tests/course/ asserts, and more).

All nine course keys plus the dbt models, the five checks on the raw asset, job
`week06_data_factory`, the three course resources (+ dbt), and the optional neighbours observed as
`not_available` when switched off, never as a success.
"""

from __future__ import annotations

from pathlib import Path

import pytest

COURSE_KEYS = {
    "week06/source/seed_manifests",
    "week06/factory/manifest_gate",
    "week06/ingestion/raw_ticket_events_partitioned",
    "week06/silver/ticket_fact_partitioned",
    "week06/external/lakehouse_state",
    "week06/external/support_kpi_mart",
    "week06/ops/backfill_plan",
    "week06/ops/run_evidence_report",
    "week06/ops/data_factory_delivery_summary",
}
DBT_MODELS = {"week06/staging/stg_ticket_events", "week06/gold/support_kpi_daily"}
RAW_CHECKS = {
    "manifest_consistency",
    "row_count_output_count",
    "duplicate_idempotency",
    "required_field_null_rate",
    "partition_completeness",
}


def _defs():  # type: ignore[no-untyped-def]
    from orchestration.definitions import defs

    return defs


def test_all_nine_course_keys_and_the_dbt_models() -> None:
    keys = {"/".join(k.path) for k in _defs().resolve_all_asset_keys()}
    assert COURSE_KEYS <= keys
    assert DBT_MODELS <= keys
    assert all(k.startswith("week06/") for k in keys)


def test_the_five_course_checks_sit_on_the_raw_asset() -> None:
    graph = _defs().resolve_asset_graph()
    raw = {
        k.name
        for k in graph.asset_check_keys
        if "/".join(k.asset_key.path) == "week06/ingestion/raw_ticket_events_partitioned"
    }
    # Beside them, the freshness check (its own sensor evaluates it; the course's job leaves it out).
    assert raw == RAW_CHECKS | {"freshness_check"}


def test_job_and_resources_have_the_course_names() -> None:
    defs = _defs()
    job = defs.resolve_job_def("week06_data_factory")
    materialised = {"/".join(k.path) for k in job.asset_layer.executable_asset_keys}
    assert COURSE_KEYS - materialised == {
        "week06/source/seed_manifests",
        "week06/external/lakehouse_state",
        "week06/external/support_kpi_mart",
    }, "the job materialises every course asset but the observed ones"
    resources = defs.get_repository_def().get_top_level_resources()
    assert {"week06_postgres", "week06_minio", "week06_reports", "dbt"} <= set(resources)


def _observe() -> dict[str, dict[str, object]]:
    from dagster import DagsterInstance

    job = _defs().resolve_job_def("week06_source_observation_job")
    result = job.execute_in_process(instance=DagsterInstance.ephemeral())
    assert result.success
    observed = {}
    for event in result.all_events:
        if event.event_type_value == "ASSET_OBSERVATION":
            observation = event.event_specific_data.asset_observation  # type: ignore[union-attr]
            observed["/".join(observation.asset_key.path)] = {k: v.value for k, v in observation.metadata.items()}
    return observed


def test_externals_are_not_available_when_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LAKEHOUSE_ENABLED", raising=False)
    monkeypatch.delenv("ANALYTICS_ENABLED", raising=False)
    observed = _observe()
    assert observed["week06/external/lakehouse_state"]["status"] == "not_available"
    assert observed["week06/external/lakehouse_state"]["reason_codes"] == ["week04_lakehouse_not_available"]
    assert observed["week06/external/support_kpi_mart"]["status"] == "not_available"
    assert observed["week06/external/support_kpi_mart"]["reason_codes"] == ["week05_analytics_not_available"]


def test_externals_enabled_without_their_reports_are_still_not_available(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LAKEHOUSE_ENABLED", "true")
    monkeypatch.setenv("ANALYTICS_ENABLED", "true")
    monkeypatch.setenv("WEEK06_WEEK04_REPORT_PATH", str(tmp_path / "absent.json"))
    (tmp_path / "run_results.json").write_text('{"metadata": {}}')
    monkeypatch.setenv("WEEK06_WEEK05_RUN_RESULTS_PATH", str(tmp_path / "run_results.json"))
    observed = _observe()
    assert observed["week06/external/lakehouse_state"]["status"] == "not_available"
    assert observed["week06/external/support_kpi_mart"]["status"] == "not_available"


def test_externals_with_their_reports_are_observed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LAKEHOUSE_ENABLED", "1")
    monkeypatch.setenv("ANALYTICS_ENABLED", "1")
    (tmp_path / "week04.json").write_text('{"tables": {"silver.ticket_fact": {"snapshot_id": 4242}}}')
    (tmp_path / "run_results.json").write_text('{"metadata": {"invocation_id": "inv-5"}}')
    monkeypatch.setenv("WEEK06_WEEK04_REPORT_PATH", str(tmp_path / "week04.json"))
    monkeypatch.setenv("WEEK06_WEEK05_RUN_RESULTS_PATH", str(tmp_path / "run_results.json"))
    observed = _observe()
    assert observed["week06/external/lakehouse_state"]["status"] == "success"
    assert observed["week06/external/lakehouse_state"]["lakehouse_snapshot_id"] == "4242"
    assert observed["week06/external/support_kpi_mart"]["status"] == "success"


def test_minio_is_not_configured_without_an_endpoint_and_never_shows_its_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from orchestration.config import Settings
    from orchestration.defs.resources import Week06MinioResource

    monkeypatch.delenv("MINIO_ENDPOINT", raising=False)
    monkeypatch.setenv("MINIO_SECRET_KEY", "s3cr3t-value")
    minio = Week06MinioResource()
    assert not minio.configured and minio.status == "not_configured"
    monkeypatch.setenv("MINIO_ENDPOINT", "http://127.0.0.1:9000")
    monkeypatch.setenv("MINIO_ACCESS_KEY", "course")
    assert minio.configured and minio.status == "configured"
    shown = repr(minio) + str(minio) + repr(minio.describe()) + repr(Settings.from_env())
    assert "s3cr3t-value" not in shown
    assert minio.secret_key() == "s3cr3t-value"
