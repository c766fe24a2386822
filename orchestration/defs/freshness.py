"""Freshness of the raw asset: a day is late when its partition is not materialised by its expected hour."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

from dagster import AssetChecksDefinition, SupersessionWarning, build_time_partition_freshness_checks

from orchestration.defs.keys import RAW_TICKET_EVENTS

# The check's name as Dagster gives it; the core job leaves it out (its own sensor evaluates it).
FRESHNESS_CHECK_NAME = "freshness_check"


def daily_cron(hour: int) -> str:
    """WEEK06_DAILY_SCHEDULE_HOUR (UTC): when the daily schedule runs, and the deadline of a day's batch."""
    return f"0 {hour} * * *"


def build_raw_freshness_checks(hour: int) -> Sequence[AssetChecksDefinition]:
    # Dagster now steers towards FreshnessPolicy, whose cron form cannot say "yesterday's partition
    # exists"; the time-partition freshness check says exactly that.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SupersessionWarning)
        return build_time_partition_freshness_checks(
            assets=[RAW_TICKET_EVENTS], deadline_cron=daily_cron(hour), timezone="UTC"
        )
