"""The run evidence asset: one validated JSON (+ Markdown) per partition of the run."""

from collections.abc import Iterator
from typing import Any

from dagster import (
    AssetExecutionContext,
    AssetsDefinition,
    AssetSpec,
    MaterializeResult,
    MetadataValue,
    PartitionsDefinition,
    multi_asset,
)

from orchestration.defs.decision import decision_evaluation, decision_spec
from orchestration.defs.instance import run_started_at
from orchestration.defs.keys import (
    GOLD_KPI_DAILY,
    LAKEHOUSE_STATE,
    RUN_EVIDENCE_REPORT,
    SILVER_TICKET_FACT,
    SUPPORT_KPI_MART,
)
from orchestration.defs.partitions import SINGLE_RUN, partition_range, run_window
from orchestration.defs.resources import Week06PostgresResource
from orchestration.defs.translator import python_asset_props
from orchestration.evidence.report import read_evidence, record_partitions
from orchestration.partitions import days_between


def build_evidence_asset(partitions: PartitionsDefinition) -> AssetsDefinition:
    # A multi_asset with can_subset: the decision check's results are per partition (yielded as
    # evaluations, not as the step's check output), and the check can be executed on its own.
    return multi_asset(
        specs=[
            AssetSpec(
                RUN_EVIDENCE_REPORT,
                deps=[SILVER_TICKET_FACT, GOLD_KPI_DAILY, LAKEHOUSE_STATE, SUPPORT_KPI_MART],
                **python_asset_props("ops", storage=None),
                partitions_def=partitions,
                skippable=True,
                description="Schema-validated run evidence, one document per partition.\n\n"
                "reports/week06/run_evidence/<partition>.json (+ .md) is the course's week06_run_evidence_v1: "
                "the five raw checks, the dbt results, the optional neighbours, row counts, snapshots and the "
                "downstream decision; plus run_evidence_summary.md and asset_checks_summary.md.",
            )
        ],
        name="run_evidence_report",
        partitions_def=partitions,
        backfill_policy=SINGLE_RUN,
        check_specs=[decision_spec(partitions)],
        can_subset=True,
    )(run_evidence_report)


def run_evidence_report(context: AssetExecutionContext, week06_postgres: Week06PostgresResource) -> Iterator[Any]:
    settings = week06_postgres.settings()
    if not context.selected_asset_keys:
        # The decision check's Execute button: re-read the evidence already written, write nothing.
        first, last, _ = run_window(context, settings.default_partition)
        for day in days_between(first, last):
            evidence = read_evidence(settings.report_dir, day)
            if evidence is None:
                context.log.warning(f"no run evidence for {day} yet: materialise the partition first")
            else:
                yield decision_evaluation(evidence)
        return
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
    yield MaterializeResult(
        asset_key=RUN_EVIDENCE_REPORT,
        metadata={
            "downstream_decisions": decisions,
            "evidence_paths": [e["report_path"] for e in written],
            "summary": MetadataValue.md("\n".join(rows)),
        },
    )
    for evidence in written:
        yield decision_evaluation(evidence)
