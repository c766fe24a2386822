"""Operating the factory from Dagster: the sensor, late updates made visible, checks per partition, Execute.

Real PostgreSQL, dbt and Dagster. A batch for 2026-04-17 arrives and the manifest sensor runs it;
a later batch (2026-04-18) carries a new version of a ticket created on 2026-04-17: Dagster then
shows 2026-04-17's downstream assets stale. One module-level scenario serves every test.
"""

from __future__ import annotations

import os
from datetime import date, datetime
from typing import Any

import pytest
from dagster import (
    AssetCheckKey,
    AssetCheckSeverity,
    AssetKey,
    DagsterEventType,
    DagsterInstance,
    RunRequest,
    SensorResult,
    SkipReason,
    build_schedule_context,
    build_sensor_context,
)

from orchestration.db.connection import connect
from tests.helpers import jsonl, ticket, write_source

pytestmark = pytest.mark.heavy
DAY, NEXT = date(2026, 4, 17), date(2026, 4, 18)
RAW = AssetKey(["week06", "ingestion", "raw_ticket_events_partitioned"])
SILVER = AssetKey(["week06", "silver", "ticket_fact_partitioned"])
EVIDENCE = AssetKey(["week06", "ops", "run_evidence_report"])
UNIQUE_CHECK = AssetCheckKey(SILVER, "unique_in_partition_window_ticket_fact_ticket_id")


def _tickets(day: str, count: int) -> list[dict[str, Any]]:
    return [ticket(n, day=day, category="configuration") for n in range(1, count + 1)]


def _evaluate_sensor(instance: DagsterInstance, cursor: str | None) -> SensorResult | SkipReason:
    from orchestration.definitions import defs

    sensor = defs.resolve_sensor_def("week06_manifest_sensor")
    with build_sensor_context(instance=instance, cursor=cursor) as context:
        return sensor(context)  # type: ignore[no-any-return]


def _run_request(instance: DagsterInstance, request: RunRequest) -> str:
    from orchestration.defs.runner import run_partitions

    day = date.fromisoformat(request.partition_key) if request.partition_key else None
    assert day is not None, request
    outcome = run_partitions(day, day, instance=instance, log_level="WARNING")
    assert outcome.success, outcome.failed_steps
    return outcome.run_id


