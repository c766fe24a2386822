"""The one registry of reason codes: every code the product emits, where, and the sentence a user reads.

Codes are stable snake_case. Two are families rather than single codes (`contract_<rule>:<field>`
for ticket contract violations, `exceeds_<column>` for the KPI bounds test); they carry a pattern.
The table in docs/reason-codes.md is generated from this module (`python -m orchestration.reasons
--write` rewrites it in place; without --write it prints the table) and a test keeps the two identical.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ReasonCode:
    code: str
    where: tuple[str, ...]
    sentence: str
    pattern: str | None = None  # families only: the regular expression every member matches

    def matches(self, code: str) -> bool:
        if self.pattern is None:
            return code == self.code
        return re.fullmatch(self.pattern, code) is not None


def _code(code: str, where: str, sentence: str, pattern: str | None = None) -> ReasonCode:
    return ReasonCode(code, tuple(where.split(",")), sentence, pattern)


REASON_CODES: tuple[ReasonCode, ...] = (
    # -- the manifest itself (gate; `data-factory gate|ingest` exit 2, the manifest_gate asset fails)
    _code("manifest_missing", "gate", "No manifest exists at the given path."),
    _code(
        "manifest_unreadable",
        "gate",
        "The manifest path exists but cannot be read (a folder, FIFO or device, no permission, over 16 MiB).",
    ),
    _code("manifest_undecodable", "gate", "The manifest is not UTF-8 text."),
    _code("manifest_malformed_json", "gate", "The manifest is not valid JSON."),
    _code(
        "manifest_invalid",
        "gate",
        "The manifest is not a JSON object satisfying source_manifest_v1, or a string of it cannot be stored "
        "(U+0000, a lone surrogate).",
    ),
    _code("manifest_duplicate_key", "gate", "An object of the manifest names the same key twice (ambiguous)."),
    # -- the course's business rules: every asset of the manifest is rejected
    _code("duplicate_source_id", "gate", "Two assets of the manifest declare the same source_id."),
    _code(
        "missing_cursor", "gate", "load_mode incremental_cursor without selection_window cursor_field and cursor_start."
    ),
    _code("missing_replay_from_batch", "gate", "load_mode replay without selection_window.replay_from_batch."),
    _code("missing_backfill_window", "gate", "load_mode backfill without selection_window start_at and end_at."),
    # -- declared metadata, judged by the manifest's gate_policy (metadata_judgment)
    _code("partial_metadata", "gate", "metadata_status is partial (judged by gate_policy.on_partial_metadata)."),
    _code("missing_metadata", "gate", "metadata_status is missing or unknown (gate_policy.on_missing_metadata)."),
    _code("pii_suspected", "gate", "The PII scan suspects personal data: always quarantined."),
    _code("pii_scan_gap", "gate", "The PII scan did not run or its status is unknown (gate_policy.on_pii_gap)."),
    _code("missing_checksum", "gate", "No checksum_sha256 is declared (gate_policy.on_missing_checksum)."),
    _code(
        "contract_mismatch",
        "gate",
        "The asset's contract_ref is not omni://contracts/data/ticket/v1 (gate_policy.on_contract_mismatch).",
    ),
    _code("unknown_license", "gate", "license_tag is unknown: never loadable, at least quarantined."),
    # -- the declared file
    _code(
        "unsupported_asset_type",
        "gate",
        "asset_type is not jsonl, the only format this factory reads (the course allows others: pdf, html, ...).",
    ),
    _code("invalid_location", "gate", "source_url_or_path cannot name a file (it holds a NUL character)."),
    _code(
        "remote_source_not_configured",
        "gate",
        "The file is in a remote store (s3://, gs://, https://, ...) that is not configured here: not_available.",
    ),
    _code(
        "unsupported_scheme", "gate", "source_url_or_path uses a URL scheme that is neither local nor a known store."
    ),
    _code(
        "path_outside_source_root",
        "gate",
        "The path resolves outside the source root (`..`, an absolute path or a symlink escaping it).",
    ),
    _code("file_missing", "gate", "The declared file does not exist."),
    # -- s3:// objects read through the configured store (MINIO_ENDPOINT; docs/object-store.md)
    _code(
        "object_store_unreachable",
        "gate,ingest",
        "The object store (MINIO_ENDPOINT) cannot be reached, or its stream kept breaking (exit code 3).",
    ),
    _code(
        "object_access_denied",
        "gate,ingest",
        "The store refused access: wrong or missing MINIO_ACCESS_KEY / MINIO_SECRET_KEY, or a policy (exit code 3).",
    ),
    _code("object_store_error", "gate,ingest", "The store answered with another error (exit code 3)."),
    _code("object_bucket_missing", "gate", "The s3:// URL's bucket does not exist in the store."),
    _code("object_missing", "gate", "The bucket holds no object under the s3:// URL's key."),
    _code(
        "object_changed_during_read",
        "ingest",
        "The object was replaced or deleted after the gate saw it (its ETag changed): nothing of it is kept.",
    ),
    _code("not_a_regular_file", "gate", "The path is a folder, FIFO or device, not a regular file."),
    _code("file_unreadable", "gate,ingest", "The file cannot be opened or read (permissions, I/O error)."),
    _code("size_mismatch", "gate", "The file's (or object's) size differs from the declared size_bytes."),
    _code(
        "checksum_mismatch",
        "gate,ingest",
        "The file's sha256 differs from the declared checksum_sha256 (an object's is verified while the ingest "
        "streams it: nothing of it is kept).",
    ),
    _code("gate_report_invalid", "gate", "The gate's own report broke gate_report_v1 (a bug): it is not shown."),
    # -- ingest: one line of a file (ops.ingest_rejects), or the file as a whole
    _code("blank_line", "ingest", "The line is empty or only whitespace."),
    _code("undecodable_bytes", "ingest", "The line is not valid UTF-8."),
    _code("malformed_json", "ingest", "The line is not valid JSON."),
    _code("not_an_object", "ingest", "The line is JSON but not an object."),
    _code(
        "duplicate_key",
        "ingest",
        "An object of the line names the same key twice: its meaning and fingerprint would be ambiguous.",
    ),
    _code(
        "contract_<rule>:<field>",
        "ingest",
        "The record breaks ticket_v1: <rule> is the JSON Schema keyword in snake_case (required, enum, type, "
        "pattern, format, const, max_length, min_length, additional_properties), <field> the top-level field, "
        "e.g. contract_required:priority.",
        pattern=r"contract_[a-z][a-z0-9_]*:.+",
    ),
    _code("contract_violation", "ingest", "The record breaks ticket_v1 in a way no single field explains."),
    _code("nul_character", "ingest", "A string holds U+0000, which PostgreSQL cannot store."),
    _code("invalid_unicode", "ingest", "A string holds a lone surrogate escape (not valid Unicode)."),
    _code("invalid_timestamp", "ingest", "A timestamp passes the contract but cannot be stored."),
    _code(
        "partition_out_of_range",
        "ingest,cli,dbt,backfill",
        "The day is before WEEK06_PARTITION_START_DATE or the window is empty (end not after start).",
    ),
    _code("line_too_long", "ingest", "The line exceeds WEEK06_MAX_LINE_BYTES; only a bounded excerpt is kept."),
    _code("already_loaded", "ingest", "This exact file (same sha256) was loaded by an earlier run: skipped."),
    _code("file_changed_during_ingest", "ingest", "The file changed while it was read: nothing of it is kept."),
    _code("database_error", "ingest", "The database refused the file's transaction: nothing of it is kept."),
    _code("ingest_worker_failed", "ingest", "A parse worker process ended or failed mid-file: nothing of it is kept."),
    _code("database_unreachable", "database", "The database cannot be reached (exit code 3)."),
    _code(
        "database_connection_lost",
        "ingest,cli",
        "The connection to the database broke mid-run (server restarted, backend terminated): nothing of the "
        "unfinished file is kept; exit code 3, rerun once the database is back.",
    ),
    _code("folder_not_writable", "cli", "WEEK06_REPORT_DIR or DAGSTER_HOME cannot be written (exit code 3)."),
    _code("interrupted", "cli", "Stopped by Ctrl-C: an unfinished file's transaction is rolled back (exit code 130)."),
    # -- run evidence: the course's five checks on the raw asset (judged per partition from the database)
    _code(
        "structured_manifest_missing_or_empty",
        "evidence,backfill",
        "No manifest declares a file for the partition (manifest_consistency fails).",
    ),
    _code(
        "ledger_missing",
        "evidence,backfill",
        "A loadable file of the partition's manifests has no ingest ledger row (partition_completeness fails).",
    ),
    _code(
        "no_valid_input_rows", "evidence,backfill", "The partition holds no valid row (row_count_output_count fails)."
    ),
    _code("rejected_lines_present", "evidence", "Some lines of the partition's files were rejected."),
    _code(
        "required_field_nulls_detected",
        "evidence",
        "A row lacks ticket_id, status, priority, product_line or created_at (required_field_null_rate fails).",
    ),
    _code("partition_has_no_seed_rows", "evidence", "The partition has no raw rows (partition_completeness warns)."),
    _code(
        "asset_checks_failed",
        "evidence,backfill",
        "One of the five checks on the raw asset failed: the partition is held downstream.",
    ),
    # -- run evidence: the optional neighbours (observed, never built here)
    _code(
        "week04_lakehouse_not_available",
        "evidence",
        "The Week04 lakehouse is off (LAKEHOUSE_ENABLED) or its report names no snapshot: not_available.",
    ),
    _code(
        "week05_analytics_not_available",
        "evidence",
        "The Week05 analytics mart is off (ANALYTICS_ENABLED) or has no run_results.json: not_available.",
    ),
    # -- run evidence: the dbt build and the run
    _code("dbt_results_missing", "evidence", "No dbt run_results exist for the run."),
    _code("dbt_nothing_ran", "evidence", "dbt ran no model or test for the partition."),
    _code("dbt_model_failed", "evidence", "A dbt model failed to build."),
    _code("dbt_test_failed", "evidence", "A dbt test with severity error found rows, or could not run."),
    _code("dbt_test_warned", "evidence", "A dbt test with severity warn found rows (not blocking)."),
    _code("evidence_step_skipped", "evidence", "The run ended without its evidence step (an upstream model skipped)."),
    _code("run_failed", "evidence", "The Dagster run failed before the partition's evidence was written."),
    _code("evidence_missing", "evidence,cli,backfill", "The partition has no evidence (from this run)."),
    _code(
        "evidence_invalid",
        "evidence",
        "The evidence broke the course's week06_run_evidence_v1 schema (a bug): it is not written.",
    ),
    _code("delivery_summary_invalid", "evidence", "A delivery summary broke delivery_summary_v1 (a bug): not written."),
    # -- the backfill plan (`data-factory backfill-plan`, asset week06/ops/backfill_plan)
    _code("dry_run_no_db_write", "backfill", "A dry run: the plan was judged from real state and wrote nothing."),
    _code(
        "no_gap_detected",
        "backfill",
        "The partition's evidence is current: nothing to replay (the course's gap_reason).",
    ),
    _code(
        "upstream_changed_after_evidence",
        "backfill",
        "Rows of the partition (late versions, a new batch) arrived after its evidence was written: stale.",
    ),
    _code("backfill_plan_invalid", "backfill", "A backfill plan broke backfill_plan_v1 (a bug): it is not shown."),
    # -- the command line
    _code("invalid_argument", "cli", "An argument or setting has an invalid value (exit code 2)."),
    _code("serve_port_in_use", "cli", "`data-factory serve`: a port it should listen on is taken (exit code 3)."),
    _code(
        "serve_component_failed",
        "cli",
        "`data-factory serve`: the code server, webserver or daemon stopped or never became ready (exit code 3).",
    ),
    _code(
        "lake_scheme_unsupported",
        "cli",
        "The lake root is a URL (s3://...): the parquet lake is a local or mounted folder (exit code 2).",
    ),
    _code(
        "spark_extra_missing",
        "cli",
        "The parquet lake needs the spark extra: pip install 'support-data-factory[spark]' (exit code 3).",
    ),
    # -- dbt: the partition window macro (compilation errors) and failure rows of custom tests
    _code("invalid_partition_var", "dbt", "A partition var is not a YYYY-MM-DD date, or the vars are mixed."),
    _code("missing_in_model", "dbt", "partition_reconciliation: a raw ticket of the window is absent from the model."),
    _code("not_in_source", "dbt", "partition_reconciliation: the model holds a ticket the raw window does not."),
    _code("duplicated_in_model", "dbt", "partition_reconciliation: the model holds a ticket more than once."),
    _code(
        "duplicate_payload",
        "dbt,evidence",
        "The same record (payload) is stored twice: duplicate_idempotency and no_duplicate_versions fail. "
        "Two versions of one ticket are not duplicates.",
    ),
    _code("duplicate_record_fingerprint", "dbt", "no_duplicate_versions: the same record_fingerprint twice."),
    _code("rate_out_of_bounds", "dbt", "kpi_bounds: a rate is below 0 or above 1."),
    _code("negative_or_missing_count", "dbt", "kpi_bounds: a count is null or negative."),
    _code("negative_value", "dbt", "kpi_bounds: a value is negative."),
    _code(
        "exceeds_<column>",
        "dbt",
        "kpi_bounds: a value exceeds its ceiling column, e.g. exceeds_tickets_created.",
        pattern=r"exceeds_[a-z][a-z0-9_]*",
    ),
)


def lookup(code: str) -> ReasonCode | None:
    """The registry entry of `code` (a family entry for family members), or None."""
    for entry in REASON_CODES:
        if entry.code == code:
            return entry
    for entry in REASON_CODES:
        if entry.matches(code):
            return entry
    return None


def sentence(code: str) -> str:
    """The human sentence for `code`; an unregistered code says so rather than failing."""
    entry = lookup(code)
    return entry.sentence if entry else f"{code} (not in the reason code registry)"


REASON_CODES_DOC = Path(__file__).resolve().parents[1] / "docs" / "reason-codes.md"
_TABLE = re.compile(r"(<!-- reason-codes:start -->\n)(.*?)(<!-- reason-codes:end -->)", re.S)


def markdown_table() -> str:
    """The table of every reason code, as docs/reason-codes.md holds it between its markers."""
    lines = ["| code | where | meaning |", "|---|---|---|"]
    for entry in REASON_CODES:
        lines.append(f"| `{entry.code}` | {', '.join(entry.where)} | {entry.sentence.replace('|', '/')} |")
    return "\n".join(lines) + "\n"


def documented_table(doc: Path = REASON_CODES_DOC) -> str | None:
    """The table docs/reason-codes.md holds between its markers (None without markers)."""
    match = _TABLE.search(doc.read_text(encoding="utf-8"))
    return match[2] if match else None


def write_table(doc: Path = REASON_CODES_DOC) -> None:
    """Regenerate the table of docs/reason-codes.md in place (the text around it is kept)."""
    text = doc.read_text(encoding="utf-8")
    if _TABLE.search(text) is None:
        raise SystemExit(f"{doc} has no <!-- reason-codes:start/end --> markers")
    doc.write_text(_TABLE.sub(lambda m: m[1] + markdown_table() + m[3], text), encoding="utf-8")


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        write_table()
    else:
        sys.stdout.write(markdown_table())
