"""Python assets around dbt: the manifest source, the gate and the raw ingest."""

import hashlib
from dataclasses import replace
from datetime import date
from typing import Any

from dagster import (
    AssetExecutionContext,
    AssetMaterialization,
    AssetsDefinition,
    AssetSpec,
    DataVersion,
    Failure,
    MaterializeResult,
    MetadataValue,
    ObserveResult,
    PartitionsDefinition,
    TableColumn,
    TableSchema,
    asset,
    multi_observable_source_asset,
)
from dagster._core.definitions.data_version import DATA_VERSION_IS_USER_PROVIDED_TAG, DATA_VERSION_TAG

from orchestration.db.catalog import table_columns
from orchestration.defs.checks import fold_all, raw_check_specs
from orchestration.defs.keys import MANIFEST_GATE, RAW_TICKET_EVENTS, SEED_MANIFESTS
from orchestration.defs.partitions import SINGLE_RUN, partition_range
from orchestration.defs.resources import Week06MinioResource, Week06PostgresResource, Week06ReportsResource
from orchestration.defs.translator import python_asset_props
from orchestration.evidence.checks import judge_raw_partitions
from orchestration.gate.manifest_gate import PartitionGate, gate_partitions
from orchestration.ingest.loader import ingest_window
from orchestration.ingest.stats import partition_row_counts, partition_versions
from orchestration.partitions import days_between
from orchestration.sources.digests import DigestCache


@multi_observable_source_asset(
    specs=[
        AssetSpec(
            SEED_MANIFESTS,
            description="The folder of source_manifest_v1 manifests (WEEK06_MANIFEST_DIR).\n\n"
            "Its data version changes whenever a manifest is added or edited; "
            "week06_source_observation_job observes it (on a schedule, see docs/operating.md).",
            **python_asset_props("source", storage=None),
        )
    ],
    name="seed_manifests",
)
def seed_manifests(week06_reports: Week06ReportsResource) -> ObserveResult:
    settings = week06_reports.settings()
    digest = hashlib.sha256()
    names = sorted(settings.manifest_dir.glob("*.json")) if settings.manifest_dir.is_dir() else []
    for path in names:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return ObserveResult(
        asset_key=SEED_MANIFESTS,
        data_version=DataVersion(digest.hexdigest()[:16]),
        metadata={"manifest_count": len(names), "manifest_dir": str(settings.manifest_dir.name)},
    )


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _gate_table(gate: PartitionGate) -> str:
    rows = [
        "| manifest | source_id | judgment | metadata judgment | loadable | reasons |",
        "|---|---|---|---|---|---|",
    ]
    for g in gate.results:
        for a in g.assets:
            reasons = "<br>".join(_cell(f"{r.code}: {r.message}") for r in a.reasons) or "-"
            rows.append(
                f"| {g.manifest_id} | {_cell(a.source_id)} | {a.judgment} | {a.metadata_judgment} | "
                f"{'yes' if a.loadable else 'no'} | {reasons} |"
            )
    for path, err in gate.unreadable:
        rows.append(f"| {_cell(path.name)} | - | unreadable | - | no | {_cell(f'{err.code}: {err.message}')} |")
    return "\n".join(rows)


def _asset_judgments(gate: PartitionGate) -> list[dict[str, object]]:
    """Each declared file's judgment and reasons, from the validated gate reports."""
    judged: list[dict[str, object]] = []
    for g in gate.results:
        report = g.to_dict()
        for a in report["assets"]:
            judged.append(
                {
                    "manifest_id": report["manifest_id"],
                    "source_id": a["source_id"],
                    "judgment": a["judgment"],
                    "metadata_judgment": a["metadata_judgment"],
                    "loadable": a["loadable"],
                    "reasons": a["reasons"],
                }
            )
    return judged


def manifest_gate(
    context: AssetExecutionContext, week06_postgres: Week06PostgresResource, week06_minio: Week06MinioResource
) -> MaterializeResult:
    settings = week06_postgres.settings()
    first, last = partition_range(context)
    gate = gate_partitions(
        settings.manifest_dir,
        days_between(first, last),
        settings.source_root,
        week06_minio.config(),
        DigestCache(settings.digest_cache),
    )
    judgments = [a.judgment for g in gate.results for a in g.assets]
    metadata: dict[str, Any] = {
        "manifests": len(gate.results),
        "unreadable_manifests": len(gate.unreadable),
        "assets_loadable": sum(1 for g in gate.results for a in g.assets if a.loadable),
        "judgments": {j: judgments.count(j) for j in sorted(set(judgments))},
        "reason_codes": gate.reason_codes(),
        "asset_judgments": MetadataValue.json(_asset_judgments(gate)),
        "judgment_table": MetadataValue.md(_gate_table(gate)),
    }
    if gate.unreadable:
        # A manifest the gate cannot read may declare this partition's files: never pass it silently.
        raise Failure(
            description="; ".join(f"manifest {path.name} cannot be judged: {err}" for path, err in gate.unreadable),
            metadata=metadata,
        )
    return MaterializeResult(metadata=metadata)


