"""What the automation decides, without Dagster: which manifests are new or changed, which days to run.

The manifest sensor keeps the fingerprints of the manifests it has seen as its cursor; a manifest
whose fingerprint it already holds is never picked up again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from orchestration.gate.manifests import ManifestUnreadable, load_manifest, manifest_partitions


def manifest_fingerprints(manifest_dir: Path) -> dict[str, str]:
    """sha256 of every *.json manifest in the folder, by file name."""
    if not manifest_dir.is_dir():
        return {}
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(manifest_dir.glob("*.json"))}


def parse_cursor(cursor: str | None) -> dict[str, str]:
    """The sensor's cursor (a JSON object of file name -> fingerprint); empty when unset or unreadable."""
    if not cursor:
        return {}
    try:
        value = json.loads(cursor)
    except json.JSONDecodeError:
        return {}
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def contiguous_ranges(days: list[date]) -> list[tuple[date, date]]:
    """Sorted days grouped into inclusive runs of consecutive days."""
    ranges: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if ranges and day == ranges[-1][1] + timedelta(days=1):
            ranges[-1] = (ranges[-1][0], day)
        else:
            ranges.append((day, day))
    return ranges


@dataclass(frozen=True)
class ManifestScan:
    """The outcome of one look at the manifest folder."""

    fingerprints: dict[str, str]
    changed: list[str]
    unreadable: list[str]
    partitions: list[date]

    @property
    def cursor(self) -> str:
        return json.dumps(self.fingerprints, sort_keys=True)

    def run_key(self, first: date, last: date) -> str:
        """Stable for the same changed manifests and range: the sensor never starts the same run twice."""
        digest = hashlib.sha256(
            json.dumps({n: self.fingerprints[n] for n in self.changed}, sort_keys=True).encode()
        ).hexdigest()[:16]
        return f"manifests-{digest}-{first.isoformat()}-{last.isoformat()}"


def scan_manifests(manifest_dir: Path, seen: dict[str, str], low: date, high: date) -> ManifestScan:
    """New or changed manifests since `seen`, and the partitions (within low..high) their batches cover.

    An unreadable manifest is reported and still remembered, so it is not retried until it changes
    (the gate in the run names its problem when a run covers it).
    """
    current = manifest_fingerprints(manifest_dir)
    changed = [name for name, digest in current.items() if seen.get(name) != digest]
    unreadable: list[str] = []
    days: set[date] = set()
    for name in changed:
        try:
            days.update(manifest_partitions(load_manifest(manifest_dir / name)))
        except ManifestUnreadable:
            unreadable.append(name)
    partitions = sorted(d for d in days if low <= d <= high)
    return ManifestScan(current, changed, unreadable, partitions)
