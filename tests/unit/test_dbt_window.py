"""How the Dagster job hands its window and its saved parse to dbt (orchestration.transform.dbt_project)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from orchestration.transform.dbt_project import keep_partial_parse, window_env, window_vars


def test_window_env_mirrors_the_window_vars() -> None:
    day = date(2026, 4, 12)
    # all three names, the unused ones empty, so that a value left in the caller's env never mixes in
    assert window_env(day, day) == {
        "WEEK06_WINDOW_PARTITION_DATE": "2026-04-12",
        "WEEK06_WINDOW_PARTITION_START": "",
        "WEEK06_WINDOW_PARTITION_END": "",
    }
    # a range: partition_end is exclusive, as the vars are
    assert window_env(date(2026, 4, 10), date(2026, 4, 17)) == {
        "WEEK06_WINDOW_PARTITION_DATE": "",
        "WEEK06_WINDOW_PARTITION_START": "2026-04-10",
        "WEEK06_WINDOW_PARTITION_END": "2026-04-18",
    }
    given = {k.removeprefix("WEEK06_WINDOW_").lower(): v for k, v in window_env(day, date(2026, 4, 13)).items() if v}
    assert given == window_vars(day, date(2026, 4, 13))
    with pytest.raises(ValueError):
        window_env(date(2026, 4, 13), day)


def test_keep_partial_parse_replaces_the_projects_saved_parse(tmp_path: Path) -> None:
    invocation, target = tmp_path / "invocation", tmp_path / "target"
    invocation.mkdir()
    assert keep_partial_parse(invocation, target) is False  # dbt stopped before parsing: nothing to keep
    assert not (target / "partial_parse.msgpack").exists()

    (invocation / "partial_parse.msgpack").write_bytes(b"first")
    assert keep_partial_parse(invocation, target) is True
    (invocation / "partial_parse.msgpack").write_bytes(b"second")
    assert keep_partial_parse(invocation, target) is True
    assert (target / "partial_parse.msgpack").read_bytes() == b"second"
    assert sorted(p.name for p in target.iterdir()) == ["partial_parse.msgpack"]  # no staging file left


def test_the_dbt_version_is_read_without_starting_dbt(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """dagster-dbt runs `dbt --version` (a dbt start plus a PyPI query) before every invocation; the
    factory's resource reads the installed dbt-core's version instead, and asks only a foreign dbt."""
    import inspect

    import dagster_dbt.core.resource as dagster_dbt_resource
    from dbt.version import __version__ as installed

    from orchestration.config import DBT_PROJECT_DIR
    from orchestration.defs.resources import FactoryDbtCliResource
    from orchestration.transform.dbt_project import dbt_executable

    # The override names a private attribute of dagster-dbt 0.29: fail loudly if an upgrade stops using it.
    assert "self._cli_version" in inspect.getsource(dagster_dbt_resource.DbtCliResource.cli)
    asked: list[list[str]] = []

    def check_output(command: list[str]) -> bytes:
        asked.append(command)
        return b"Core:\n  - installed: 9.8.7\n"

    monkeypatch.setattr(dagster_dbt_resource, "check_output", check_output)
    ours = FactoryDbtCliResource(project_dir=str(DBT_PROJECT_DIR), dbt_executable=dbt_executable())
    assert str(ours._cli_version) == installed
    assert asked == []
    foreign = tmp_path / "dbt"
    foreign.write_text("#!/bin/sh\n")
    foreign.chmod(0o755)
    other = FactoryDbtCliResource(project_dir=str(DBT_PROJECT_DIR), dbt_executable=str(foreign))
    assert str(other._cli_version) == "9.8.7"
    assert asked == [[str(foreign), "--version"]]
