"""`data-factory serve`: the production Dagster stack, really started, driven over its GraphQL API.

One module-scoped stack (code server, webserver, daemon as separate processes; the instance of
infra/dagster.yaml on the session's embedded PostgreSQL; the queued run coordinator) serves every
assertion: a partition run and a range backfill launched over HTTP and seen to succeed, the
sensors and schedules of the definitions registered, the run records in PostgreSQL. Every
process the stack started is gone afterwards, whatever happened.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import pytest

from orchestration.db.connection import connect
from orchestration.serve import stop_with_parent
from tests.conftest import PROJECT_ROOT

pytestmark = pytest.mark.heavy

JOB = "week06_data_factory"
LOCATION = "support_data_factory"
PARTITION = "2026-04-17"
BACKFILL = ["2026-04-15", "2026-04-16"]
MAX_CONCURRENT_RUNS = 2
# Generous: three Dagster processes and each run's own process load the definitions on a
# machine shared by many; the polls return as soon as the stack answers.
START_TIMEOUT = 420.0
RUN_TIMEOUT = 480.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _poll(what: str, probe: Callable[[], Any], timeout: float, alive: Callable[[], None]) -> Any:
    started = time.monotonic()
    deadline = started + timeout
    while time.monotonic() < deadline:
        alive()
        result = probe()
        if result:
            print(f"[serve test] {what}: {time.monotonic() - started:.0f} s", file=sys.stderr)
            return result
        time.sleep(2.0)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@dataclass
class Stack:
    proc: subprocess.Popen[bytes]
    port: int
    home: Path
    log: Path
    url: str

    def alive(self) -> None:
        if self.proc.poll() is not None:
            raise AssertionError(f"data-factory serve exited with {self.proc.returncode}:\n{self.tail()}")

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-6000:] if self.log.exists() else ""

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/graphql", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            document = json.loads(response.read())
        assert not document.get("errors"), document["errors"]
        return dict(document["data"])


def _group_members(pgid: int) -> list[psutil.Process]:
    members = []
    for proc in psutil.process_iter(["pid"]):
        try:
            if os.getpgid(proc.pid) == pgid and proc.status() != psutil.STATUS_ZOMBIE:
                members.append(proc)
        except (ProcessLookupError, psutil.Error):
            continue
    return members


@pytest.fixture(scope="module")
def stack(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    from orchestration.db.schema import ensure_schema

    with connect(pg_url) as conn:  # a fresh Dagster storage and factory tables for this module
        ensure_schema(conn)
        conn.execute("drop schema if exists dagster cascade")
        conn.execute("truncate raw.ticket_events, ops.ingest_ledger, ops.ingest_rejects, ops.ingest_state")
        conn.execute("drop schema if exists staging, silver, gold cascade")
        conn.commit()
    root = tmp_path_factory.mktemp("serve")
    port = _free_port()
    argv = [
        str(Path(sys.executable).with_name("data-factory")),
        "serve",
        "--home", str(root / "home"),
        "--port", str(port),
        "--code-server-port", str(_free_port()),
        "--max-concurrent-runs", str(MAX_CONCURRENT_RUNS),
    ]  # fmt: skip
    log = root / "serve.log"
    with log.open("wb") as sink:
        # Its own session: the stack and every process under it share one process group to check.
        proc = subprocess.Popen(
            argv,
            cwd=PROJECT_ROOT,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=stop_with_parent,  # a killed pytest takes the stack down with it
            # The seed files are small: parsing them in the run's own process spares a worker start.
            env={**os.environ, "WEEK06_INGEST_WORKERS": "0"},
        )
    running = Stack(proc, port, root / "home", log, pg_url)
    try:
        _poll("the stack to be ready", lambda: "ready:" in running.tail(), START_TIMEOUT, running.alive)
        yield running
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=90)
            except subprocess.TimeoutExpired:
                pass
        leftovers = _group_members(proc.pid)
        for member in leftovers:
            member.kill()
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def _launch_partition_run(stack: Stack) -> str:
    result = stack.graphql(
        """mutation($params: ExecutionParams!) { launchRun(executionParams: $params) {
             __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message }
             ... on RunConfigValidationInvalid { errors { message } } } }""",
        {
            "params": {
                "selector": {"repositoryLocationName": LOCATION, "repositoryName": "__repository__", "jobName": JOB},
                "executionMetadata": {"tags": [{"key": "dagster/partition", "value": PARTITION}]},
            }
        },
    )["launchRun"]
    assert result["__typename"] == "LaunchRunSuccess", result
    return str(result["run"]["runId"])


def _job_asset_keys(stack: Stack) -> list[dict[str, list[str]]]:
    nodes = stack.graphql(
        """query($job: PipelineSelector!) { assetNodes(pipeline: $job) { assetKey { path } } }""",
        {"job": {"repositoryLocationName": LOCATION, "repositoryName": "__repository__", "pipelineName": JOB}},
    )["assetNodes"]
    return [{"path": node["assetKey"]["path"]} for node in nodes]


def _launch_backfill(stack: Stack, keys: list[dict[str, list[str]]]) -> str:
    result = stack.graphql(
        """mutation($params: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $params) {
             __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }""",
        {"params": {"assetSelection": keys, "partitionNames": BACKFILL, "title": "serve test range"}},
    )["launchPartitionBackfill"]
    assert result["__typename"] == "LaunchBackfillSuccess", result
    return str(result["backfillId"])


def _run_status(stack: Stack, run_id: str) -> dict[str, Any]:
    return dict(
        stack.graphql(
            """query($id: ID!) { runOrError(runId: $id) { ... on Run { runId status tags { key value } } } }""",
            {"id": run_id},
        )["runOrError"]
    )


def _backfill(stack: Stack, backfill_id: str) -> dict[str, Any]:
    return dict(
        stack.graphql(
            """query($id: String!) { partitionBackfillOrError(backfillId: $id) { ... on PartitionBackfill {
                 status isAssetBackfill runs(limit: 10) { runId status tags { key value } } } } }""",
            {"id": backfill_id},
        )["partitionBackfillOrError"]
    )


@pytest.fixture(scope="module")
def launched(stack: Stack) -> dict[str, Any]:
    """Both launches first (the queue holds them), then wait for both to end."""
    run_id = _launch_partition_run(stack)
    backfill_id = _launch_backfill(stack, _job_asset_keys(stack))
    finished = {"SUCCESS", "FAILURE", "CANCELED"}

    def both_done() -> dict[str, Any] | None:
        run = _run_status(stack, run_id)
        backfill = _backfill(stack, backfill_id)
        if run["status"] in finished and backfill["status"] not in ("REQUESTED", "CANCELING", "FAILING"):
            return {"run": run, "backfill": backfill}
        return None

    outcome = _poll("the partition run and the backfill to finish", both_done, RUN_TIMEOUT, stack.alive)
    outcome["backfill_id"] = backfill_id
    return dict(outcome)


def _tags(run: dict[str, Any]) -> dict[str, str]:
    return {tag["key"]: tag["value"] for tag in run["tags"]}


def test_the_instance_is_the_infra_one_with_a_queue_and_healthy_daemons(stack: Stack) -> None:
    assert (stack.home / "dagster.yaml").read_bytes() == (PROJECT_ROOT / "infra" / "dagster.yaml").read_bytes()
    instance = _poll(
        "every required daemon to report healthy",
        lambda: (
            lambda i: i if all(d["healthy"] for d in i["daemonHealth"]["allDaemonStatuses"] if d["required"]) else None
        )(
            stack.graphql(
                """{ instance { runQueuingSupported runQueueConfig { maxConcurrentRuns }
                     daemonHealth { allDaemonStatuses { daemonType required healthy } } } }"""
            )["instance"]
        ),
        120,
        stack.alive,
    )
    assert instance["runQueuingSupported"] is True
    assert instance["runQueueConfig"]["maxConcurrentRuns"] == MAX_CONCURRENT_RUNS
    daemons = {d["daemonType"] for d in instance["daemonHealth"]["allDaemonStatuses"] if d["required"]}
    assert {"SCHEDULER", "SENSOR", "QUEUED_RUN_COORDINATOR", "BACKFILL"} <= daemons


def test_sensors_and_schedules_of_the_definitions_are_registered(stack: Stack) -> None:
    from dagster import Definitions

    from orchestration import definitions

    loaded = definitions.defs  # a Definitions object, or a factory of one when loading is deferred
    repository = (loaded if isinstance(loaded, Definitions) else loaded()).get_repository_def()
    expected_sensors = {s.name: s.default_status.value for s in repository.sensor_defs}
    expected_schedules = {s.name: s.default_status.value for s in repository.schedule_defs}
    assert expected_sensors, "the definitions declare no sensor: this test would prove nothing"
    repo = stack.graphql(
        """query($r: RepositorySelector!) { repositoryOrError(repositorySelector: $r) { ... on Repository {
             sensors { name sensorState { status } } schedules { name scheduleState { status } } } } }""",
        {"r": {"repositoryLocationName": LOCATION, "repositoryName": "__repository__"}},
    )["repositoryOrError"]
    assert {s["name"]: s["sensorState"]["status"] for s in repo["sensors"]} == expected_sensors
    assert {s["name"]: s["scheduleState"]["status"] for s in repo["schedules"]} == expected_schedules

    # The daemon evaluates the running sensors and records their ticks in PostgreSQL.
    running = {name for name, status in expected_sensors.items() if status == "RUNNING"}

    def ticked() -> bool:
        with connect(stack.url) as conn:
            return all(
                conn.execute(
                    "select count(*) from dagster.job_ticks where tick_body like %s", (f'%"{name}"%',)
                ).fetchone()[0]  # type: ignore[index]
                for name in running
            )

    _poll("a tick of every running sensor in dagster.job_ticks", ticked, 180, stack.alive)


def test_a_partition_run_launched_over_graphql_succeeds(launched: dict[str, Any]) -> None:
    run = launched["run"]
    assert run["status"] == "SUCCESS", run
    assert _tags(run)["dagster/partition"] == PARTITION


def test_a_range_backfill_runs_as_one_run_and_succeeds(launched: dict[str, Any]) -> None:
    backfill = launched["backfill"]
    assert backfill["isAssetBackfill"] is True
    assert backfill["status"] in ("COMPLETED", "COMPLETED_SUCCESS"), backfill
    runs = backfill["runs"]
    assert len(runs) == 1, "single-run backfill policy: one run for the whole range"
    assert runs[0]["status"] == "SUCCESS", runs
    tags = _tags(runs[0])
    assert (tags["dagster/asset_partition_range_start"], tags["dagster/asset_partition_range_end"]) == (
        BACKFILL[0],
        BACKFILL[-1],
    )


def test_run_records_and_events_are_in_postgresql(stack: Stack, launched: dict[str, Any]) -> None:
    run_ids = [launched["run"]["runId"], launched["backfill"]["runs"][0]["runId"]]
    with connect(stack.url) as conn:
        statuses = dict(
            conn.execute("select run_id, status from dagster.runs where run_id = any(%s)", (run_ids,)).fetchall()
        )
        events = dict(
            conn.execute(
                "select run_id, count(*) from dagster.event_logs where run_id = any(%s) group by run_id", (run_ids,)
            ).fetchall()
        )
        backfills = conn.execute(
            "select status from dagster.bulk_actions where key = %s", (launched["backfill_id"],)
        ).fetchall()
        silver = conn.execute(
            "select partition_date::text, count(*) from silver.ticket_fact group by 1 order by 1"
        ).fetchall()
    assert statuses == {run_id: "SUCCESS" for run_id in run_ids}
    assert all(events.get(run_id, 0) > 10 for run_id in run_ids), events
    assert len(backfills) == 1
    # The runs really built the data: the three days are in silver, nothing else.
    assert [day for day, count in silver if count > 0] == sorted([*BACKFILL, PARTITION])


def test_stopping_the_stack_ends_every_process_it_started(stack: Stack, launched: dict[str, Any]) -> None:
    # Ends the module's stack now (the fixture's finalizer is idempotent) and checks what is left.
    pgid = stack.proc.pid
    assert len(_group_members(pgid)) >= 4, "supervisor, code server (proxy and server), webserver, daemon"
    stack.proc.send_signal(signal.SIGTERM)
    assert stack.proc.wait(timeout=120) == 0, stack.tail()
    deadline = time.monotonic() + 30
    while _group_members(pgid) and time.monotonic() < deadline:
        time.sleep(1.0)
    assert _group_members(pgid) == [], "processes outlived `data-factory serve`"
    assert "stopping the stack" in stack.tail()
