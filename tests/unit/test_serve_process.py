"""`data-factory serve` without starting Dagster: its processes die with it, its options are checked."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from orchestration import cli, serve

SPAWN_A_CHILD = """
import subprocess, sys
from orchestration.serve import stop_with_parent
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], preexec_fn=stop_with_parent)
print(child.pid, flush=True)
time.sleep(120)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal is Linux only")
def test_a_child_of_a_killed_supervisor_is_stopped() -> None:
    supervisor = subprocess.Popen([sys.executable, "-c", "import time\n" + SPAWN_A_CHILD], stdout=subprocess.PIPE)
    assert supervisor.stdout is not None
    child = int(supervisor.stdout.readline())
    try:
        os.kill(child, 0)  # alive
        supervisor.kill()  # SIGKILL: the supervisor gets no chance to stop anything itself
        supervisor.wait()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.kill(child, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            pytest.fail("the child outlived its killed parent")
    finally:
        try:
            os.kill(child, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_a_taken_port_is_refused_before_anything_starts(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        options = serve.ServeOptions(webserver_port=port, code_server_port=port, home=tmp_path / "home")
        with pytest.raises(serve.PortInUse, match="serve_port_in_use"):
            serve.start(None, options, "postgresql://nobody@/nowhere", print)  # type: ignore[arg-type]
    assert not (tmp_path / "home").exists(), "nothing is prepared when a port is taken"


def test_a_negative_queue_limit_is_a_usage_error(capsys) -> None:  # type: ignore[no-untyped-def]
    assert cli.main(["serve", "--max-concurrent-runs", "-2"]) == cli.EXIT_USAGE
    assert "invalid_argument" in capsys.readouterr().err
