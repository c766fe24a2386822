"""Land each partition's accepted raw rows as parquet under a lake root, from raw.ticket_events.

The ingest stays the only writer of raw rows and its ledger the source of truth: the lake is a
copy of raw.ticket_events, one folder per UTC day (`<root>/raw/ticket_events/partition_date=D/`),
that dbt's Spark target reads as the external table raw.ticket_events. A partition is read in one
REPEATABLE READ snapshot (its count, its digest and its rows agree), written beside its final
place and swapped in; an unchanged partition (same digest) is not rewritten, a partition whose
raw rows are gone loses its folder. Each folder carries `_export.json` (rows, digest, the ingest
runs whose ledger touched the day); Spark ignores files whose name starts with `_`.
"""

from __future__ import annotations

import json
import shutil
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import psycopg

from orchestration.partitions import days_between

TABLE_DIR = Path("raw") / "ticket_events"
MARKER = "_export.json"
DATA_FILE = "part-00000.parquet"

# raw.ticket_events' columns in the order the Spark table declares them (partition_date last,
# as a folder name); payload travels as its jsonb text (keys normalised: equal jsonb, equal text).
COLUMNS: tuple[tuple[str, str], ...] = (
    ("event_id", "int64"),
    ("record_fingerprint", "string"),
    ("ticket_id", "string"),
    ("created_at", "timestamp"),
    ("updated_at", "timestamp"),
    ("resolved_at", "timestamp"),
    ("sla_due_at", "timestamp"),
    ("status", "string"),
    ("priority", "string"),
    ("category", "string"),
    ("product_line", "string"),
    ("sla_tier", "string"),
    ("customer_id", "string"),
    ("assignee_id", "string"),
    ("pii_level", "string"),
    ("quality_gate", "string"),
    ("payload", "string"),
    ("manifest_id", "string"),
    ("batch_id", "string"),
    ("run_id", "string"),
    ("source_id", "string"),
    ("source_fingerprint", "string"),
    ("source_line", "int32"),
    ("trace_id", "string"),
    ("ingested_at", "timestamp"),
)

_SELECT = "select " + ", ".join("payload::text" if name == "payload" else name for name, _ in COLUMNS)
_DIGEST = """
select count(*),
       md5(coalesce(string_agg(record_fingerprint || ':' || event_id || ':' || run_id, ','
                               order by record_fingerprint), ''))
from raw.ticket_events where partition_date = %s
"""
_LEDGER_RUNS = """
select coalesce(array_agg(distinct run_id order by run_id), '{}')
from ops.ingest_ledger where %s = any(touched_partitions)
"""


