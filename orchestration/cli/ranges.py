"""The partitions a command names (--partition D, or --start D --end D inclusive), checked against
the configured bounds before any work starts."""

from __future__ import annotations

import argparse
from datetime import date

from orchestration.cli.errors import UsageError
from orchestration.config import Settings


def partition_args(args: argparse.Namespace) -> tuple[date, date]:
    if args.partition and (args.start or args.end):
        raise UsageError("give either --partition or --start/--end, not both")
    if args.partition:
        return args.partition, args.partition
    if not (args.start and args.end):
        raise UsageError("give --partition D, or --start D and --end D (inclusive)")
    if args.end < args.start:
        raise UsageError(f"--end {args.end} is before --start {args.start}")
    return args.start, args.end


def check_range(settings: Settings, first: date, last: date) -> None:
    from orchestration.partitions import partition_bounds

    low, high = partition_bounds(settings)
    if first < low or last > high:
        raise UsageError(f"partition_out_of_range: partitions run from {low} to {high}; asked {first}..{last}")
