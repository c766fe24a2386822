"""Ingest: load gate-accepted JSONL files into raw.ticket_events, accounting for every line."""
