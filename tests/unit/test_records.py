"""Line parsing: every way a line can be refused has its own stable reason code; course data passes."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from orchestration.ingest.records import RecordParser, Rejection, TicketVersion, parse_timestamp, record_fingerprint
from tests.conftest import course_fixture
from tests.helpers import ticket

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
        (json.dumps(ticket(status="reopened")).encode(), "contract_violation"),
        (json.dumps(ticket(created_at="yesterday")).encode(), "contract_violation"),
        (json.dumps(ticket(extra_field=1)).encode(), "contract_violation"),
        (json.dumps(ticket(ticket_id="TKT-20260417-000001\n")).encode(), "contract_violation"),
        (json.dumps(ticket(subject="a\u0000b")).encode(), "nul_character"),
        (json.dumps(ticket(subject="\ud800")).encode(), "invalid_unicode"),
        (json.dumps(ticket(updated_at="9999-12-31T23:59:59-23:59")).encode(), "invalid_timestamp"),
        (json.dumps(ticket(day="2025-12-31")).encode(), "partition_out_of_range"),
    ],
)
def test_refusals_have_stable_codes(raw: bytes, code: str) -> None:
    assert _code(raw) == code


def test_contract_violation_names_field_and_rule() -> None:
    record = ticket()
    del record["priority"]
    outcome = PARSER.parse(7, json.dumps(record).encode())
    assert isinstance(outcome, Rejection)
    assert "priority" in outcome.detail and outcome.line_number == 7


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
    assert isinstance(outcome, Rejection) and outcome.codes == ("contract_violation",)
    assert "priority" in outcome.detail
