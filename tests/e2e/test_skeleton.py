"""The walking skeleton end to end: gate -> ingest -> dbt build -> evidence, as one Dagster job, twice.

Real embedded PostgreSQL, real dbt subprocess, real Dagster in-process execution. One module-scoped
pair of runs serves every assertion, so dbt runs twice in this file, not once per test.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from orchestration import contracts
from orchestration.config import Settings
from orchestration.db.connection import connect

PARTITION = date(2026, 4, 17)
pytestmark = pytest.mark.heavy


def _snapshot(url: str) -> dict[str, object]:
    with connect(url) as conn:
        one = lambda sql: conn.execute(sql).fetchone()  # noqa: E731
        return {
            "raw_rows": one("select count(*) from raw.ticket_events")[0],
            "raw_distinct": one("select count(distinct record_fingerprint) from raw.ticket_events")[0],
            "silver_rows": one(f"select count(*) from silver.ticket_fact where partition_date = '{PARTITION}'")[0],
            "silver_tickets": one(
                f"select count(distinct ticket_id) from silver.ticket_fact where partition_date = '{PARTITION}'"
            )[0],
            "ledger_rows": one("select count(*) from ops.ingest_ledger")[0],
            "kpi_rows": one(f"select count(*) from gold.support_kpi_daily where partition_date = '{PARTITION}'")[0],
        }


@pytest.fixture(scope="module")
def two_runs(empty_db: str):
    from orchestration.defs.instance import instance_for
    from orchestration.defs.runner import run_partitions
    from orchestration.evidence.report import read_evidence

    settings = Settings.from_env()
    instance = instance_for(settings)
    outcomes, snapshots, evidence = [], [], []
    for _ in range(2):
        outcomes.append(run_partitions(PARTITION, PARTITION, instance=instance))
        snapshots.append(_snapshot(empty_db))
        evidence.append(read_evidence(settings.report_dir, PARTITION))
    return {"outcomes": outcomes, "snapshots": snapshots, "evidence": evidence, "instance": instance, "url": empty_db}


@pytest.fixture(scope="module")
def empty_db(pg_url: str) -> str:  # module scope: one clean database for this file's runs
    from orchestration.db.schema import ensure_schema

    with connect(pg_url) as conn:
        ensure_schema(conn)
        conn.execute("truncate raw.ticket_events, ops.ingest_ledger, ops.ingest_rejects, ops.ingest_state")
        conn.execute("drop schema if exists staging, silver, gold cascade")
        conn.commit()
    return pg_url


def test_job_succeeds_twice(two_runs) -> None:
    for outcome in two_runs["outcomes"]:
        assert outcome.success, outcome.failed_steps


def test_second_run_starts_from_the_saved_dbt_parse(two_runs) -> None:
    """The first run's dbt invocation leaves its parse to the next one: no full re-parse per run."""
    from orchestration.transform.dbt_project import TARGET_DIR

    run_id = two_runs["outcomes"][1].run_id
    logs = list(TARGET_DIR.glob(f"week06_dbt_models-{run_id[:7]}-*/dbt.log"))
    assert len(logs) == 1, logs
    text = logs[0].read_text(errors="replace")
    assert "Unable to do partial parsing" not in text
    assert "skipping partial parsing" in text or "Partial parsing enabled" in text


def test_second_run_adds_no_rows_and_keeps_counts(two_runs) -> None:
    first, second = two_runs["snapshots"]
    assert first == second
    assert first["raw_rows"] == first["raw_distinct"] > 0
    assert first["silver_rows"] == first["silver_tickets"] > 0
    assert first["kpi_rows"] > 0


def test_evidence_is_valid_and_stable(two_runs) -> None:
    from orchestration.evidence.report import ingest_totals

    first, second = two_runs["evidence"]
    for document in (first, second):
        assert document is not None
        assert contracts.violations(contracts.RUN_EVIDENCE, document) == []
        assert document["evidence_schema_version"] == "week06_run_evidence_v1"
        assert document["partition_key"] == PARTITION.isoformat()
        assert document["asset_key"] == "week06/ops/run_evidence_report"
        assert document["downstream_decision"] in ("proceed_to_week07", "manual_review_required")
        assert document["dbt_invocation_id"]
        assert all(isinstance(document[k], str) and document[k] for k in ("trace_id", "data_release_id", "git_sha"))
        assert None not in document.values()
        totals = ingest_totals(document)
        assert totals and totals["lines_read"] == totals["loaded"] + totals["duplicates"] + totals["rejected"]
    assert second["run_id"] != first["run_id"]
    assert ingest_totals(second) == ingest_totals(first)
    assert second["source_snapshot_id"] == first["source_snapshot_id"]
    assert second["output_snapshot_id"] == first["output_snapshot_id"]
    assert second["output_row_count"] == first["output_row_count"] == two_runs["snapshots"][0]["silver_rows"]
    assert second["input_row_count"] == first["input_row_count"] > 0
    raw_checks = {c["name"]: c["status"] for c in second["checks"] if c["metadata"]["core"]}
    assert {"manifest_consistency", "duplicate_idempotency", "required_field_null_rate"} <= {
        name for name, status in raw_checks.items() if status == "passed"
    }
    dbt_checks = [c for c in second["checks"] if c["name"].startswith("dbt:test.")]
    assert dbt_checks and all(c["status"] in ("passed", "warning") for c in dbt_checks)
    externals = {
        c["name"]: c["status"] for c in second["checks"] if c["name"] in ("lakehouse_state", "support_kpi_mart")
    }
    assert externals == {"lakehouse_state": "skipped", "support_kpi_mart": "skipped"}
    md = Path(Settings.from_env().report_dir / "run_evidence" / f"{PARTITION}.md")
    assert "downstream decision" in md.read_text()


