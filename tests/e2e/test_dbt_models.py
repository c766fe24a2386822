"""The dbt project on its own, as a user runs it: `dbt build|test --vars ...` in dbt_project/.

Real embedded PostgreSQL, real ingest, real dbt (one subprocess per scenario). The module loads the
demo batch of 2026-04-17 and a hand-made day (2026-03-02) whose every KPI is known in advance, then:
a partition built twice gives identical rows; a late version loaded into raw reaches silver on
rebuild; a defect injected with SQL fails exactly the dbt test meant to catch it; every node is
described, every test is blocking and scoped to the window; the docs build as one static file.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from orchestration.config import DBT_PROJECT_DIR, SEEDS_DIR, Settings
from orchestration.db.connection import ConnectionParams, connect
from orchestration.db.schema import ensure_schema
from orchestration.ingest.loader import ingest_manifest
from orchestration.transform.dbt_project import dbt_executable, window_env
from tests.helpers import jsonl, ticket, write_source

pytestmark = pytest.mark.heavy

PARTITION = date(2026, 4, 17)
KNOWN_DAY = date(2026, 3, 2)  # hand-made tickets, every KPI computed by hand below
EMPTY_DAY = date(2026, 3, 3)  # in the window of KNOWN_DAY's build, no ticket
# A target schema of its own: the relations must still land in staging/silver/gold.
TARGET_SCHEMA = "ci_target"


@dataclass(frozen=True)
class DbtOutcome:
    returncode: int
    results: list[dict[str, Any]]
    output: str

    def statuses(self, *, tests_only: bool = True) -> dict[str, str]:
        """name -> status of the nodes dbt ran (tests only by default)."""
        return {
            r["unique_id"].split(".")[2]: r["status"]
            for r in self.results
            if not tests_only or r["unique_id"].startswith("test.")
        }

    def failed(self) -> set[str]:
        return {name for name, status in self.statuses(tests_only=False).items() if status in ("fail", "error")}


class Dbt:
    """dbt in a subprocess in dbt_project/, on the test database, with this module's own target folder."""

    def __init__(self, url: str, work: Path) -> None:
        self.work = work
        self.env = {
            **os.environ,
            **ConnectionParams.from_url(url).as_env(),
            "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
            "DBT_SCHEMA": TARGET_SCHEMA,
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        }

    @property
    def target(self) -> Path:
        return self.work / "target"

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> DbtOutcome:
        completed = subprocess.run(
            [dbt_executable(), *args, "--target-path", str(self.target), "--log-path", str(self.work / "logs")],
            cwd=DBT_PROJECT_DIR,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            check=False,
        )
        run_results = self.target / "run_results.json"
        results = json.loads(run_results.read_text())["results"] if run_results.exists() else []
        run_results.unlink(missing_ok=True)
        return DbtOutcome(completed.returncode, results, completed.stdout[-4000:] + completed.stderr[-2000:])

    def build(self, *args: str, env: dict[str, str] | None = None) -> DbtOutcome:
        outcome = self("build", *args, env=env)
        assert outcome.returncode == 0 and outcome.results, outcome.output
        return outcome

    def log_since(self, offset: int) -> str:
        log = self.work / "logs" / "dbt.log"
        return log.read_text(errors="replace")[offset:] if log.exists() else ""

    def log_size(self) -> int:
        return len(self.log_since(0))


def _day_vars(day: date) -> str:
    return json.dumps({"partition_date": day.isoformat()})


def _known_day_tickets() -> bytes:
    day = KNOWN_DAY.isoformat()
    escalated = ticket(3, day, status="escalated", priority="p2_high", updated_at=f"{day}T09:03:00Z")
    return jsonl(
        # 1: open p1, untouched since creation: open, not breached, age 0
        ticket(1, day, priority="p1_critical"),
        # 2: resolved two hours after creation, before its deadline
        ticket(2, day, status="resolved", resolved_at=f"{day}T10:02:00Z", updated_at=f"{day}T10:02:00Z"),
        # 3: escalated, then closed the next day after its 20:00 deadline: two versions
        escalated,
        dict(escalated, status="closed", resolved_at="2026-03-03T08:03:00Z", updated_at="2026-03-03T08:03:00Z"),
        # 4: still open, last touched two days later, past its deadline
        ticket(4, day, product_line="northstar_studio", updated_at="2026-03-04T08:04:00Z"),
        # 5: free tier without a deadline: never breached
        ticket(5, day, priority="p4_low", sla_tier="free", sla_due_at=None),
    )


