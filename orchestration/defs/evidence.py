"""The run evidence asset: one validated JSON (+ Markdown) per partition of the run."""

from dagster import (
    AssetExecutionContext,
    AssetsDefinition,
    MaterializeResult,
    MetadataValue,
    PartitionsDefinition,
    asset,
)

from orchestration.defs.instance import run_started_at
from orchestration.defs.keys import (
    GOLD_KPI_DAILY,
    LAKEHOUSE_STATE,
    RUN_EVIDENCE_REPORT,
    SILVER_TICKET_FACT,
    SUPPORT_KPI_MART,
)
from orchestration.defs.partitions import SINGLE_RUN, partition_range
from orchestration.defs.resources import Week06PostgresResource
from orchestration.defs.translator import GROUP_NAME
from orchestration.evidence.report import record_partitions


def build_evidence_asset(partitions: PartitionsDefinition) -> AssetsDefinition:
    return asset(
        key=RUN_EVIDENCE_REPORT,
        deps=[SILVER_TICKET_FACT, GOLD_KPI_DAILY, LAKEHOUSE_STATE, SUPPORT_KPI_MART],
        group_name=GROUP_NAME,
        partitions_def=partitions,
        backfill_policy=SINGLE_RUN,
        description="Schema-validated run evidence per partition (reports/week06/run_evidence/<partition>.json): "
        "the course's week06_run_evidence_v1: the five raw checks, the dbt results, the optional neighbours, "
        "row counts, snapshots and the downstream decision; plus run_evidence_summary.md and "
        "asset_checks_summary.md.",
    )(run_evidence_report)


def run_evidence_report(context: AssetExecutionContext, week06_postgres: Week06PostgresResource) -> MaterializeResult:
    settings = week06_postgres.settings()
    url = week06_postgres.database_url()
    first, last = partition_range(context)
    started = run_started_at(context.instance, context.run_id)
    written = record_partitions(url, settings, first, last, run_id=context.run_id, started_at=started)
    decisions = {e["partition_key"]: e["downstream_decision"] for e in written}
    rows = ["| partition | status | decision | raw rows | silver rows |", "|---|---|---|---|---|"]
    rows += [
        f"| {e['partition_key']} | {e['status']} | {e['downstream_decision']} | "
        f"{e.get('input_row_count', '-')} | {e.get('output_row_count', '-')} |"
        for e in written
    ]
    return MaterializeResult(
        metadata={
            "downstream_decisions": decisions,
            "evidence_paths": [e["report_path"] for e in written],
            "summary": MetadataValue.md("\n".join(rows)),
        }
    )
