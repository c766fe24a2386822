"""The production Dagster stack without Docker: code server, webserver and daemon as separate processes.

The instance is the one the compose stack mounts (infra/dagster.yaml: run, event-log and schedule
storage in PostgreSQL through DAGSTER_PG_URL, the queued run coordinator with a concurrency
limit) and so is the workspace (infra/workspace.yaml: one gRPC code location). This module only
prepares the environment and supervises the three processes; it imports nothing of Dagster.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from orchestration.config import PROJECT_ROOT, Settings
from orchestration.db.connection import connect, redact

INFRA_DIR = PROJECT_ROOT / "infra"
INSTANCE_YAML = INFRA_DIR / "dagster.yaml"
WORKSPACE_YAML = INFRA_DIR / "workspace.yaml"
CODE_MODULE = "orchestration.definitions"
LOCATION_NAME = "support_data_factory"
DEFAULT_SCHEMA = "dagster"
DEFAULT_MAX_CONCURRENT_RUNS = 2
# Loading the definitions (dbt manifest included) takes a while on a busy machine.
DEFAULT_READY_TIMEOUT = 300.0


class ServeError(RuntimeError):
    """The stack could not start or a part of it stopped; the message never carries a password."""

    reason_code = "serve_component_failed"


class PortInUse(ServeError):
    reason_code = "serve_port_in_use"


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    webserver_port: int = 3000
    code_server_port: int = 4000
    home: Path = PROJECT_ROOT / ".local" / "dagster-serve"
    max_concurrent_runs: int = DEFAULT_MAX_CONCURRENT_RUNS
    ready_timeout: float = DEFAULT_READY_TIMEOUT


@dataclass(frozen=True)
class Component:
    name: str
    argv: list[str]


@dataclass
class Stack:
    """The running processes, in start order; stop() ends them in reverse order."""

    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def exited(self) -> tuple[str, int] | None:
        for name, proc in self.processes.items():
            code = proc.poll()
            if code is not None:
                return name, code
        return None

    def stop(self, grace: float = 20.0) -> None:
        for proc in reversed(list(self.processes.values())):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for proc in reversed(list(self.processes.values())):
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def storage_url(database_url: str, schema: str = DEFAULT_SCHEMA) -> str:
    """A SQLAlchemy URL for Dagster's storage: the factory's server and database, Dagster's own schema.

    Works for TCP and unix-socket servers (the embedded one) alike: every libpq parameter but the
    user, password, host, port and database travels as a query parameter, and so does a socket
    directory, which cannot sit in a URL's host part.
    """
    params = {k: str(v) for k, v in conninfo_to_dict(database_url).items() if v is not None}
    user = quote(params.pop("user", "postgres"), safe="")
    password = params.pop("password", "")
    host = params.pop("host", "")
    port = params.pop("port", "")
    dbname = quote(params.pop("dbname", "postgres"), safe="")
    query: dict[str, str] = {}
    if host.startswith("/"):
        query["host"] = host
        if port:
            query["port"] = port
        netloc = ""
    else:
        netloc = host + (f":{port}" if port else "")
    query.update(params)
    query["options"] = f"-c search_path={schema}"
    userinfo = user + (":" + quote(password, safe="") if password else "")
    # psycopg2 by name: SQLAlchemy 2.1 made psycopg 3 the default driver, and dagster-postgres
    # (0.29) relies on psycopg2 (its NOTIFY with a bound parameter fails under psycopg 3).
    return f"postgresql+psycopg2://{userinfo}@{netloc}/{dbname}?{urlencode(query, quote_via=quote)}"


def ensure_storage_schema(database_url: str, schema: str = DEFAULT_SCHEMA) -> None:
    """Dagster creates its tables in the first schema of the search path; the schema must exist."""
    with connect(database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))


def _entry_point(name: str, *args: str) -> list[str]:
    # The entry point of this interpreter's environment, whatever PATH says.
    executable = Path(sys.executable).with_name(name)
    return [str(executable) if executable.exists() else (shutil.which(name) or name), *args]


def _dagster(*args: str) -> list[str]:
    return _entry_point("dagster", *args)


def components(options: ServeOptions) -> list[Component]:
    """The three processes, in start order; webserver and daemon read the workspace file."""
    host, workspace = options.host, str(WORKSPACE_YAML)
    code_server = ["code-server", "start", "-m", CODE_MODULE, "-h", host, "-p", str(options.code_server_port)]
    return [
        Component("code-server", _dagster(*code_server, "--location-name", LOCATION_NAME)),
        Component(
            "webserver",
            _entry_point("dagster-webserver", "-h", host, "-p", str(options.webserver_port), "-w", workspace),
        ),
        Component("daemon", _entry_point("dagster-daemon", "run", "-w", workspace)),
    ]


def prepare(settings: Settings, options: ServeOptions, database_url: str) -> dict[str, str]:
    """The instance home (a copy of infra/dagster.yaml) and the environment the three processes share."""
    options.home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(INSTANCE_YAML, options.home / "dagster.yaml")
    env = dict(os.environ)
    if settings.dagster_pg_url:
        env["DAGSTER_PG_URL"] = settings.dagster_pg_url
    else:
        ensure_storage_schema(database_url)
        env["DAGSTER_PG_URL"] = storage_url(database_url)
    env.update(
        {
            "DAGSTER_HOME": str(options.home),
            "DATABASE_URL": database_url,
            "DAGSTER_CODE_SERVER_HOST": options.host,
            "DAGSTER_CODE_SERVER_PORT": str(options.code_server_port),
            "DAGSTER_MAX_CONCURRENT_RUNS": str(options.max_concurrent_runs),
            "WEEK06_REPORT_DIR": str(settings.report_dir),
            "WEEK06_MANIFEST_DIR": str(settings.manifest_dir),
        }
    )
    return env


def stop_with_parent() -> None:
    """For a child process (Popen's preexec_fn): on Linux, receive SIGTERM when the parent dies.

    Even a supervisor killed with SIGKILL then leaves no code server, webserver or daemon behind.
    Elsewhere a no-op.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _code_server_ready(options: ServeOptions, env: dict[str, str]) -> bool:
    check = _dagster("api", "grpc-health-check", "-h", options.host, "-p", str(options.code_server_port))
    return subprocess.run(check, env=env, capture_output=True, timeout=120).returncode == 0


def _webserver_ready(options: ServeOptions) -> bool:
    try:
        with urllib.request.urlopen(f"http://{options.host}:{options.webserver_port}/server_info", timeout=5) as r:
            return bool(r.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _wait(stack: Stack, name: str, ready: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ended = stack.exited()
        if ended:
            raise ServeError(f"serve_component_failed: the {ended[0]} exited with code {ended[1]} during start-up")
        if ready():
            return
        time.sleep(1.0)
    raise ServeError(f"serve_component_failed: the {name} was not ready after {timeout:.0f} s")


def _spawn(component: Component, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(component.argv, env=env, cwd=PROJECT_ROOT, preexec_fn=stop_with_parent)


def start(settings: Settings, options: ServeOptions, database_url: str, log: Callable[[str], None]) -> Stack:
    """Start code server, then webserver and daemon; return when all answer. Stops what it started on error."""
    for port in (options.code_server_port, options.webserver_port):
        if not _port_free(options.host, port):
            raise PortInUse(f"serve_port_in_use: {options.host}:{port} is taken (choose another port)")
    env = prepare(settings, options, database_url)
    log(f"instance: {options.home}/dagster.yaml (copy of infra/dagster.yaml)")
    log(f"storage:  {redact(env['DAGSTER_PG_URL'])}")
    stack = Stack()
    try:
        code_server, webserver, daemon = components(options)
        stack.processes[code_server.name] = _spawn(code_server, env)
        _wait(stack, code_server.name, lambda: _code_server_ready(options, env), options.ready_timeout)
        log(f"code server: grpc://{options.host}:{options.code_server_port}")
        for component in (webserver, daemon):
            stack.processes[component.name] = _spawn(component, env)
        _wait(stack, webserver.name, lambda: _webserver_ready(options), options.ready_timeout)
        log(f"webserver: http://{options.host}:{options.webserver_port}")
    except BaseException:
        stack.stop()
        raise
    return stack


def serve(settings: Settings, options: ServeOptions, database_url: str, log: Callable[[str], None]) -> int:
    """Run the stack until a signal (Ctrl-C, SIGTERM) or until one of its processes stops."""

    def _on_signal(signum: int, _frame: object) -> None:
        for s in (signal.SIGTERM, signal.SIGINT):
            signal.signal(s, signal.SIG_IGN)  # one signal is enough: let the stop finish
        raise KeyboardInterrupt

    previous = {s: signal.signal(s, _on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        stack = start(settings, options, database_url, log)  # stops what it started if interrupted
        log("ready: code server, webserver and daemon are running (Ctrl-C stops them)")
        try:
            while True:
                ended = stack.exited()
                if ended:
                    raise ServeError(f"serve_component_failed: the {ended[0]} exited with code {ended[1]}")
                time.sleep(1.0)
        finally:
            log("stopping the stack")
            stack.stop()
    except KeyboardInterrupt:
        return 0
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
