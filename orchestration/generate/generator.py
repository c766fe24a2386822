"""Deterministic, streaming generator of daily OmniSupport ticket_v1 exports and their source_manifest_v1 manifests.

The entry point; the catalogue, the ticket lifecycle, the corruption of lines and the output live
beside it (catalogue.py, lifecycle.py, corruption.py, output.py).
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from orchestration.fileio import write_text_atomic
from orchestration.generate.catalogue import MAX_TICKETS_PER_DAY
from orchestration.generate.corruption import INVALID_KINDS, _corrupt
from orchestration.generate.lifecycle import _batch_entries, _Directory, _Run
from orchestration.generate.output import BatchSummary, GenerationSummary, _AtomicJsonl, _manifest, _RecentLines

# The demo input committed under seeds/ (`make seeds` and seeds/README.md use these exact arguments).
DEMO_ARGS: dict[str, Any] = {
    "start": date(2026, 4, 10),
    "days": 8,
    "tickets_per_day": 80,
    "seed": 20260417,
    "invalid_rate": 0.02,
    "duplicate_rate": 0.02,
    "late_rate": 0.15,
}

# --- Entry point -----------------------------------------------------------------------------


def _check_arguments(start: date, days: int, tickets_per_day: int, seed: int, rates: Mapping[str, float]) -> None:
    if not isinstance(start, date) or isinstance(start, datetime):
        raise ValueError(f"start must be a date, got {start!r}")
    if not isinstance(days, int) or isinstance(days, bool) or days < 1:
        raise ValueError(f"days must be an integer >= 1, got {days!r}")
    if not isinstance(tickets_per_day, int) or isinstance(tickets_per_day, bool) or tickets_per_day < 1:
        raise ValueError(f"tickets_per_day must be an integer >= 1, got {tickets_per_day!r}")
    if tickets_per_day > MAX_TICKETS_PER_DAY:
        raise ValueError(
            f"tickets_per_day must be <= {MAX_TICKETS_PER_DAY} (ticket ids have six sequence digits), "
            f"got {tickets_per_day}"
        )
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    for name, rate in rates.items():
        if not isinstance(rate, int | float) or isinstance(rate, bool) or not math.isfinite(rate) or not 0 <= rate <= 1:
            raise ValueError(f"{name} must be a number between 0 and 1, got {rate!r}")


def _write_batch(
    run: _Run, day: date, out_dir: Path, rates: Mapping[str, float], previous: _RecentLines, current: _RecentLines
) -> BatchSummary:
    stamp = f"{day:%Y%m%d}"
    batch_id = f"batch-{stamp}-001"
    data_path = out_dir / "data" / f"tickets-{stamp}.jsonl"
    manifest_path = out_dir / "manifests" / f"manifest-tickets-{stamp}-001.json"
    # Corruption and redelivery draws come from the day's own generator, so batches are independent of
    # how many batches ran before (apart from the redelivery pool).
    rng = random.Random(f"{run.seed}:batch:{day.isoformat()}")
    invalid_by_kind = dict.fromkeys(INVALID_KINDS, 0)
    originals = duplicates = late_updates = 0
    with _AtomicJsonl(data_path) as sink:
        for _, ticket_id, _, line in _batch_entries(run, day, batch_id):
            if rng.random() < rates["invalid_rate"]:
                kind = rng.choice(INVALID_KINDS)
                sink.write(_corrupt(line, kind, rng))
                invalid_by_kind[kind] += 1
                continue
            sink.write(line)
            current.add(line)
            originals += 1
            if ticket_id[4:12] != stamp:  # a ticket created on an earlier day changed today
                late_updates += 1
            if rng.random() < rates["duplicate_rate"]:
                pick = rng.randrange(len(previous) + len(current))
                sink.write(previous[pick] if pick < len(previous) else current[pick - len(previous)])
                duplicates += 1
        sha256 = sink.commit()
        lines, size_bytes = sink.lines, sink.size_bytes
    manifest = _manifest(day, data_path.name, sha256, size_bytes, run.seed)
    write_text_atomic(manifest_path, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return BatchSummary(
        batch_date=day,
        batch_id=batch_id,
        manifest_id=manifest["manifest_id"],
        manifest_path=manifest_path,
        data_path=data_path,
        lines=lines,
        valid=originals + duplicates,
        invalid=sum(invalid_by_kind.values()),
        invalid_by_kind=invalid_by_kind,
        duplicates=duplicates,
        late_updates=late_updates,
        tickets_created=run.tickets_per_day,
        sha256=sha256,
        size_bytes=size_bytes,
    )


def generate(
    out_dir: Path,
    start: date,
    days: int,
    tickets_per_day: int,
    *,
    seed: int = 7,
    invalid_rate: float = 0.01,
    duplicate_rate: float = 0.01,
    late_rate: float = 0.1,
) -> GenerationSummary:
    """Write one ticket export and one manifest per day from `start`, byte-identical for the same arguments.

    Layout: `out_dir/data/tickets-YYYYMMDD.jsonl` and `out_dir/manifests/manifest-tickets-YYYYMMDD-001.json`.
    Batch D holds every ticket version updated on D (new tickets of D and late updates of tickets created up
    to a week earlier), about `invalid_rate` of lines broken on purpose and about `duplicate_rate` of lines
    redelivered. Memory stays bounded by one day's work whatever the number of days.
    """
    rates = {"invalid_rate": invalid_rate, "duplicate_rate": duplicate_rate, "late_rate": late_rate}
    _check_arguments(start, days, tickets_per_day, seed, rates)
    out_dir = Path(out_dir)
    (out_dir / "data").mkdir(parents=True, exist_ok=True)
    (out_dir / "manifests").mkdir(parents=True, exist_ok=True)
    run = _Run(seed, start, tickets_per_day, late_rate, _Directory(seed))
    batches: list[BatchSummary] = []
    previous, current = _RecentLines(), _RecentLines()
    for offset in range(days):
        batches.append(_write_batch(run, start + timedelta(days=offset), out_dir, rates, previous, current))
        previous, current = current, _RecentLines()
    return GenerationSummary(
        out_dir=out_dir,
        start=start,
        days=days,
        tickets_per_day=tickets_per_day,
        seed=seed,
        invalid_rate=invalid_rate,
        duplicate_rate=duplicate_rate,
        late_rate=late_rate,
        files=tuple(batches),
    )
