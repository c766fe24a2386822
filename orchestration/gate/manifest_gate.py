"""Judge a source_manifest_v1 manifest: schema, business rules, policy, and each declared file.

Reading manifests is manifests.py, the verdict types verdicts.py, locations locations.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from orchestration.fileio import display_path
from orchestration.gate.locations import resolve_location, shown_location
from orchestration.gate.manifests import ManifestUnreadable, discover_manifests, load_manifest, manifest_partitions
from orchestration.gate.verdicts import (
    AssetJudgment,
    GateResult,
    Reason,
    worst,
)
from orchestration.sources.digests import DigestCache, file_sha256, object_identity
from orchestration.sources.object_store import (
    ObjectRef,
    ObjectStore,
    ObjectStoreConfig,
    ObjectStoreError,
    is_object_location,
)

TICKET_CONTRACT = "omni://contracts/data/ticket/v1"
SUPPORTED_ASSET_TYPES = frozenset({"jsonl"})
DEFAULT_POLICY = {
    "on_missing_checksum": "warn",
    "on_partial_metadata": "warn",
    "on_missing_metadata": "quarantine",
    "on_pii_gap": "quarantine",
    "on_contract_mismatch": "reject",
    "on_unknown_license": "reject",
}


def _manifest_rule_violations(manifest: dict[str, Any]) -> list[Reason]:
    """The course's business rules that make a whole manifest unloadable."""
    reasons: list[Reason] = []
    seen: set[str] = set()
    for asset in manifest["assets"]:
        if asset["source_id"] in seen:
            reasons.append(Reason("duplicate_source_id", f"source_id {asset['source_id']!r} is declared twice"))
        seen.add(asset["source_id"])
    window = manifest.get("selection_window") or {}
    mode = manifest["load_mode"]
    if mode == "incremental_cursor" and not (window.get("cursor_field") and window.get("cursor_start")):
        reasons.append(
            Reason(
                "missing_cursor", "load_mode incremental_cursor needs selection_window.cursor_field and cursor_start"
            )
        )
    if mode == "replay" and not window.get("replay_from_batch"):
        reasons.append(Reason("missing_replay_from_batch", "load_mode replay needs selection_window.replay_from_batch"))
    if mode == "backfill" and not (window.get("start_at") and window.get("end_at")):
        reasons.append(
            Reason("missing_backfill_window", "load_mode backfill needs selection_window.start_at and end_at")
        )
    return reasons


def _os_error(exc: BaseException) -> str:
    return (exc.strerror if isinstance(exc, OSError) else None) or str(exc)


def _judge_object(
    verdict: AssetJudgment, asset: dict[str, Any], store: ObjectStoreConfig, digests: DigestCache | None
) -> None:
    """An s3:// asset of a configured store: it exists, may be read, and has the declared size.

    Its content is not fetched here when a checksum is declared: the ingest verifies size and
    sha256 while it streams the object, before anything commits.
    """
    try:
        ref = ObjectRef.parse(asset["source_url_or_path"])
    except ValueError as exc:
        verdict.add("reject", "invalid_location", f"{verdict.location!r}: {exc}")
        return
    try:
        info = ObjectStore(store).head(ref)
    except ObjectStoreError as err:
        verdict.add(err.judgment, err.reason_code, err.message)
        return
    verdict.size_bytes = info.size
    declared_size = asset.get("size_bytes")
    if declared_size is not None and declared_size != info.size:
        verdict.add("reject", "size_mismatch", f"declared {declared_size} bytes, the object has {info.size}")
        return
    declared_sum = asset.get("checksum_sha256")
    if declared_sum:
        verdict.sha256 = declared_sum.lower()
    else:  # measured once per object version: later steps find it by the object's ETag
        identity = object_identity(info.etag, info.version_id, info.size)
        known = digests.known_key(ref.url, identity) if digests is not None and identity else None
        if known is not None:
            verdict.sha256 = known[0]
        else:
            try:
                verdict.sha256 = info.store.sha256(info)
            except ObjectStoreError as err:
                verdict.add(err.judgment, err.reason_code, err.message)
                return
            if digests is not None and identity:
                digests.remember_key(ref.url, identity, verdict.sha256, info.size)
    verdict.object = info


