"""What a command prints on stdout: under --json exactly one JSON document, otherwise lines for a
person. Errors go to stderr, with the command's document under --json if it had not printed one."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from orchestration.cli.errors import EXIT_INTERRUPTED

_emitted = False  # whether this command printed its JSON document already


def start_command() -> None:
    """A new command starts: nothing printed yet (main() may run several commands in one process)."""
    global _emitted
    _emitted = False


def emit(document: Any, as_json: bool, human: Callable[[], None]) -> None:
    global _emitted
    if as_json:
        sys.stdout.write(json.dumps(document, indent=2, default=str) + "\n")
        sys.stdout.flush()
        _emitted = True
    else:
        human()


def fail(args: argparse.Namespace, exit_code: int, code: str, message: str) -> int:
    """Say why on stderr; under --json also print the command's one document, if not printed yet."""
    print(f"data-factory: {message if message.startswith(code) else f'{code}: {message}'}", file=sys.stderr)
    if getattr(args, "json", False) and not _emitted:
        document = {
            "command": args.command,
            "status": "interrupted" if exit_code == EXIT_INTERRUPTED else "error",
            "exit_code": exit_code,
            "reason_code": code,
            "message": message,
        }
        if args.command == "run":
            document["success"] = False
        emit(document, True, lambda: None)
    return exit_code


def print_table(rows: list[dict[str, Any]]) -> None:
    """The evidence rows of a run (orchestration.evidence.rows) as an aligned table."""
    header: tuple[str, ...] = ("partition", "read", "loaded", "dups", "rejected", "raw", "silver")
    header += ("checks ok/warn/fail/skip", "decision")
    table: list[tuple[str, ...]] = [header]
    for r in rows:
        t = r.get("ingest") or {}
        table.append(
            (
                r["partition_key"],
                str(t.get("lines_read", "-")),
                str(t.get("loaded", "-")),
                str(t.get("duplicates", "-")),
                str(t.get("rejected", "-")),
                str(r.get("input_row_count", "-")),
                str(r.get("output_row_count", "-")),
                f"{r.get('checks_passed', 0)}/{r.get('checks_warned', 0)}/{r.get('checks_failed', 0)}"
                f"/{r.get('checks_skipped', 0)}",
                str(r.get("downstream_decision") or r["status"]),
            )
        )
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for n, row in enumerate(table):
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))
