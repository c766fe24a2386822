"""A real browser against the real servers: Debian's chromium, driven through chromium-driver by selenium.

One module-level setup serves every test: the core job runs once for the demo partition on the
session's database, then the Dagster webserver and the dbt docs server start on free ports of
127.0.0.1. Without chromium (or its driver, or selenium) every test here reports skipped.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PROJECT_ROOT, SESSION_ROOT

PARTITION = date(2026, 4, 17)
SCREENSHOTS = PROJECT_ROOT / "reports" / "screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
# No network of its own, no first-run work, no GPU: a quiet headless browser that never downloads.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1600,1000",
)
BIN = Path(sys.executable).parent


def _missing() -> str | None:
    if CHROMIUM is None or CHROMEDRIVER is None:
        return "chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[dev]')"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_http(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 240.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} server exited ({process.returncode}):\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f}s:\n{log.read_text()[-3000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def factory_run(pg_url: str) -> dict[str, Any]:
    """The core job, once, for the demo partition (the data every page shows)."""
    if reason := _missing():
        pytest.skip(reason)
    from orchestration.config import Settings
    from orchestration.defs.instance import instance_for
    from orchestration.defs.runner import run_partitions

    outcome = run_partitions(PARTITION, PARTITION, instance=instance_for(Settings.from_env()), log_level="WARNING")
    assert outcome.success, outcome.failed_steps
    return {"run_id": outcome.run_id}


@pytest.fixture(scope="module")
def dbt_docs(factory_run: dict[str, Any]) -> Iterator[str]:
    """`dbt docs generate`, then `dbt docs serve` on a free port; yields the site's URL."""
    from orchestration.defs.resources import Week06PostgresResource

    url = Week06PostgresResource().database_url()
    from orchestration.db.connection import ConnectionParams

    target = SESSION_ROOT / "dbt_docs_target"
    env = {
        **os.environ,
        **ConnectionParams.from_url(url).as_env(),
        "DBT_PROFILES_DIR": str(PROJECT_ROOT / "dbt_project"),
    }
    dbt = str(BIN / "dbt")
    generated = subprocess.run(
        [dbt, "docs", "generate", "--target-path", str(target), "--no-send-anonymous-usage-stats"],
        cwd=PROJECT_ROOT / "dbt_project",
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert generated.returncode == 0, generated.stdout[-3000:] + generated.stderr[-2000:]
    port = free_port()
    log = SESSION_ROOT / "dbt_docs_serve.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [
                dbt,
                "docs",
                "serve",
                "--target-path",
                str(target),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-browser",
            ],
            cwd=PROJECT_ROOT / "dbt_project",
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/", process, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(process)


@pytest.fixture(scope="module")
def dagster_ui(factory_run: dict[str, Any], dbt_docs: str) -> Iterator[str]:
    """`dagster-webserver` over the project's Definitions and the session's instance; yields its URL."""
    port = free_port()
    log = SESSION_ROOT / "dagster_webserver.log"
    env = {**os.environ, "DBT_DOCS_URL": dbt_docs}
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [str(BIN / "dagster-webserver"), "-m", "orchestration.definitions", "-h", "127.0.0.1", "-p", str(port)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/server_info", process, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(process)


@pytest.fixture(scope="module")
def browser(factory_run: dict[str, Any]) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(120)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()
