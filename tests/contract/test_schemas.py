"""Every contract in contracts/ is a valid draft 2020-12 schema and means what its examples say.

Examples live in contracts/examples/<name>.examples.json: `valid` instances that must pass and
`invalid` ones, each a patch of a valid instance (JSON Pointer `set` / `unset`), that must fail
with a message naming `expected_error`. A schema without examples of both kinds fails here.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from orchestration import contracts
from orchestration.config import CONTRACTS_DIR

EXAMPLES_DIR = CONTRACTS_DIR / "examples"
SCHEMAS = contracts.schema_names()
COURSE_SCHEMAS = contracts.course_schema_names()
# The course's files validated by name (the manifest schema is compared keyword by keyword instead).
EXAMPLED = [*SCHEMAS, contracts.RUN_EVIDENCE]
ANNOTATIONS = ("$id", "title", "description", "$comment")


def _examples(name: str) -> dict[str, Any]:
    path = EXAMPLES_DIR / f"{name}.examples.json"
    assert path.is_file(), f"contract {name} has no examples file {path.relative_to(CONTRACTS_DIR.parent)}"
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def _pointer(path: str) -> list[str]:
    assert path.startswith("/"), path
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def _walk(document: Any, parts: list[str]) -> Any:
    for part in parts:
        document = document[int(part)] if isinstance(document, list) else document[part]
    return document


def _patched(base: Any, case: dict[str, Any]) -> Any:
    instance = copy.deepcopy(base)
    for path, value in case.get("set", {}).items():
        *parent, last = _pointer(path)
        target = _walk(instance, parent)
        if isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value
    for path in case.get("unset", []):
        *parent, last = _pointer(path)
        target = _walk(instance, parent)
        assert last in target, f"unset {path}: not in the base example"
        del target[last]
    return instance


def _invalid_cases() -> list[Any]:
    cases = []
    for name in EXAMPLED:
        examples = _examples(name) if (EXAMPLES_DIR / f"{name}.examples.json").is_file() else {"invalid": []}
        for case in examples.get("invalid", []):
            cases.append(pytest.param(name, case, id=f"{name}:{case['description']}"))
    return cases


def test_the_product_contracts_are_all_there() -> None:
    assert set(SCHEMAS) >= {
        "ticket_v1",
        "source_manifest_v1",
        "gate_report_v1",
        "backfill_plan_v1",
        "backfill_partition_v1",
        "delivery_summary_v1",
    }
    assert "run_evidence_v1" not in SCHEMAS, "evidence is the course's contract, never a look-alike of ours"
    assert contracts.RUN_EVIDENCE in COURSE_SCHEMAS


def test_course_contracts_are_unchanged_and_listed_with_their_origin() -> None:
    readme = (contracts.COURSE_CONTRACTS_DIR / "README.md").read_text(encoding="utf-8")
    listed = dict(re.findall(r"^\| ([^ |]+) \| [^|]+ : [^|]+ \|.*`([0-9a-f]{64})` \|$", readme, re.M))
    present = {p.name for p in contracts.COURSE_CONTRACTS_DIR.iterdir() if p.name != "README.md"}
    assert set(listed) == present, "every course file needs its origin (repository : path) and sha256"
    for name, digest in listed.items():
        data = (contracts.COURSE_CONTRACTS_DIR / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == digest, f"{name} was changed"


def _validation_keywords(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _validation_keywords(v) for k, v in node.items() if k not in ANNOTATIONS}
    if isinstance(node, list):
        return [_validation_keywords(v) for v in node]
    return node


def test_source_manifest_v1_validates_exactly_as_the_course_schema() -> None:
    # Same keywords, same values: every manifest the course accepts we accept, every one it refuses we refuse.
    course = json.loads((contracts.COURSE_CONTRACTS_DIR / "source_manifest_schema.json").read_text(encoding="utf-8"))
    ours = contracts.load_schema(contracts.SOURCE_MANIFEST)
    assert _validation_keywords(ours) == _validation_keywords(course)


@pytest.mark.parametrize("name", SCHEMAS)
def test_schema_is_valid_draft_2020_12_with_an_id(name: str) -> None:
    schema = contracts.load_schema(name)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].startswith("omni://contracts/") and schema["$id"].endswith("/v1"), schema["$id"]
    assert schema["title"] == name
    assert schema.get("description"), f"{name} has no description"


def test_schema_ids_are_unique() -> None:
    ids = [contracts.load_schema(name)["$id"] for name in SCHEMAS]
    assert len(ids) == len(set(ids)), ids


@pytest.mark.parametrize("name", EXAMPLED)
def test_every_schema_has_valid_and_invalid_examples(name: str) -> None:
    examples = _examples(name)
    assert examples.get("valid"), f"{name}: no valid example"
    assert examples.get("invalid"), f"{name}: no invalid example"


def test_no_examples_without_a_schema() -> None:
    orphans = [p.name for p in EXAMPLES_DIR.glob("*.examples.json") if p.name.split(".")[0] not in EXAMPLED]
    assert not orphans


@pytest.mark.parametrize("name", EXAMPLED)
def test_valid_examples_pass(name: str) -> None:
    for case in _examples(name)["valid"]:
        assert contracts.violations(name, case["instance"]) == [], case["description"]


@pytest.mark.parametrize(("name", "case"), _invalid_cases())
def test_invalid_examples_fail_for_the_stated_reason(name: str, case: dict[str, Any]) -> None:
    base = _examples(name)["valid"][case["base"]]["instance"]
    instance = _patched(base, case)
    assert instance != base, "the patch changes nothing"
    problems = contracts.violations(name, instance, limit=50)
    assert problems, f"{name} accepts: {case['description']}"
    assert any(case["expected_error"] in p for p in problems), problems


def test_date_time_formats_are_enforced() -> None:
    # jsonschema skips `format` silently without rfc3339-validator: that must never happen here.
    ticket = _examples("ticket_v1")["valid"][0]["instance"]
    assert contracts.violations("ticket_v1", dict(ticket, created_at="yesterday"))


def test_examples_files_are_documented() -> None:
    for name in EXAMPLED:
        examples = _examples(name)
        assert examples.get("description")
        for case in examples["valid"] + examples["invalid"]:
            assert case.get("description"), case
