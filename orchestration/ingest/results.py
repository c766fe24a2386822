"""What an ingest reports: per file (loaded, duplicates, rejected by reason, ...) and per run."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from orchestration.gate.verdicts import GateResult

# The connection broke mid-run: an environment failure (exit code 3), not a verdict on the file.
CONNECTION_LOST = "database_connection_lost"


def new_run_id() -> str:
    return f"ingest-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


@dataclass
class FileResult:
    source_id: str
    location: str
    status: str  # loaded | already_loaded | refused | failed
    source_fingerprint: str | None = None
    size_bytes: int | None = None
    lines_read: int = 0
    loaded: int = 0
    duplicates: int = 0
    rejected: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    rejects_not_stored: int = 0  # rejected lines over the per-file cap: counted, not kept as rows
    touched_partitions: list[str] = field(default_factory=list)
    reasons: list[dict[str, str]] = field(default_factory=list)
    previous_run_id: str | None = None
    # "direct" (COPY straight into raw) or "conflict_safe" (redone after a concurrent writer
    # committed some of the same records first); None when nothing was written.
    write_path: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def sum_counts(files: list[dict[str, Any]]) -> dict[str, Any]:
    """Totals of per-file accounting (FileResult dicts or ledger rows)."""
    by_reason: Counter[str] = Counter()
    for f in files:
        by_reason.update({code: int(n) for code, n in (f.get("rejected_by_reason") or {}).items()})
    return {
        "lines_read": sum(int(f["lines_read"]) for f in files),
        "loaded": sum(int(f["loaded"]) for f in files),
        "duplicates": sum(int(f["duplicates"]) for f in files),
        "rejected": sum(int(f["rejected"]) for f in files),
        "rejected_by_reason": dict(sorted(by_reason.items())),
    }


@dataclass
class IngestResult:
    run_id: str
    gate: GateResult
    files: list[FileResult]
    dry_run: bool

    @property
    def status(self) -> str:
        if any(f.status == "failed" for f in self.files):
            return "failed"
        if any(f.status == "refused" or f.rejected for f in self.files):
            return "completed_with_refusals"
        return "success"

    @property
    def touched_partitions(self) -> list[str]:
        return sorted({p for f in self.files for p in f.touched_partitions})

    @property
    def connection_lost(self) -> bool:
        return any(r["code"] == CONNECTION_LOST for f in self.files for r in f.reasons)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "manifest_id": self.gate.manifest_id,
            "batch_id": self.gate.batch_id,
            "status": self.status,
            "dry_run": self.dry_run,
            "gate_status": self.gate.status,
            "files": [f.to_dict() for f in self.files],
            "totals": sum_counts([f.to_dict() for f in self.files]),
            "touched_partitions": self.touched_partitions,
        }
