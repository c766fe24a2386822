"""Deterministic, streaming generator of daily OmniSupport ticket_v1 exports and their source_manifest_v1 manifests."""

from __future__ import annotations

import hashlib
import heapq
import json
import math
import os
import random
from bisect import bisect_right
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from types import TracebackType
from typing import Any, Generic, NamedTuple, TypeVar

from orchestration.fileio import write_text_atomic
from orchestration.gate.manifest_gate import DEFAULT_POLICY

T = TypeVar("T")

SOURCE_ID = "structured:tickets:northstar_daily_export"
TICKET_CONTRACT_REF = "omni://contracts/data/ticket/v1"
TICKET_OWNER = "support-ops"
MANIFEST_OWNER = "data-platform"
FIRST_SEQUENCE = 100001  # clear of the course's small ticket numbers (000001..000500)
MAX_TICKETS_PER_DAY = 999_999 - FIRST_SEQUENCE + 1  # ticket_id has six sequence digits
LATE_HORIZON_DAYS = 7  # a late update lands 1..7 days after the ticket was created

INVALID_KINDS = (
    "missing_required",
    "bad_enum",
    "bad_datetime",
    "bad_ticket_id",
    "unexpected_field",
    "malformed_json",
    "wrong_type",
)

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

SECOND_US = 1_000_000
MINUTE_US = 60 * SECOND_US
HOUR_US = 60 * MINUTE_US
DAY_US = 24 * HOUR_US
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_MIN_VERSION_GAP_US = MINUTE_US  # versions of a ticket are at least a minute apart, even after flooring
_CHUNK_LINES = 512
_DUPLICATE_WINDOW = 1024  # lines per batch a redelivery may be drawn from (this batch and the previous)

_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
_SLOT = "<<version-field>>"  # stands for a per-version value; catalogue text never contains it
_ENCODED_SLOT = _ENCODER.encode(_SLOT)


# --- Catalogue -------------------------------------------------------------------------------


class _Weighted(Generic[T]):
    """A weighted choice that costs one `random()` and a bisect (random.choices is several times slower)."""

    __slots__ = ("values", "cumulative", "total")

    def __init__(self, pairs: Sequence[tuple[T, float]]) -> None:
        # The last value is repeated: `random() * total` may round up to `total` itself.
        self.values = [value for value, _ in pairs] + [pairs[-1][0]]
        self.cumulative: list[float] = []
        running = 0.0
        for _, weight in pairs:
            running += weight
            self.cumulative.append(running)
        self.total = running

    def pick(self, rng: random.Random) -> T:
        return self.values[bisect_right(self.cumulative, rng.random() * self.total)]


def _choose(rng: random.Random, options: Sequence[T]) -> T:
    """Uniform choice; cheaper than `Random.choice`, exact for short sequences (random() < 1)."""
    return options[int(rng.random() * len(options))]


@dataclass(frozen=True)
class _Product:
    name: str
    short: str
    versions: tuple[str, ...]
    error_codes: tuple[str, ...]


PRODUCTS: dict[str, _Product] = {
    "northstar_workspace": _Product(
        "Northstar Workspace",
        "ws",
        ("2.9.1", "3.0.2", "3.1.5", "3.2.0"),
        ("WS-AUTH-001", "WS-PERM-002", "WS-SYNC-003", "WS-API-404", "WS-WEBHOOK-005", "WS-QUOTA-006"),
    ),
    "northstar_edge_gateway": _Product(
        "Northstar Edge Gateway",
        "eg",
        ("FW-2.2.5", "FW-2.3.0", "FW-2.4.1"),
        ("EG-CONN-001", "EG-FW-002", "EG-SENSOR-003", "EG-BOOT-004", "EG-CERT-005", "EG-TEMP-006"),
    ),
    "northstar_studio": _Product(
        "Northstar Studio",
        "st",
        ("1.3.8", "1.4.2", "1.5.0"),
        ("ST-FLOW-001", "ST-EXEC-002", "ST-MONITOR-003", "ST-INTEG-004", "ST-SCHED-005"),
    ),
}
_PRODUCT_LINES = _Weighted([("northstar_workspace", 35), ("northstar_edge_gateway", 36), ("northstar_studio", 29)])