def _record_late_partitions(context: AssetExecutionContext, url: str, partitions: list[str]) -> None:
    """Tell Dagster that raw partitions outside this run changed, so their downstream shows stale."""
    days = [date.fromisoformat(p) for p in partitions]
    rows = partition_row_counts(url, min(days), max(days))
    versions = partition_versions(url, days)
    for day in days:
        context.log_event(
            AssetMaterialization(
                asset_key=RAW_TICKET_EVENTS,
                partition=day.isoformat(),
                # A data version that differs from the one downstream last read: Dagster marks the
                # partition's downstream assets stale ("upstream data has changed").
                tags={DATA_VERSION_TAG: versions.get(day, "empty"), DATA_VERSION_IS_USER_PROVIDED_TAG: "true"},
                description="Late versions of tickets created on this day arrived with a later batch.",
                metadata={
                    "dagster/row_count": rows.get(day, 0),
                    "late_update_from_run": context.run_id,
                    "late_update_from_partitions": context.partition_key_range.start
                    + ".."
                    + context.partition_key_range.end,
                    "late_update": True,
                },
            )
        )


def raw_ticket_events_partitioned(
    context: AssetExecutionContext, week06_postgres: Week06PostgresResource, week06_minio: Week06MinioResource
) -> MaterializeResult:
    # s3:// sources are read through the week06_minio resource (the gate's and the ingest's store).
    settings = replace(week06_postgres.settings(), object_store=week06_minio.config())
    url = week06_postgres.database_url()
    first, last = partition_range(context)
    gate = gate_partitions(
        settings.manifest_dir,
        days_between(first, last),
        settings.source_root,
        settings.object_store,
        DigestCache(settings.digest_cache),
    )
    run = ingest_window(url, gate.results, first, last, settings=settings, run_id=context.run_id)
    files, totals, touched, stale = (
        run["files"],
        run["totals"],
        run["touched_partitions"],
        run["stale_partitions_outside_run"],
    )
    if stale:
        context.log.warning(
            f"late updates landed in partitions outside this run: {stale}; their downstream assets are now "
            "stale: replay them with `data-factory backfill-plan --execute` (or the backfill plan asset)"
        )
        _record_late_partitions(context, url, stale)
    for f in run["failed"]:
        context.log.error(f"ingest of {f.source_id} failed: {f.reasons}")
    if "database_connection_lost" in run["reason_codes"]:
        # The environment failed, not the data: downstream must not build on a partial load.
        raise Failure(description="database_connection_lost: the database went away during the ingest; rerun")
    rows = partition_row_counts(url, first, last)
    check_results = fold_all(judge_raw_partitions(url, gate, first, last))
    for day in days_between(first, last):
        context.add_asset_metadata(
            {"dagster/row_count": rows.get(day, 0)}, asset_key=RAW_TICKET_EVENTS, partition_key=day.isoformat()
        )
    raw_columns = table_columns(url, "raw", "ticket_events")
    columns = TableSchema(columns=[TableColumn(name, kind) for name, kind in raw_columns])
    return MaterializeResult(
        check_results=check_results,
        metadata={
            "run_files": len(files),
            "files_by_status": {s: sum(1 for f in files if f.status == s) for s in sorted({f.status for f in files})},
            "lines_read": totals["lines_read"],
            "loaded": totals["loaded"],
            "duplicates": totals["duplicates"],
            "rejected": totals["rejected"],
            "rejected_by_reason": totals["rejected_by_reason"],
            "touched_partitions": touched,
            "stale_partitions_outside_run": stale,
            "row_count": sum(rows.values()),
            "dagster/column_schema": columns,
            "dagster/table_name": "raw.ticket_events",
            "rows_by_partition": {d.isoformat(): n for d, n in sorted(rows.items())},
            "reason_codes": run["reason_codes"],
        },
    )


def build_factory_assets(partitions: PartitionsDefinition) -> list[AssetsDefinition]:
    """The partitioned Python assets: the gate, then the raw ingest."""
    partitioned: dict[str, Any] = {"partitions_def": partitions, "backfill_policy": SINGLE_RUN}
    return [
        asset(
            key=MANIFEST_GATE,
            deps=[SEED_MANIFESTS],
            **python_asset_props("gate", storage=None),
            description="Judges each file the partition's manifests declare.\n\n"
            "Schema, business rules, gate policy, path, size and checksum give accept / warn / quarantine / "
            "reject, with reason codes.",
            **partitioned,
        )(manifest_gate),
        asset(
            key=RAW_TICKET_EVENTS,
            deps=[MANIFEST_GATE],
            check_specs=raw_check_specs(RAW_TICKET_EVENTS),
            **python_asset_props("bronze"),
            description="Bronze raw.ticket_events, the ticket versions as received.\n\n"
            "Every accepted line is loaded once by record_fingerprint; every other line is accounted for "
            "in ops.ingest_ledger / ops.ingest_rejects.",
            **partitioned,
        )(raw_ticket_events_partitioned),
    ]
