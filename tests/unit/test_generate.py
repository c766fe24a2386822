"""The ticket generator: deterministic bytes, honest counts, valid manifests and believable ticket lifecycles."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from orchestration.contracts import violations
from orchestration.generate import DEMO_ARGS, INVALID_KINDS, GenerationSummary, catalogue, generate
from orchestration.generate import generator as generator_module

START = date(2026, 4, 10)
DAYS = 4
ARGS: dict[str, Any] = {
    "start": START,
    "days": DAYS,
    "tickets_per_day": 250,
    "seed": 11,
    "invalid_rate": 0.05,
    "duplicate_rate": 0.05,
    "late_rate": 0.3,
}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerationSummary]:
    out = tmp_path_factory.mktemp("generated")
    return out, generate(out, **ARGS)


def _files(out: Path) -> list[Path]:
    return sorted(out.rglob("*"))


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().split(b"\n")[:-1]


def _parse(line: bytes) -> dict[str, Any] | None:
    """The record if the line is a valid ticket_v1, else None."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        return None
    return record if isinstance(record, dict) and not violations("ticket_v1", record) else None


def _valid_records(out: Path) -> Iterator[tuple[date, bytes, dict[str, Any]]]:
    """(batch day, raw line, record) of every valid line, batches in date order."""
    for path in sorted((out / "data").glob("tickets-*.jsonl")):
        day = datetime.strptime(path.stem.split("-")[1], "%Y%m%d").date()
        for line in _lines(path):
            record = _parse(line)
            if record is not None:
                yield day, line, record


def _first_versions(out: Path) -> list[tuple[date, dict[str, Any]]]:
    """Valid lines without redeliveries, in the order they were first written."""
    seen: set[bytes] = set()
    firsts = []
    for day, line, record in _valid_records(out):
        if line not in seen:
            seen.add(line)
            firsts.append((day, record))
    return firsts


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_same_seed_gives_identical_bytes_and_another_seed_does_not(tmp_path: Path) -> None:
    small = {**ARGS, "tickets_per_day": 60}
    generate(tmp_path / "a", **small)
    generate(tmp_path / "b", **small)
    generate(tmp_path / "c", **{**small, "seed": 12})
    names = [p.relative_to(tmp_path / "a") for p in _files(tmp_path / "a")]
    assert names == [p.relative_to(tmp_path / "b") for p in _files(tmp_path / "b")]
    assert len([n for n in names if n.suffix == ".jsonl"]) == DAYS
    for name in names:
        if (tmp_path / "a" / name).is_file():
            assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    data = sorted(n for n in names if n.suffix == ".jsonl")
    assert all((tmp_path / "a" / n).read_bytes() != (tmp_path / "c" / n).read_bytes() for n in data)


def test_every_line_is_valid_or_counted_invalid(run: tuple[Path, GenerationSummary]) -> None:
    out, summary = run
    assert summary.invalid > 0 and summary.valid > 0
    for batch in summary.files:
        lines = _lines(batch.data_path)
        failing = [line for line in lines if _parse(line) is None]
        assert len(lines) == batch.lines == batch.valid + batch.invalid
        assert len(failing) == batch.invalid == sum(batch.invalid_by_kind.values())
        malformed = sum(1 for line in failing if not _is_json(line))
        assert malformed == batch.invalid_by_kind["malformed_json"]
    assert summary.records == sum(len(_lines(b.data_path)) for b in summary.files)
    assert set(summary.invalid_by_kind) == set(INVALID_KINDS)
    assert sum(1 for count in summary.invalid_by_kind.values() if count) >= 5  # several kinds, not one


def _is_json(line: bytes) -> bool:
    try:
        json.loads(line)
    except json.JSONDecodeError:
        return False
    return True


def test_valid_lines_are_compact_utf8_json_in_contract_order(run: tuple[Path, GenerationSummary]) -> None:
    out, _ = run
    encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
    order = list(
        json.loads((Path(__file__).parents[2] / "contracts" / "ticket_v1.schema.json").read_text())["properties"]
    )
    for _, line, record in _valid_records(out):
        assert encoder.encode(record).encode("utf-8") == line
        keys = list(record)
        assert keys == sorted(keys, key=order.index)