@pytest.fixture(scope="module")
def factory(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Clean raw/ops, drop the dbt schemas, load the demo batch of PARTITION and the known day."""
    with connect(pg_url) as conn:
        ensure_schema(conn)
        conn.execute("truncate raw.ticket_events, ops.ingest_ledger, ops.ingest_rejects, ops.ingest_state")
        conn.execute(f"drop schema if exists staging, silver, gold, {TARGET_SCHEMA} cascade")
        conn.commit()
    settings = Settings.from_env()
    work = tmp_path_factory.mktemp("dbt-models")
    demo = SEEDS_DIR / "manifests" / f"manifest-tickets-{PARTITION:%Y%m%d}-001.json"
    known = write_source(work / "input", "known-day.jsonl", _known_day_tickets(), batch_day=f"{KNOWN_DAY:%Y%m%d}")
    for manifest in (demo, known):
        result = ingest_manifest(pg_url, manifest, settings=settings).to_dict()
        assert result["totals"]["loaded"] > 0, result
    yield {"url": pg_url, "dbt": Dbt(pg_url, work), "work": work, "settings": settings}


def _checksum(url: str, relation: str, day: date) -> tuple[int, str]:
    """Row count and an order-independent checksum of a relation's rows of one partition."""
    with connect(url) as conn:
        row = conn.execute(
            f"""
            select count(*), md5(coalesce(string_agg(row_hash, '' order by row_hash), ''))
            from (select md5(t::text) as row_hash from {relation} as t where t.partition_date = %s) as hashed
            """,
            (day,),
        ).fetchone()
    assert row is not None
    return int(row[0]), str(row[1])


def _rows(url: str, sql: str, *params: object) -> list[dict[str, Any]]:
    with connect(url) as conn, conn.cursor() as cur:
        cur.execute(sql, params)
        names = [c.name for c in cur.description or []]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def test_partition_built_twice_gives_identical_rows(factory) -> None:
    url, dbt = factory["url"], factory["dbt"]
    first = dbt.build("--vars", _day_vars(PARTITION))
    silver, gold = _checksum(url, "silver.ticket_fact", PARTITION), _checksum(url, "gold.support_kpi_daily", PARTITION)
    second = dbt.build("--vars", _day_vars(PARTITION))
    assert _checksum(url, "silver.ticket_fact", PARTITION) == silver
    assert _checksum(url, "gold.support_kpi_daily", PARTITION) == gold
    assert silver[0] > 0 and gold[0] > 1
    for outcome in (first, second):
        assert set(outcome.statuses().values()) == {"pass"}, outcome.statuses()
    (distinct,) = _rows(
        url, "select count(distinct ticket_id) as n from raw.ticket_events where partition_date = %s", PARTITION
    )
    assert silver[0] == distinct["n"]


def test_unit_tests_of_the_derived_fields_and_kpi_rows_pass(factory) -> None:
    """dbt unit tests (models/*/_*__unit_tests.yml) run inside `dbt build`, before the model they test."""
    outcome = factory["dbt"].build(
        "--resource-type", "model", "--resource-type", "unit_test", "--vars", _day_vars(PARTITION)
    )
    unit_tests = {
        r["unique_id"].rsplit(".", 1)[-1]: r["status"]
        for r in outcome.results
        if r["unique_id"].startswith("unit_test.")
    }
    assert unit_tests == {
        "ticket_fact_state_sla_and_resolution": "pass",
        "ticket_fact_version_ranking": "pass",
        "kpi_daily_breakdowns_and_overall_row": "pass",
    }


def test_relations_land_in_the_layer_schemas(factory) -> None:
    rows = _rows(
        factory["url"],
        """
        select table_schema || '.' || table_name as relation,
               bool_or(column_name = 'partition_date') as has_partition_date
        from information_schema.columns
        where table_schema in ('staging', 'silver', 'gold', %s) or table_schema like %s
        group by 1 order by 1
        """,
        TARGET_SCHEMA,
        f"{TARGET_SCHEMA}_%",
    )
    assert {r["relation"]: r["has_partition_date"] for r in rows} == {
        "staging.stg_ticket_events": True,
        "silver.ticket_fact": True,
        "gold.support_kpi_daily": True,
    }


def test_derived_fields_and_kpis_of_a_known_day(factory) -> None:
    url, dbt = factory["url"], factory["dbt"]
    window = json.dumps({"partition_start": KNOWN_DAY.isoformat(), "partition_end": "2026-03-04"})
    outcome = dbt.build("--vars", window)
    assert set(outcome.statuses().values()) == {"pass"}, outcome.statuses()

    fact = {
        r["ticket_id"][-1]: r
        for r in _rows(
            url,
            """select ticket_id, status, version_count, is_open, is_resolved, was_escalated, sla_breached,
                      resolution_minutes, age_days
               from silver.ticket_fact where partition_date = %s""",
            KNOWN_DAY,
        )
    }
    assert {k: (r["is_open"], r["is_resolved"], r["was_escalated"], r["sla_breached"]) for k, r in fact.items()} == {
        "1": (True, False, False, False),
        "2": (False, True, False, False),
        "3": (False, True, True, True),
        "4": (True, False, False, True),
        "5": (True, False, False, False),
    }
    assert (fact["3"]["status"], fact["3"]["version_count"]) == ("closed", 2)
    assert {k: r["resolution_minutes"] for k, r in fact.items()} == {
        "1": None,
        "2": Decimal("120.00"),
        "3": Decimal("1440.00"),
        "4": None,
        "5": None,
    }
    assert {k: r["age_days"] for k, r in fact.items()} == {
        "1": Decimal("0"),
        "2": Decimal("0.0833"),
        "3": Decimal("1"),
        "4": Decimal("2"),
        "5": Decimal("0"),
    }

    kpi_columns = """ticket_count, open_ticket_count, p1_ticket_count, escalation_count, escalation_rate,
        sla_breach_count, sla_breach_rate, resolved_count, resolution_rate, avg_handle_time_minutes,
        avg_backlog_age_days"""
    overall = _rows(
        url,
        f"""select partition_date, {kpi_columns} from gold.support_kpi_daily
            where breakdown = 'overall' and product_line = 'all' and priority = 'all'
              and partition_date between %s and %s
            order by partition_date""",
        KNOWN_DAY,
        EMPTY_DAY,
    )
    assert overall == [
        {
            "partition_date": KNOWN_DAY,
            "ticket_count": 5,
            "open_ticket_count": 3,
            "p1_ticket_count": 1,
            "escalation_count": 1,
            "escalation_rate": Decimal("0.2000"),
            "sla_breach_count": 2,
            "sla_breach_rate": Decimal("0.4000"),
            "resolved_count": 2,
            "resolution_rate": Decimal("0.4000"),
            "avg_handle_time_minutes": Decimal("780.00"),
            "avg_backlog_age_days": Decimal("0.6667"),
        },
        {  # a day of the window without tickets: zero counts, null (not failing) rates
            "partition_date": EMPTY_DAY,
            "ticket_count": 0,
            "open_ticket_count": 0,
            "p1_ticket_count": 0,
            "escalation_count": 0,
            "escalation_rate": None,
            "sla_breach_count": 0,
            "sla_breach_rate": None,
            "resolved_count": 0,
            "resolution_rate": None,
            "avg_handle_time_minutes": None,
            "avg_backlog_age_days": None,
        },
    ]
    detail = _rows(
        url,
        """select product_line, priority, ticket_count from gold.support_kpi_daily
           where partition_date = %s and breakdown = 'product_line_priority' order by 1, 2""",
        KNOWN_DAY,
    )
    assert [(r["product_line"], r["priority"], r["ticket_count"]) for r in detail] == [
        ("northstar_studio", "p3_medium", 1),
        ("northstar_workspace", "p1_critical", 1),
        ("northstar_workspace", "p2_high", 1),
        ("northstar_workspace", "p3_medium", 1),
        ("northstar_workspace", "p4_low", 1),
    ]


def test_late_version_reaches_silver_on_rebuild(factory) -> None:
    url, dbt, settings = factory["url"], factory["dbt"], factory["settings"]
    dbt.build("--vars", _day_vars(PARTITION))
    (chosen,) = _rows(
        url,
        """select f.ticket_id, f.version_count, f.version_at, e.payload
           from silver.ticket_fact as f
           join raw.ticket_events as e on e.record_fingerprint = f.record_fingerprint
           where f.partition_date = %s and not f.is_resolved
           order by f.ticket_id limit 1""",
        PARTITION,
    )
    (before,) = _rows(
        url,
        "select resolved_count from gold.support_kpi_daily where partition_date = %s and breakdown = 'overall'",
        PARTITION,
    )
    late = dict(
        chosen["payload"],
        status="resolved",
        updated_at="2026-04-20T09:30:00Z",
        resolved_at="2026-04-20T09:30:00Z",
        ingest_batch_id="batch-20260420-001",
    )
    manifest = write_source(factory["work"] / "late", "late-update.jsonl", jsonl(late), batch_day="20260420")
    result = ingest_manifest(url, manifest, settings=settings).to_dict()
    assert result["totals"]["loaded"] == 1 and PARTITION.isoformat() in result["touched_partitions"], result

    outcome = dbt.build("--vars", _day_vars(PARTITION))
    assert set(outcome.statuses().values()) == {"pass"}, outcome.statuses()
    (after,) = _rows(
        url,
        "select status, version_count, is_resolved, resolved_at from silver.ticket_fact where ticket_id = %s",
        chosen["ticket_id"],
    )
    assert after["status"] == "resolved" and after["is_resolved"]
    assert after["version_count"] == chosen["version_count"] + 1
    assert after["resolved_at"].isoformat().startswith("2026-04-20T09:30:00")
    (kpi,) = _rows(
        url,
        "select resolved_count from gold.support_kpi_daily where partition_date = %s and breakdown = 'overall'",
        PARTITION,
    )
    assert kpi["resolved_count"] == before["resolved_count"] + 1


@pytest.fixture()
def built_partition(factory) -> Iterator[dict[str, Any]]:
    """PARTITION freshly built and all green; afterwards the injected raw rows are removed (the next
    build repairs whatever was changed in silver or gold)."""
    factory["dbt"].build("--vars", _day_vars(PARTITION))
    yield factory
    with connect(factory["url"]) as conn:
        conn.execute("delete from raw.ticket_events where run_id = 'injected-defect'")
        conn.commit()


def test_duplicate_version_fails_only_the_duplicate_test(built_partition) -> None:
    url, dbt = built_partition["url"], built_partition["dbt"]
    with connect(url) as conn:
        # The same record loaded twice behind the ingest's back: a new fingerprint, the same payload.
        conn.execute(
            """
            insert into raw.ticket_events (record_fingerprint, ticket_id, partition_date, created_at, updated_at,
                resolved_at, sla_due_at, status, priority, category, product_line, sla_tier, customer_id,
                assignee_id, pii_level, quality_gate, payload, manifest_id, batch_id, run_id, source_id,
                source_fingerprint, source_line, trace_id, ingested_at)
            select 'injected-' || record_fingerprint, ticket_id, partition_date, created_at, updated_at,
                resolved_at, sla_due_at, status, priority, category, product_line, sla_tier, customer_id,
                assignee_id, pii_level, quality_gate, payload, manifest_id, batch_id, 'injected-defect', source_id,
                source_fingerprint, source_line, trace_id, ingested_at
            from raw.ticket_events where partition_date = %s order by event_id limit 1
            """,
            (PARTITION,),
        )
        conn.commit()
    outcome = dbt("test", "--vars", _day_vars(PARTITION))
    assert outcome.returncode == 1
    assert outcome.failed() == {"no_duplicate_versions_stg_ticket_events"}, outcome.statuses()
    assert len(outcome.statuses()) > 40 and set(outcome.statuses().values()) == {"pass", "fail"}


def test_rate_out_of_range_fails_only_the_kpi_bounds_test(built_partition) -> None:
    url, dbt = built_partition["url"], built_partition["dbt"]
    with connect(url) as conn:
        updated = conn.execute(
            "update gold.support_kpi_daily set escalation_rate = 1.5"
            " where partition_date = %s and breakdown = 'overall'",
            (PARTITION,),
        ).rowcount
        conn.commit()
    assert updated == 1
    outcome = dbt("test", "--vars", _day_vars(PARTITION))
    assert outcome.returncode == 1
    assert outcome.failed() == {"kpi_bounds_support_kpi_daily"}, outcome.statuses()
    assert set(outcome.statuses().values()) == {"pass", "fail"}


def test_every_node_is_described_blocking_and_scoped_to_the_window(factory) -> None:
    """From the manifest of the last build: descriptions everywhere, severity error, the window in every test."""
    dbt = factory["dbt"]
    dbt.build("--vars", _day_vars(PARTITION))
    manifest = json.loads((dbt.target / "manifest.json").read_text())
    ours = {k: v for k, v in manifest["nodes"].items() if v["package_name"] == "support_data_factory"}
    models = {k: v for k, v in ours.items() if v["resource_type"] == "model"}
    tests = {k: v for k, v in ours.items() if v["resource_type"] == "test"}
    assert {m["name"] for m in models.values()} == {"stg_ticket_events", "ticket_fact", "support_kpi_daily"}
    undocumented = [
        key
        for key, node in [*models.items(), *tests.items(), *manifest["sources"].items()]
        if not (node.get("description") or "").strip()
    ]
    undocumented += [
        f"{key}.{column}"
        for key, node in [*models.items(), *manifest["sources"].items()]
        for column, spec in node["columns"].items()
        if not (spec.get("description") or "").strip()
    ]
    assert undocumented == []
    for node in models.values():  # every column the relation has is documented, and no more
        relation = f"{node['schema']}.{node['alias']}"
        columns = [
            r["column_name"]
            for r in _rows(
                factory["url"],
                "select column_name from information_schema.columns where table_schema || '.' || table_name = %s",
                relation,
            )
        ]
        assert sorted(columns) == sorted(node["columns"]), relation
    assert {t["config"]["severity"].lower() for t in tests.values()} == {"error"}
    window = f"partition_date >= cast('{PARTITION}' as date)"
    unscoped = [t["name"] for t in tests.values() if window not in (t.get("compiled_code") or "")]
    assert unscoped == []
    for card in ("card_ticket_fact", "card_support_kpi_daily", "card_stg_ticket_events", "card_raw_ticket_events"):
        block = manifest["docs"][f"doc.support_data_factory.{card}"]["block_contents"]
        for heading in (
            "Owner",
            "Partition",
            "Upstream",
            "Downstream",
            "Materialisation",
            "Checks",
            "Evidence",
            "Failure mode and recovery",
        ):
            assert heading in block, (card, heading)


def test_docs_build_as_one_static_file(factory) -> None:
    dbt = factory["dbt"]
    outcome = dbt("docs", "generate", "--static", "--vars", _day_vars(PARTITION))
    assert outcome.returncode == 0, outcome.output
    page = (dbt.target / "static_index.html").read_text()
    # The manifest and catalog are inlined: the cards and the KPI definitions are in the one file.
    assert "Failure mode and recovery" in page and "avg_backlog_age_days" in page


def test_full_refresh_rebuilds_all_history(factory) -> None:
    """`--full-refresh` ignores the window vars: silver and gold are recreated from every partition of raw."""
    url, dbt = factory["url"], factory["dbt"]
    outcome = dbt.build("--full-refresh", "--vars", _day_vars(PARTITION))
    assert set(outcome.statuses().values()) == {"pass"}, outcome.statuses()
    per_partition = """
        select r.partition_date, r.tickets, f.silver_rows, k.overall_tickets
        from (select partition_date, count(distinct ticket_id) as tickets
              from raw.ticket_events group by 1) as r
        left join (select partition_date, count(*) as silver_rows from silver.ticket_fact group by 1) as f
            using (partition_date)
        left join (select partition_date, ticket_count as overall_tickets
                   from gold.support_kpi_daily where breakdown = 'overall') as k
            using (partition_date)
        order by 1
    """
    rows = _rows(url, per_partition)
    assert {r["partition_date"] for r in rows} >= {KNOWN_DAY, PARTITION}
    assert all(r["tickets"] == r["silver_rows"] == r["overall_tickets"] for r in rows), rows


def test_window_from_the_environment_keeps_the_saved_parse(factory) -> None:  # type: ignore[no-untyped-def]
    """The window the Dagster job passes as WEEK06_WINDOW_* builds what the same window as --vars builds,
    and a new window does not make dbt re-parse the project (command-line vars do)."""
    url, dbt = factory["url"], factory["dbt"]
    dbt.build("--vars", _day_vars(PARTITION))
    by_vars = _checksum(url, "silver.ticket_fact", PARTITION), _checksum(url, "gold.support_kpi_daily", PARTITION)
    assert dbt("parse").returncode == 0  # the saved parse of an invocation without vars, as the job's are

    for first, last in ((PARTITION, PARTITION), (KNOWN_DAY, EMPTY_DAY)):
        offset = dbt.log_size()
        outcome = dbt.build(env=window_env(first, last))
        assert set(outcome.statuses().values()) == {"pass"}, outcome.statuses()
        log = dbt.log_since(offset)
        assert "Unable to do partial parsing" not in log, log[-3000:]
        assert "skipping partial parsing" in log or "Partial parsing enabled" in log, log[-3000:]

    assert _checksum(url, "silver.ticket_fact", PARTITION) == by_vars[0]
    assert _checksum(url, "gold.support_kpi_daily", PARTITION) == by_vars[1]
    (known,) = _rows(
        url, "select count(*) as n from silver.ticket_fact where partition_date between %s and %s", KNOWN_DAY, EMPTY_DAY
    )
    assert known["n"] == 5  # the known day's five tickets, built from the range in the environment
    # Command-line vars still win over the environment: an explicit window is never overridden.
    outcome = dbt.build("--vars", _day_vars(PARTITION), env=window_env(KNOWN_DAY, KNOWN_DAY))
    compiled = {r["unique_id"]: r.get("compiled_code") or "" for r in outcome.results}
    fact = compiled["model.support_data_factory.ticket_fact"]
    assert PARTITION.isoformat() in fact and KNOWN_DAY.isoformat() not in fact, fact
