"""`main`: parse the command line, run the command, and turn whatever it raises into the documented
exit code (with the command's JSON document under --json, see output.fail)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from orchestration.cli.errors import (
    EXIT_ENV,
    EXIT_INTERRUPTED,
    EXIT_REFUSED,
    EXIT_USAGE,
    EnvironmentProblem,
    UsageError,
)
from orchestration.cli.output import fail, start_command
from orchestration.cli.parser import build_parser
from orchestration.config import Settings


def main(argv: Sequence[str] | None = None) -> int:
    start_command()
    try:
        return _main(argv)
    except KeyboardInterrupt:  # before the command started or while it was cleaning up
        print("data-factory: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _main(argv: Sequence[str] | None) -> int:
    import errno

    import psycopg

    from orchestration.contracts import ContractViolation
    from orchestration.db.connection import DatabaseUnreachable, redact
    from orchestration.gate.manifests import ManifestUnreadable
    from orchestration.serve import ServeError

    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        stream=sys.stderr,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        settings = Settings.from_env()
        return int(args.func(args, settings))
    except KeyboardInterrupt:
        return fail(args, EXIT_INTERRUPTED, "interrupted", "stopped before the end; unfinished work was rolled back")
    except UsageError as exc:
        text = str(exc)
        code = text.split(":", 1)[0] if text.startswith("partition_out_of_range:") else "invalid_argument"
        return fail(args, EXIT_USAGE, code, text)
    except ManifestUnreadable as exc:
        return fail(args, EXIT_USAGE, exc.code, str(exc))
    except ContractViolation as exc:  # our own output broke its contract: refuse to show it
        return fail(args, EXIT_REFUSED, getattr(exc, "code", "evidence_invalid"), redact(str(exc)))
    except ValueError as exc:
        return fail(args, EXIT_USAGE, "invalid_argument", redact(str(exc)))
    except DatabaseUnreachable as exc:
        return fail(args, EXIT_ENV, "database_unreachable", redact(str(exc)))
    except EnvironmentProblem as exc:
        return fail(args, EXIT_ENV, exc.code, redact(str(exc)))
    except psycopg.OperationalError as exc:  # the server went away between two statements
        return fail(args, EXIT_ENV, "database_connection_lost", redact(str(exc)).strip())
    except ServeError as exc:
        return fail(args, EXIT_ENV, exc.reason_code, redact(str(exc)))
    except OSError as exc:
        writable = exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC)
        code = "folder_not_writable" if writable else "file_unreadable"
        return fail(args, EXIT_ENV, code, redact(f"{exc.strerror or exc}: {exc.filename or ''}".strip(": ")))