def _judge_asset(
    asset: dict[str, Any],
    manifest: dict[str, Any],
    policy: dict[str, str],
    manifest_dir: Path,
    source_root: Path,
    object_store: ObjectStoreConfig | None = None,
    digests: DigestCache | None = None,
) -> AssetJudgment:
    verdict = AssetJudgment(
        source_id=asset["source_id"],
        location=shown_location(asset["source_url_or_path"]),
        asset_type=asset["asset_type"],
    )
    # Metadata and policy first: these alone decide accept / warn / quarantine (course rule).
    metadata = asset.get("metadata_status")
    if metadata == "partial":
        verdict.add(policy["on_partial_metadata"], "partial_metadata", "metadata_status is partial", metadata=True)
    elif metadata in (None, "missing", "unknown"):  # undeclared: nothing is known of it either
        verdict.add(
            policy["on_missing_metadata"],
            "missing_metadata",
            f"metadata_status is {metadata or 'absent'}",
            metadata=True,
        )
    pii = asset.get("pii_scan_status")
    if pii == "suspected":
        verdict.add("quarantine", "pii_suspected", "the PII scan suspects personal data", metadata=True)
    elif pii in (None, "not_run", "unknown"):
        verdict.add(policy["on_pii_gap"], "pii_scan_gap", f"pii_scan_status is {pii or 'absent'}", metadata=True)
    if not asset.get("checksum_sha256"):
        verdict.add(policy["on_missing_checksum"], "missing_checksum", "no checksum_sha256 declared", metadata=True)
    foreign = [ref for ref in (asset.get("contract_ref"), manifest["contract_ref"]) if ref and ref != TICKET_CONTRACT]
    if foreign:
        verdict.add(
            policy["on_contract_mismatch"],
            "contract_mismatch",
            f"contract {foreign[0]!r} is not {TICKET_CONTRACT}, the only contract this factory loads",
            metadata=True,
        )
    if manifest["license_tag"] == "unknown":
        # The course rule: an unknown license can never be loaded, whatever the policy says.
        verdict.add(
            worst([policy["on_unknown_license"], "quarantine"]),
            "unknown_license",
            "license_tag is unknown",
            metadata=True,
        )

    # Then the file itself: can it be read, is it where it may be, is it what was declared.
    if verdict.asset_type.lower() not in SUPPORTED_ASSET_TYPES:
        verdict.add("reject", "unsupported_asset_type", f"asset_type {verdict.asset_type!r} is not jsonl")
        return verdict
    if object_store is not None and object_store.configured and is_object_location(asset["source_url_or_path"]):
        _judge_object(verdict, asset, object_store, digests)
        return verdict
    path, judgment, problem = resolve_location(asset["source_url_or_path"], manifest_dir)
    if problem is not None or path is None:
        assert problem is not None
        verdict.add(judgment, problem.code, problem.message)
        return verdict
    try:
        resolved = path.resolve()
        inside = resolved.is_relative_to(source_root)
        exists = resolved.exists()
        regular = resolved.is_file()
    except (OSError, RuntimeError) as exc:  # name too long, symlink loop, ...
        verdict.add("reject", "file_unreadable", f"{verdict.location!r} cannot be resolved: {_os_error(exc)}")
        return verdict
    if not inside:
        verdict.add(
            "reject",
            "path_outside_source_root",
            f"{verdict.location!r} resolves outside the source root {display_path(source_root)}",
        )
        return verdict
    if not exists:
        verdict.add(
            "reject", "file_missing", f"{verdict.location!r} does not exist (looked at {display_path(resolved)})"
        )
        return verdict
    if not regular:  # a folder, FIFO or device: never opened (a FIFO would block the gate)
        verdict.add("reject", "not_a_regular_file", f"{verdict.location!r} is not a regular file")
        return verdict
    try:
        verdict.sha256, verdict.size_bytes, _ = file_sha256(resolved, digests)
    except OSError as exc:
        verdict.add("reject", "file_unreadable", f"{display_path(resolved)}: {_os_error(exc)}")
        return verdict
    verdict.path = resolved
    declared_size = asset.get("size_bytes")
    if declared_size is not None and declared_size != verdict.size_bytes:
        verdict.add("reject", "size_mismatch", f"declared {declared_size} bytes, the file has {verdict.size_bytes}")
    declared_sum = asset.get("checksum_sha256")
    if declared_sum and declared_sum != verdict.sha256:
        verdict.add(
            "reject",
            "checksum_mismatch",
            f"declared sha256 {declared_sum[:12]}..., the file has {verdict.sha256[:12]}...",
        )
    return verdict


def judge_manifest(
    manifest_path: Path,
    source_root: Path | None = None,
    object_store: ObjectStoreConfig | None = None,
    digests: DigestCache | None = None,
) -> GateResult:
    """Judge every asset of the manifest at `manifest_path`.

    Local paths resolve relative to the manifest and must stay inside `source_root`
    (default: the folder above the manifest's folder, e.g. `seeds/` for `seeds/manifests/`).
    `s3://` assets are judged through `object_store` when it is configured (else they are
    not_available, remote_source_not_configured). A local file's sha256 comes from `digests` when
    the file is unchanged since it was last hashed (each file is hashed once, not once per step).
    Raises ManifestUnreadable when the manifest cannot be judged at all.
    """
    manifest_path = manifest_path.resolve()
    manifest = load_manifest(manifest_path)
    root = (source_root or manifest_path.parent.parent).resolve()
    policy = {**DEFAULT_POLICY, **(manifest.get("gate_policy") or {})}
    manifest_reasons = _manifest_rule_violations(manifest)
    assets = [
        _judge_asset(asset, manifest, policy, manifest_path.parent, root, object_store, digests)
        for asset in manifest["assets"]
    ]
    for verdict in assets:
        for reason in manifest_reasons:
            verdict.add("reject", reason.code, reason.message)
    return GateResult(manifest_path=manifest_path, manifest=manifest, assets=assets, reasons=manifest_reasons)


@dataclass
class PartitionGate:
    """The gate's view of a set of partitions: judged manifests and manifests it could not read."""

    results: list[GateResult]
    unreadable: list[tuple[Path, ManifestUnreadable]]

    def for_partition(self, day: date) -> list[GateResult]:
        return [g for g in self.results if day in manifest_partitions(g.manifest)]

    def reason_codes(self) -> list[str]:
        codes = {r.code for g in self.results for a in g.assets for r in a.reasons}
        codes.update(err.code for _, err in self.unreadable)
        return sorted(codes)


def gate_partitions(
    manifest_dir: Path,
    partitions: list[date],
    source_root: Path | None = None,
    object_store: ObjectStoreConfig | None = None,
    digests: DigestCache | None = None,
) -> PartitionGate:
    """Judge every manifest in `manifest_dir` that covers one of `partitions`."""
    results: list[GateResult] = []
    unreadable: list[tuple[Path, ManifestUnreadable]] = []
    if not manifest_dir.is_dir():
        return PartitionGate(results, unreadable)
    for path in discover_manifests(manifest_dir, partitions):
        try:
            results.append(judge_manifest(path, source_root, object_store, digests))
        except ManifestUnreadable as err:
            unreadable.append((path, err))
    return PartitionGate(results, unreadable)