# Subjects by category; {product}, {code} and {version} are filled from the ticket.
SUBJECTS: dict[str, tuple[str, ...]] = {
    "installation": (
        "Installation fails at step 3 with error {code}",
        "Silent install returns exit code 1",
        "Installer hangs while verifying the license key",
        "Upgrade to {version} rolls back after reboot",
        "Cannot complete setup after factory reset",
    ),
    "configuration": (
        "SSO configuration not applied after update",
        "Custom webhook endpoint not receiving events",
        "Rate limit configuration not applied correctly",
        "Proxy settings reset after every restart",
        "Role mapping from IdP groups is ignored",
    ),
    "connectivity": (
        "Device unreachable after network change ({code})",
        "VPN tunnel cannot be established to the {product} gateway",
        "WebSocket connection drops every 30 minutes",
        "Intermittent timeouts calling the {product} API",
    ),
    "authentication": (
        "LDAP-synced users cannot log in \u2014 {code}",
        "Service account token expired and rotation fails",
        "MFA device removed but account still requires it",
        "SAML assertion rejected because of clock skew",
    ),
    "billing": (
        "Question about {product} pricing for additional seats",
        "Invoice lists seats that were removed last month",
        "Card payment declined on annual renewal",
        "Need our VAT number printed on invoices",
    ),
    "feature_request": (
        "Schedule dashboard exports to PDF",
        "Allow bulk reassignment of devices between sites",
        "Stream audit log events to our SIEM",
        "Expose custom fields in {product} API responses",
    ),
    "bug_report": (
        "{code} thrown on empty data export",
        "Scheduled job runs twice in some timezones",
        "UI freezes when filtering more than 500 results",
        "Sort order lost after page refresh in {product}",
    ),
    "documentation": (
        "Documentation unclear for advanced {product} setup",
        "API reference is missing pagination parameters",
        "Upgrade guide to {version} skips a migration step",
    ),
    "performance": (
        "Query latency increased 5x after the {version} upgrade",
        "Dashboard load time exceeds 30 seconds",
        "Memory leak in the background sync process",
        "High CPU usage after upgrading to {version}",
    ),
    "security": (
        "Suspicious login attempts from unknown IPs",
        "Audit log shows a privilege escalation attempt",
        "Certificate validation bypass in API client",
        "Request for the latest penetration test report",
    ),
    "other": (
        "Need help migrating data from a legacy system",
        "Question about data retention for closed accounts",
        "Please update the billing contact for our account",
    ),
}
_CATEGORIES = _Weighted(
    [
        ("feature_request", 67),
        ("billing", 53),
        ("installation", 50),
        ("security", 48),
        ("documentation", 47),
        ("authentication", 44),
        ("performance", 42),
        ("configuration", 41),
        ("other", 39),
        ("connectivity", 37),
        ("bug_report", 32),
    ]
)
# Categories whose tickets usually quote product error codes.
_TECHNICAL = frozenset(
    {
        "installation",
        "configuration",
        "connectivity",
        "authentication",
        "bug_report",
        "performance",
        "security",
    }
)
_DETAILS = (
    "Started after the last maintenance window.",
    "Affects every user in the EU region.",
    "Restarting the service helps for a few hours.",
    "This blocks a production rollout planned for next week.",
    "Seen on 3 of 12 sites so far.",
    "Reproducible on a clean test environment.",
    "No recent changes on the customer side.",
)
# What the description says about the reporter: (sentence, pii_level, pii_redacted).
_REPORTER_NOTES = _Weighted(
    [
        (("", "none", False), 25),
        ((" Reported by [REDACTED_NAME] from the IT team.", "low", True), 40),
        ((" Reported by the account's IT administrator.", "low", False), 20),
        ((" Reporter contact: [REDACTED_EMAIL], [REDACTED_PHONE].", "high", True), 15),
    ]
)
_ATTACHMENT_COUNTS = (0, 0, 0, 0, 1, 2)  # screenshots or logs on a third of the tickets

