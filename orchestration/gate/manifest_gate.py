"""Judge a source_manifest_v1 manifest: schema, business rules, policy, and each declared file on disk."""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlparse, urlunparse

from orchestration import contracts
from orchestration.db.connection import redact
from orchestration.fileio import display_path
from orchestration.partitions import days_between
from orchestration.sources.digests import DigestCache, file_sha256, object_identity
from orchestration.sources.object_store import (
    OBJECT_SCHEMES,
    ObjectInfo,
    ObjectRef,
    ObjectStore,
    ObjectStoreConfig,
    ObjectStoreError,
    is_object_location,
)

GATE_REPORT_VERSION = "gate_report_v1"
# Worst last. not_available: the file could not be examined here (remote object store), so nothing
# is known of its content; a reject (a rule broken on the metadata or the file) still outranks it.
JUDGMENTS = ("accept", "warn", "quarantine", "not_available", "reject")
LOADABLE_JUDGMENTS = frozenset({"accept", "warn"})
TICKET_CONTRACT = "omni://contracts/data/ticket/v1"
SUPPORTED_ASSET_TYPES = frozenset({"jsonl"})
# Object stores and web locations a deployment could be configured to read; none is configured in
# this factory, so their files are `not_available` (not rejected: the manifest is not wrong).
REMOTE_SCHEMES = frozenset(
    {"s3", "s3a", "s3n", "gs", "gcs", "az", "abfs", "abfss", "wasb", "wasbs", "adl", "hdfs", "webhdfs"}
    | {"http", "https", "ftp", "ftps", "sftp", "oss", "cos", "r2"}
)
DEFAULT_POLICY = {
    "on_missing_checksum": "warn",
    "on_partial_metadata": "warn",
    "on_missing_metadata": "quarantine",
    "on_pii_gap": "quarantine",
    "on_contract_mismatch": "reject",
    "on_unknown_license": "reject",
}
# Query parameters of signed URLs that carry a secret (S3 X-Amz-Signature / -Credential, Azure sig, tokens).
_SECRET_QUERY_KEY = re.compile(r"sig|token|credential|secret|password|key", re.I)
_BATCH_DAY = re.compile(r"(?:^|[^0-9])(20[0-9]{2})([01][0-9])([0-3][0-9])(?:[^0-9]|$)")


class ManifestUnreadable(Exception):
    """The manifest itself cannot be judged (missing, not JSON, or not a source_manifest_v1)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Reason:
    code: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


def worst(judgments: list[str]) -> str:
    return max(judgments, key=JUDGMENTS.index) if judgments else "accept"


@dataclass
class AssetJudgment:
    """The gate's verdict on one declared file; `judgment` is the worst of all its reasons."""

    source_id: str
    location: str
    asset_type: str
    path: Path | None = None
    metadata_judgment: str = "accept"
    judgment: str = "accept"
    reasons: list[Reason] = field(default_factory=list)
    size_bytes: int | None = None
    sha256: str | None = None
    # An s3:// object judged through the configured store (then `path` is None). Its sha256 is the
    # declared one, verified while the ingest streams it (or measured here when none is declared).
    object: ObjectInfo | None = None

    @property
    def loadable(self) -> bool:
        return self.judgment in LOADABLE_JUDGMENTS and (self.path is not None or self.object is not None)

    @property
    def source_path(self) -> str:
        """Where the ingest reads the file: its resolved path, or the object's s3:// URL."""
        if self.object is not None:
            return self.object.ref.url
        return str(self.path)

    def add(self, judgment: str, code: str, message: str, *, metadata: bool = False) -> None:
        self.reasons.append(Reason(code, message))
        self.judgment = worst([self.judgment, judgment])
        if metadata:
            self.metadata_judgment = worst([self.metadata_judgment, judgment])

    def to_dict(self) -> dict[str, Any]:
        return {
            "source_id": self.source_id,
            "location": self.location,
            "asset_type": self.asset_type,
            "judgment": self.judgment,
            "metadata_judgment": self.metadata_judgment,
            "loadable": self.loadable,
            "reasons": [r.to_dict() for r in self.reasons],
            "size_bytes": self.size_bytes,
            "sha256": self.sha256,
        }


