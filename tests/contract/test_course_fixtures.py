"""The course's own files (tests/fixtures/omnisupport/) against our contracts, unchanged and documented."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from orchestration import contracts
from tests.conftest import FIXTURES, course_fixture

TICKET_FILES = ("tickets-seed-500.jsonl", "tickets-seed-001.jsonl", "tickets-smoke.jsonl")


def _sample_records() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(course_fixture("sample_records.json").read_text(encoding="utf-8"))
    return document


def test_every_fixture_is_listed_in_the_provenance_readme_with_its_sha256() -> None:
    readme = (FIXTURES / "README.md").read_text(encoding="utf-8")
    listed = dict(re.findall(r"^\| ([^ |]+) \| [^|]+ : [^|]+ \|.*`([0-9a-f]{64})` \|$", readme, re.M))
    present = {p.name for p in FIXTURES.iterdir() if p.name != "README.md"}
    assert set(listed) == present, "every course file needs its origin (repository : path) and sha256"
    for name, digest in listed.items():
        assert hashlib.sha256((FIXTURES / name).read_bytes()).hexdigest() == digest, f"{name} was changed"


def test_all_504_course_tickets_satisfy_ticket_v1() -> None:
    checked = 0
    for name in TICKET_FILES:
        for number, line in enumerate(course_fixture(name).read_bytes().splitlines(), start=1):
            problems = contracts.violations(contracts.TICKET, json.loads(line))
            assert problems == [], f"{name}:{number}: {problems}"
            checked += 1
    assert checked == 504


def test_the_valid_sample_ticket_passes() -> None:
    record = _sample_records()["valid_records"]["ticket"]
    assert contracts.violations(contracts.TICKET, record) == []


def test_ticket_missing_priority_fails_naming_priority() -> None:
    sample = _sample_records()["invalid_records"]["ticket_missing_priority"]
    assert sample["contract"] == "ticket"
    problems = contracts.violations(contracts.TICKET, sample["record"])
    assert problems and any("'priority' is a required property" in p for p in problems), problems


def test_the_other_samples_are_not_tickets() -> None:
    # document / audio / video records belong to contracts this factory does not load: never tickets.
    samples = _sample_records()
    others = [r for k, r in samples["valid_records"].items() if k != "ticket"]
    others += [s["record"] for s in samples["invalid_records"].values() if s["contract"] != "ticket"]
    assert len(others) == 6
    assert all(contracts.violations(contracts.TICKET, r) for r in others)


def test_both_course_manifests_satisfy_source_manifest_v1() -> None:
    for name in ("manifest_week02_practice_v1.json", "manifest_tickets_synthetic_v1.json"):
        document = json.loads(course_fixture(name).read_text(encoding="utf-8"))
        assert contracts.violations(contracts.SOURCE_MANIFEST, document) == [], name
