"""Reading and finding manifests: a manifest file read safely and schema-checked, the days it covers,
the manifests of a folder that cover given days, and the range of days a folder's manifests cover."""

from __future__ import annotations

import json
import os
import re
import stat
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from orchestration import contracts
from orchestration.fileio import display_path
from orchestration.partitions import days_between

_BATCH_DAY = re.compile(r"(?:^|[^0-9])(20[0-9]{2})([01][0-9])([0-3][0-9])(?:[^0-9]|$)")


class ManifestUnreadable(Exception):
    """The manifest itself cannot be judged (missing, not JSON, or not a source_manifest_v1)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


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


def covered_range(manifest_dir: Path) -> tuple[date, date] | None:
    """The first and last partition the readable manifests in `manifest_dir` cover (the demo runs
    exactly these); None when no manifest there can be read. Unreadable manifests are skipped here:
    the gate reports them when the run reaches it."""
    covered: set[date] = set()
    for path in discover_manifests(manifest_dir):
        try:
            covered.update(manifest_partitions(load_manifest(path)))
        except ManifestUnreadable:
            continue
    if not covered:
        return None
    return min(covered), max(covered)