@dataclass
class GateResult:
    manifest_path: Path
    manifest: dict[str, Any]
    assets: list[AssetJudgment]
    reasons: list[Reason]

    @property
    def manifest_id(self) -> str:
        return str(self.manifest["manifest_id"])

    @property
    def batch_id(self) -> str:
        return str(self.manifest["batch_id"])

    @property
    def status(self) -> str:
        return worst([a.judgment for a in self.assets])

    @property
    def refused(self) -> bool:
        return any(not a.loadable for a in self.assets)

    def to_dict(self) -> dict[str, Any]:
        """The gate report (contract gate_report_v1), validated: a report breaking it is never shown."""
        document = {
            "report_schema_version": GATE_REPORT_VERSION,
            "manifest_id": self.manifest_id,
            "batch_id": self.batch_id,
            "manifest_path": display_path(self.manifest_path),
            "status": self.status,
            "partitions": [d.isoformat() for d in manifest_partitions(self.manifest)],
            "reasons": [r.to_dict() for r in self.reasons],
            "assets": [a.to_dict() for a in self.assets],
        }
        contracts.require_valid(contracts.GATE_REPORT, document, "gate_report_invalid")
        return document


def unreadable_report(manifest_path: Path, error: ManifestUnreadable) -> dict[str, Any]:
    """The gate report (gate_report_v1) of a manifest that cannot be judged at all."""
    document = {
        "report_schema_version": GATE_REPORT_VERSION,
        "manifest_id": None,
        "batch_id": None,
        "manifest_path": display_path(manifest_path),
        "status": "unreadable",
        "partitions": [],
        "reasons": [Reason(error.code, error.message).to_dict()],
        "assets": [],
    }
    contracts.require_valid(contracts.GATE_REPORT, document, "gate_report_invalid")
    return document


MAX_MANIFEST_BYTES = 16 << 20  # a manifest lists files; anything bigger is not one


class _DuplicateKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return document


def _unstorable(value: Any, key: str = "") -> str | None:
    """The first string PostgreSQL could not store (U+0000, a lone surrogate), as `key`; a NUL in
    source_url_or_path is left to the asset's own invalid_location."""
    if isinstance(value, dict):
        return next((found for k, v in value.items() if (found := _unstorable(v, k)) is not None), None)
    if isinstance(value, list):
        return next((found for v in value if (found := _unstorable(v, key)) is not None), None)
    if isinstance(value, str):
        if re.search("[\ud800-\udfff]", value) or ("\x00" in value and key != "source_url_or_path"):
            return key or "(value)"
    return None