def test_the_course_report_files_are_written(two_runs) -> None:
    report_dir = Settings.from_env().report_dir
    for name in ("run_evidence_summary.md", "asset_checks_summary.md", "week06_delivery_summary.md"):
        assert (report_dir / name).is_file(), name
    summary = json.loads((report_dir / "delivery_summary" / f"{PARTITION}.json").read_text())
    assert contracts.violations(contracts.DELIVERY_SUMMARY, summary) == []
    assert summary["run_id"] == two_runs["outcomes"][1].run_id
    course_plan = json.loads((report_dir / "backfill" / f"backfill_plan_{PARTITION}.json").read_text())
    assert contracts.violations(contracts.BACKFILL_PARTITION, course_plan) == []
    assert course_plan["gap_reason"] == "no_gap_detected"


def test_raw_checks_are_dagster_asset_checks_of_the_run(two_runs) -> None:
    from dagster import AssetCheckKey, AssetKey

    instance = two_runs["instance"]
    run_id = two_runs["outcomes"][1].run_id
    raw = AssetKey(["week06", "ingestion", "raw_ticket_events_partitioned"])
    for name in ("manifest_consistency", "duplicate_idempotency", "required_field_null_rate"):
        records = instance.event_log_storage.get_asset_check_execution_history(AssetCheckKey(raw, name), limit=5)
        assert any(r.run_id == run_id for r in records), name


def test_dbt_tests_are_dagster_asset_checks(two_runs) -> None:
    from dagster import AssetKey

    from orchestration.definitions import defs

    key = AssetKey(["week06", "silver", "ticket_fact_partitioned"])
    graph = defs().resolve_asset_graph()
    check_keys = [k for k in graph.asset_check_keys if k.asset_key == key]
    assert check_keys, "dbt tests on ticket_fact should be asset checks"
    instance = two_runs["instance"]
    run_id = two_runs["outcomes"][1].run_id
    records = instance.event_log_storage.get_asset_check_execution_history(check_keys[0], limit=5)
    assert any(r.run_id == run_id for r in records)


def test_asset_keys_are_the_week06_contract() -> None:
    from orchestration import asset_keys
    from orchestration.definitions import defs

    definitions = defs()
    keys = {"/".join(k.path) for k in definitions.resolve_asset_graph().get_all_asset_keys()}
    assert keys == {
        "week06/source/seed_manifests",
        "week06/factory/manifest_gate",
        "week06/ingestion/raw_ticket_events_partitioned",
        "week06/staging/stg_ticket_events",
        "week06/silver/ticket_fact_partitioned",
        "week06/gold/support_kpi_daily",
        "week06/external/lakehouse_state",
        "week06/external/support_kpi_mart",
        "week06/ops/backfill_plan",
        "week06/ops/run_evidence_report",
        "week06/ops/data_factory_delivery_summary",
        "week06/lake/raw_ticket_events_parquet",  # the Spark engine's lake (docs/scale-out.md)
    }
    # Every key the Python code names (once, in orchestration/asset_keys.py) is one the dbt YAML
    # and the assets actually declare.
    named = {v for k, v in vars(asset_keys).items() if k.isupper()}
    assert named and named <= keys
    # Owners come from one place (dbt_project.yml's +meta owner); the group from the translator.
    graph = definitions.resolve_asset_graph()
    dbt_models = [k for k in graph.get_all_asset_keys() if k.path[1] in ("staging", "silver", "gold")]
    assert dbt_models and all(list(graph.get(k).owners) == ["team:data-platform"] for k in dbt_models)
    groups = {"/".join(k.path): graph.get(k).group_name for k in graph.get_all_asset_keys()}
    assert groups.pop(asset_keys.RAW_TICKET_EVENTS_PARQUET) == "week06_lake"  # beside the course's group
    assert set(groups.values()) == {"week06_data_factory"}
    job = definitions.resolve_job_def("week06_data_factory")
    in_job = {"/".join(k.path) for k in job.asset_layer.executable_asset_keys}
    assert "week06/source/seed_manifests" not in in_job
    assert asset_keys.RAW_TICKET_EVENTS_PARQUET not in in_job  # the course's job is unchanged


