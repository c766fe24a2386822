"""Freshness of the raw asset: a day is late when its partition is not materialised by its expected hour."""

from __future__ import annotations

import warnings

from dagster import SupersessionWarning, build_time_partition_freshness_checks

from orchestration.config import Settings
from orchestration.defs.factory import RAW_TICKET_EVENTS

# WEEK06_DAILY_SCHEDULE_HOUR (UTC): when the daily schedule runs, and the deadline of a day's batch.
DAILY_CRON = f"0 {Settings.from_env().daily_schedule_hour} * * *"

# Dagster now steers towards FreshnessPolicy, whose cron form cannot say "yesterday's partition
# exists"; the time-partition freshness check says exactly that.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", SupersessionWarning)
    RAW_FRESHNESS_CHECKS = build_time_partition_freshness_checks(
        assets=[RAW_TICKET_EVENTS], deadline_cron=DAILY_CRON, timezone="UTC"
    )
