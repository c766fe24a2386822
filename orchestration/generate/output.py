"""What the generator writes and reports: atomic JSONL files, manifests, and the summaries of a run."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

from orchestration.gate.manifest_gate import DEFAULT_POLICY
from orchestration.generate.catalogue import (
    _CHUNK_LINES,
    _DUPLICATE_WINDOW,
    MANIFEST_OWNER,
    SOURCE_ID,
    TICKET_CONTRACT_REF,
)
from orchestration.generate.corruption import INVALID_KINDS
from orchestration.generate.lifecycle import _iso_z

# --- Output ----------------------------------------------------------------------------------


class _AtomicJsonl:
    """Writes lines to a hidden partial file while hashing them; only `commit` puts it under its final name."""

    def __init__(self, final_path: Path) -> None:
        self.final_path = final_path
        self.partial_path = final_path.with_name(f".{final_path.name}.partial")
        self.size_bytes = 0
        self.lines = 0
        self._digest = hashlib.sha256()
        self._chunk: list[str] = []
        self._handle = self.partial_path.open("wb")

    def __enter__(self) -> _AtomicJsonl:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not self._handle.closed:  # not committed: leave nothing behind
            self._handle.close()
            self.partial_path.unlink(missing_ok=True)

    def write(self, line: str) -> None:
        self._chunk.append(line)
        self.lines += 1
        if len(self._chunk) >= _CHUNK_LINES:
            self._flush()

    def _flush(self) -> None:
        if not self._chunk:
            return
        data = ("\n".join(self._chunk) + "\n").encode("utf-8")
        self._chunk.clear()
        self._digest.update(data)
        self._handle.write(data)
        self.size_bytes += len(data)

    def commit(self) -> str:
        self._flush()
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        os.replace(self.partial_path, self.final_path)
        return self._digest.hexdigest()


class _RecentLines:
    """A fixed-size ring of recently written valid lines: the pool redeliveries are drawn from."""

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._next = 0

    def __len__(self) -> int:
        return len(self._lines)

    def __getitem__(self, index: int) -> str:
        return self._lines[index]

    def add(self, line: str) -> None:
        if len(self._lines) < _DUPLICATE_WINDOW:
            self._lines.append(line)
        else:
            self._lines[self._next] = line
            self._next = (self._next + 1) % _DUPLICATE_WINDOW


def _manifest(day: date, data_name: str, sha256: str, size_bytes: int, seed: int) -> dict[str, Any]:
    stamp = f"{day:%Y%m%d}"
    start = datetime(day.year, day.month, day.day)
    end = start + timedelta(days=1)
    return {
        "manifest_id": f"manifest-tickets-{stamp}-001",
        "schema_version": "source_manifest_v1",
        "batch_id": f"batch-{stamp}-001",
        "modality": "structured",
        "source_type": "ticket_export",
        "product_line": "cross_product",
        "license_tag": "course_synthetic",
        "contract_ref": TICKET_CONTRACT_REF,
        "load_mode": "incremental_cursor",
        "selection_window": {
            "start_at": _iso_z(start),
            "end_at": _iso_z(end),
            "cursor_field": "updated_at",
            "cursor_start": _iso_z(start),
            "cursor_end": _iso_z(end),
            "watermark_field": "ingested_at",
        },
        "gate_policy": dict(DEFAULT_POLICY),
        "assets": [
            {
                "source_id": SOURCE_ID,
                "source_url_or_path": f"../data/{data_name}",
                "asset_type": "jsonl",
                "contract_ref": TICKET_CONTRACT_REF,
                "size_bytes": size_bytes,
                "checksum_sha256": sha256,
                "metadata_status": "complete",
                "pii_scan_status": "redacted",
            }
        ],
        "created_at": _iso_z(end + timedelta(minutes=5)),
        "owner": MANIFEST_OWNER,
        "notes": f"Synthetic Northstar ticket versions updated on {day.isoformat()} (generator seed {seed}).",
    }


# --- Summary ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BatchSummary:
    """What one daily batch holds. `lines` = valid + invalid; duplicates are among the valid lines."""

    batch_date: date
    batch_id: str
    manifest_id: str
    manifest_path: Path
    data_path: Path
    lines: int
    valid: int
    invalid: int
    invalid_by_kind: Mapping[str, int]
    duplicates: int
    late_updates: int
    tickets_created: int
    sha256: str
    size_bytes: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "manifest_path": str(self.manifest_path),
            "data_path": str(self.data_path),
            "manifest_id": self.manifest_id,
            "batch_id": self.batch_id,
            "batch_date": self.batch_date.isoformat(),
            "lines": self.lines,
            "sha256": self.sha256,
            "size_bytes": self.size_bytes,
            "valid": self.valid,
            "invalid": self.invalid,
            "invalid_by_kind": dict(self.invalid_by_kind),
            "duplicates": self.duplicates,
            "late_updates": self.late_updates,
            "tickets_created": self.tickets_created,
        }


@dataclass(frozen=True)
class GenerationSummary:
    """Totals of a generation run and one entry per batch written (`files`)."""

    out_dir: Path
    start: date
    days: int
    tickets_per_day: int
    seed: int
    invalid_rate: float
    duplicate_rate: float
    late_rate: float
    files: tuple[BatchSummary, ...]

    @property
    def records(self) -> int:
        return sum(batch.lines for batch in self.files)

    @property
    def valid(self) -> int:
        return sum(batch.valid for batch in self.files)

    @property
    def invalid(self) -> int:
        return sum(batch.invalid for batch in self.files)

    @property
    def invalid_by_kind(self) -> dict[str, int]:
        return {kind: sum(batch.invalid_by_kind[kind] for batch in self.files) for kind in INVALID_KINDS}

    @property
    def duplicates(self) -> int:
        return sum(batch.duplicates for batch in self.files)

    @property
    def late_updates(self) -> int:
        return sum(batch.late_updates for batch in self.files)

    @property
    def tickets_created(self) -> int:
        return sum(batch.tickets_created for batch in self.files)

    def to_dict(self) -> dict[str, Any]:
        return {
            "out_dir": str(self.out_dir),
            "start": self.start.isoformat(),
            "days": self.days,
            "tickets_per_day": self.tickets_per_day,
            "seed": self.seed,
            "invalid_rate": self.invalid_rate,
            "duplicate_rate": self.duplicate_rate,
            "late_rate": self.late_rate,
            "records": self.records,
            "valid": self.valid,
            "invalid": self.invalid,
            "invalid_by_kind": self.invalid_by_kind,
            "duplicates": self.duplicates,
            "late_updates": self.late_updates,
            "tickets_created": self.tickets_created,
            "files": [batch.to_dict() for batch in self.files],
        }
