"""The run evidence asset: one validated JSON (+ Markdown) per partition of the run."""

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from orchestration.defs.externals import LAKEHOUSE_STATE, SUPPORT_KPI_MART
from orchestration.defs.partitions import PARTITIONS, SINGLE_RUN, partition_range
from orchestration.defs.resources import FactoryResource
from orchestration.defs.runner import run_started_at
from orchestration.evidence.report import EVIDENCE_ASSET_KEY, record_partitions
from orchestration.lib.translator import GROUP_NAME

SILVER_TICKET_FACT = AssetKey(["week06", "silver", "ticket_fact_partitioned"])
GOLD_KPI_DAILY = AssetKey(["week06", "gold", "support_kpi_daily"])


@asset(
    key=AssetKey(EVIDENCE_ASSET_KEY.split("/")),
    deps=[SILVER_TICKET_FACT, GOLD_KPI_DAILY, LAKEHOUSE_STATE, SUPPORT_KPI_MART],
    group_name=GROUP_NAME,
    partitions_def=PARTITIONS,
    backfill_policy=SINGLE_RUN,
    description="Schema-validated run evidence per partition (reports/week06/run_evidence/<partition>.json): "
    "the course's week06_run_evidence_v1: the five raw checks, the dbt results, the optional neighbours, "
    "row counts, snapshots and the downstream decision; plus run_evidence_summary.md and asset_checks_summary.md.",
)
def run_evidence_report(context: AssetExecutionContext, factory: FactoryResource) -> MaterializeResult:
    settings = factory.settings()
    url = factory.database_url()
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
