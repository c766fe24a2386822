"""`serve`: production Dagster without Docker (code server, webserver, daemon on PostgreSQL storage)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from orchestration.cli.errors import UsageError
from orchestration.config import Settings


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from orchestration import serve
    from orchestration.db import embedded
    from orchestration.db.connection import connect
    from orchestration.db.schema import ensure_schema

    limit = settings.max_concurrent_runs if args.max_concurrent_runs is None else args.max_concurrent_runs
    if limit < -1:
        raise UsageError("invalid_argument: --max-concurrent-runs is -1 (no limit), 0 (hold every run) or more")
    url = embedded.database_url(settings)
    with connect(url) as conn:
        ensure_schema(conn)
    home = Path(args.home).expanduser().resolve() if args.home else serve.ServeOptions.home
    options = serve.ServeOptions(
        host=args.host,
        webserver_port=args.port,
        code_server_port=args.code_server_port,
        home=home,
        max_concurrent_runs=limit,
    )
    return serve.serve(settings, options, url, lambda line: print(f"data-factory serve: {line}", file=sys.stderr))