def test_cli_evidence_reports_the_partition(two_runs, capsys) -> None:
    from orchestration.cli import main

    code = main(["evidence", "--partition", PARTITION.isoformat(), "--json"])
    document = json.loads(capsys.readouterr().out)
    assert code == 0
    assert document["partition_key"] == PARTITION.isoformat()
    assert document["downstream_decision"] == two_runs["evidence"][1]["downstream_decision"]


def test_run_that_dies_before_its_evidence_still_leaves_a_verdict(two_runs, capsys, monkeypatch) -> None:
    """Fault injection: the evidence step crashes; the CLI writes evidence that holds the partition."""
    import orchestration.defs.evidence as evidence_asset
    from orchestration.cli import main

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("injected failure in the evidence step")

    monkeypatch.setattr(evidence_asset, "record_partitions", crash)
    code = main(["run", "--partition", PARTITION.isoformat(), "--json"])
    document = json.loads(capsys.readouterr().out)
    assert code == 1 and document["success"] is False
    (row,) = document["partitions"]
    assert row["run_id"] == document["run_id"]
    assert row["downstream_decision"] == "hold_downstream"
    assert "run_failed" in row["reason_codes"]


def test_failure_sensor_writes_the_missing_verdict(two_runs, monkeypatch) -> None:
    """A run launched from the UI has no CLI around it: the run-failure sensor closes the gap."""
    from dagster import DagsterEventType, build_run_status_sensor_context

    import orchestration.defs.evidence as evidence_asset
    from orchestration.defs.resources import Week06PostgresResource
    from orchestration.defs.runner import run_partitions
    from orchestration.defs.sensors import evidence_after_failure
    from orchestration.evidence.report import read_evidence

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("injected failure in the evidence step")

    monkeypatch.setattr(evidence_asset, "record_partitions", crash)
    instance = two_runs["instance"]
    outcome = run_partitions(PARTITION, PARTITION, instance=instance)
    assert not outcome.success
    settings = Settings.from_env()
    assert read_evidence(settings.report_dir, PARTITION)["run_id"] != outcome.run_id
    event = instance.all_logs(outcome.run_id, of_type=DagsterEventType.RUN_FAILURE)[0].dagster_event
    context = build_run_status_sensor_context(
        sensor_name="week06_evidence_after_failure",
        dagster_instance=instance,
        dagster_run=instance.get_run_by_id(outcome.run_id),
        dagster_event=event,
        resources={"week06_postgres": Week06PostgresResource()},
    )
    evidence_after_failure(context)
    document = read_evidence(settings.report_dir, PARTITION)
    assert document["run_id"] == outcome.run_id
    assert document["downstream_decision"] == "hold_downstream" and "run_failed" in document["reason_codes"]


def test_failing_blocking_check_holds_downstream(two_runs, capsys) -> None:
    """Corrupt bronze behind the gate's back: a real dbt test fails and the evidence holds the partition."""
    from orchestration.cli import main

    with connect(two_runs["url"]) as conn:
        conn.execute(
            """
            insert into raw.ticket_events (record_fingerprint, ticket_id, partition_date, created_at, status,
                priority, product_line, customer_id, pii_level, quality_gate, payload, manifest_id, batch_id,
                run_id, source_id, source_fingerprint, source_line, ingested_at)
            select 'corrupt-' || record_fingerprint, ticket_id, partition_date, created_at, 'reopened',
                priority, product_line, customer_id, pii_level, quality_gate, payload, manifest_id, batch_id,
                'manual-edit', source_id, source_fingerprint, source_line, now() + interval '1 day'
            from raw.ticket_events where partition_date = %s limit 1
            """,
            (PARTITION,),
        )
        conn.commit()
    code = main(["run", "--partition", PARTITION.isoformat(), "--json"])
    document = json.loads(capsys.readouterr().out)
    assert code == 1
    (row,) = document["partitions"]
    assert row["run_id"] == document["run_id"]
    assert row["downstream_decision"] == "hold_downstream" and row["status"] == "failed"
    # The same record twice: the course's duplicate_idempotency check fails on the raw asset (so the
    # evidence says asset_checks_failed), and dbt's own duplicate test fails too.
    assert {"duplicate_payload", "asset_checks_failed", "dbt_test_failed"} <= set(row["reason_codes"])
