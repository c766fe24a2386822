"""The backfill plan classifies real situations of each state, judged from the real database and evidence.

One module builds the situations for real: manifests for six days, one Dagster run (one dbt build)
over three of them, a day skipped, a run that fails, late versions loaded after the evidence, a
record stored twice behind the gate's back, and a day before the first partition. Every plan, every
course per-partition file, every evidence and delivery summary validates.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from orchestration import contracts
from orchestration.config import Settings
from orchestration.db.connection import connect
from tests.helpers import jsonl, ticket, write_source

pytestmark = pytest.mark.heavy

D1, D2, D3, D4, D5, D6 = (date(2026, 3, d) for d in range(2, 8))
LATE_BATCH_DAY = "20260320"  # the late batch's own day, outside the range planned here
BEFORE_START = date(2025, 12, 31)


def _day_file(root: Path, day: date, count: int = 3) -> Path:
    records = [ticket(n, day=day.isoformat()) for n in range(1, count + 1)]
    return write_source(root, f"tickets-{day:%Y%m%d}.jsonl", jsonl(*records), batch_day=f"{day:%Y%m%d}")


@pytest.fixture(scope="module")
def situation(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from orchestration.cli import main
    from orchestration.db.schema import ensure_schema
    from orchestration.defs.instance import instance_for, latest_runs
    from orchestration.defs.runner import run_partitions
    from orchestration.ingest.loader import ingest_manifest

    root = tmp_path_factory.mktemp("backfill")
    saved = {k: os.environ.get(k) for k in ("WEEK06_MANIFEST_DIR", "WEEK06_REPORT_DIR")}
    os.environ["WEEK06_MANIFEST_DIR"] = str(root / "manifests")
    os.environ["WEEK06_REPORT_DIR"] = str(root / "reports")
    with connect(pg_url) as conn:
        ensure_schema(conn)
        conn.execute("delete from raw.ticket_events where partition_date between %s and %s", (D1, D6))
        conn.commit()
    for day in (D1, D2, D3, D4, D5, D6):
        _day_file(root, day)
    settings = Settings.from_env()
    instance = instance_for(settings)

    # D3..D5: one real run (gate, ingest, dbt build, evidence), all three fine.
    good = run_partitions(D3, D5, instance=instance)
    assert good.success, good.failed_steps
    # D2 is skipped. D1 and D6: runs that fail before dbt (the ingest step crashes); D6 through the
    # CLI, which writes the holding evidence; D1 from the job alone, as the UI would, with no evidence.
    import orchestration.defs.factory as factory_assets

    real_ingest = factory_assets.ingest_window

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("injected failure in the ingest step")

    factory_assets.ingest_window = crash  # type: ignore[assignment]
    try:
        failed_ui = run_partitions(D1, D1, instance=instance)
        cli_code = main(["run", "--partition", D6.isoformat(), "--json"])
    finally:
        factory_assets.ingest_window = real_ingest
    assert not failed_ui.success and cli_code == 1

    # D3: late versions of two of its tickets arrive in a later batch, after its evidence.
    late = [ticket(n, day=D3.isoformat(), status="resolved", updated_at=f"{D3}T18:00:00Z") for n in (1, 2)]
    late_manifest = write_source(root / "late", "late.jsonl", jsonl(*late), batch_day=LATE_BATCH_DAY)
    ingest_manifest(pg_url, late_manifest, settings=settings)
    # D4: the same record stored twice, behind the gate's back.
    with connect(pg_url) as conn:
        conn.execute(
            """
            insert into raw.ticket_events (record_fingerprint, ticket_id, partition_date, created_at, status,
                priority, product_line, customer_id, pii_level, quality_gate, payload, manifest_id, batch_id,
                run_id, source_id, source_fingerprint, source_line, ingested_at)
            select 'copy-' || record_fingerprint, ticket_id, partition_date, created_at, status,
                priority, product_line, customer_id, pii_level, quality_gate, payload, manifest_id, batch_id,
                'manual-edit', source_id, source_fingerprint, source_line, now()
            from raw.ticket_events where partition_date = %s limit 1
            """,
            (D4,),
        )
        conn.commit()

    runs = latest_runs(settings, BEFORE_START, D6, instance=instance)
    yield {"settings": settings, "runs": runs, "url": pg_url, "root": root, "failed_ui": failed_ui}
    with connect(pg_url) as conn:
        conn.execute("delete from raw.ticket_events where partition_date between %s and %s", (D1, D6))
        conn.commit()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="module")
def plan(situation: dict[str, Any]) -> dict[str, Any]:
    from orchestration.backfill.plan import build_plan

    return build_plan(situation["url"], situation["settings"], BEFORE_START, D6, last_runs=situation["runs"])


def _entry(plan: dict[str, Any], day: date) -> dict[str, Any]:
    return next(p for p in plan["partitions"] if p["partition_key"] == day.isoformat())


def test_the_plan_validates_and_is_a_dry_run(plan: dict[str, Any]) -> None:
    assert contracts.violations(contracts.BACKFILL_PLAN, plan) == []
    assert plan["mode"] == "dry-run" and plan["reason_codes"] == ["dry_run_no_db_write"]
    assert len(plan["partitions"]) == (D6 - BEFORE_START).days + 1


@pytest.mark.parametrize(
    ("day", "state", "action", "code"),
    [
        (BEFORE_START, "out_of_range", "none", "partition_out_of_range"),
        (D1, "failed", "rematerialize", "run_failed"),  # the Dagster run history says so
        (D2, "missing", "materialize", "evidence_missing"),  # the skipped day
        (D3, "stale", "rematerialize", "upstream_changed_after_evidence"),  # late versions
        (D4, "check_failed", "investigate", "duplicate_payload"),  # a broken check
        (D5, "ok", "none", None),
        (D6, "failed", "rematerialize", "run_failed"),  # the CLI's holding evidence says so
    ],
)
def test_each_state_is_classified(plan: dict[str, Any], day: date, state: str, action: str, code: str | None) -> None:
    entry = _entry(plan, day)
    assert (entry["state"], entry["action"]) == (state, action), entry
    if code is None:
        assert entry["reason_codes"] == [] and "command" not in entry
    else:
        assert code in entry["reason_codes"]


def test_commands_are_exact(plan: dict[str, Any]) -> None:
    assert _entry(plan, D2)["command"] == f"data-factory run --partition {D2}"
    assert _entry(plan, D4)["command"] == f"data-factory evidence --partition {D4} --json"
    assert _entry(plan, D4)["failed_checks"] == ["duplicate_idempotency"]
    # D1..D3 are contiguous replays: one single-run command; D6 stands alone.
    assert plan["commands"] == [f"data-factory run --start {D1} --end {D3}", f"data-factory run --partition {D6}"]


def test_late_versions_are_counted_as_input(plan: dict[str, Any], situation: dict[str, Any]) -> None:
    from orchestration.evidence.report import read_evidence

    entry = _entry(plan, D3)
    evidence = read_evidence(situation["settings"].report_dir, D3)
    assert evidence is not None
    assert entry["expected_input_count"] == evidence["input_row_count"] + 2


def test_without_run_history_a_failed_first_run_looks_missing(situation: dict[str, Any]) -> None:
    # Without the Dagster history (and no evidence) nothing distinguishes a failed first run from a
    # partition never run: the CLI and the sensor write holding evidence precisely for that reason.
    from orchestration.backfill.plan import build_plan

    plan = build_plan(situation["url"], situation["settings"], D1, D1)
    assert _entry(plan, D1)["state"] == "missing"


def test_cli_writes_the_plan_and_the_course_files(
    situation: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    from orchestration.cli import main

    code = main(["backfill-plan", "--start", D1.isoformat(), "--end", D6.isoformat(), "--json"])
    document = json.loads(capsys.readouterr().out)
    assert code == 0
    assert contracts.violations(contracts.BACKFILL_PLAN, document) == []
    states = {p["partition_key"]: p["state"] for p in document["partitions"]}
    assert states[D1.isoformat()] == "failed"  # the CLI reads the Dagster instance under DAGSTER_HOME
    folder = situation["settings"].report_dir / "backfill"
    for day in (D1, D2, D3, D4, D5, D6):
        course = json.loads((folder / f"backfill_plan_{day}.json").read_text(encoding="utf-8"))
        assert contracts.violations(contracts.BACKFILL_PARTITION, course) == []
        assert course["mode"] == "dry-run" and course["partition_key"] == day.isoformat()
    assert json.loads((folder / f"backfill_plan_{D5}.json").read_text())["gap_reason"] == "no_gap_detected"
    assert json.loads((folder / f"backfill_plan_{D3}.json").read_text())["expected_input_count"] == 5


def test_every_evidence_and_summary_written_validates(situation: dict[str, Any]) -> None:
    report_dir = situation["settings"].report_dir
    evidence_files = sorted((report_dir / "run_evidence").glob("*.json"))
    assert {p.stem for p in evidence_files} == {d.isoformat() for d in (D3, D4, D5, D6)}
    for path in evidence_files:
        assert contracts.violations(contracts.RUN_EVIDENCE, json.loads(path.read_text())) == [], path.name
    summaries = sorted((report_dir / "delivery_summary").glob("*.json"))
    assert {p.stem for p in summaries} >= {d.isoformat() for d in (D3, D4, D5)}
    for path in summaries:
        assert contracts.violations(contracts.DELIVERY_SUMMARY, json.loads(path.read_text())) == [], path.name
    for name in ("run_evidence_summary.md", "asset_checks_summary.md", "week06_delivery_summary.md"):
        assert (report_dir / name).is_file(), name
