"""The gate's verdicts: reasons, judgments (worst wins), an asset's and a manifest's result, and the
gate report (gate_report_v1) they become."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestration import contracts
from orchestration.fileio import display_path
from orchestration.gate.manifests import ManifestUnreadable, manifest_partitions
from orchestration.sources.object_store import ObjectInfo

GATE_REPORT_VERSION = "gate_report_v1"
# Worst last. not_available: the file could not be examined here (remote object store), so nothing
# is known of its content; a reject (a rule broken on the metadata or the file) still outranks it.
JUDGMENTS = ("accept", "warn", "quarantine", "not_available", "reject")
LOADABLE_JUDGMENTS = frozenset({"accept", "warn"})


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
