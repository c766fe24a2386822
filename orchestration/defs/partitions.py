"""The daily partitions every week06 asset shares (UTC days of created_at), built when definitions are."""

from __future__ import annotations

from datetime import date

from dagster import AssetExecutionContext, BackfillPolicy, DailyPartitionsDefinition

# A range of partitions runs as one run, and so as one dbt invocation.
SINGLE_RUN = BackfillPolicy.single_run()


def daily_partitions(start: date) -> DailyPartitionsDefinition:
    """Daily partitions from `start` (WEEK06_PARTITION_START_DATE) through today."""
    # end_offset=1: today's partition exists, since tickets created today are valid data.
    return DailyPartitionsDefinition(start_date=start.isoformat(), timezone="UTC", end_offset=1)


def partition_range(context: AssetExecutionContext) -> tuple[date, date]:
    """The inclusive first..last partition of this run (one day or a single-run range)."""
    window = context.partition_key_range
    return date.fromisoformat(window.start), date.fromisoformat(window.end)
