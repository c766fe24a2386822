"""Database URLs and connections: parsing, redaction, and one clear error when unreachable."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo


class DatabaseUnreachable(RuntimeError):
    """The database cannot be reached; the message never contains a password."""

    reason_code = "database_unreachable"


_PASSWORD_IN_URL = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]*:)(?P<pw>[^@\s]*)(?P<tail>@)", re.I)
_PASSWORD_KV = re.compile(r"(password\s*=\s*)('[^']*'|\S+)", re.I)


def redact(text: str) -> str:
    """Remove passwords from any text that may carry a DSN (URL or key=value form)."""
    text = _PASSWORD_IN_URL.sub(lambda m: m["head"] + ("***" if m["pw"] else "") + m["tail"], text)
    return _PASSWORD_KV.sub(r"\1***", text)


@dataclass(frozen=True)
class ConnectionParams:
    """The libpq parameters dbt and psql need, taken from one URL."""

    host: str
    port: int
    user: str
    password: str
    dbname: str

    @classmethod
    def from_url(cls, url: str) -> ConnectionParams:
        """A part the URL leaves out comes from its libpq variable, as libpq itself does: a URL
        without a password (infra/env/.env.example keeps it in PGPASSWORD) must not hand dbt an
        empty PGPASSWORD in its place."""
        parts = conninfo_to_dict(url)

        def part(key: str, variable: str, default: str) -> str:
            return str(parts.get(key) or os.environ.get(variable) or default)

        return cls(
            host=part("host", "PGHOST", "localhost"),
            port=int(part("port", "PGPORT", "5432")),
            user=part("user", "PGUSER", "postgres"),
            password=part("password", "PGPASSWORD", ""),
            dbname=part("dbname", "PGDATABASE", "postgres"),
        )

    def as_env(self) -> dict[str, str]:
        """Standard libpq variables: read by dbt's profiles.yml, psql and psycopg alike."""
        return {
            "PGHOST": self.host,
            "PGPORT": str(self.port),
            "PGUSER": self.user,
            "PGPASSWORD": self.password,
            "PGDATABASE": self.dbname,
        }


def with_database(url: str, dbname: str) -> str:
    """The same server and credentials, another database."""
    return make_conninfo(url, dbname=dbname)


def connect(url: str, *, autocommit: bool = False, connect_timeout: int = 10) -> psycopg.Connection:
    try:
        return psycopg.connect(url, autocommit=autocommit, connect_timeout=connect_timeout)
    except psycopg.OperationalError as exc:
        raise DatabaseUnreachable(
            f"database_unreachable: cannot connect to {redact(url)}: {redact(str(exc)).strip()}"
        ) from None
