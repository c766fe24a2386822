"""Shared fixtures: every test session gets its own PostgreSQL database, report folder and Dagster home.

The environment is pointed at a private temporary folder when the test session starts, so no test
can touch the demo's database (.local/pg) or reports. (Project modules read the environment only
when called, never at import, so the order of imports does not matter.)
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "omnisupport"
PROJECT_ROOT = Path(__file__).resolve().parents[1]

# Short path on purpose: PostgreSQL's unix socket path must stay under ~100 bytes.
SESSION_ROOT = Path(tempfile.mkdtemp(prefix="sdf-"))
_EXTERNAL = os.environ.get("TEST_DATABASE_URL")
os.environ.pop("DATABASE_URL", None)
os.environ.update(
    {
        "WEEK06_PG_DATA_DIR": str(SESSION_ROOT / "pg"),
        "WEEK06_DATABASE_NAME": "factory_test",
        "WEEK06_REPORT_DIR": str(SESSION_ROOT / "reports"),
        "DAGSTER_HOME": str(SESSION_ROOT / "dagster"),
        "WEEK06_DIGEST_CACHE": str(SESSION_ROOT / "digests.sqlite3"),
        "WEEK06_MANIFEST_DIR": str(PROJECT_ROOT / "seeds" / "manifests"),
    }
)
(SESSION_ROOT / "dagster").mkdir()


def course_fixture(name: str) -> Path:
    """A file of the OmniSupport course, kept unchanged in tests/fixtures/omnisupport/."""
    path = FIXTURES / name
    assert path.exists(), f"course fixture {name} is missing from {FIXTURES}"
    return path


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """URL of the session's test database; also exported as DATABASE_URL for the code under test."""
    from orchestration.config import Settings
    from orchestration.db import embedded

    if _EXTERNAL:
        url = embedded.ensure_database(_EXTERNAL, f"factory_test_{os.getpid()}")
    else:
        status = embedded.up(Settings.from_env())
        assert status.running and status.url
        url = status.url
    os.environ["DATABASE_URL"] = url
    yield url
    os.environ.pop("DATABASE_URL", None)
    if not _EXTERNAL:
        embedded.down(Settings.from_env())
    shutil.rmtree(SESSION_ROOT, ignore_errors=True)


@pytest.fixture()
def empty_db(pg_url: str) -> str:
    """The test database with raw and ops emptied (dbt schemas dropped): for tests that count rows."""
    from orchestration.db.connection import connect
    from orchestration.db.schema import ensure_schema

    with connect(pg_url) as conn:
        ensure_schema(conn)
        conn.execute(
            "truncate raw.ticket_events, ops.ingest_ledger, ops.ingest_rejects, ops.ingest_state restart identity"
        )
        conn.execute("drop schema if exists staging, silver, gold cascade")
        conn.commit()
    return pg_url
