"""Turn one raw JSONL line into a loadable ticket version or a rejection with stable reason codes."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
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
    # In RECORD_COLUMNS order, ready for COPY: dates and timestamps as ISO 8601 text that
    # PostgreSQL reads as the same instant (cheaper to send than datetime objects).
    row: tuple[Any, ...]


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


# Timestamps PostgreSQL reads exactly as Python does: at most 6 fractional digits (more would be
# rounded there and truncated here), an upper-case T and an explicit offset. Others are re-written.
_PLAIN_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?(?:Z|[+-]\d\d:\d\d)", re.ASCII)


def _copy_timestamp(text: str | None, parsed: datetime | None) -> str | None:
    if parsed is None or text is None:
        return None
    # The contract already checked the RFC 3339 shape: the two common lengths need no regex.
    size = len(text)
    if text[10:11] == "T" and ((size == 20 and text[19] == "Z") or (size == 25 and text[19] in "+-")):
        return text
    return text if _PLAIN_TIMESTAMP.fullmatch(text) else parsed.isoformat()


# The contract's date-time fields, in the order _version reads them.
TIMESTAMP_FIELDS = ("created_at", "updated_at", "resolved_at", "sla_due_at")
GENERAL = object()  # plain_date_time: a value it leaves to the general path
BROKEN = object()  # plain_date_time: a plain-shaped text that breaks the date-time rule


def plain_date_time(value: Any) -> Any:
    """The contract's date-time check and the parse of a timestamp in one step, for the shape
    nearly every export writes (`_PLAIN_TIMESTAMP`: upper-case T, at most 6 fractional digits,
    an offset). Gives None for None, the aware datetime of a text that meets the rule, BROKEN for
    one that breaks it, and GENERAL for every other value (the general path decides those).

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
        return datetime.fromisoformat(value)
    except ValueError:
        return BROKEN


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")
# Columns that may hold any text. The others are safe as they are: patterns, enums, hex digests,
# ISO dates and numbers, and the canonical JSON, whose only possible special is the backslash.
_FREE_TEXT = frozenset(i for i, c in enumerate(RECORD_COLUMNS) if c in ("customer_id", "assignee_id"))
_PAYLOAD = RECORD_COLUMNS.index("payload")


def copy_field(value: Any) -> str:
    """One value in PostgreSQL's COPY text format (NULL is \\N; backslash, tab, newline, CR escaped)."""
    if value is None:
        return "\\N"
    return str(value).translate(_COPY_ESCAPES)


_N = "\\N"
_BACKSLASH, _TWO_BACKSLASHES = "\\", "\\\\"


def copy_text(row: tuple[Any, ...]) -> str:
    """A TicketVersion row as one line of COPY text (no newline), what psycopg's write_row sends.

    One f-string over the columns in RECORD_COLUMNS order (checked below): about 1 us a row less
    than a loop over them. Only the free-text columns and the payload can hold a special."""
    (fp, ticket, day, created, updated, resolved, due, status, priority, category, product, tier, customer,
     assignee, pii, gate, payload, line) = row  # fmt: skip
    # Escaping is rare: looking for a special first costs a tenth of translating every value.
    if customer is not None and _COPY_SPECIAL.search(customer) is not None:
        customer = customer.translate(_COPY_ESCAPES)
    if assignee is not None and _COPY_SPECIAL.search(assignee) is not None:
        assignee = assignee.translate(_COPY_ESCAPES)
    if _BACKSLASH in payload:
        payload = payload.replace(_BACKSLASH, _TWO_BACKSLASHES)
    return (
        f"{fp}\t{ticket}\t{day}\t{_N if created is None else created}\t{_N if updated is None else updated}\t"
        f"{_N if resolved is None else resolved}\t{_N if due is None else due}\t{_N if status is None else status}\t"
        f"{_N if priority is None else priority}\t{_N if category is None else category}\t"
        f"{_N if product is None else product}\t{_N if tier is None else tier}\t"
        f"{_N if customer is None else customer}\t"
        f"{_N if assignee is None else assignee}\t{_N if pii is None else pii}\t"
        f"{_N if gate is None else gate}\t{payload}\t{line}"
    )


if len(RECORD_COLUMNS) != 18 or _FREE_TEXT != {12, 13} or _PAYLOAD != 16:
    raise RuntimeError("copy_text names the columns of RECORD_COLUMNS in their order: update it with them")


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
        texts = tuple(map(record.get, TIMESTAMP_FIELDS))
        stamps = [plain_date_time(text) for text in texts]
        if GENERAL in stamps:
            return None
        if BROKEN in stamps:
            return self.contract_rejection(line_number, raw, record)
        if holds_nul(canonical_bytes):
            return self.reject(line_number, raw, *_NUL_REJECTION)
        try:  # in UTC, as the general path does: an instant past year 9999 or before year 1 fails here
            created_at, updated_at, resolved_at, sla_due_at = (
                None if stamp is None else stamp if stamp.tzinfo is UTC else stamp.astimezone(UTC) for stamp in stamps
            )
        except OverflowError as exc:
            return self.reject(line_number, raw, "invalid_timestamp", f"a timestamp cannot be stored: {exc}")
        assert created_at is not None  # required by the contract, checked above
        # A plain-shaped text is what PostgreSQL reads as the same instant: it is sent as it is.
        return self._build(line_number, raw, record, canonical_bytes, created_at, updated_at, texts)

    def _version(
        self,
        line_number: int,
        raw: bytes,
        record: dict[str, Any],
        canonical_bytes: bytes,
        timestamp: Callable[[str | None], datetime | None],
    ) -> TicketVersion | Rejection:
        try:
            created_at = timestamp(record["created_at"])
            updated_at = timestamp(record.get("updated_at"))
            resolved_at = timestamp(record.get("resolved_at"))
            sla_due_at = timestamp(record.get("sla_due_at"))
        except (ValueError, IndexError, OverflowError) as exc:
            return self.reject(line_number, raw, "invalid_timestamp", f"a timestamp cannot be stored: {exc}")
        assert created_at is not None
        texts = (
            _copy_timestamp(record["created_at"], created_at),
            _copy_timestamp(record.get("updated_at"), updated_at),
            _copy_timestamp(record.get("resolved_at"), resolved_at),
            _copy_timestamp(record.get("sla_due_at"), sla_due_at),
        )
        return self._build(line_number, raw, record, canonical_bytes, created_at, updated_at, texts)

    def _build(
        self,
        line_number: int,
        raw: bytes,
        record: dict[str, Any],
        canonical_bytes: bytes,
        created_at: datetime,
        updated_at: datetime | None,
        texts: tuple[str | None, ...],
    ) -> TicketVersion | Rejection:
        """The version of a valid record: its partition (checked against the bounds), fingerprint
        and COPY row; `texts` are its four timestamps as COPY sends them."""
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
        row = (
            fingerprint,
            record["ticket_id"],
            partition.isoformat(),
            *texts,
            record["status"],
            record["priority"],
            record.get("category"),
            record["product_line"],
            record.get("sla_tier"),
            record["customer_id"],
            record.get("assignee_id"),
            record["pii_level"],
            record["quality_gate"],
            canonical_bytes.decode("utf-8"),
            line_number,
        )
        return TicketVersion(line_number, fingerprint, partition, updated_at or created_at, row)
