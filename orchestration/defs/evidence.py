"""The run evidence asset: one validated JSON (+ Markdown) per partition of the run."""


from datetime import UTC, datetime

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from orchestration.db.connection import connect
from orchestration.defs.partitions import PARTITIONS, SINGLE_RUN, days, partition_range
from orchestration.defs.resources import FactoryResource
from orchestration.evidence.report import EVIDENCE_ASSET_KEY, build_evidence, load_run_results, write_evidence
from orchestration.gate.manifest_gate import gate_partitions
from orchestration.lib.translator import GROUP_NAME

SILVER_TICKET_FACT = AssetKey(["week06", "silver", "ticket_fact_partitioned"])
GOLD_KPI_DAILY = AssetKey(["week06", "gold", "support_kpi_daily"])


@asset(
    key=AssetKey(EVIDENCE_ASSET_KEY.split("/")),
    deps=[SILVER_TICKET_FACT, GOLD_KPI_DAILY],
    group_name=GROUP_NAME,
    partitions_def=PARTITIONS,
    backfill_policy=SINGLE_RUN,
    description="Schema-validated run evidence per partition (reports/week06/run_evidence/<partition>.json): "
    "ledger figures, row counts, checks and the downstream decision.",
)
def run_evidence_report(context: AssetExecutionContext, factory: FactoryResource) -> MaterializeResult:
    settings = factory.settings()
    url = factory.database_url()
    first, last = partition_range(context)
    record = context.instance.get_run_record_by_id(context.run_id)
    started = (
        datetime.fromtimestamp(record.start_time, UTC)
        if record is not None and record.start_time
        else datetime.now(UTC)
    )
    gate = gate_partitions(settings.manifest_dir, days(first, last), settings.source_root)
    run_results = load_run_results(settings.report_dir, context.run_id)
    decisions: dict[str, str] = {}
    paths: list[str] = []
    rows = ["| partition | status | decision | raw rows | silver rows |", "|---|---|---|---|---|"]
    with connect(url) as conn:
        for day in days(first, last):
            evidence = build_evidence(
                conn,
                partition=day,
                run_id=context.run_id,
                started_at=started,
                gates=[g.to_dict() for g in gate.for_partition(day)],
                run_results=run_results,
                settings=settings,
            )
            write_evidence(evidence, settings.report_dir)
            decisions[evidence["partition_key"]] = evidence["downstream_decision"]
            paths.append(evidence["report_path"])
            rows.append(
                f"| {day} | {evidence['status']} | {evidence['downstream_decision']} | "
                f"{evidence['input_row_count']} | {evidence['output_row_count']} |"
            )
    return MaterializeResult(
        metadata={
            "downstream_decisions": decisions,
            "evidence_paths": paths,
            "summary": MetadataValue.md("\n".join(rows)),
        }
    )
