"""JSON Schema contracts: loading and validators that enforce `format` (date-time included)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from contextvars import ContextVar
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from orchestration.config import CONTRACTS_DIR

# The course's own schemas, byte-for-byte (contracts/course/README.md names their origin).
COURSE_CONTRACTS_DIR = CONTRACTS_DIR / "course"

TICKET = "ticket_v1"
SOURCE_MANIFEST = "source_manifest_v1"
# Run evidence is the course's contract itself, not a copy of ours.
RUN_EVIDENCE = "week06_run_evidence"
GATE_REPORT = "gate_report_v1"
BACKFILL_PLAN = "backfill_plan_v1"
BACKFILL_PARTITION = "backfill_partition_v1"
DELIVERY_SUMMARY = "delivery_summary_v1"

_FORMAT_CHECKER = Draft202012Validator.FORMAT_CHECKER


def _assert_formats_enforced() -> None:
    # jsonschema silently skips `date-time` when rfc3339-validator is absent; refuse to run then.
    if _FORMAT_CHECKER.conforms("yesterday", "date-time"):
        raise RuntimeError("jsonschema cannot enforce format 'date-time' here: install jsonschema[format-nongpl]")


def schema_path(name: str) -> Path:
    """Our contracts first (contracts/), then the course's (contracts/course/)."""
    own = CONTRACTS_DIR / f"{name}.schema.json"
    return own if own.exists() else COURSE_CONTRACTS_DIR / f"{name}.schema.json"


@cache
def load_schema(name: str) -> dict[str, Any]:
    with schema_path(name).open(encoding="utf-8") as handle:
        schema: dict[str, Any] = json.load(handle)
    return schema


@cache
def validator(name: str) -> Draft202012Validator:
    _assert_formats_enforced()
    schema = load_schema(name)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=_FORMAT_CHECKER)


def describe_error(error: ValidationError) -> str:
    """One short sentence naming the field and the rule it broke."""
    where = "/".join(str(p) for p in error.absolute_path) or "(record)"
    if error.validator == "required":
        return f"{where}: {error.message}"
    if error.validator == "additionalProperties":
        return f"{where}: {error.message}"
    return f"{where}: violates '{error.validator}' ({_short(error.message)})"


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


# Top-level keywords a schema may use for violation_errors to spare the descent into valid fields.
_PRUNABLE_KEYWORDS = frozenset(
    {"$schema", "$id", "title", "description", "type", "additionalProperties", "required", "properties"}
)
_SPARED: ContextVar[frozenset[str] | None] = ContextVar("spared_fields", default=None)


@cache
def _field_checks(name: str) -> dict[str, Callable[[Any], bool]] | None:
    """For a flat contract (only the keywords above at the top, no `$ref`): one compiled check per
    property, its `format` included. None for any other contract."""
    import jsonschema_rs

    schema = load_schema(name)
    if not set(schema) <= _PRUNABLE_KEYWORDS or '"$ref"' in json.dumps(schema):
        return None
    try:
        date_times = date_time_fields(name)
    except ValueError:  # a format below the top level, which the compiled checks leave out
        return None
    dialect = {"$schema": schema["$schema"]} if "$schema" in schema else {}
    checks: dict[str, Callable[[Any], bool]] = {}
    for field, sub in schema.get("properties", {}).items():
        if sub.get("format") not in (None, "date-time"):
            return None  # jsonschema-rs runs without formats: only date-time is checked beside it
        structural = jsonschema_rs.validator_for({**dialect, **sub}, validate_formats=False).is_valid
        checks[field] = _with_date_time(structural) if field in date_times else structural
    return checks


def _with_date_time(structural: Callable[[Any], bool]) -> Callable[[Any], bool]:
    def check(value: Any) -> bool:
        return structural(value) and (not isinstance(value, str) or _conforms_date_time(value))

    return check


@cache
def _sparing_validator(name: str) -> Draft202012Validator:
    """The reference validator whose top-level `properties` skips the fields named in _SPARED."""
    from jsonschema.validators import extend

    root = load_schema(name)
    descend_all = Draft202012Validator.VALIDATORS["properties"]

    def properties(validator: Any, properties: dict[str, Any], instance: Any, schema: Any) -> Any:
        spared = _SPARED.get()
        if spared and schema is root:
            properties = {field: sub for field, sub in properties.items() if field not in spared}
        return descend_all(validator, properties, instance, schema)

    cls = extend(Draft202012Validator, validators={"properties": properties})
    return cls(root, format_checker=_FORMAT_CHECKER)


def _meets(check: Callable[[Any], bool], value: Any) -> bool:
    try:
        return check(value)
    except ValueError:  # a value jsonschema-rs cannot take (a lone surrogate): jsonschema walks it
        return False


def violation_errors(name: str, instance: Any) -> list[ValidationError]:
    """jsonschema's own errors for `instance` under contract `name`, in jsonschema's order.

    jsonschema (pure Python) takes ~0.3 ms to walk every field of a ticket. The fields that meet
    their rule yield no error, so, for a flat contract, a compiled check per field finds them first
    and jsonschema walks only the others: the same errors, about ten times sooner.
    tests/unit/test_contract_differential.py compares the two walks on the whole corpus.
    """
    checks = _field_checks(name)
    if checks is None or not isinstance(instance, dict):
        return list(validator(name).iter_errors(instance))
    spared = frozenset(field for field, ok in checks.items() if field in instance and _meets(ok, instance[field]))
    token = _SPARED.set(spared)
    try:
        return list(_sparing_validator(name).iter_errors(instance))
    finally:
        _SPARED.reset(token)