class LakeError(ValueError):
    """A lake export refused before writing anything: a registered reason code and a sentence."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


@dataclass(frozen=True)
class PartitionExport:
    partition_key: str
    status: str  # written | unchanged | removed | empty
    rows: int
    digest: str
    path: str
    ledger_runs: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class LakeExport:
    lake_root: str
    partitions: list[PartitionExport]

    @property
    def rows(self) -> int:
        return sum(p.rows for p in self.partitions)

    def to_dict(self) -> dict[str, Any]:
        by_status: dict[str, int] = {}
        for p in self.partitions:
            by_status[p.status] = by_status.get(p.status, 0) + 1
        return {
            "lake_root": self.lake_root,
            "table_path": str(TABLE_DIR),
            "rows": self.rows,
            "partitions_by_status": by_status,
            "partitions": [asdict(p) for p in self.partitions],
        }


def lake_table_dir(lake_root: str | Path) -> Path:
    """The folder of the raw table under a lake root (a local folder; see check_lake_root)."""
    return Path(check_lake_root(lake_root)) / TABLE_DIR


def check_lake_root(lake_root: str | Path) -> str:
    """The lake root as a local path; s3:// (and any other scheme) is refused (docs/scale-out.md).

    The object store (week06_minio) is read by the gate and the ingest, but Spark would read an
    s3:// lake through Hadoop's s3a connector (hadoop-aws), which pyspark does not ship: a lake
    written there could not be read by the engine it exists for.
    """
    text = str(lake_root)
    if "://" in text:
        scheme = text.split("://", 1)[0]
        raise LakeError(
            "lake_scheme_unsupported",
            f"the lake root uses {scheme}://; the lake is a local (or mounted) folder: Spark's s3a "
            "connector is not part of the spark extra (docs/scale-out.md)",
        )
    return text


def _arrow() -> Any:
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise LakeError(
            "spark_extra_missing", "the lake needs pyarrow: pip install 'support-data-factory[spark]'"
        ) from exc
    return pyarrow


def _schema(pa: Any) -> Any:
    types = {
        "int64": pa.int64(),
        "int32": pa.int32(),
        "string": pa.string(),
        "timestamp": pa.timestamp("us", tz="UTC"),
    }
    return pa.schema([(name, types[kind]) for name, kind in COLUMNS])


def _read_marker(folder: Path) -> dict[str, Any] | None:
    try:
        document: dict[str, Any] = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return document


def _swap_in(staged: Path, final: Path) -> None:
    """Replace `final` by `staged` (both in one folder): two renames, the old copy removed after."""
    retired = final.with_name(f"_retired-{final.name}-{uuid.uuid4().hex[:8]}")
    if final.exists():
        final.rename(retired)
    staged.rename(final)
    shutil.rmtree(retired, ignore_errors=True)


def export_partition(conn: psycopg.Connection, table_dir: Path, day: date, *, force: bool = False) -> PartitionExport:
    """Land one day of raw.ticket_events under table_dir (see the module docstring)."""
    final = table_dir / f"partition_date={day.isoformat()}"
    with conn.transaction():
        conn.execute("set transaction isolation level repeatable read, read only")
        count, digest = conn.execute(_DIGEST, (day,)).fetchone()  # type: ignore[misc]
        ledger_runs = list(conn.execute(_LEDGER_RUNS, (day,)).fetchone()[0])  # type: ignore[index]
        count = int(count)
        if count == 0:
            existed = final.exists()
            shutil.rmtree(final, ignore_errors=True)
            return PartitionExport(day.isoformat(), "removed" if existed else "empty", 0, digest, str(final))
        marker = _read_marker(final)
        if not force and marker and marker.get("digest") == digest and (final / DATA_FILE).exists():
            return PartitionExport(day.isoformat(), "unchanged", count, digest, str(final), ledger_runs)
        pa = _arrow()
        schema = _schema(pa)
        columns: list[list[Any]] = [[] for _ in COLUMNS]
        with conn.cursor() as cursor:
            cursor.execute(_SELECT + " from raw.ticket_events where partition_date = %s order by event_id", (day,))
            for row in cursor:
                for values, value in zip(columns, row, strict=True):
                    values.append(value)
    if len(columns[0]) != count:  # the snapshot guarantees it; a mismatch is a bug, never silent
        raise RuntimeError(f"lake export of {day}: read {len(columns[0])} rows, counted {count}")
    table = pa.Table.from_arrays(
        [pa.array(v, type=t.type) for v, t in zip(columns, schema, strict=True)], schema=schema
    )
    table_dir.mkdir(parents=True, exist_ok=True)
    staged = table_dir / f"_staging-{day.isoformat()}-{uuid.uuid4().hex[:8]}"
    staged.mkdir()
    try:
        pa.parquet.write_table(table, staged / DATA_FILE, compression="snappy")
        (staged / MARKER).write_text(
            json.dumps(
                {
                    "partition_key": day.isoformat(),
                    "rows": count,
                    "digest": digest,
                    "ledger_runs": ledger_runs,
                    "exported_at": datetime.now(UTC).isoformat(),
                },
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )
        _swap_in(staged, final)
    finally:
        shutil.rmtree(staged, ignore_errors=True)
    return PartitionExport(day.isoformat(), "written", count, digest, str(final), ledger_runs)


def export_partitions(url: str, lake_root: str | Path, first: date, last: date, *, force: bool = False) -> LakeExport:
    """Land every day first..last (inclusive) of raw.ticket_events under lake_root."""
    from orchestration.db.connection import connect

    table_dir = lake_table_dir(lake_root)
    _arrow()  # refuse before reading anything when the extra is missing
    # autocommit: each partition's `with conn.transaction()` is a real BEGIN (its own snapshot).
    with connect(url, autocommit=True) as conn:
        exported = [export_partition(conn, table_dir, day, force=force) for day in days_between(first, last)]
    return LakeExport(str(lake_root), exported)
