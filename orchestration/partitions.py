"""Partitions are UTC calendar days of a ticket's created_at: the day arithmetic every step shares."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from orchestration.config import Settings


def days_between(first: date, last: date) -> list[date]:
    """Every partition of the inclusive range first..last (empty when last < first)."""
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def partition_bounds(settings: Settings, today: date | None = None) -> tuple[date, date]:
    """Inclusive range a record may land in: the configured first partition .. tomorrow (UTC), or
    WEEK06_PARTITION_END_DATE when it is set and earlier (a closed set of partitions, e.g. a demo's)."""
    today = today or datetime.now(UTC).date()
    high = today + timedelta(days=1)
    if settings.partition_end is not None:
        high = min(high, settings.partition_end)
    return settings.partition_start, high
