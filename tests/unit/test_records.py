"""Line parsing: every way a line can be refused has its own stable reason code; course data passes."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from orchestration.ingest.records import (
    COPY_SIGNATURE,
    COPY_TRAILER,
    RecordParser,
    Rejection,
    TicketVersion,
    parse_timestamp,
    record_fingerprint,
)
from tests.conftest import PROJECT_ROOT, course_fixture
from tests.helpers import ticket
from tests.unit.test_contract_differential import corpus as contract_corpus

PARSER = RecordParser(date(2026, 1, 1), date(2026, 12, 31))


def _code(raw: bytes) -> str:
    outcome = PARSER.parse(1, raw)
    assert isinstance(outcome, Rejection), outcome
    return outcome.codes[0]


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"   ", "blank_line"),
        (b"\xff\xfe{}", "undecodable_bytes"),
        (b'{"ticket_id": ', "malformed_json"),
        (b'{"a": NaN}', "malformed_json"),
        (b"[1, 2]", "not_an_object"),
        (json.dumps(ticket(status="reopened")).encode(), "contract_enum:status"),
        (json.dumps(ticket(created_at="yesterday")).encode(), "contract_format:created_at"),
        (json.dumps(ticket(extra_field=1)).encode(), "contract_additional_properties:extra_field"),
        (json.dumps(ticket(ticket_id="TKT-20260417-000001\n")).encode(), "contract_max_length:ticket_id"),
        (json.dumps(ticket(subject="a\u0000b")).encode(), "nul_character"),
        (json.dumps(ticket(subject="\ud800")).encode(), "invalid_unicode"),
        (json.dumps(ticket(updated_at="9999-12-31T23:59:59-23:59")).encode(), "invalid_timestamp"),
        (json.dumps(ticket(day="2025-12-31")).encode(), "partition_out_of_range"),
        (b'{"a": 1, "a": 1}', "duplicate_key"),
        ((json.dumps(ticket())[:-1] + ', "status": "open"}').encode(), "duplicate_key"),
    ],
)
def test_refusals_have_stable_codes(raw: bytes, code: str) -> None:
    assert _code(raw) == code


def test_contract_violation_names_field_and_rule() -> None:
    record = ticket()
    del record["priority"]
    outcome = PARSER.parse(7, json.dumps(record).encode())
    assert isinstance(outcome, Rejection)
    assert outcome.codes == ("contract_required:priority",)
    assert "priority" in outcome.detail and outcome.line_number == 7


def test_every_violation_of_a_record_gets_its_code_first_in_field_order() -> None:
    record = ticket(status="reopened", priority="urgent", tags="not-a-list")
    del record["owner"]
    outcome = PARSER.parse(1, json.dumps(record).encode())
    assert isinstance(outcome, Rejection)
    assert set(outcome.codes) == {
        "contract_required:owner",
        "contract_enum:status",
        "contract_enum:priority",
        "contract_type:tags",
    }
    assert outcome.codes[0] == "contract_required:owner"  # record-level errors sort first


HOSTILE_LINES = [
    b"",
    b"   ",
    b"\t",
    b"\xef\xbb\xbf{}",
    b"\xff\xfe{}",
    b"\xed\xa0\x80",
    b'{"ticket_id": ',
    b'{"a": NaN}',
    b'{"a": Infinity}',
    b"[1, 2]",
    b"null",
    b'"text"',
    b"1" * 400,
    b"[" * 5000 + b"]" * 5000,
    b'{"a": 1, "a": 2}',
    b'{"subject": "\\ud800"}',
    b'{"x": 123456789012345678901234567890}',
    b'{"a": {"b": 1, "b": 1}}',
    b'{"a" : "x:y", "a" :"x:y"}',
    b'{"a\\u003a": 1, "a:": 1}',
    b'{"a": 1, "b": {"a": 1}}',
    b'{"\\u0061": 1, "a": 2}',
    b'[{"a": 1, "a": 2}]',
    b'{"a": 1, "a": 2, "a": NaN}',
    b'{"own\\u0000er": 1}',
    b'{"ow\\ud800ner": 1}',
]


def _variants(record: dict) -> list[bytes]:
    return [
        json.dumps(record).encode(),
        json.dumps(record, ensure_ascii=False).encode(),
        json.dumps(dict(reversed(list(record.items()))), indent=1).replace("\n", " ").encode(),
        (json.dumps(record)[:-1] + ', "status": "open"}').encode(),  # a repeated key: duplicate_key
        (json.dumps(record)[:-1] + ', "sub\\u003aject" : "x"}').encode(),  # a colon hidden in an escape
    ]


def test_fast_path_agrees_with_the_reference_path() -> None:
    """`parse` (orjson) and `parse_reference` (json + jsonschema) give the same outcome for every line."""
    lines: list[bytes] = list(HOSTILE_LINES)
    for name in ("tickets-seed-500.jsonl", "tickets-seed-001.jsonl", "tickets-smoke.jsonl"):
        lines.extend(course_fixture(name).read_bytes().splitlines())
    for path in sorted((PROJECT_ROOT / "seeds" / "data").glob("*.jsonl")):
        lines.extend(path.read_bytes().splitlines())
    odd = {
        "subject": ["a\u0000b", "\\u0000", "tab\tnew\nline\r", "é\u2028\U0001f600", "\x7f\x1f", '"quoted"\\'],
        "assignee_id": [None, "agent-1"],
        "created_at": ["2026-04-17t08:15:00.1234567z", "2026-04-18T01:30:00+02:00", "2026-02-29T00:00:00Z"],
        "updated_at": [None, "9999-12-31T23:59:59-23:59", "2026-04-17T08:15:00Z"],
        # the plain path's own checks: a day, hour or offset out of range, an instant that
        # cannot be put in UTC, fractions past microseconds, and a non-UTC offset
        "resolved_at": [None, "2026-02-29T10:00:00Z", "2026-04-17T24:00:00Z", "0001-01-01T00:30:00+01:00"],
        "sla_due_at": ["2026-04-17T10:00:00+05:60", "2026-04-17T10:00:00.1234567Z", "2026-04-17T10:00:00-07:00"],
    }
    for field_name, values in odd.items():
        for value in values:
            for raw in _variants(ticket(**{field_name: value})):
                lines.append(raw)
    lines.extend(json.dumps(instance).encode() for instance in contract_corpus())
    checked = versions = 0
    for number, raw in enumerate(lines, 1):
        fast, reference = PARSER.parse(number, raw), PARSER.parse_reference(number, raw)
        assert fast == reference, (raw[:200], fast, reference)
        checked += 1
        versions += isinstance(fast, TicketVersion)
    assert checked > 8000 and versions > 2500 and checked - versions > 3000, (checked, versions)


def test_fingerprint_ignores_key_order_and_whitespace() -> None:
    record = ticket()
    shuffled = dict(reversed(list(record.items())))
    assert record_fingerprint(record) == record_fingerprint(shuffled)
    a = PARSER.parse(1, json.dumps(record).encode())
    b = PARSER.parse(2, json.dumps(shuffled, indent=2).replace("\n", " ").encode())
    assert isinstance(a, TicketVersion) and isinstance(b, TicketVersion)
    assert a.fingerprint == b.fingerprint
    assert record_fingerprint(dict(record, status="closed")) != a.fingerprint


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-04-17T08:15:00Z", datetime(2026, 4, 17, 8, 15, tzinfo=UTC)),
        ("2026-05-31T11:18:44.660299+00:00", datetime(2026, 5, 31, 11, 18, 44, 660299, tzinfo=UTC)),
        ("2026-04-17t23:30:00.123456789z", datetime(2026, 4, 17, 23, 30, 0, 123456, tzinfo=UTC)),
        ("2026-04-18T01:30:00+02:00", datetime(2026, 4, 17, 23, 30, tzinfo=UTC)),
    ],
)
def test_timestamps_in_every_course_form(text: str, expected: datetime) -> None:
    assert parse_timestamp(text) == expected


def test_partition_is_the_utc_day_of_created_at() -> None:
    outcome = PARSER.parse(1, json.dumps(ticket(created_at="2026-04-18T01:30:00+02:00")).encode())
    assert isinstance(outcome, TicketVersion) and outcome.partition_date == date(2026, 4, 17)


def test_course_files_are_accepted_unchanged() -> None:
    for name in ("tickets-seed-500.jsonl", "tickets-seed-001.jsonl", "tickets-smoke.jsonl"):
        lines = course_fixture(name).read_bytes().splitlines()
        outcomes = [PARSER.parse(i, line) for i, line in enumerate(lines, 1)]
        refused = [o for o in outcomes if isinstance(o, Rejection)]
        assert not refused, (name, refused[:2])
    assert len(course_fixture("tickets-seed-500.jsonl").read_bytes().splitlines()) == 500


def test_course_invalid_sample_is_rejected() -> None:
    samples = json.loads(course_fixture("sample_records.json").read_text())
    valid = samples["valid_records"]["ticket"]
    assert isinstance(PARSER.parse(1, json.dumps(valid).encode()), TicketVersion)
    invalid = samples["invalid_records"]["ticket_missing_priority"]["record"]
    outcome = PARSER.parse(2, json.dumps(invalid).encode())
    assert isinstance(outcome, Rejection) and outcome.codes == ("contract_required:priority",)
    assert "priority" in outcome.detail


def test_copy_binary_is_what_psycopg_would_send() -> None:
    """Worker processes encode rows themselves in binary COPY; the bytes must be psycopg's, byte
    for byte, given each column's type (text, date, timestamptz, jsonb, integer)."""
    from psycopg._copy_base import BinaryFormatter  # the formatter psycopg uses for write_row
    from psycopg.adapt import Transformer
    from psycopg.types.json import Jsonb
    from psycopg.types.numeric import Int4

    from orchestration.ingest.records import binary_prefix, copy_binary

    anchors = ("manifest-é", "batch", "run", "source", "f" * 64, None, datetime(2026, 12, 3, 9, 0, 0, 1, tzinfo=UTC))
    odd = ["cust\ttab", "back\\slash", "new\nline", "\\N", "é\u2028", "\x01\x7f", "😀"]
    lines = [json.dumps(ticket(n, customer_id=v, assignee_id=v, subject=v)).encode() for n, v in enumerate(odd, 1)]
    stamps = ["0001-01-01T00:00:00Z", "1999-12-31T23:59:59.999999Z", "2000-01-01T00:00:00Z", "9999-12-31T23:59:59Z"]
    lines += [json.dumps(ticket(n, resolved_at=v)).encode() for n, v in enumerate(stamps, 100)]
    lines += course_fixture("tickets-seed-500.jsonl").read_bytes().splitlines()
    checked = 0
    for number, raw in enumerate(lines, 1):
        outcome = PARSER.parse(number, raw)
        assert isinstance(outcome, TicketVersion), outcome
        *values, payload, line = outcome.row
        formatter = BinaryFormatter(Transformer())
        expected = formatter.write_row((*anchors, *values, Jsonb(payload, dumps=lambda text: text), Int4(line)))
        expected = bytes(expected) + bytes(formatter.end())
        assert expected == COPY_SIGNATURE + copy_binary(outcome, binary_prefix(anchors)) + COPY_TRAILER
        checked += 1
    assert checked == len(odd) + len(stamps) + 500


