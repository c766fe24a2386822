"""The parquet lake: exactly the raw rows of each partition, rewritten only when they change (pyarrow, no JVM)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from orchestration.config import SEEDS_DIR, Settings
from orchestration.db.connection import connect
from tests.spark.deps import missing_for_spark, require_or_skip

pytestmark = pytest.mark.spark

DAY = date(2026, 4, 17)


@pytest.fixture(scope="module", autouse=True)
def _lake_dependencies() -> None:
    require_or_skip(missing_for_spark(java=False))  # the lake needs pyarrow, not a JVM


@pytest.fixture()
def loaded(empty_db: str) -> str:
    from orchestration.ingest.loader import ingest_manifest

    manifest = SEEDS_DIR / "manifests" / f"manifest-tickets-{DAY:%Y%m%d}-001.json"
    assert ingest_manifest(empty_db, manifest, settings=Settings.from_env()).to_dict()["totals"]["loaded"] > 0
    return empty_db


def _raw(url: str, day: date) -> list[tuple[Any, ...]]:
    with connect(url) as conn:
        return conn.execute(
            "select record_fingerprint, ticket_id, payload::text, created_at from raw.ticket_events "
            "where partition_date = %s order by record_fingerprint",
            (day,),
        ).fetchall()


def test_a_partition_lands_with_exactly_its_raw_rows_then_is_skipped_then_removed(loaded: str, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    from orchestration.lake.export import export_partitions

    first = export_partitions(loaded, tmp_path, DAY, DAY)
    assert [p.status for p in first.partitions] == ["written"]
    folder = tmp_path / "raw" / "ticket_events" / f"partition_date={DAY}"
    table = pq.read_table(folder / "part-00000.parquet")
    lake = sorted(
        zip(
            table["record_fingerprint"].to_pylist(),
            table["ticket_id"].to_pylist(),
            table["payload"].to_pylist(),
            table["created_at"].to_pylist(),
            strict=True,
        )
    )
    assert lake == [tuple(r) for r in _raw(loaded, DAY)]
    assert "partition_date" not in table.column_names  # the folder name carries it
    marker = json.loads((folder / "_export.json").read_text())
    assert marker["rows"] == len(lake) and marker["ledger_runs"]

    assert [p.status for p in export_partitions(loaded, tmp_path, DAY, DAY).partitions] == ["unchanged"]
    assert [p.status for p in export_partitions(loaded, tmp_path, DAY, DAY, force=True).partitions] == ["written"]

    with connect(loaded) as conn:
        conn.execute("delete from raw.ticket_events where partition_date = %s", (DAY,))
        conn.commit()
    assert [p.status for p in export_partitions(loaded, tmp_path, DAY, DAY).partitions] == ["removed"]
    assert not folder.exists()
    assert not [p for p in (tmp_path / "raw" / "ticket_events").iterdir() if p.name.startswith("_")]


def test_cli_lake_export_prints_one_json_document(
    loaded: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from orchestration.cli import main

    code = main(["lake", "export", "--start", "2026-04-16", "--end", str(DAY), "--lake-root", str(tmp_path), "--json"])
    document = json.loads(capsys.readouterr().out)
    assert code == 0
    assert document["rows"] == sum(len(_raw(loaded, d)) for d in (date(2026, 4, 16), DAY))
    assert {p["partition_key"] for p in document["partitions"]} == {"2026-04-16", str(DAY)}


def test_the_lake_asset_materialises_a_partition(loaded: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dagster import materialize

    from orchestration.asset_keys import RAW_TICKET_EVENTS_PARQUET
    from orchestration.defs.lake import build_lake_asset
    from orchestration.defs.partitions import daily_partitions
    from orchestration.defs.resources import week06_resources

    monkeypatch.setenv("WEEK06_LAKE_ROOT", str(tmp_path))
    lake_asset = build_lake_asset(daily_partitions(Settings.from_env().partition_start))
    assert "/".join(lake_asset.key.path) == RAW_TICKET_EVENTS_PARQUET
    result = materialize([lake_asset], partition_key=str(DAY), resources=week06_resources())
    assert result.success
    metadata = result.asset_materializations_for_node(lake_asset.op.name)[0].metadata
    assert metadata["row_count"].value == len(_raw(loaded, DAY))
    assert (tmp_path / "raw" / "ticket_events" / f"partition_date={DAY}" / "part-00000.parquet").exists()


def test_a_day_without_raw_rows_lands_nothing(loaded: str, tmp_path: Path) -> None:
    """An export of a day with no raw rows writes nothing and says so (status empty), never a stray folder."""
    from orchestration.lake.export import export_partitions

    quiet = date(2026, 2, 1)
    export = export_partitions(loaded, tmp_path, quiet, quiet)
    assert [(p.status, p.rows) for p in export.partitions] == [("empty", 0)]
    assert not (tmp_path / "raw" / "ticket_events" / f"partition_date={quiet}").exists()