def test_manifests_validate_and_describe_their_files(run: tuple[Path, GenerationSummary]) -> None:
    out, summary = run
    manifests = sorted((out / "manifests").glob("*.json"))
    assert [m.name for m in manifests] == [
        f"manifest-tickets-{START + timedelta(days=i):%Y%m%d}-001.json" for i in range(DAYS)
    ]
    for batch, path in zip(summary.files, manifests, strict=True):
        text = path.read_text(encoding="utf-8")
        assert text.endswith("}\n")
        manifest = json.loads(text)
        assert violations("source_manifest_v1", manifest) == []
        assert manifest["manifest_id"] == batch.manifest_id == path.stem
        assert manifest["batch_id"] == batch.batch_id == f"batch-{batch.batch_date:%Y%m%d}-001"
        window = manifest["selection_window"]
        assert window["cursor_field"] == "updated_at" and window["cursor_start"] == window["start_at"]
        assert _ts(window["end_at"]) - _ts(window["start_at"]) == timedelta(days=1)
        (asset,) = manifest["assets"]
        location = Path(asset["source_url_or_path"])
        assert not location.is_absolute() and "://" not in asset["source_url_or_path"]
        resolved = (path.parent / location).resolve()
        assert resolved.is_relative_to(out.resolve()) and resolved == batch.data_path.resolve()
        data = resolved.read_bytes()
        assert asset["size_bytes"] == len(data) == batch.size_bytes
        assert asset["checksum_sha256"] == hashlib.sha256(data).hexdigest() == batch.sha256
    assert not [p for p in _files(out) if p.name.endswith(".partial")]


def test_batches_hold_versions_updated_that_day_in_order(run: tuple[Path, GenerationSummary]) -> None:
    out, summary = run
    by_day: dict[date, list[datetime]] = {}
    for day, record in _first_versions(out):
        assert record["ingest_batch_id"] == f"batch-{day:%Y%m%d}-001"
        by_day.setdefault(day, []).append(_ts(record["updated_at"]))
    for day, stamps in by_day.items():
        assert {stamp.date() for stamp in stamps} == {day}
        assert stamps == sorted(stamps)
    assert sum(batch.tickets_created for batch in summary.files) == DAYS * ARGS["tickets_per_day"]


def test_late_updates_exist_and_are_counted(run: tuple[Path, GenerationSummary]) -> None:
    out, summary = run
    late: Counter[date] = Counter()
    for day, record in _first_versions(out):
        created = _ts(record["created_at"]).date()
        assert record["ticket_id"][4:12] == f"{created:%Y%m%d}"  # ids keep their creation date
        assert created <= day
        if created < day:
            assert (day - created).days <= 7
            late[day] += 1
    assert summary.late_updates > 0
    assert late[START] == 0  # nothing was created before the first batch
    assert [late[batch.batch_date] for batch in summary.files] == [b.late_updates for b in summary.files]


def test_duplicates_are_byte_identical_redeliveries_of_valid_lines(run: tuple[Path, GenerationSummary]) -> None:
    out, summary = run
    seen: set[str] = set()
    repeats = 0
    previous_batches: dict[bytes, date] = {}
    for day, line, record in _valid_records(out):
        canonical = json.dumps(record, sort_keys=True, separators=(",", ":"))
        if canonical in seen:
            repeats += 1
            assert line in previous_batches and (day - previous_batches[line]).days <= 1
        seen.add(canonical)
        previous_batches.setdefault(line, day)
    assert summary.duplicates > 0
    assert repeats == summary.duplicates == sum(b.duplicates for b in summary.files)