@pytest.mark.parametrize("key", ["own\u0000er", "ow\ud800ner", "\udfff", "\u0000" * 200, "k" * 10_000])
def test_a_hostile_key_gives_a_storable_rejection(key: str) -> None:
    """Whatever a key holds, the codes and detail of its rejection are valid, NUL-free UTF-8 (the
    database stores them) and short; the fast path and the reference agree."""
    raw = json.dumps(ticket(**{key: "x"})).encode()
    fast, reference = PARSER.parse(1, raw), PARSER.parse_reference(1, raw)
    assert fast == reference and isinstance(fast, Rejection)
    for text in (*fast.codes, fast.detail, fast.excerpt):
        assert "\x00" not in text
        text.encode("utf-8")  # no lone surrogate left
    assert fast.codes[0].startswith("contract_additional_properties:") and len(fast.codes[0]) < 200


def test_every_repeated_key_is_found_on_both_paths() -> None:
    """Each key of a valid record repeated, with the same or another value, before or after: always
    duplicate_key, whichever path parses it (orjson alone keeps the last value silently)."""
    checked = 0
    for base in (ticket(), ticket(subject="a:b::c", description="x: y")):
        text = json.dumps(base)
        for key, value in base.items():
            for again in (value, "other", None, "a:b"):
                pair = f"{json.dumps(key)}: {json.dumps(again)}"
                for raw in (text[:-1] + ", " + pair + "}", "{" + pair + ", " + text[1:]):
                    fast, reference = PARSER.parse(1, raw.encode()), PARSER.parse_reference(1, raw.encode())
                    assert fast == reference and isinstance(fast, Rejection), raw
                    assert fast.codes == ("duplicate_key",) and key in fast.detail
                    checked += 1
    assert checked > 100
