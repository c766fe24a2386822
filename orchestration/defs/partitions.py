"""The daily partitions every week06 asset shares (UTC days of created_at)."""

from __future__ import annotations

from datetime import date

from dagster import AssetExecutionContext, BackfillPolicy, DailyPartitionsDefinition

from orchestration.config import Settings

# A range of partitions runs as one run, and so as one dbt invocation.
SINGLE_RUN = BackfillPolicy.single_run()


def daily_partitions(settings: Settings) -> DailyPartitionsDefinition:
    # end_offset=1: today's partition exists, since tickets created today are valid data.
    return DailyPartitionsDefinition(start_date=settings.partition_start.isoformat(), timezone="UTC", end_offset=1)


def partition_range(context: AssetExecutionContext) -> tuple[date, date]:
    """The inclusive first..last partition of this run (one day or a single-run range)."""
    window = context.partition_key_range
    return date.fromisoformat(window.start), date.fromisoformat(window.end)


def run_window(context: AssetExecutionContext, settings: Settings) -> tuple[date, date, bool]:
    """The run's partition range, or the default partition for a run launched without one.

    The Dagster UI launches an asset check's "Execute" as a run without a partition; such a run
    checks WEEK06_DEFAULT_PARTITION (the third value says the default was taken).
    """
    if context.has_partition_key or context.has_partition_key_range:
        first, last = partition_range(context)
        return first, last, False
    return settings.default_partition, settings.default_partition, True


PARTITIONS = daily_partitions(Settings.from_env())