def _read_regular(path: Path, shown: str) -> bytes:
    """The manifest's bytes; a FIFO, device or folder is refused without blocking on it."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise ManifestUnreadable("manifest_missing", f"no manifest at {shown}") from None
    except OSError as exc:
        raise ManifestUnreadable("manifest_unreadable", f"cannot read {shown}: {exc.strerror or exc}") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_MANIFEST_BYTES:
        os.close(fd)
        what = "is not a regular file" if not stat.S_ISREG(info.st_mode) else f"is over {MAX_MANIFEST_BYTES} bytes"
        raise ManifestUnreadable("manifest_unreadable", f"{shown} {what}")
    with os.fdopen(fd, "rb") as handle:
        try:
            return handle.read(MAX_MANIFEST_BYTES + 1)
        except OSError as exc:
            raise ManifestUnreadable("manifest_unreadable", f"cannot read {shown}: {exc.strerror or exc}") from None


def load_manifest(path: Path) -> dict[str, Any]:
    """Read and schema-check a manifest, or raise ManifestUnreadable with a stable code."""
    shown = display_path(path)
    raw = _read_regular(path, shown)
    try:
        document = json.loads(raw.decode("utf-8"), object_pairs_hook=_unique_keys)
    except UnicodeDecodeError:
        raise ManifestUnreadable("manifest_undecodable", f"{shown} is not UTF-8") from None
    except _DuplicateKey as exc:
        raise ManifestUnreadable(
            "manifest_duplicate_key", f"{shown} names the key {str(exc)[:64]!r} twice in one object: ambiguous"
        ) from None
    except json.JSONDecodeError as exc:
        raise ManifestUnreadable(
            "manifest_malformed_json", f"{shown} is not JSON (line {exc.lineno}: {exc.msg})"
        ) from None
    except RecursionError:
        raise ManifestUnreadable("manifest_malformed_json", f"{shown} nests too deeply to be a manifest") from None
    if not isinstance(document, dict):
        raise ManifestUnreadable("manifest_invalid", f"{shown}: a manifest is a JSON object")
    problems = contracts.violations(contracts.SOURCE_MANIFEST, document)
    if problems:
        raise ManifestUnreadable("manifest_invalid", f"{shown} breaks source_manifest_v1: " + "; ".join(problems))
    unstorable = _unstorable(document)
    if unstorable is not None:
        raise ManifestUnreadable(
            "manifest_invalid", f"{shown}: {unstorable!r} holds U+0000 or a lone surrogate, which cannot be stored"
        )
    return document


def _parse_ts(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def manifest_partitions(manifest: dict[str, Any]) -> list[date]:
    """The partitions (UTC days) a manifest's batch covers.

    The selection window [start_at, end_at) when declared; otherwise the day named in the
    batch id (batch-YYYYMMDD-NNN); otherwise the day the manifest was created.
    """
    window = manifest.get("selection_window") or {}
    start = _parse_ts(window.get("start_at")) or _parse_ts(window.get("cursor_start"))
    end = _parse_ts(window.get("end_at")) or _parse_ts(window.get("cursor_end"))
    if start and end and end > start:
        first = start.astimezone(UTC).date()
        last = (end.astimezone(UTC) - timedelta(microseconds=1)).date()
        if (last - first).days <= 3660:
            return days_between(first, last)
    match = _BATCH_DAY.search(str(manifest.get("batch_id", "")))
    if match:
        try:
            return [date(int(match[1]), int(match[2]), int(match[3]))]
        except ValueError:
            pass
    created = _parse_ts(manifest.get("created_at"))
    return [created.astimezone(UTC).date()] if created else []


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


def shown_location(location: str) -> str:
    """A declared location as it may be shown: no URL password, no secret of a signed URL."""
    text = redact(location)
    parsed = urlparse(text)
    if len(parsed.scheme) > 1 and parsed.query:
        pairs = parse_qsl(parsed.query, keep_blank_values=True)
        hidden = [(key, "***" if _SECRET_QUERY_KEY.search(key) else value) for key, value in pairs]
        text = urlunparse(parsed._replace(query=urlencode(hidden, safe="*")))
    return text


def _resolve_location(location: str, manifest_dir: Path) -> tuple[Path | None, str, Reason | None]:
    """The local path a location names, or the judgment and reason why it names none."""
    shown = shown_location(location)
    if "\x00" in location:
        return None, "reject", Reason("invalid_location", f"{shown!r} contains a NUL character")
    parsed = urlparse(location)
    scheme = parsed.scheme.lower()
    if scheme and len(scheme) > 1:  # a one-letter scheme is a Windows drive
        if scheme in REMOTE_SCHEMES:
            return (
                None,
                "not_available",
                Reason(
                    "remote_source_not_configured",
                    f"{shown!r}: no {scheme}:// source is configured here; "
                    + (
                        "set MINIO_ENDPOINT (and MINIO_ACCESS_KEY, MINIO_SECRET_KEY) to read s3:// objects"
                        if scheme in OBJECT_SCHEMES
                        else "only local files and s3:// objects can be read"
                    ),
                ),
            )
        if scheme != "file":
            return (
                None,
                "reject",
                Reason("unsupported_scheme", f"{shown!r}: scheme {scheme!r} is not a source this factory knows"),
            )
        if parsed.netloc not in ("", "localhost"):
            return (
                None,
                "reject",
                Reason("unsupported_scheme", f"{shown!r}: a file:// URL names a local path (file:///path)"),
            )
        location = unquote(parsed.path)
    candidate = Path(location)
    if not candidate.is_absolute():
        candidate = manifest_dir / candidate
    return candidate, "accept", None


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
    path, judgment, problem = _resolve_location(asset["source_url_or_path"], manifest_dir)
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


def discover_manifests(manifest_dir: Path, partitions: list[date] | None = None) -> list[Path]:
    """Manifests in `manifest_dir` (sorted), optionally only those covering one of `partitions`.

    A manifest that cannot be read is still returned, so that the gate reports it.
    """
    paths = sorted(p for p in manifest_dir.glob("*.json") if p.is_file())
    if partitions is None:
        return paths
    wanted = set(partitions)
    selected = []
    for path in paths:
        try:
            covered = manifest_partitions(load_manifest(path))
        except ManifestUnreadable:
            selected.append(path)
            continue
        if wanted.intersection(covered):
            selected.append(path)
    return selected


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
