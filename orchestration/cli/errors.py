"""The command line's exit codes, and its own two errors.

What each code means is what `data-factory --help` says (parser.DESCRIPTION); entry.main turns
every error a command lets through into one of them.
"""

from __future__ import annotations

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_ENV, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


class UsageError(Exception):
    """The invocation is wrong: conflicting or missing options, a range out of bounds (exit code 2)."""


class EnvironmentProblem(Exception):
    """The machine, not the input: a folder that cannot be written, a database lost (exit code 3)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
