"""The lock files match pyproject.toml and each other, so `make venv` installs what the project declares.

uv.lock is what uv installs; requirements.lock (its export) pins pip when uv is unavailable.
Regenerate both with `make lock` after changing a dependency.
"""

from __future__ import annotations

import re
import tomllib

from tests.conftest import PROJECT_ROOT


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=~!;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_uv_lock_records_the_declared_dependencies() -> None:
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    declared = {_name(r) for r in project["dependencies"]}
    declared |= {_name(r) for extra in project.get("optional-dependencies", {}).values() for r in extra}
    lock = tomllib.loads((PROJECT_ROOT / "uv.lock").read_text())
    (root,) = [p for p in lock["package"] if p["name"] == project["name"]]
    locked = {d["name"].lower().replace("_", "-") for d in root["metadata"]["requires-dist"]}
    assert declared == locked, "uv.lock is stale: run `make lock`"


def test_requirements_lock_pins_what_uv_lock_pins() -> None:
    lock = tomllib.loads((PROJECT_ROOT / "uv.lock").read_text())
    versions = {(p["name"], p["version"]) for p in lock["package"] if "version" in p}
    pins = [
        line.split(";")[0].strip()
        for line in (PROJECT_ROOT / "requirements.lock").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert pins
    stale = [pin for pin in pins if tuple(pin.split("==")) not in versions]
    assert stale == [], f"requirements.lock disagrees with uv.lock: {stale[:5]} (run `make lock`)"
