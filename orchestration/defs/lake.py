"""The parquet lake as a Dagster asset: raw partitions landed for the Spark engine (core: orchestration/lake).

Not in the course's job (its own group, week06_lake): materialise it on its own, or let the dbt
step land its window itself when WEEK06_DBT_TARGET=spark (orchestration/defs/dbt_models.py).
"""

from typing import Any

from dagster import (
    AssetExecutionContext,
    AssetsDefinition,
    Failure,
    MaterializeResult,
    MetadataValue,
    PartitionsDefinition,
    asset,
)

from orchestration.db.locks import dbt_build_lock
from orchestration.defs.keys import RAW_TICKET_EVENTS, RAW_TICKET_EVENTS_PARQUET
from orchestration.defs.partitions import SINGLE_RUN, partition_range
from orchestration.defs.resources import Week06PostgresResource
from orchestration.defs.translator import python_asset_props
from orchestration.lake.export import LakeError, LakeExport, export_partitions

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


def raw_ticket_events_parquet(
    context: AssetExecutionContext, week06_postgres: Week06PostgresResource
) -> MaterializeResult:
    settings = week06_postgres.settings()
    url = week06_postgres.database_url()
    first, last = partition_range(context)
    try:
        # Under the dbt build lock: a Spark build never reads a partition folder while it is swapped.
        with dbt_build_lock(url):
            export = export_partitions(url, settings.lake_root, first, last)
    except LakeError as exc:
        raise Failure(description=str(exc)) from None
    return MaterializeResult(metadata=lake_metadata(export))


def build_lake_asset(partitions: PartitionsDefinition) -> AssetsDefinition:
    """The raw table's partitions as parquet under WEEK06_LAKE_ROOT (built with the other assets)."""
    return asset(
        key=RAW_TICKET_EVENTS_PARQUET,
        deps=[RAW_TICKET_EVENTS],
        partitions_def=partitions,
        backfill_policy=SINGLE_RUN,
        # Owners, kinds and tags like every other asset; its own group keeps it out of the course's job.
        **{**python_asset_props("lake", storage="parquet"), "group_name": LAKE_GROUP},
        description="raw.ticket_events of each partition as parquet under WEEK06_LAKE_ROOT "
        "(raw/ticket_events/partition_date=D/): what the dbt `spark` target reads as its raw.ticket_events. "
        "A copy of the ingest's accepted rows; the ledger stays the source of truth. With "
        "WEEK06_DBT_TARGET=spark the dbt step also lands its window first. Not in week06_data_factory.",
    )(raw_ticket_events_parquet)
