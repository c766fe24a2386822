"""Lines broken on purpose: each kind of invalid line the ingest must reject with its reason."""

from __future__ import annotations

import json
import random
from typing import Any

from orchestration.generate.catalogue import _ENCODER

INVALID_KINDS = (
    "missing_required",
    "bad_enum",
    "bad_datetime",
    "bad_ticket_id",
    "unexpected_field",
    "malformed_json",
    "wrong_type",
)

# --- Invalid lines ---------------------------------------------------------------------------


def _missing_required(record: dict[str, Any], rng: random.Random) -> None:
    del record[rng.choice(("priority", "priority", "customer_id", "status", "created_at", "owner"))]


def _bad_enum(record: dict[str, Any], rng: random.Random) -> None:
    name, value = rng.choice(
        (
            ("status", "reopened"),
            ("priority", "urgent"),
            ("product_line", "northstar_cloud"),
            ("sla_tier", "gold"),
            ("pii_level", "medium"),
            ("quality_gate", "skipped"),
        )
    )
    record[name] = value


def _bad_datetime(record: dict[str, Any], rng: random.Random) -> None:
    name, value = rng.choice(
        (
            ("created_at", "yesterday"),
            ("created_at", record["created_at"][:10]),
            ("updated_at", "17/04/2026 14:05"),
            ("updated_at", record["created_at"][:11] + "25:61:00Z"),
            ("created_at", record["created_at"][:19]),  # offset lost in a naive export
        )
    )
    record[name] = value


def _bad_ticket_id(record: dict[str, Any], rng: random.Random) -> None:
    ticket_id = record["ticket_id"]
    record["ticket_id"] = rng.choice(
        (
            ticket_id.lower(),
            ticket_id[:-2],
            ticket_id.replace("TKT-", "TICKET-"),
            ticket_id.replace("-", "_"),
        )
    )


def _unexpected_field(record: dict[str, Any], rng: random.Random) -> None:
    name, value = rng.choice(
        (
            ("sentiment", "negative"),
            ("internal_note", "customer called twice"),
            ("csat_score", 2),
        )
    )
    record[name] = value


def _wrong_type(record: dict[str, Any], rng: random.Random) -> None:
    name, value = rng.choice(
        (
            ("pii_redacted", "yes"),
            ("error_codes", ",".join(record["error_codes"])),
            ("tags", None),
            ("customer_id", 40213),
            ("subject", ["split", "subject"]),
        )
    )
    record[name] = value


_CORRUPTIONS = {
    "missing_required": _missing_required,
    "bad_enum": _bad_enum,
    "bad_datetime": _bad_datetime,
    "bad_ticket_id": _bad_ticket_id,
    "unexpected_field": _unexpected_field,
    "wrong_type": _wrong_type,
}


def _corrupt(line: str, kind: str, rng: random.Random) -> str:
    """A broken rendering of a valid line that fails JSON parsing or the ticket_v1 contract."""
    if kind == "malformed_json":
        return line[: rng.randrange(len(line) // 3, len(line) - 1)]  # a proper prefix never closes the object
    record = json.loads(line)
    _CORRUPTIONS[kind](record, rng)
    return _ENCODER.encode(record)
