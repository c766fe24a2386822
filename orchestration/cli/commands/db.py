"""`data-factory db`: the embedded PostgreSQL (up, down, status, url, env); a no-op with DATABASE_URL."""

from __future__ import annotations

import argparse

from orchestration.cli.errors import EXIT_ENV, EXIT_OK
from orchestration.cli.output import emit
from orchestration.config import Settings


def cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    from orchestration.db import embedded
    from orchestration.db.connection import ConnectionParams, redact

    if args.action == "up":
        current = embedded.up(settings)
        from orchestration.db.connection import connect
        from orchestration.db.schema import ensure_schema

        assert current.url is not None
        with connect(current.url) as conn:
            ensure_schema(conn)
    elif args.action == "down":
        current = embedded.down(settings)
    elif args.action == "url":
        print(redact(embedded.database_url(settings)) if settings.database_url else embedded.database_url(settings))
        return EXIT_OK
    elif args.action == "env":
        url = embedded.database_url(settings)
        params = ConnectionParams.from_url(url)
        for key, value in params.as_env().items():
            if key == "PGPASSWORD":
                if value:
                    print("# PGPASSWORD is not printed: export it yourself (or use ~/.pgpass)")
                continue
            print(f"export {key}={_shell_quote(value)}")
        return EXIT_OK
    else:
        current = embedded.status(settings)
    document = current.to_dict()
    emit(
        document,
        args.json,
        lambda: print(
            f"{document['mode']} PostgreSQL: {'running' if document['running'] else 'not running'}"
            f" ({document['detail']})"
            + (f"\nurl: {document['url']}" if document["url"] else "")
            + (f"\ndata dir: {document['data_dir']}" if document["data_dir"] else "")
        ),
    )
    if args.action == "status" and not current.running:
        return EXIT_ENV
    return EXIT_OK


def _shell_quote(value: str) -> str:
    return "'" + value.replace("'", "'\"'\"'") + "'"
