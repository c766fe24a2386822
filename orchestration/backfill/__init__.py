"""Backfill planning: which partitions of a range to (re)materialise, and why (plain Python, no Dagster)."""
