"""The repository stands alone: nothing in it points at a design file or a folder outside it."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.conftest import PROJECT_ROOT

OUTSIDE = re.compile(r"DESIGN\.md|\.\./shared|/work/shared")


def test_no_file_refers_to_documents_outside_the_repository() -> None:
    listed = subprocess.run(["git", "ls-files"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False)
    if listed.returncode != 0:
        pytest.skip("not a git checkout: the tracked files are unknown")
    offenders = []
    for name in listed.stdout.splitlines():
        path = PROJECT_ROOT / name
        if name == "uv.lock" or not path.is_file() or path == __file__ or name.endswith("test_repository.py"):
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        offenders += [f"{name}:{n}" for n, line in enumerate(text.splitlines(), 1) if OUTSIDE.search(line)]
    assert offenders == []