def test_ticket_lifecycles_are_consistent(run: tuple[Path, GenerationSummary]) -> None:
    out, _ = run
    last_seen: dict[str, datetime] = {}
    statuses: Counter[str] = Counter()
    formats: Counter[str] = Counter()
    breaches = 0
    for _, record in _first_versions(out):
        created, updated = _ts(record["created_at"]), _ts(record["updated_at"])
        status = record["status"]
        statuses[status] += 1
        formats["Z" if record["created_at"].endswith("Z") else "+00:00"] += 1
        assert (record["resolved_at"] is not None) == (status in {"resolved", "closed"})
        assert (record["assignee_id"] is None) == (status == "open")
        assert updated >= created
        if record["resolved_at"] is not None:
            assert created <= _ts(record["resolved_at"]) <= updated
        hours = catalogue.SLA_HOURS[record["sla_tier"]][record["priority"]]
        if hours is None:
            assert record["sla_due_at"] is None and record["sla_tier"] == "free"
        else:
            due = _ts(record["sla_due_at"])
            assert due - created == timedelta(hours=hours)
            finished = _ts(record["resolved_at"]) if record["resolved_at"] else updated
            breaches += finished > due
        previous = last_seen.get(record["ticket_id"])
        assert previous is None or updated > previous, record["ticket_id"]
        last_seen[record["ticket_id"]] = updated
    assert set(statuses) == {"open", "in_progress", "pending", "escalated", "resolved", "closed"}
    assert formats["Z"] > 0 and formats["+00:00"] > 0
    assert breaches > 0
    assert max(Counter(record["ticket_id"] for _, record in _first_versions(out)).values()) >= 3


def test_zero_rates_give_a_clean_on_time_export(tmp_path: Path) -> None:
    summary = generate(tmp_path, START, 2, 80, seed=3, invalid_rate=0.0, duplicate_rate=0.0, late_rate=0.0)
    assert (summary.invalid, summary.duplicates, summary.late_updates) == (0, 0, 0)
    assert summary.valid == summary.records > 0
    for day, record in _first_versions(tmp_path):
        assert _ts(record["created_at"]).date() == day


def test_summary_is_json_friendly(run: tuple[Path, GenerationSummary]) -> None:
    _, summary = run
    data = json.loads(json.dumps(summary.to_dict()))
    assert data["records"] == summary.records and data["tickets_created"] == DAYS * ARGS["tickets_per_day"]
    assert len(data["files"]) == DAYS
    for entry in data["files"]:
        assert {"manifest_path", "data_path", "manifest_id", "batch_id", "lines", "sha256", "size_bytes"} <= set(entry)


def test_an_interrupted_run_leaves_no_half_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = generator_module._batch_entries

    def failing(run: Any, day: date, batch_id: str) -> Iterator[Any]:
        for number, entry in enumerate(real(run, day, batch_id)):
            if day > START and number == 25:
                raise RuntimeError("killed")
            yield entry

    monkeypatch.setattr(generator_module, "_batch_entries", failing)
    with pytest.raises(RuntimeError, match="killed"):
        generate(tmp_path, START, 3, 40)
    assert [p.name for p in _files(tmp_path) if p.is_file()] == [
        "tickets-20260410.jsonl",
        "manifest-tickets-20260410-001.json",
    ]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"days": 0}, "days"),
        ({"tickets_per_day": 0}, "tickets_per_day"),
        ({"tickets_per_day": 900_000}, "tickets_per_day"),
        ({"invalid_rate": -0.1}, "invalid_rate"),
        ({"duplicate_rate": 1.5}, "duplicate_rate"),
        ({"late_rate": float("nan")}, "late_rate"),
        ({"start": "2026-04-10"}, "start"),
    ],
)
def test_bad_arguments_are_refused(tmp_path: Path, changes: dict[str, Any], message: str) -> None:
    args = {**ARGS, **changes}
    with pytest.raises(ValueError, match=message):
        generate(tmp_path / "out", **args)
    assert not (tmp_path / "out").exists()


def test_committed_demo_seeds_are_reproducible(tmp_path: Path) -> None:
    seeds = Path(__file__).parents[2] / "seeds"
    if not (seeds / "manifests").is_dir():
        pytest.skip("seeds/ not generated yet")
    summary = generate(tmp_path, **DEMO_ARGS)
    for batch in summary.files:
        for path in (batch.data_path, batch.manifest_path):
            committed = seeds / path.relative_to(tmp_path)
            assert committed.read_bytes() == path.read_bytes(), f"{committed} differs: run `make seeds`"
    readme = (seeds / "README.md").read_text(encoding="utf-8")
    for flag, value in DEMO_ARGS.items():
        assert f"--{flag.replace('_', '-')} {value}" in readme, flag
