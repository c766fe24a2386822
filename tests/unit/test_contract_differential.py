"""The compiled ticket validator (ingest hot path) must accept and reject exactly what jsonschema does.

The corpus: every line of the demo seeds and of the course's files, plus systematic mutations of
valid records (each field dropped, retyped, given bad formats and near-miss values).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

from orchestration import contracts
from tests.conftest import FIXTURES, PROJECT_ROOT
from tests.helpers import ticket

ODD_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    1,
    -1,
    1.5,
    "",
    " ",
    "x",
    "TKT-1",
    [],
    [""],
    [1],
    {},
    {"a": 1},
    "2026-04-17",
    "2026-04-17T08:15:00",
    "2026-04-17 08:15:00Z",
    "2026-04-17T08:15:00z",
    "2026-04-17t08:15:00Z",
    "2026-04-17T24:00:00Z",
    "2026-04-17T23:59:60Z",
    "2026-02-30T00:00:00Z",
    "2026-04-17T08:15:00.123456789+00:00",
    "2026-04-17T08:15:00+0000",
    "yesterday",
    "ticket_v1",
    "open",
    "OPEN",
    "p1_critical",
    "northstar_studio",
    "TKT-20260417-000001",
    "TKT-20260417-00001",
    "tkt-20260417-000001",
    "TKT-20260417-000001\n",
    "a" * 512,
    "a" * 513,
    "é" * 512,
    "é" * 513,
]


def _lines(path: Path) -> Iterator[Any]:
    for raw in path.read_bytes().splitlines():
        try:
            yield json.loads(raw)
        except ValueError:
            continue


def corpus() -> Iterator[Any]:
    bases: list[dict[str, Any]] = [ticket()]
    for path in sorted((PROJECT_ROOT / "seeds" / "data").glob("*.jsonl")):
        yield from _lines(path)
    for name in ("tickets-seed-500.jsonl", "tickets-seed-001.jsonl", "tickets-smoke.jsonl"):
        records = list(_lines(FIXTURES / name))
        yield from records
        bases.extend(records[:3])
    for base in bases:
        for key in list(base):
            yield {k: v for k, v in base.items() if k != key}
            for value in ODD_VALUES:
                yield dict(base, **{key: value})
        for value in ODD_VALUES:
            yield dict(base, unexpected=value)
    yield from ODD_VALUES


def test_compiled_validator_agrees_with_jsonschema_on_the_corpus() -> None:
    reference = contracts.validator(contracts.TICKET)
    fast = contracts.fast_is_valid(contracts.TICKET)
    checked = accepted = 0
    disagreements = []
    for instance in corpus():
        expected = reference.is_valid(instance)
        if fast(instance) != expected:
            disagreements.append((expected, instance))
        checked += 1
        accepted += expected
    assert not disagreements, disagreements[:3]
    # The corpus must exercise both outcomes in quantity, or the agreement proves little.
    assert checked > 5000 and accepted > 1000 and checked - accepted > 3000, (checked, accepted)


DATE_TIME_EDGES = [
    "2024-02-29T00:00:00Z",
    "2023-02-29T00:00:00Z",
    "1900-02-29T00:00:00Z",
    "2000-02-29T00:00:00Z",
    "0000-01-01T00:00:00Z",
    "0001-01-01T00:00:00Z",
    "2026-04-31T00:00:00Z",
    "2026-04-00T00:00:00Z",
    "2026-13-01T00:00:00Z",
    "2026-04-17T10:00:00.Z",
    "2026-04-17T10:00:00+24:00",
    "2026-04-17T10:00:00-23:59",
    "2026-04-17T10:00:00Z\n",
    "\u0662\u0660\u0662\u0666-04-17T10:00:00Z",
    "2026-04-17T10:00:00\u017a",
    "2026-04-17T10:00:00ß",
]


def test_fast_date_time_check_agrees_with_jsonschema() -> None:
    values = [v for v in ODD_VALUES if isinstance(v, str)] + DATE_TIME_EDGES
    for instance in corpus():
        if isinstance(instance, dict):
            values.extend(v for k, v in instance.items() if k.endswith("_at") and isinstance(v, str))
    disagreements = [v for v in values if contracts._conforms_date_time(v) != contracts.reference_conforms_date_time(v)]
    assert not disagreements, disagreements[:5]
    assert len(values) > 1000


def test_plain_date_time_agrees_with_jsonschema_on_every_combination_of_edges() -> None:
    """The ingest's plain path (records.plain_date_time) checks the date-time rule and parses the
    timestamp in one step: on its shape it must accept exactly what jsonschema accepts, and give
    the instant the general path gives, in UTC."""
    from itertools import product

    from orchestration.ingest.records import BROKEN, GENERAL, parse_timestamp, plain_date_time

    parts = product(
        ("0000", "0001", "1900", "2000", "2023", "2024", "9999"),
        ("00", "01", "02", "04", "12", "13"),
        ("00", "01", "28", "29", "30", "31", "32"),
        ("00", "19", "23", "24", "30"),
        ("00", "59", "60"),
        ("00", "59", "60"),
        ("", ".0", ".123456", ".1234567"),
        ("Z", "+00:00", "-00:00", "+23:59", "-23:59", "+24:00", "+05:60", "z"),
    )
    checked = plain = 0
    disagreements = []
    for year, month, day, hour, minute, second, fraction, offset in parts:
        value = f"{year}-{month}-{day}T{hour}:{minute}:{second}{fraction}{offset}"
        outcome = plain_date_time(value)
        checked += 1
        if outcome is GENERAL:
            continue
        plain += 1
        if (outcome is not BROKEN) != contracts.reference_conforms_date_time(value):
            disagreements.append(value)
        elif outcome is not BROKEN and (outcome.tzinfo is not UTC or outcome != parse_timestamp(value)):
            disagreements.append(value)
    assert not disagreements, disagreements[:5]
    assert plain > 50_000 and checked - plain > 10_000, (checked, plain)


def test_sparing_the_valid_fields_gives_jsonschemas_own_errors() -> None:
    """violation_errors walks only the fields a compiled check finds broken: for every instance of
    the corpus it must give exactly the errors (and order) of jsonschema's full walk."""
    reference = contracts.validator(contracts.TICKET)
    checked = failing = 0
    for instance in corpus():
        expected = [(list(e.absolute_path), e.validator, e.message) for e in reference.iter_errors(instance)]
        found = [
            (list(e.absolute_path), e.validator, e.message)
            for e in contracts.violation_errors(contracts.TICKET, instance)
        ]
        assert found == expected, (instance, found, expected)
        checked += 1
        failing += bool(expected)
    assert checked > 5000 and failing > 3000, (checked, failing)
    assert contracts._field_checks(contracts.TICKET) is not None  # the sparing walk was the one compared
