"""Turn one raw JSONL line into a loadable ticket version or a rejection with stable reason codes."""

from __future__ import annotations

import hashlib
import json
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
from jsonschema.exceptions import ValidationError

from orchestration import contracts

EXCERPT_CHARS = 2000

# Columns of raw.ticket_events that a record fills (run anchors are added by the loader).
RECORD_COLUMNS = (
    "record_fingerprint",
    "ticket_id",
    "partition_date",
    "created_at",
    "updated_at",
    "resolved_at",
    "sla_due_at",
    "status",
    "priority",
    "category",
    "product_line",
    "sla_tier",
    "customer_id",
    "assignee_id",
    "pii_level",
    "quality_gate",
    "payload",
    "source_line",
)


@dataclass(frozen=True)
class Rejection:
    line_number: int
    codes: tuple[str, ...]
    detail: str
    excerpt: str
    raw_bytes: int


@dataclass(slots=True)  # not frozen: a frozen dataclass costs ~1 us more to build, once per line
class TicketVersion:
    line_number: int
    fingerprint: str
    partition_date: date
    version_at: datetime  # updated_at, else created_at: what the source's cursor advances on
    stamps: tuple[datetime | None, ...]  # TIMESTAMP_FIELDS in UTC
    record: dict[str, Any]
    canonical: bytes  # canonical_json, encoded: the payload

    @property
    def row(self) -> tuple[Any, ...]:
        """The values of RECORD_COLUMNS, in their order, as Python objects (what an INSERT binds)."""
        record = self.record
        return (
            self.fingerprint,
            record["ticket_id"],
            self.partition_date,
            *self.stamps,
            record["status"],
            record["priority"],
            record.get("category"),
            record["product_line"],
            record.get("sla_tier"),
            record["customer_id"],
            record.get("assignee_id"),
            record["pii_level"],
            record["quality_gate"],
            self.canonical.decode("utf-8"),
            self.line_number,
        )


def canonical_json(record: dict[str, Any]) -> str:
    """Sorted keys, no insignificant whitespace: the text whose sha256 is record_fingerprint."""
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def record_fingerprint(record: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(record).encode("utf-8")).hexdigest()