def violations(name: str, instance: Any, limit: int = 5) -> list[str]:
    """Contract violations of `instance`, as short sentences, most relevant first."""
    errors = sorted(violation_errors(name, instance), key=lambda e: list(e.absolute_path))
    return [describe_error(e) for e in errors[:limit]]


class ContractViolation(ValueError):
    """A document this product produces breaks its own contract: a bug, never written or printed."""

    def __init__(self, code: str, name: str, problems: list[str]) -> None:
        super().__init__(f"{code}: the document breaks {name}: " + "; ".join(problems))
        self.code = code
        self.problems = problems


def require_valid(name: str, instance: Any, code: str) -> None:
    """Raise ContractViolation (with reason `code`) unless `instance` satisfies contract `name`."""
    problems = violations(name, instance)
    if problems:
        raise ContractViolation(code, name, problems)


def schema_names() -> list[str]:
    """Every contract of ours in contracts/, by name (`<name>.schema.json`)."""
    return sorted(p.name.removesuffix(".schema.json") for p in CONTRACTS_DIR.glob("*.schema.json"))


def course_schema_names() -> list[str]:
    """The course's contracts kept in contracts/course/ that are validated by name."""
    return sorted(p.name.removesuffix(".schema.json") for p in COURSE_CONTRACTS_DIR.glob("*.schema.json"))


# The same rule as jsonschema's `date-time` check (rfc3339-validator applied to the upper-cased
# text), spelt out once so the hot path skips the generic checker's dispatch; the differential
# test compares the two on the whole corpus and on crafted edge cases.
_RFC3339 = re.compile(
    r"(\d{4})-(0[1-9]|1[0-2])-(\d{2})T(?:[01]\d|2[0123]):[0-5]\d:[0-5]\d(?:\.\d+)?"
    r"(?:Z|[+-](?:[01]\d|2[0123]):[0-5]\d)$",
    re.ASCII,
)
_DAYS_IN_MONTH = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


@lru_cache(maxsize=4096)  # a file's timestamps fall on few days: the check is paid once per day
def _valid_day(text: str) -> bool:
    """Whether `YYYY-MM-DD` (already of the pattern's shape) names a day of the calendar."""
    year, month, day = int(text[:4]), int(text[5:7]), int(text[8:10])
    if not year:
        return False
    leap = month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    return 1 <= day <= _DAYS_IN_MONTH[month] + leap


def _conforms_date_time(value: str) -> bool:
    if not isinstance(value, str):
        return True
    upper = value.upper()
    if _RFC3339.match(upper) is None:
        return False
    return _valid_day(upper[:10])  # a match starts with the date, ten ASCII characters


def reference_conforms_date_time(value: str) -> bool:
    """jsonschema's own `date-time` check (the reference the fast one is held to)."""
    return bool(_FORMAT_CHECKER.conforms(value, "date-time"))


def _top_level_date_times(schema: dict[str, Any]) -> tuple[str, ...]:
    """The properties whose `format` is date-time; refuses schemas that put formats anywhere else."""
    fields = []
    for name, sub in schema.get("properties", {}).items():
        if sub.get("format") == "date-time":
            fields.append(name)
    nested = json.dumps({k: v for k, v in schema.items() if k != "properties"}) + "".join(
        json.dumps({k: v for k, v in sub.items() if k != "format"}) for sub in schema.get("properties", {}).values()
    )
    if '"format"' in nested:
        raise ValueError("fast_is_valid handles `format` on top-level properties only")
    return tuple(fields)


@cache
def fast_structural(name: str) -> Callable[[Any], bool]:
    """jsonschema-rs checking every keyword of contract `name` but `format` (see fast_is_valid)."""
    import jsonschema_rs

    validator(name)  # same preconditions as the reference validator (formats enforced)
    is_valid: Callable[[Any], bool] = jsonschema_rs.validator_for(load_schema(name), validate_formats=False).is_valid
    return is_valid


def date_time_fields(name: str) -> tuple[str, ...]:
    """The top-level properties of contract `name` whose `format` is date-time (the only place
    fast_is_valid allows a format)."""
    return _top_level_date_times(load_schema(name))


@cache
def fast_is_valid(name: str) -> Callable[[Any], bool]:
    """A compiled validator for the ingest hot path: jsonschema-rs (Rust, draft 2020-12), about 7x
    faster than fastjsonschema and 50x faster than jsonschema on a ticket.

    jsonschema stays the reference. jsonschema-rs checks every keyword but `format`; `date-time`
    is then checked by `_conforms_date_time`, jsonschema's own rule. tests/unit/
    test_contract_differential.py shows the two accept and reject exactly the same records on the
    whole test corpus. Error messages always come from jsonschema (`violations`).
    """
    structural = fast_structural(name)
    date_times = date_time_fields(name)
    conforms = _conforms_date_time

    def is_valid(instance: Any) -> bool:
        if not structural(instance):
            return False
        if date_times and isinstance(instance, dict):
            for field in date_times:
                value = instance.get(field)
                if isinstance(value, str) and not conforms(value):
                    return False
        return True

    return is_valid
