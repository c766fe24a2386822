"""Which engine builds (the dbt target from the environment, named in the evidence); lake refusals."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from orchestration.cli import main
from orchestration.config import Settings
from orchestration.evidence.report import (
    ENGINE_KEY,
    dbt_checks,
    engine_of,
    evidence_engine,
    load_run_results,
    save_run_results,
)
from orchestration.lake.export import LakeError, check_lake_root
from orchestration.transform.dbt_project import engine_env

RUN_RESULTS = {
    "metadata": {"invocation_id": "inv-1"},
    "results": [
        {"unique_id": "model.support_data_factory.ticket_fact", "status": "success", "execution_time": 1.0},
        {"unique_id": "test.support_data_factory.not_null_x", "status": "pass", "execution_time": 0.5},
    ],
}


def test_the_engine_defaults_to_postgres_and_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WEEK06_DBT_TARGET", raising=False)
    assert Settings.from_env().dbt_target == "postgres"
    monkeypatch.setenv("WEEK06_DBT_TARGET", "spark")
    monkeypatch.setenv("WEEK06_LAKE_ROOT", "lake-here")
    settings = Settings.from_env()
    env = engine_env(settings)
    assert env["WEEK06_DBT_TARGET"] == "spark"
    # dbt runs in dbt_project/: every path it receives is absolute
    assert Path(env["WEEK06_LAKE_ROOT"]).is_absolute() and env["WEEK06_LAKE_ROOT"].endswith("lake-here")
    assert Path(env["WEEK06_SPARK_DIR"]).is_absolute()
    monkeypatch.setenv("WEEK06_LAKE_ROOT", "s3://bucket/lake/")
    assert Settings.from_env().lake_root == "s3://bucket/lake"  # a URL is kept as written


@pytest.mark.parametrize("engine", ["postgres", "spark"])
def test_evidence_checks_name_the_engine_that_built(tmp_path: Path, engine: str) -> None:
    save_run_results(tmp_path, "run-1", RUN_RESULTS, engine=engine)
    saved = load_run_results(tmp_path, "run-1")
    assert saved is not None and saved[ENGINE_KEY] == engine and engine_of(saved) == engine
    checks, invocation = dbt_checks(saved)
    assert invocation == "inv-1"
    assert [c.metadata["engine"] for c in checks if c.metadata] == [engine, engine]
    # ... and the evidence document says it again, inside checks[].metadata only (the course's schema
    # admits no new top-level field).
    assert evidence_engine({"checks": [c.to_dict() for c in checks]}) == engine


def test_results_saved_before_engines_existed_read_as_postgres() -> None:
    checks, _ = dbt_checks(RUN_RESULTS)
    assert {c.metadata["engine"] for c in checks if c.metadata} == {"postgres"}
    assert evidence_engine({"checks": []}) == "postgres"


@pytest.mark.parametrize("root", ["s3://bucket/lake", "gs://bucket/lake", "file:///tmp/lake"])
def test_a_lake_root_url_is_refused_with_its_reason(root: str) -> None:
    with pytest.raises(LakeError, match="^lake_scheme_unsupported: ") as refused:
        check_lake_root(root)
    assert refused.value.code == "lake_scheme_unsupported"


def test_cli_lake_export_refuses_an_s3_root_before_touching_anything(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # An unreachable database: had the command gone past its refusal, it would fail with another reason.
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/nothing")
    day = date(2026, 4, 17).isoformat()
    code = main(["lake", "export", "--partition", day, "--lake-root", "s3://bucket/lake", "--json"])
    assert code == 2
    captured = capsys.readouterr()
    document = json.loads(captured.out)  # under --json, the one document says why
    assert document["reason_code"] == "lake_scheme_unsupported" and document["exit_code"] == 2
    assert "lake_scheme_unsupported" in captured.err
