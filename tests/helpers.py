"""Small builders shared by tests: a manifest beside its files, written the way users write them."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

BASE_MANIFEST: dict[str, Any] = {
    "schema_version": "source_manifest_v1",
    "modality": "structured",
    "source_type": "ticket_export",
    "license_tag": "course_synthetic",
    "contract_ref": "omni://contracts/data/ticket/v1",
    "load_mode": "full_snapshot",
    "created_at": "2026-04-18T00:05:00Z",
    "owner": "tests",
}


def write_source(
    root: Path,
    name: str,
    content: bytes,
    *,
    batch_day: str = "20260417",
    source_id: str | None = None,
    declare_checksum: bool = True,
    **asset_overrides: Any,
) -> Path:
    """Write `content` to root/data/<name> and a manifest for it to root/manifests/; return the manifest path."""
    (root / "data").mkdir(parents=True, exist_ok=True)
    (root / "manifests").mkdir(parents=True, exist_ok=True)
    data_path = root / "data" / name
    data_path.write_bytes(content)
    asset: dict[str, Any] = {
        "source_id": source_id or f"structured:tickets:{name.split('.')[0]}",
        "source_url_or_path": f"../data/{name}",
        "asset_type": "jsonl",
        "size_bytes": len(content),
        "checksum_sha256": hashlib.sha256(content).hexdigest() if declare_checksum else None,
        "metadata_status": "complete",
        "pii_scan_status": "redacted",
    }
    asset.update(asset_overrides)
    manifest = dict(
        BASE_MANIFEST,
        manifest_id=f"manifest-tests-{batch_day}-{abs(hash(name)) % 1000:03d}",
        batch_id=f"batch-{batch_day}-001",
        assets=[asset],
    )
    path = root / "manifests" / f"{name}.manifest.json"
    path.write_text(json.dumps(manifest, indent=2))
    return path


def ticket(n: int = 1, day: str = "2026-04-17", **overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "ticket_id": f"TKT-{day.replace('-', '')}-{n:06d}",
        "schema_version": "ticket_v1",
        "source_id": "structured:tickets:tests",
        "ingest_batch_id": "batch-20260417-001",
        "customer_id": f"cust-{n:04d}",
        "status": "open",
        "priority": "p3_medium",
        "category": "configuration",
        "product_line": "northstar_workspace",
        "sla_tier": "standard",
        "sla_due_at": f"{day}T20:00:00Z",
        "created_at": f"{day}T08:{n % 60:02d}:00Z",
        "updated_at": f"{day}T08:{n % 60:02d}:00Z",
        "resolved_at": None,
        "assignee_id": None,
        "pii_level": "low",
        "quality_gate": "pass",
        "owner": "tests",
    }
    record.update(overrides)
    return record


def jsonl(*records: dict[str, Any] | bytes) -> bytes:
    return b"".join((r if isinstance(r, bytes) else json.dumps(r).encode()) + b"\n" for r in records)