@pytest.fixture(scope="module")
def scenario(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    from orchestration.config import Settings
    from orchestration.db.schema import ensure_schema
    from orchestration.defs.instance import instance_for

    with connect(pg_url) as conn:
        ensure_schema(conn)
        conn.execute("truncate raw.ticket_events, ops.ingest_ledger, ops.ingest_rejects, ops.ingest_state")
        conn.execute("drop schema if exists staging, silver, gold cascade")
        conn.commit()
    root = tmp_path_factory.mktemp("arrivals")
    saved = {k: os.environ.get(k) for k in ("WEEK06_MANIFEST_DIR", "WEEK06_DEFAULT_PARTITION")}
    os.environ["WEEK06_MANIFEST_DIR"] = str(root / "manifests")
    os.environ["WEEK06_DEFAULT_PARTITION"] = DAY.isoformat()
    instance = instance_for(Settings.from_env())
    try:
        write_source(root, "day.jsonl", jsonl(*_tickets("2026-04-17", 12)), batch_day="20260417")
        first = _evaluate_sensor(instance, None)
        assert isinstance(first, SensorResult), first
        runs = [_run_request(instance, r) for r in first.run_requests]
        again = _evaluate_sensor(instance, first.cursor)
        # The late batch: one new ticket of its own day, and a new version of a ticket created the day before.
        late = ticket(
            3,
            day="2026-04-17",
            status="resolved",
            updated_at="2026-04-18T09:00:00Z",
            resolved_at="2026-04-18T09:00:00Z",
            category="configuration",
        )
        write_source(root, "next.jsonl", jsonl(late, *_tickets("2026-04-18", 12)), batch_day="20260418")
        second = _evaluate_sensor(instance, first.cursor)
        assert isinstance(second, SensorResult), second
        runs += [_run_request(instance, r) for r in second.run_requests]
        yield {"instance": instance, "first": first, "again": again, "second": second, "runs": runs, "url": pg_url}
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _stale_status(instance: DagsterInstance, key: AssetKey, partition: str) -> str:
    from dagster._core.asset_graph_view.asset_graph_view import AssetGraphView, TemporalContext
    from dagster._core.definitions.data_version import CachingStaleStatusResolver
    from dagster._time import get_current_datetime

    from orchestration.definitions import defs

    graph = defs.get_repository_def().asset_graph
    view = AssetGraphView(
        temporal_context=TemporalContext(effective_dt=get_current_datetime(), last_event_id=None),
        instance=instance,
        asset_graph=graph,
    )
    resolver = CachingStaleStatusResolver(instance=instance, asset_graph=graph, loading_context=view)
    return str(resolver.get_status(key, partition).value)


def _check_evaluations(instance: DagsterInstance, check: AssetCheckKey, run_id: str) -> list[Any]:
    return [
        e.dagster_event.event_specific_data
        for e in instance.all_logs(run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION)
        if e.dagster_event is not None and e.dagster_event.event_specific_data.asset_check_key == check
    ]


def test_the_sensor_runs_each_new_manifest_once(scenario: Any) -> None:
    assert [r.partition_key for r in scenario["first"].run_requests] == [DAY.isoformat()]
    assert isinstance(scenario["again"], SkipReason)
    assert [r.partition_key for r in scenario["second"].run_requests] == [NEXT.isoformat()]
    assert all(r.run_key for r in scenario["first"].run_requests + scenario["second"].run_requests)


def test_a_late_update_makes_the_earlier_partition_stale(scenario: Any) -> None:
    instance = scenario["instance"]
    records = instance.fetch_materializations(RAW, limit=20).records
    late = [r for r in records if r.partition_key == DAY.isoformat() and r.run_id == scenario["runs"][1]]
    assert late, "the ingest of 2026-04-18 did not record the change of raw partition 2026-04-17"
    assert late[0].asset_materialization.metadata["late_update"].value is True
    assert _stale_status(instance, SILVER, DAY.isoformat()) == "STALE"
    assert _stale_status(instance, SILVER, NEXT.isoformat()) == "FRESH"


def test_check_results_and_row_counts_name_their_partition(scenario: Any) -> None:
    instance = scenario["instance"]
    for run_id, day in zip(scenario["runs"], (DAY, NEXT), strict=True):
        evaluations = _check_evaluations(instance, UNIQUE_CHECK, run_id)
        assert [e.partition for e in evaluations] == [day.isoformat()]
        materialization = instance.fetch_materializations(SILVER, limit=10).records
        mine = [m for m in materialization if m.run_id == run_id and m.partition_key == day.isoformat()]
        with connect(scenario["url"]) as conn:
            rows = conn.execute("select count(*) from silver.ticket_fact where partition_date = %s", (day,)).fetchone()
        assert mine[0].asset_materialization.metadata["dagster/row_count"].value == rows[0]


def test_the_decision_is_a_check_per_partition(scenario: Any) -> None:
    from orchestration.config import Settings
    from orchestration.evidence.report import read_evidence

    instance = scenario["instance"]
    for run_id, day in zip(scenario["runs"], (DAY, NEXT), strict=True):
        (evaluation,) = _check_evaluations(instance, AssetCheckKey(EVIDENCE, "downstream_decision"), run_id)
        evidence = read_evidence(Settings.from_env().report_dir, day)
        assert evidence is not None and evaluation.partition == day.isoformat()
        decision = evidence["downstream_decision"]
        assert evaluation.metadata["downstream_decision"].value == decision
        assert evaluation.passed == (decision == "proceed_to_week07")
        if decision == "hold_downstream":
            assert evaluation.severity == AssetCheckSeverity.ERROR
        elif decision == "manual_review_required":
            assert evaluation.severity == AssetCheckSeverity.WARN


def test_execute_on_a_check_runs_it_for_the_default_partition(scenario: Any) -> None:
    """What the UI launches for a check's Execute: the check alone, in a run without a partition."""
    from orchestration.definitions import defs

    instance = scenario["instance"]
    job = defs.resolve_job_def("week06_data_factory").get_subset(
        asset_selection=set(), asset_check_selection={UNIQUE_CHECK}
    )
    result = job.execute_in_process(instance=instance, raise_on_error=False)
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    evaluations = _check_evaluations(instance, UNIQUE_CHECK, result.run_id)
    assert [(e.partition, e.passed) for e in evaluations] == [(DAY.isoformat(), True)]
    assert not any(e.event_type == DagsterEventType.ASSET_MATERIALIZATION for e in result.all_events)


def test_the_daily_schedule_asks_for_yesterday(scenario: Any) -> None:
    from orchestration.definitions import defs

    week06_daily_schedule = defs.resolve_schedule_def("week06_daily_schedule")
    with build_schedule_context(
        instance=scenario["instance"], scheduled_execution_time=datetime(2026, 4, 18, 6)
    ) as ctx:
        request = week06_daily_schedule(ctx)
    assert isinstance(request, RunRequest) and request.partition_key == DAY.isoformat()
    with build_schedule_context(instance=scenario["instance"], scheduled_execution_time=datetime(2025, 1, 1, 6)) as ctx:
        assert isinstance(week06_daily_schedule(ctx), SkipReason)


def test_automation_is_visible_and_starts_stopped() -> None:
    from dagster import DefaultScheduleStatus, DefaultSensorStatus

    from orchestration.definitions import defs

    repo = defs.get_repository_def()
    schedules = {s.name: s for s in repo.schedule_defs}
    sensors = {s.name: s for s in repo.sensor_defs}
    assert set(schedules) == {"week06_daily_schedule", "week06_source_observation_schedule"}
    assert {"week06_manifest_sensor", "week06_freshness_sensor"} <= set(sensors)
    assert all(s.default_status == DefaultScheduleStatus.STOPPED for s in schedules.values())
    assert sensors["week06_manifest_sensor"].default_status == DefaultSensorStatus.STOPPED
    assert schedules["week06_source_observation_schedule"].job_name == "week06_source_observation_job"
    freshness = AssetCheckKey(RAW, "freshness_check")
    assert freshness in repo.asset_graph.asset_check_keys
    job = repo.get_job("week06_data_factory")
    assert freshness not in job.asset_layer.asset_graph.asset_check_keys


def test_every_asset_has_owner_kinds_tags_and_a_sentence() -> None:
    from orchestration.definitions import defs

    graph = defs.get_repository_def().asset_graph
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.owners == ["team:data-platform"], key
        assert node.kinds & {"python", "dbt"}, key
        assert node.tags.get("layer"), key
        first_line = (node.description or "").split("\n")[0]
        assert first_line.endswith(".") and "**" not in first_line, (key, first_line)
    spec = graph.get_check_spec(UNIQUE_CHECK)
    assert spec.description and "Blocking policy" in spec.description and not spec.blocking
    assert spec.partitions_def is not None


def test_backfill_plan_execute_replays_the_stale_partition_and_plans_ok(
    scenario: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """The late version of 2026-04-17 made it stale: --execute replays exactly it, then the plan says ok.

    Runs last in this module: it changes what the earlier tests look at.
    """
    import json

    from orchestration.cli import main
    from orchestration.config import Settings
    from orchestration.evidence.report import read_evidence

    argv = ["backfill-plan", "--start", DAY.isoformat(), "--end", NEXT.isoformat(), "--json"]
    assert main(argv) == 0
    before = json.loads(capsys.readouterr().out)
    states = {p["partition_key"]: p["state"] for p in before["partitions"]}
    assert states == {DAY.isoformat(): "stale", NEXT.isoformat(): "ok"}, before["partitions"]

    code = main([*argv, "--execute"])
    document = json.loads(capsys.readouterr().out)
    assert [(r["start"], r["end"]) for r in document["runs"]] == [(DAY.isoformat(), DAY.isoformat())]
    assert {p["partition_key"]: p["state"] for p in document["plan_after"]["partitions"]} == {
        DAY.isoformat(): "ok",
        NEXT.isoformat(): "ok",
    }
    assert document["remaining"] == [] and code == document["exit_code"]
    replayed = read_evidence(Settings.from_env().report_dir, DAY)
    assert replayed is not None and replayed["run_id"] == document["runs"][0]["run_id"]
    with connect(scenario["url"]) as conn:
        status = conn.execute(
            "select status from silver.ticket_fact where partition_date = %s and ticket_id = %s",
            (DAY, ticket(3, day="2026-04-17")["ticket_id"]),
        ).fetchone()
    assert status == ("resolved",), "silver of the replayed day lacks the late version"
    # A second replay of the same day gives the same silver (the checksum the evidence records).
    assert main(["run", "--partition", DAY.isoformat(), "--json"]) in (0, 1)
    again = json.loads(capsys.readouterr().out)
    rebuilt = read_evidence(Settings.from_env().report_dir, DAY)
    assert rebuilt is not None and rebuilt["run_id"] == again["run_id"]
    assert rebuilt["output_snapshot_id"] == replayed["output_snapshot_id"]
    assert stale_now(scenario["instance"]) == "FRESH"


def stale_now(instance: DagsterInstance) -> str:
    return _stale_status(instance, SILVER, DAY.isoformat())
