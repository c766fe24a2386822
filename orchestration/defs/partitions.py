"""The daily partitions every week06 asset shares (UTC days of created_at), built when definitions are."""

from __future__ import annotations

from datetime import date, timedelta

from dagster import AssetExecutionContext, BackfillPolicy, DailyPartitionsDefinition

# A range of partitions runs as one run, and so as one dbt invocation.
SINGLE_RUN = BackfillPolicy.single_run()


def daily_partitions(start: date, end: date | None = None) -> DailyPartitionsDefinition:
    """Daily partitions from `start` (WEEK06_PARTITION_START_DATE) through today, or through `end`
    (WEEK06_PARTITION_END_DATE, inclusive) when it is set: the UI then lists that closed range."""
    if end is not None:
        return DailyPartitionsDefinition(
            start_date=start.isoformat(), end_date=(end + timedelta(days=1)).isoformat(), timezone="UTC"
        )
    # end_offset=1: today's partition exists, since tickets created today are valid data.
    return DailyPartitionsDefinition(start_date=start.isoformat(), timezone="UTC", end_offset=1)


def partition_range(context: AssetExecutionContext) -> tuple[date, date]:
    """The inclusive first..last partition of this run (one day or a single-run range)."""
    window = context.partition_key_range
    return date.fromisoformat(window.start), date.fromisoformat(window.end)


def run_window(context: AssetExecutionContext, default_partition: date) -> tuple[date, date, bool]:
    """The run's partition range, or the default partition for a run launched without one.

    The Dagster UI launches an asset check's "Execute" as a run without a partition; such a run
    checks WEEK06_DEFAULT_PARTITION (the third value says the default was taken).
    """
    if context.has_partition_key or context.has_partition_key_range:
        first, last = partition_range(context)
        return first, last, False
    return default_partition, default_partition, True
