"""The course's ops assets after the evidence: the delivery summary and the backfill plan (dry run).

Both are thin: the core writes the documents (orchestration/evidence/delivery.py,
orchestration/backfill/plan.py); these assets pass the run's partitions and the Dagster run
history, and show the result as metadata.
"""

from dagster import (
    AssetExecutionContext,
    AssetsDefinition,
    MaterializeResult,
    MetadataValue,
    PartitionsDefinition,
    asset,
)

from orchestration.backfill.plan import build_plan, write_plan
from orchestration.defs.instance import latest_runs
from orchestration.defs.keys import (
    BACKFILL_PLAN,
    DELIVERY_SUMMARY,
    LAKEHOUSE_STATE,
    RUN_EVIDENCE_REPORT,
    SUPPORT_KPI_MART,
)
from orchestration.defs.partitions import SINGLE_RUN, partition_range
from orchestration.defs.resources import Week06PostgresResource, Week06ReportsResource
from orchestration.defs.translator import python_asset_props
from orchestration.evidence.delivery import write_delivery
from orchestration.evidence.externals import observe_externals
from orchestration.evidence.report import read_evidence
from orchestration.fileio import display_path
from orchestration.partitions import days_between


def build_ops_assets(partitions: PartitionsDefinition) -> list[AssetsDefinition]:
    @asset(
        key=DELIVERY_SUMMARY,
        deps=[RUN_EVIDENCE_REPORT, LAKEHOUSE_STATE, SUPPORT_KPI_MART],
        **python_asset_props("ops", storage=None),
        partitions_def=partitions,
        backfill_policy=SINGLE_RUN,
        description="What downstream may take, per partition: delivery_summary_v1 JSON (reports/week06/"
        "delivery_summary/<partition>.json) and the course's reports/week06/week06_delivery_summary.md.",
    )
    def data_factory_delivery_summary(
        context: AssetExecutionContext, week06_postgres: Week06PostgresResource, week06_reports: Week06ReportsResource
    ) -> MaterializeResult:
        settings = week06_reports.settings()
        first, last = partition_range(context)
        documents = [read_evidence(settings.report_dir, day) for day in days_between(first, last)]
        present = [d for d in documents if d is not None]
        course, paths = write_delivery(
            settings.report_dir, present, observe_externals(settings), week06_postgres.database_url()
        )
        decisions = {d["partition_key"]: d["downstream_decision"] for d in present}
        return MaterializeResult(
            metadata={
                "course_summary": display_path(course),
                "summaries": MetadataValue.json([display_path(p) for p in paths]),
                "decisions": MetadataValue.json(decisions),
                "partitions_without_evidence": MetadataValue.json(
                    [d.isoformat() for d, doc in zip(days_between(first, last), documents, strict=True) if doc is None]
                ),
                "held": sum(1 for v in decisions.values() if v == "hold_downstream"),
            }
        )

    @asset(
        key=BACKFILL_PLAN,
        deps=[RUN_EVIDENCE_REPORT],
        **python_asset_props("ops", storage=None),
        partitions_def=partitions,
        backfill_policy=SINGLE_RUN,
        description="Dry run over the run's partitions, after their evidence: each partition's state (ok, "
        "missing, failed, stale, check_failed, out_of_range), action and exact command (backfill_plan_v1), "
        "and the course's reports/week06/backfill/backfill_plan_<partition>.json. Writes nothing to the database.",
    )
    def backfill_plan(
        context: AssetExecutionContext, week06_postgres: Week06PostgresResource, week06_reports: Week06ReportsResource
    ) -> MaterializeResult:
        settings = week06_reports.settings()
        first, last = partition_range(context)
        runs = latest_runs(settings, first, last, instance=context.instance)
        plan = build_plan(week06_postgres.database_url(), settings, first, last, last_runs=runs)
        plan_path, files = write_plan(plan, settings)
        rows = ["| partition | state | action | reason codes | command |", "|---|---|---|---|---|"]
        rows += [
            f"| {p['partition_key']} | {p['state']} | {p['action']} | {', '.join(p['reason_codes'])} | "
            f"{p.get('command', '')} |"
            for p in plan["partitions"]
        ]
        return MaterializeResult(
            metadata={
                "states": MetadataValue.json(plan["states"]),
                "commands": MetadataValue.json(plan["commands"]),
                "plan_path": display_path(plan_path),
                "course_files": MetadataValue.json([display_path(p) for p in files]),
                "reason_codes": MetadataValue.json(plan["reason_codes"]),
                "plan": MetadataValue.md("\n".join(rows)),
            }
        )

    return [data_factory_delivery_summary, backfill_plan]
