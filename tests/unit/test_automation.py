"""The automation's decisions without Dagster, and how the UI's texts are shaped (no database)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from orchestration.automation import contiguous_ranges, manifest_fingerprints, parse_cursor, scan_manifests
from orchestration.defs.translator import first_line_sentence
from tests.helpers import jsonl, ticket, write_source

LOW, HIGH = date(2026, 1, 1), date(2026, 12, 31)


def test_contiguous_ranges_group_consecutive_days() -> None:
    days = [date(2026, 4, 17), date(2026, 4, 10), date(2026, 4, 11), date(2026, 4, 13), date(2026, 4, 11)]
    assert contiguous_ranges(days) == [
        (date(2026, 4, 10), date(2026, 4, 11)),
        (date(2026, 4, 13), date(2026, 4, 13)),
        (date(2026, 4, 17), date(2026, 4, 17)),
    ]
    assert contiguous_ranges([]) == []


def test_a_manifest_is_picked_up_once_and_again_when_it_changes(tmp_path: Path) -> None:
    manifest = write_source(tmp_path, "a.jsonl", jsonl(ticket(1)), batch_day="20260417")
    first = scan_manifests(manifest.parent, parse_cursor(None), LOW, HIGH)
    assert first.changed == [manifest.name] and first.partitions == [date(2026, 4, 17)]
    again = scan_manifests(manifest.parent, parse_cursor(first.cursor), LOW, HIGH)
    assert again.changed == [] and again.partitions == []
    # A new manifest: only its own partition.
    write_source(tmp_path, "b.jsonl", jsonl(ticket(2, day="2026-04-18")), batch_day="20260418")
    second = scan_manifests(manifest.parent, parse_cursor(first.cursor), LOW, HIGH)
    assert second.changed == ["b.jsonl.manifest.json"] and second.partitions == [date(2026, 4, 18)]
    # An edited manifest runs again; the run key differs from the first one's.
    edited = json.loads(manifest.read_text())
    edited["owner"] = "someone-else"
    manifest.write_text(json.dumps(edited))
    third = scan_manifests(manifest.parent, parse_cursor(second.cursor), LOW, HIGH)
    assert third.changed == [manifest.name]
    day = date(2026, 4, 17)
    assert third.run_key(day, day) != first.run_key(day, day)


def test_unreadable_manifests_and_days_out_of_range_start_nothing(tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text("{not json")
    write_source(tmp_path, "old.jsonl", jsonl(ticket(1, day="2025-06-01")), batch_day="20250601")
    scan = scan_manifests(tmp_path / "manifests", {}, LOW, HIGH)
    assert scan.partitions == []
    broken = scan_manifests(tmp_path, {}, LOW, HIGH)
    assert broken.unreadable == ["broken.json"] and broken.partitions == []
    assert set(json.loads(broken.cursor)) == {"broken.json"}  # remembered: not retried until it changes


def test_cursor_tolerates_garbage() -> None:
    assert parse_cursor("") == {} and parse_cursor("[1]") == {} and parse_cursor("{oops") == {}
    assert manifest_fingerprints(Path("/nonexistent-folder")) == {}


def test_first_line_reads_as_a_sentence() -> None:
    assert first_line_sentence("**Bronze ticket versions.**\n\n| a | b |") == "Bronze ticket versions.\n\n| a | b |"
    assert first_line_sentence("# Daily KPIs") == "Daily KPIs."
    assert (
        first_line_sentence("Exactly one row per ticket in the window.") == "Exactly one row per ticket in the window."
    )
    assert first_line_sentence(None) is None