_PRIORITIES = _Weighted([("p1_critical", 7), ("p2_high", 13), ("p3_medium", 50), ("p4_low", 30)])
_SLA_TIERS = _Weighted([("standard", 45), ("professional", 34), ("enterprise", 13), ("free", 8)])
# Resolution target in hours by support tier and priority; free tier has no target below p2.
SLA_HOURS: dict[str, dict[str, int | None]] = {
    "enterprise": {"p1_critical": 2, "p2_high": 4, "p3_medium": 8, "p4_low": 24},
    "professional": {"p1_critical": 4, "p2_high": 8, "p3_medium": 24, "p4_low": 48},
    "standard": {"p1_critical": 8, "p2_high": 24, "p3_medium": 48, "p4_low": 72},
    "free": {"p1_critical": 24, "p2_high": 72, "p3_medium": None, "p4_low": None},
}
# Mean time between two updates of a ticket: urgent tickets move faster.
_MEAN_GAP_US = {"p1_critical": 45 * MINUTE_US, "p2_high": 2 * HOUR_US, "p3_medium": 4 * HOUR_US, "p4_low": 6 * HOUR_US}

_VERSION_COUNTS = _Weighted([(1, 25), (2, 35), (3, 25), (4, 15)])
_FIRST_STATUS = _Weighted([("open", 92), ("in_progress", 8)])  # in_progress: logged by an agent on a call
# Next status of a ticket; a resolved ticket is sometimes reopened (back to in_progress).
_TRANSITIONS: dict[str, _Weighted[str]] = {
    "open": _Weighted([("in_progress", 62), ("pending", 14), ("escalated", 9), ("resolved", 15)]),
    "in_progress": _Weighted([("pending", 30), ("resolved", 55), ("escalated", 15)]),
    "pending": _Weighted([("in_progress", 45), ("resolved", 55)]),
    "escalated": _Weighted([("in_progress", 55), ("resolved", 45)]),
    "resolved": _Weighted([("closed", 80), ("in_progress", 20)]),
}
_DONE = frozenset({"resolved", "closed"})
_LATE_OFFSETS = _Weighted([(1, 35), (2, 20), (3, 15), (4, 10), (5, 8), (6, 7), (7, 5)])
# Relative ticket volume per UTC hour: a global customer base with a European/American working day.
_HOURLY_LOAD = (2, 2, 2, 2, 3, 4, 6, 8, 9, 10, 10, 10, 9, 9, 10, 10, 9, 8, 6, 5, 4, 3, 3, 2)

_COMPANY_FIRST = (
    "Apex",
    "Summit",
    "Cobalt",
    "Zenith",
    "Pinnacle",
    "Horizon",
    "Nova",
    "Meridian",
    "Prism",
    "Vertex",
    "Crest",
    "Acme",
    "Harbor",
    "Juniper",
    "Granite",
    "Silverline",
    "Bluefin",
    "Ironwood",
    "Lumen",
    "Northgate",
)
_COMPANY_SECOND = (
    "Solutions",
    "Analytics",
    "Engineering",
    "Industries",
    "Ops",
    "Networks",
    "Systems",
    "Tech",
    "Data",
    "Cloud",
    "Digital",
    "Logistics",
    "Health",
    "Retail",
    "Energy",
)
_ORG_COUNT = 240
_CONTACTS_BY_TIER = {"enterprise": (10, 40), "professional": (4, 15), "standard": (2, 8), "free": (1, 2)}
_AGENTS = {line: tuple(f"agent-{product.short}-{i:02d}" for i in range(1, 25)) for line, product in PRODUCTS.items()}
_ESCALATION_AGENTS = tuple(f"agent-l2-{i:02d}" for i in range(1, 9))


