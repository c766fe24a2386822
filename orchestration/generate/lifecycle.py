"""A ticket's life: its customer, timeline, statuses and versions, and the versions a day's batch holds."""

from __future__ import annotations

import heapq
import random
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

from orchestration.generate.catalogue import (
    _AGENTS,
    _ATTACHMENT_COUNTS,
    _CATEGORIES,
    _COMPANY_FIRST,
    _COMPANY_SECOND,
    _CONTACTS_BY_TIER,
    _DETAILS,
    _DONE,
    _ENCODED_SLOT,
    _ENCODER,
    _EPOCH_ORDINAL,
    _ESCALATION_AGENTS,
    _FIRST_STATUS,
    _HOURLY_LOAD,
    _LATE_OFFSETS,
    _MEAN_GAP_US,
    _MIN_VERSION_GAP_US,
    _ORG_COUNT,
    _PRIORITIES,
    _PRODUCT_LINES,
    _REPORTER_NOTES,
    _SLA_TIERS,
    _SLOT,
    _TECHNICAL,
    _TRANSITIONS,
    _VERSION_COUNTS,
    DAY_US,
    FIRST_SEQUENCE,
    HOUR_US,
    LATE_HORIZON_DAYS,
    MINUTE_US,
    PRODUCTS,
    SECOND_US,
    SLA_HOURS,
    SOURCE_ID,
    SUBJECTS,
    TICKET_OWNER,
    _choose,
    _Product,
    _Weighted,
)

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
