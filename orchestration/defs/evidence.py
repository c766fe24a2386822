"""The run evidence asset: one validated JSON (+ Markdown) per partition of the run."""

from collections.abc import Iterator
from typing import Any

from dagster import AssetExecutionContext, AssetKey, AssetSpec, MaterializeResult, MetadataValue, multi_asset

from orchestration.defs.decision import DECISION_SPEC, decision_evaluation
from orchestration.defs.partitions import PARTITIONS, SINGLE_RUN, partition_range, run_window
from orchestration.defs.resources import FactoryResource
from orchestration.defs.runner import run_started_at
from orchestration.evidence.report import EVIDENCE_ASSET_KEY, read_evidence, record_partitions
from orchestration.lib.translator import python_asset_props
from orchestration.partitions import days_between

SILVER_TICKET_FACT = AssetKey(["week06", "silver", "ticket_fact_partitioned"])
GOLD_KPI_DAILY = AssetKey(["week06", "gold", "support_kpi_daily"])


# A multi_asset with can_subset: the decision check's results are per partition (yielded as
# evaluations, not as the step's check output), and the check can be executed on its own.
@multi_asset(
    specs=[
        AssetSpec(
            AssetKey(EVIDENCE_ASSET_KEY.split("/")),
            deps=[SILVER_TICKET_FACT, GOLD_KPI_DAILY],
            **python_asset_props("ops", storage=None),
            partitions_def=PARTITIONS,
            skippable=True,
            description="Schema-validated run evidence, one document per partition.\n\n"
            "reports/week06/run_evidence/<partition>.json (+ .md) holds the ledger figures, row counts, "
            "checks and the downstream decision.",
        )
    ],
    name="run_evidence_report",
    partitions_def=PARTITIONS,
    backfill_policy=SINGLE_RUN,
    check_specs=[DECISION_SPEC],
    can_subset=True,
)
def run_evidence_report(context: AssetExecutionContext, factory: FactoryResource) -> Iterator[Any]:
    settings = factory.settings()
    if not context.selected_asset_keys:
        # The decision check's Execute button: re-read the evidence already written, write nothing.
        first, last, _ = run_window(context, settings)
        for day in days_between(first, last):
            evidence = read_evidence(settings.report_dir, day)
            if evidence is None:
                context.log.warning(f"no run evidence for {day} yet: materialise the partition first")
            else:
                yield decision_evaluation(evidence)
        return
    url = factory.database_url()
    first, last = partition_range(context)
    started = run_started_at(context.instance, context.run_id)
    written = record_partitions(url, settings, first, last, run_id=context.run_id, started_at=started)
    decisions = {e["partition_key"]: e["downstream_decision"] for e in written}
    rows = ["| partition | status | decision | raw rows | silver rows |", "|---|---|---|---|---|"]
    rows += [
        f"| {e['partition_key']} | {e['status']} | {e['downstream_decision']} | "
        f"{e['input_row_count']} | {e['output_row_count']} |"
        for e in written
    ]
    yield MaterializeResult(
        metadata={
            "downstream_decisions": decisions,
            "evidence_paths": [e["report_path"] for e in written],
            "summary": MetadataValue.md("\n".join(rows)),
        }
    )
    for evidence in written:
        yield decision_evaluation(evidence)