# --- Time ------------------------------------------------------------------------------------


def _day_start_us(day: date) -> int:
    return (day.toordinal() - _EPOCH_ORDINAL) * DAY_US


@lru_cache(maxsize=4096)
def _date_text(day_index: int) -> str:
    return date.fromordinal(_EPOCH_ORDINAL + day_index).isoformat() + "T"


@lru_cache(maxsize=4096)
def _compact_date(day: date) -> str:
    return day.strftime("%Y%m%d")


@lru_cache(maxsize=86_400)
def _clock_text(second_of_day: int) -> str:
    hours, rest = divmod(second_of_day, 3600)
    return f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"


def _format_ts(us: int, micro: bool) -> str:
    """RFC 3339 text as exporters write it: `...Z` to the second, or `...ffffff+00:00`."""
    day_index, rest = divmod(us, DAY_US)
    second, fraction = divmod(rest, SECOND_US)
    stamp = _date_text(day_index) + _clock_text(second)
    return f"{stamp}.{fraction:06d}+00:00" if micro else stamp + "Z"


def _iso_z(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _build_load_curve() -> list[float]:
    total = sum(_HOURLY_LOAD)
    curve, running = [0.0], 0.0
    for load in _HOURLY_LOAD:
        running += load / total
        curve.append(running)
    curve[-1] = 1.0
    return curve


_LOAD_CURVE = _build_load_curve()


def _offset_in_day_us(fraction: float) -> int:
    """Map a position in the day's ticket sequence to a time of day, following the hourly load."""
    hour = min(bisect_right(_LOAD_CURVE, fraction) - 1, 23)
    low, high = _LOAD_CURVE[hour], _LOAD_CURVE[hour + 1]
    return int((hour + (fraction - low) / (high - low)) * HOUR_US)


# --- Customers -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Org:
    org_id: str
    company: str
    sla_tier: str
    home_product: str
    contacts: tuple[str, ...]


class _Directory:
    """The seed's customer organisations; a fixed, small table whatever the run length."""

    def __init__(self, seed: int) -> None:
        rng = random.Random(f"{seed}:orgs")
        names = [f"{first} {second}" for first in _COMPANY_FIRST for second in _COMPANY_SECOND]
        self.orgs: list[_Org] = []
        for company in rng.sample(names, _ORG_COUNT):
            tier = _SLA_TIERS.pick(rng)
            low, high = _CONTACTS_BY_TIER[tier]
            contacts = tuple(f"cust-{rng.getrandbits(64):016x}" for _ in range(rng.randint(low, high)))
            org_id = f"org-{rng.getrandbits(64):016x}"
            self.orgs.append(_Org(org_id, company, tier, _PRODUCT_LINES.pick(rng), contacts))
        # A few large customers file most tickets (Zipf-like).
        self.by_volume = _Weighted([(org, 1.0 / (rank + 3)) for rank, org in enumerate(self.orgs)])


# --- Ticket lifecycle ------------------------------------------------------------------------


class _Version(NamedTuple):
    updated_us: int
    status: str
    assignee_id: str | None
    resolved_us: int | None


class _Ticket(NamedTuple):
    ticket_id: str
    micro: bool  # timestamp style of this ticket's exporter path
    segments: tuple[str, ...]  # the encoded record around the five fields that change between versions
    versions: tuple[_Version, ...]


def _late_offsets(seed: int, created: date, tickets_per_day: int, late_rate: float) -> dict[int, int]:
    """Which sequence numbers of a creation day get late updates, and how many days later the last one lands.

    Drawn per day, not per ticket, so a batch finds the few late tickets of the previous week
    without rebuilding every ticket of those days.
    """
    rng = random.Random(f"{seed}:late:{created.isoformat()}")
    count = round(tickets_per_day * late_rate)
    chosen = sorted(rng.sample(range(tickets_per_day), count))
    return {index: _LATE_OFFSETS.pick(rng) for index in chosen}


def _describe(rng: random.Random, org: _Org, product: _Product, category: str) -> tuple[str, list[str], str, str]:
    version = _choose(rng, product.versions)
    codes: list[str] = []
    if category in _TECHNICAL and rng.random() < 0.85:
        codes = [_choose(rng, product.error_codes)]
        if rng.random() < 0.45:
            second = _choose(rng, product.error_codes)
            if second != codes[0]:
                codes.append(second)
    template = _choose(rng, SUBJECTS[category])
    if "{code}" in template and not codes:
        codes = [_choose(rng, product.error_codes)]
    subject = template.format(product=product.name, code=codes[0] if codes else "", version=version)
    description = f"Customer from {org.company} reports: {subject}. Affecting {product.name} {version}."
    if rng.random() < 0.6:
        description += " " + _choose(rng, _DETAILS)
    return subject, codes, version, description


def _timeline(
    rng: random.Random, created_us: int, priority: str, count: int, late_offset: int | None, grain: int
) -> list[int]:
    """Update times of a ticket; all on its creation day unless it is late."""
    day_end = created_us - created_us % DAY_US + DAY_US
    if late_offset is None:
        times = [created_us]
        for _ in range(count - 1):
            gap = max(_MIN_VERSION_GAP_US, int(rng.expovariate(1.0) * _MEAN_GAP_US[priority]))
            moment = times[-1] + gap
            moment -= moment % grain
            if moment >= day_end:  # whatever happens later is not in this ticket's story
                break
            times.append(moment)
        return times
    last = day_end + (late_offset - 1) * DAY_US + rng.randrange(10 * MINUTE_US, DAY_US - SECOND_US)
    last -= last % grain
    middle = sorted(rng.randrange(created_us, last) for _ in range(count - 2))
    times = [created_us]
    for moment in middle:
        moment -= moment % grain
        if moment - times[-1] >= _MIN_VERSION_GAP_US and last - moment >= _MIN_VERSION_GAP_US:
            times.append(moment)
    times.append(last)
    return times


def _statuses(rng: random.Random, count: int) -> list[str]:
    statuses = [_FIRST_STATUS.pick(rng)]
    while len(statuses) < count and statuses[-1] != "closed":
        statuses.append(_TRANSITIONS[statuses[-1]].pick(rng))
    return statuses


def _versions(rng: random.Random, product_line: str, statuses: list[str], times: list[int]) -> tuple[_Version, ...]:
    versions: list[_Version] = []
    assignee: str | None = None
    resolved_us: int | None = None
    for status, moment in zip(statuses, times, strict=False):
        if status != "open" and assignee is None:
            assignee = _choose(rng, _AGENTS[product_line])
        if status == "escalated" and rng.random() < 0.6:
            assignee = _choose(rng, _ESCALATION_AGENTS)
        if status in _DONE:
            resolved_us = moment if resolved_us is None else resolved_us
        else:
            resolved_us = None  # reopened tickets lose their resolution time
        versions.append(_Version(moment, status, assignee, resolved_us))
    return tuple(versions)


def _build_ticket(
    seed: int, created: date, index: int, tickets_per_day: int, late_offset: int | None, directory: _Directory
) -> _Ticket:
    """One ticket's whole life, rebuilt identically from (seed, ticket_id) whenever a batch needs it."""
    ticket_id = f"TKT-{_compact_date(created)}-{FIRST_SEQUENCE + index:06d}"
    rng = random.Random(f"{seed}:{ticket_id}")
    micro = rng.random() < 0.25
    grain = 1 if micro else SECOND_US
    created_us = _day_start_us(created) + _offset_in_day_us((index + rng.random()) / tickets_per_day)
    created_us -= created_us % grain

    org = directory.by_volume.pick(rng)
    product_line = org.home_product if rng.random() < 0.75 else _PRODUCT_LINES.pick(rng)
    product = PRODUCTS[product_line]
    category = _CATEGORIES.pick(rng)
    priority = _PRIORITIES.pick(rng)
    subject, codes, version, description = _describe(rng, org, product, category)
    note, pii_level, redacted = _REPORTER_NOTES.pick(rng)
    sla_hours = SLA_HOURS[org.sla_tier][priority]
    attachments = _choose(rng, _ATTACHMENT_COUNTS)
    assets = [f"asset-{product.short}-{int(rng.random() * 1_000_000):06d}" for _ in range(attachments)]
    quality_gate = "warn" if rng.random() < 0.03 else "pass"
    tags = [product_line, category, priority]
    if org.sla_tier == "enterprise":
        tags.append("enterprise")
    if assets:
        tags.append("has-attachment")

    base: dict[str, Any] = {
        "ticket_id": ticket_id,
        "schema_version": "ticket_v1",
        "source_id": SOURCE_ID,
        "ingest_batch_id": _SLOT,
        "customer_id": _choose(rng, org.contacts),
        "org_id": org.org_id,
        "status": _SLOT,
        "priority": priority,
        "category": category,
        "product_line": product_line,
        "product_version": version,
        "subject": subject,
        "description": description + note,
        "error_codes": codes,
        "asset_ids": assets,
        "assignee_id": _SLOT,
        "sla_tier": org.sla_tier,
        "sla_due_at": None if sla_hours is None else _format_ts(created_us + sla_hours * HOUR_US, micro),
        "created_at": _format_ts(created_us, micro),
        "updated_at": _SLOT,
        "resolved_at": _SLOT,
        "pii_level": pii_level,
        "pii_redacted": redacted,
        "quality_gate": quality_gate,
        "owner": TICKET_OWNER,
        "tags": tags,
    }
    if quality_gate == "warn":  # the upstream check warned because the product version was not captured
        del base["product_version"]

    count = _VERSION_COUNTS.pick(rng)
    if late_offset is not None:
        count = max(count, 2)
    statuses = _statuses(rng, count)
    times = _timeline(rng, created_us, priority, len(statuses), late_offset, grain)
    # Encoded once per ticket, not once per version: JSON encoding is the dearest step per line.
    segments = tuple(_ENCODER.encode(base).split(_ENCODED_SLOT))
    return _Ticket(ticket_id, micro, segments, _versions(rng, product_line, statuses, times))


def _render(ticket: _Ticket, version: _Version, batch_id: str) -> str:
    """The version's JSON line; the spliced values are generator-made ASCII that JSON needs no escapes for."""
    head, after_batch, after_status, after_assignee, after_updated, tail = ticket.segments
    assignee = "null" if version.assignee_id is None else f'"{version.assignee_id}"'
    updated = _format_ts(version.updated_us, ticket.micro)
    resolved = "null" if version.resolved_us is None else f'"{_format_ts(version.resolved_us, ticket.micro)}"'
    return (
        f'{head}"{batch_id}"{after_batch}"{version.status}"{after_status}{assignee}'
        f'{after_assignee}"{updated}"{after_updated}{resolved}{tail}'
    )


# --- One batch: the versions updated on a day, in updated_at order ---------------------------

_Entry = tuple[int, str, int, str]  # (updated_us, ticket_id, version index, JSON line)


@dataclass(frozen=True)
class _Run:
    seed: int
    first_day: date
    tickets_per_day: int
    late_rate: float
    directory: _Directory


def _day_entries(ticket: _Ticket, day_start: int, batch_id: str) -> list[_Entry]:
    return [
        (version.updated_us, ticket.ticket_id, number, _render(ticket, version, batch_id))
        for number, version in enumerate(ticket.versions)
        if day_start <= version.updated_us < day_start + DAY_US
    ]


def _fresh_entries(run: _Run, day: date, batch_id: str) -> Iterator[_Entry]:
    """Versions, updated on `day`, of tickets created on `day`, sorted without holding the whole day.

    Tickets are built in creation order, so any version older than the next ticket's creation
    can be released: the heap only holds versions of tickets still in flight.
    """
    late = _late_offsets(run.seed, day, run.tickets_per_day, run.late_rate)
    day_start = _day_start_us(day)
    pending: list[_Entry] = []
    for index in range(run.tickets_per_day):
        ticket = _build_ticket(run.seed, day, index, run.tickets_per_day, late.get(index), run.directory)
        # Later tickets are created no earlier than this one, give or take the flooring of
        # `...Z` timestamps to the second: everything before this second is final.
        settled_us = ticket.versions[0].updated_us - ticket.versions[0].updated_us % SECOND_US
        while pending and pending[0][0] < settled_us:
            yield heapq.heappop(pending)
        for entry in _day_entries(ticket, day_start, batch_id):
            heapq.heappush(pending, entry)
    while pending:
        yield heapq.heappop(pending)


def _late_entries(run: _Run, day: date, batch_id: str) -> list[_Entry]:
    """Versions, updated on `day`, of late tickets created during the previous week (a small share)."""
    day_start = _day_start_us(day)
    entries: list[_Entry] = []
    for back in range(1, LATE_HORIZON_DAYS + 1):
        created = day - timedelta(days=back)
        if created < run.first_day:
            break  # tickets created before the run's first batch were never exported
        for index, offset in _late_offsets(run.seed, created, run.tickets_per_day, run.late_rate).items():
            if offset < back:
                continue  # its last version landed before `day`
            ticket = _build_ticket(run.seed, created, index, run.tickets_per_day, offset, run.directory)
            entries.extend(_day_entries(ticket, day_start, batch_id))
    entries.sort()
    return entries


def _batch_entries(run: _Run, day: date, batch_id: str) -> Iterator[_Entry]:
    return heapq.merge(_fresh_entries(run, day, batch_id), _late_entries(run, day, batch_id))


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


# --- Output ----------------------------------------------------------------------------------


class _AtomicJsonl:
    """Writes lines to a hidden partial file while hashing them; only `commit` puts it under its final name."""

    def __init__(self, final_path: Path) -> None:
        self.final_path = final_path
        self.partial_path = final_path.with_name(f".{final_path.name}.partial")
        self.size_bytes = 0
        self.lines = 0
        self._digest = hashlib.sha256()
        self._chunk: list[str] = []
        self._handle = self.partial_path.open("wb")

    def __enter__(self) -> _AtomicJsonl:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not self._handle.closed:  # not committed: leave nothing behind
            self._handle.close()
            self.partial_path.unlink(missing_ok=True)

    def write(self, line: str) -> None:
        self._chunk.append(line)
        self.lines += 1
        if len(self._chunk) >= _CHUNK_LINES:
            self._flush()

    def _flush(self) -> None:
        if not self._chunk:
            return
        data = ("\n".join(self._chunk) + "\n").encode("utf-8")
        self._chunk.clear()
        self._digest.update(data)
        self._handle.write(data)
        self.size_bytes += len(data)

    def commit(self) -> str:
        self._flush()
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        os.replace(self.partial_path, self.final_path)
        return self._digest.hexdigest()


class _RecentLines:
    """A fixed-size ring of recently written valid lines: the pool redeliveries are drawn from."""

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._next = 0

    def __len__(self) -> int:
        return len(self._lines)

    def __getitem__(self, index: int) -> str:
        return self._lines[index]

    def add(self, line: str) -> None:
        if len(self._lines) < _DUPLICATE_WINDOW:
            self._lines.append(line)
        else:
            self._lines[self._next] = line
            self._next = (self._next + 1) % _DUPLICATE_WINDOW


def _manifest(day: date, data_name: str, sha256: str, size_bytes: int, seed: int) -> dict[str, Any]:
    stamp = f"{day:%Y%m%d}"
    start = datetime(day.year, day.month, day.day)
    end = start + timedelta(days=1)
    return {
        "manifest_id": f"manifest-tickets-{stamp}-001",
        "schema_version": "source_manifest_v1",
        "batch_id": f"batch-{stamp}-001",
        "modality": "structured",
        "source_type": "ticket_export",
        "product_line": "cross_product",
        "license_tag": "course_synthetic",
        "contract_ref": TICKET_CONTRACT_REF,
        "load_mode": "incremental_cursor",
        "selection_window": {
            "start_at": _iso_z(start),
            "end_at": _iso_z(end),
            "cursor_field": "updated_at",
            "cursor_start": _iso_z(start),
            "cursor_end": _iso_z(end),
            "watermark_field": "ingested_at",
        },
        "gate_policy": dict(DEFAULT_POLICY),
        "assets": [
            {
                "source_id": SOURCE_ID,
                "source_url_or_path": f"../data/{data_name}",
                "asset_type": "jsonl",
                "contract_ref": TICKET_CONTRACT_REF,
                "size_bytes": size_bytes,
                "checksum_sha256": sha256,
                "metadata_status": "complete",
                "pii_scan_status": "redacted",
            }
        ],
        "created_at": _iso_z(end + timedelta(minutes=5)),
        "owner": MANIFEST_OWNER,
        "notes": f"Synthetic Northstar ticket versions updated on {day.isoformat()} (generator seed {seed}).",
    }


# --- Summary ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BatchSummary:
    """What one daily batch holds. `lines` = valid + invalid; duplicates are among the valid lines."""

    batch_date: date
    batch_id: str
    manifest_id: str
    manifest_path: Path
    data_path: Path
    lines: int
    valid: int
    invalid: int
    invalid_by_kind: Mapping[str, int]
    duplicates: int
    late_updates: int
    tickets_created: int
    sha256: str
    size_bytes: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "manifest_path": str(self.manifest_path),
            "data_path": str(self.data_path),
            "manifest_id": self.manifest_id,
            "batch_id": self.batch_id,
            "batch_date": self.batch_date.isoformat(),
            "lines": self.lines,
            "sha256": self.sha256,
            "size_bytes": self.size_bytes,
            "valid": self.valid,
            "invalid": self.invalid,
            "invalid_by_kind": dict(self.invalid_by_kind),
            "duplicates": self.duplicates,
            "late_updates": self.late_updates,
            "tickets_created": self.tickets_created,
        }