def _snake(keyword: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", keyword).lower()


# What PostgreSQL cannot store in text or jsonb: U+0000 and lone surrogates (not valid Unicode).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
FIELD_NAME_CHARS = 64  # a field name inside a reason code is cut to this many characters


def storable(text: str) -> str:
    """`text` with U+0000 and lone surrogates written as `\\uXXXX` escapes: whatever a line holds,
    what reaches the database from it (reason codes, details) can be stored."""
    if _UNSTORABLE.search(text) is None:
        return text
    return _UNSTORABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def code_field(name: str) -> str:
    """A field name from a line as it may appear inside a reason code: short, printable (control,
    format and unpaired surrogate characters written as `\\uXXXX`), so codes stay one clean token."""
    text = "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in name[:FIELD_NAME_CHARS])
    return text[:FIELD_NAME_CHARS]


def _violation_code(error: ValidationError, record: dict[str, Any]) -> str:
    """`contract_<rule>:<field>`: the JSON Schema keyword that failed and the top-level field it concerns."""
    rule = _snake(str(error.validator))
    if error.validator == "required":
        missing = [name for name in error.validator_value if name not in error.instance]
        field = missing[0] if missing else "(record)"
    elif error.validator == "additionalProperties" and not error.absolute_path:
        allowed = error.schema.get("properties", {})
        extra = sorted(name for name in record if name not in allowed)
        field = extra[0] if extra else "(record)"
    else:
        field = str(error.absolute_path[0]) if error.absolute_path else "(record)"
    # A field name comes from the line (an unexpected key): it is made storable and kept short.
    return f"contract_{rule}:{code_field(field)}"


def contract_rejection_codes(record: dict[str, Any], limit: int = 5) -> tuple[tuple[str, ...], str]:
    """Reason codes (most relevant first, no repeats) and a detail sentence for an invalid ticket."""
    found = contracts.violation_errors(contracts.TICKET, record)
    errors = sorted(found, key=lambda e: ([str(p) for p in e.absolute_path], str(e.validator)))
    codes = tuple(dict.fromkeys(_violation_code(e, record) for e in errors))
    detail = storable("; ".join(contracts.describe_error(e) for e in errors[:limit]))
    return (codes or ("contract_violation",)), detail


_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def holds_nul(canonical: bytes) -> bool:
    """Whether a string of this canonical JSON holds U+0000 (an escape, not a literal backslash-u)."""
    # A one-byte search runs as memchr, about five times faster on a ticket than a longer one:
    # most lines hold no backslash at all, hence no escape.
    return b"\\" in canonical and b"u0000" in canonical and _NUL_ESCAPE.search(canonical) is not None


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON")


class DuplicateKey(ValueError):
    """An object of the line names the same key twice: which value is meant is ambiguous."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    record = dict(pairs)
    if len(record) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise DuplicateKey(key)
            seen.add(key)
    return record


def parse_timestamp(value: str | None) -> datetime | None:
    """RFC 3339 text (Z or +00:00, with or without fractions) as an aware UTC datetime."""
    if value is None:
        return None
    text = value.strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    text = text[:10] + "T" + text[11:] if len(text) > 10 and text[10] in "tT " else text
    if "." in text:  # Python 3.11 takes at most 6 fractional digits; RFC 3339 allows more
        head, _, rest = text.partition(".")
        digits = len(rest) - len(rest.lstrip("0123456789"))
        text = f"{head}.{rest[: min(digits, 6)]}{rest[digits:]}"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise ValueError("timestamp without offset")
    return parsed.astimezone(UTC)


def fast_timestamp(value: str | None) -> datetime | None:
    """`parse_timestamp` for the common shapes (offset present), falling back to it for the rest."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return parse_timestamp(value)
    if parsed.tzinfo is None:
        raise ValueError("timestamp without offset")
    return parsed if parsed.tzinfo is UTC else parsed.astimezone(UTC)


# The shape nearly every export writes: an upper-case T, at most 6 fractional digits (what Python
# reads exactly) and an explicit offset.
_PLAIN_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?(?:Z|[+-]\d\d:\d\d)", re.ASCII)


# The contract's date-time fields, in the order _version reads them.
TIMESTAMP_FIELDS = ("created_at", "updated_at", "resolved_at", "sla_due_at")
GENERAL = object()  # plain_date_time: a value it leaves to the general path
BROKEN = object()  # plain_date_time: a plain-shaped text that breaks the date-time rule


def plain_date_time(value: Any) -> Any:
    """The contract's date-time check and the parse of a timestamp in one step, for the shape
    nearly every export writes (`_PLAIN_TIMESTAMP`: upper-case T, at most 6 fractional digits,
    an offset). Gives None for None, the instant in UTC of a text that meets the rule, BROKEN for
    one that breaks it, and GENERAL for every other value, an instant that cannot be put in UTC
    (before year 1 or past 9999) included: the general path decides those.

    On this shape `datetime.fromisoformat` checks exactly what the rule checks (a day of the
    calendar from year 1, hour 0-23, minute and second 0-59) except the offset's range, checked
    here. tests/unit/test_contract_differential.py holds it to jsonschema's own check on every
    combination of edge values of each part.
    """
    if value is None:
        return None
    if value.__class__ is not str or _PLAIN_TIMESTAMP.fullmatch(value) is None:
        return GENERAL
    if value[-1] != "Z" and (value[-5:-3] > "23" or value[-2:] > "59"):
        return BROKEN
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return BROKEN
    if parsed.tzinfo is UTC:  # Z, +00:00 and -00:00 all give the UTC singleton
        return parsed
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        return GENERAL


# PostgreSQL's binary COPY format (documented with the COPY command, "Binary Format"): a
# signature, a flags word and a header-extension length, then per tuple a 16-bit field count and
# each field as a 32-bit length (-1 for NULL) and its bytes, then a 16-bit -1. Each field is in
# its type's binary form: the text of a text column as UTF-8, a date as the days since
# 2000-01-01, a timestamptz as the microseconds since 2000-01-01 UTC, an integer big-endian, a
# jsonb as a version byte (1) and the JSON text. The server then reads no text format at all (no
# line splitting, no de-escaping, no timestamp parsing): about 4 us a row less of its CPU.
COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
COPY_TRAILER = b"\xff\xff"
_NULL = b"\xff\xff\xff\xff"
_JSONB_VERSION = b"\x01"
_LENGTH = struct.Struct(">i").pack
_INT4 = struct.Struct(">ii").pack  # length 4, value
_INT8 = struct.Struct(">iq").pack  # length 8, value
_FINGERPRINT_LENGTH = _LENGTH(64)  # a sha256 hex digest: always 64 ASCII characters
_PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_PG_EPOCH_DAY = _PG_EPOCH.date().toordinal()
_MICROSECOND = timedelta(microseconds=1)


def binary_field(value: str | datetime | None) -> bytes:
    """One field of a binary COPY tuple: a text (str), a timestamptz (aware datetime) or NULL."""
    if value is None:
        return _NULL
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise TypeError("a timestamptz needs an aware datetime")
        return _INT8(8, (value - _PG_EPOCH) // _MICROSECOND)
    if isinstance(value, str):
        encoded = value.encode("utf-8")
        return _LENGTH(len(encoded)) + encoded
    raise TypeError(f"no binary COPY form for {type(value).__name__}")


def binary_prefix(anchors: tuple[str | datetime | None, ...]) -> bytes:
    """The start of every binary tuple of one file: the field count (the anchors, then
    RECORD_COLUMNS) and the anchors, encoded once for the file."""
    return struct.pack(">h", len(anchors) + len(RECORD_COLUMNS)) + b"".join(map(binary_field, anchors))


_SHORT: dict[str | None, bytes] = {}
_SHORT_LIMIT = 1024


def _short(value: str | None) -> bytes:
    """binary_field of a value drawn from a short list (the contract's enums), kept once encoded;
    whatever the values, the cache stops growing at _SHORT_LIMIT."""
    encoded = binary_field(value)
    if len(_SHORT) < _SHORT_LIMIT:
        _SHORT[value] = encoded
    return encoded


_known = _SHORT.get


def copy_binary(version: TicketVersion, prefix: bytes) -> bytes:
    """A version as one tuple of binary COPY after `prefix` (binary_prefix of the file's anchors):
    the fields of RECORD_COLUMNS, in their order (checked below). Written out in full, no helper
    calls: this runs once per row, and each call costs about 0.05 us."""
    record = version.record
    get = record.get
    ticket = record["ticket_id"].encode("utf-8")
    customer = record["customer_id"].encode("utf-8")
    assignee = get("assignee_id")
    status, priority, category = record["status"], record["priority"], get("category")
    product, tier, pii, gate = record["product_line"], get("sla_tier"), record["pii_level"], record["quality_gate"]
    created, updated, resolved, due = version.stamps
    canonical = version.canonical
    return b"".join(
        (
            prefix,
            _FINGERPRINT_LENGTH,
            version.fingerprint.encode("ascii"),
            _LENGTH(len(ticket)),
            ticket,
            _INT4(4, version.partition_date.toordinal() - _PG_EPOCH_DAY),
            _INT8(8, (created - _PG_EPOCH) // _MICROSECOND),  # type: ignore[operator]  # required
            _NULL if updated is None else _INT8(8, (updated - _PG_EPOCH) // _MICROSECOND),
            _NULL if resolved is None else _INT8(8, (resolved - _PG_EPOCH) // _MICROSECOND),
            _NULL if due is None else _INT8(8, (due - _PG_EPOCH) // _MICROSECOND),
            _known(status) or _short(status),
            _known(priority) or _short(priority),
            _known(category) or _short(category),
            _known(product) or _short(product),
            _known(tier) or _short(tier),
            _LENGTH(len(customer)),
            customer,
            _NULL if assignee is None else binary_field(assignee),
            _known(pii) or _short(pii),
            _known(gate) or _short(gate),
            _LENGTH(len(canonical) + 1),
            _JSONB_VERSION,
            canonical,
            _INT4(4, version.line_number),
        )
    )


if RECORD_COLUMNS != (
    "record_fingerprint", "ticket_id", "partition_date", *("created_at", "updated_at", "resolved_at", "sla_due_at"),
    "status", "priority", "category", "product_line", "sla_tier", "customer_id", "assignee_id", "pii_level",
    "quality_gate", "payload", "source_line",
):  # fmt: skip
    raise RuntimeError("copy_binary writes the columns of RECORD_COLUMNS in their order: update it with them")


def _excerpt(raw: bytes) -> str:
    text = raw[: EXCERPT_CHARS * 4].decode("utf-8", errors="replace").replace("\x00", "\\u0000")
    return text[:EXCERPT_CHARS]


_NUL_REJECTION = ("nul_character", "a string holds U+0000, which PostgreSQL cannot store")


class RecordParser:
    """Parses lines of one file; partition bounds are inclusive dates."""

    def __init__(self, first_partition: date, last_partition: date) -> None:
        self.first_partition = first_partition
        self.last_partition = last_partition
        self._is_valid = contracts.fast_is_valid(contracts.TICKET)
        self._structural = contracts.fast_structural(contracts.TICKET)
        # The plain path checks the date-time format while parsing the timestamps: it applies
        # when the contract's date-time fields are exactly the timestamps a version is built from.
        self._plain = set(contracts.date_time_fields(contracts.TICKET)) == set(TIMESTAMP_FIELDS)

    def reject(self, line_number: int, raw: bytes, code: str, detail: str, raw_bytes: int | None = None) -> Rejection:
        size = raw_bytes if raw_bytes is not None else len(raw)
        return Rejection(line_number, (code,), storable(detail), _excerpt(raw), size)

    def contract_rejection(self, line_number: int, raw: bytes, record: dict[str, Any]) -> Rejection:
        codes, detail = contract_rejection_codes(record)
        return Rejection(line_number, codes, detail, _excerpt(raw), len(raw))

    def parse(self, line_number: int, raw: bytes) -> TicketVersion | Rejection:
        """The hot path: orjson for decoding and the canonical form, the compiled validator.

        Anything unusual (undecodable, malformed, not an object, lone surrogates, a key that may
        be repeated) goes through `parse_reference`, so the outcome is exactly the reference's; a
        differential test in tests/unit/test_records.py holds the two paths to the same answers.
        """
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return self.parse_reference(line_number, raw)
        if type(record) is not dict:
            return self.parse_reference(line_number, raw)
        canonical_bytes = orjson.dumps(record, option=orjson.OPT_SORT_KEYS)
        # orjson keeps the last of repeated keys silently. Every key/value colon of the line is in
        # the canonical form once per kept pair, and a dropped pair takes at least its own colon
        # with it; so equal colon counts mean no repeated key, unless a colon hides in a \u003a
        # escape (then the reference decides).
        if raw.count(b":") != canonical_bytes.count(b":") or (b"\\" in raw and b"\\u003" in raw):
            return self.parse_reference(line_number, raw)
        if self._plain and self._structural(record):
            outcome = self._plain_version(line_number, raw, record, canonical_bytes)
            if outcome is not None:
                return outcome
        if not self._is_valid(record):
            return self.contract_rejection(line_number, raw, record)
        if holds_nul(canonical_bytes):
            return self.reject(line_number, raw, *_NUL_REJECTION)
        return self._version(line_number, raw, record, canonical_bytes, fast_timestamp)

    def parse_reference(self, line_number: int, raw: bytes) -> TicketVersion | Rejection:
        """The reference path: the standard library's json and jsonschema, every rule spelt out."""
        if not raw.strip():
            return self.reject(line_number, raw, "blank_line", "the line is empty")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            return self.reject(line_number, raw, "undecodable_bytes", f"not UTF-8 at byte {exc.start}")
        try:
            record = json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_unique_keys)
        except DuplicateKey as exc:
            key = storable(str(exc)[:FIELD_NAME_CHARS])[:FIELD_NAME_CHARS]
            return self.reject(line_number, raw, "duplicate_key", f"an object names the key {key!r} twice")
        except (json.JSONDecodeError, ValueError, RecursionError) as exc:
            return self.reject(line_number, raw, "malformed_json", f"not JSON: {str(exc)[:200]}")
        if not isinstance(record, dict):
            return self.reject(
                line_number, raw, "not_an_object", f"a record is a JSON object, got {type(record).__name__}"
            )
        if not contracts.validator(contracts.TICKET).is_valid(record):
            return self.contract_rejection(line_number, raw, record)
        canonical = canonical_json(record)
        if holds_nul(canonical.encode("utf-8", "surrogatepass")):
            return self.reject(line_number, raw, *_NUL_REJECTION)
        try:
            canonical_bytes = canonical.encode("utf-8")
        except UnicodeEncodeError:
            return self.reject(line_number, raw, "invalid_unicode", "a string holds a lone surrogate escape")
        return self._version(line_number, raw, record, canonical_bytes, parse_timestamp)

    def _plain_version(
        self, line_number: int, raw: bytes, record: dict[str, Any], canonical_bytes: bytes
    ) -> TicketVersion | Rejection | None:
        """`parse` from the contract's date-time check on, for a record that passed every other
        rule and whose timestamps all have the plain shape (else None: the general path decides).
        Same outcome as the general path, in one pass over the timestamps."""
        stamps = tuple(map(plain_date_time, map(record.get, TIMESTAMP_FIELDS)))
        if GENERAL in stamps:
            return None
        if BROKEN in stamps:
            return self.contract_rejection(line_number, raw, record)
        if holds_nul(canonical_bytes):
            return self.reject(line_number, raw, *_NUL_REJECTION)
        return self._build(line_number, raw, record, canonical_bytes, stamps)

    def _version(
        self,
        line_number: int,
        raw: bytes,
        record: dict[str, Any],
        canonical_bytes: bytes,
        timestamp: Callable[[str | None], datetime | None],
    ) -> TicketVersion | Rejection:
        try:
            stamps = tuple(timestamp(record.get(name)) for name in TIMESTAMP_FIELDS)
        except (ValueError, IndexError, OverflowError) as exc:
            return self.reject(line_number, raw, "invalid_timestamp", f"a timestamp cannot be stored: {exc}")
        return self._build(line_number, raw, record, canonical_bytes, stamps)

    def _build(
        self,
        line_number: int,
        raw: bytes,
        record: dict[str, Any],
        canonical_bytes: bytes,
        stamps: tuple[datetime | None, ...],
    ) -> TicketVersion | Rejection:
        """The version of a valid record: its partition (checked against the bounds) and
        fingerprint; `stamps` are its TIMESTAMP_FIELDS in UTC."""
        created_at, updated_at = stamps[0], stamps[1]
        assert created_at is not None  # required by the contract, checked before
        partition = created_at.date()
        if not (self.first_partition <= partition <= self.last_partition):
            return self.reject(
                line_number,
                raw,
                "partition_out_of_range",
                f"created_at {record['created_at']} falls on {partition}, outside "
                f"{self.first_partition}..{self.last_partition}",
            )
        fingerprint = hashlib.sha256(canonical_bytes).hexdigest()
        return TicketVersion(
            line_number, fingerprint, partition, updated_at or created_at, stamps, record, canonical_bytes
        )
