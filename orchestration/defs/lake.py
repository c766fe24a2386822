"""The parquet lake as a Dagster asset: raw partitions landed for the Spark engine (core: orchestration/lake)."""

from typing import Any

from dagster import AssetExecutionContext, AssetKey, Failure, MaterializeResult, MetadataValue, asset

from orchestration.defs.factory import RAW_TICKET_EVENTS
from orchestration.defs.partitions import PARTITIONS, SINGLE_RUN, partition_range
from orchestration.defs.resources import FactoryResource
from orchestration.lake.export import LakeError, LakeExport, export_partitions

RAW_TICKET_EVENTS_PARQUET = AssetKey(["week06", "lake", "raw_ticket_events_parquet"])
LAKE_GROUP = "week06_lake"


def lake_metadata(export: LakeExport) -> dict[str, Any]:
    document = export.to_dict()
    rows = ["| partition | status | rows |", "|---|---|---|"]
    rows += [f"| {p.partition_key} | {p.status} | {p.rows} |" for p in export.partitions if p.status != "empty"]
    return {
        "lake_table": MetadataValue.path(f"{document['lake_root']}/{document['table_path']}"),
        "row_count": document["rows"],
        "partitions_by_status": document["partitions_by_status"],
        "partitions": MetadataValue.md("\n".join(rows)),
    }


@asset(
    key=RAW_TICKET_EVENTS_PARQUET,
    deps=[RAW_TICKET_EVENTS],
    group_name=LAKE_GROUP,
    partitions_def=PARTITIONS,
    backfill_policy=SINGLE_RUN,
    kinds={"parquet", "python"},
    description="raw.ticket_events of each partition as parquet under WEEK06_LAKE_ROOT "
    "(raw/ticket_events/partition_date=D/): what the dbt `spark` target reads as its raw.ticket_events. "
    "A copy of the ingest's accepted rows; the ledger stays the source of truth. With "
    "WEEK06_DBT_TARGET=spark the dbt step also lands its window first.",
)
def raw_ticket_events_parquet(context: AssetExecutionContext, factory: FactoryResource) -> MaterializeResult:
    settings = factory.settings()
    first, last = partition_range(context)
    try:
        export = export_partitions(factory.database_url(), settings.lake_root, first, last)
    except LakeError as exc:
        raise Failure(description=str(exc)) from None
    return MaterializeResult(metadata=lake_metadata(export))