@dataclass(frozen=True)
class GenerationSummary:
    """Totals of a generation run and one entry per batch written (`files`)."""

    out_dir: Path
    start: date
    days: int
    tickets_per_day: int
    seed: int
    invalid_rate: float
    duplicate_rate: float
    late_rate: float
    files: tuple[BatchSummary, ...]

    @property
    def records(self) -> int:
        return sum(batch.lines for batch in self.files)

    @property
    def valid(self) -> int:
        return sum(batch.valid for batch in self.files)

    @property
    def invalid(self) -> int:
        return sum(batch.invalid for batch in self.files)

    @property
    def invalid_by_kind(self) -> dict[str, int]:
        return {kind: sum(batch.invalid_by_kind[kind] for batch in self.files) for kind in INVALID_KINDS}

    @property
    def duplicates(self) -> int:
        return sum(batch.duplicates for batch in self.files)

    @property
    def late_updates(self) -> int:
        return sum(batch.late_updates for batch in self.files)

    @property
    def tickets_created(self) -> int:
        return sum(batch.tickets_created for batch in self.files)

    def to_dict(self) -> dict[str, Any]:
        return {
            "out_dir": str(self.out_dir),
            "start": self.start.isoformat(),
            "days": self.days,
            "tickets_per_day": self.tickets_per_day,
            "seed": self.seed,
            "invalid_rate": self.invalid_rate,
            "duplicate_rate": self.duplicate_rate,
            "late_rate": self.late_rate,
            "records": self.records,
            "valid": self.valid,
            "invalid": self.invalid,
            "invalid_by_kind": self.invalid_by_kind,
            "duplicates": self.duplicates,
            "late_updates": self.late_updates,
            "tickets_created": self.tickets_created,
            "files": [batch.to_dict() for batch in self.files],
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
