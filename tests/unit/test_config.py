"""Settings the evidence relies on: git_sha, trace_id and data_release_id are always strings."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestration.config import DEFAULT_DATA_RELEASE_ID, DEFAULT_GIT_SHA, DEFAULT_TRACE_ID, Settings, read_git_sha

SHA = "0123456789abcdef0123456789abcdef01234567"


def _repository(root: Path) -> Path:
    git = root / "repo" / ".git"
    (git / "refs" / "heads").mkdir(parents=True)
    (git / "HEAD").write_text("ref: refs/heads/main\n")
    (git / "refs" / "heads" / "main").write_text(SHA + "\n")
    return git


def test_a_plain_checkout(tmp_path: Path) -> None:
    git = _repository(tmp_path)
    assert read_git_sha(git.parent) == SHA


def test_a_packed_ref(tmp_path: Path) -> None:
    git = _repository(tmp_path)
    (git / "refs" / "heads" / "main").unlink()
    (git / "packed-refs").write_text(f"# pack-refs with: peeled\n{SHA} refs/heads/main\n")
    assert read_git_sha(git.parent) == SHA


def test_a_git_worktree_whose_dot_git_is_a_file(tmp_path: Path) -> None:
    # `git worktree add` writes `.git` as a file pointing at .git/worktrees/<name>, whose HEAD names
    # a branch whose ref lives in the main repository (commondir).
    git = _repository(tmp_path)
    (git / "refs" / "heads" / "issue").write_text(SHA.replace("0", "f") + "\n")
    private = git / "worktrees" / "wt"
    private.mkdir(parents=True)
    (private / "HEAD").write_text("ref: refs/heads/issue\n")
    (private / "commondir").write_text("../..\n")
    worktree = tmp_path / "wt"
    worktree.mkdir()
    (worktree / ".git").write_text(f"gitdir: {private}\n")
    assert read_git_sha(worktree) == SHA.replace("0", "f")


def test_a_detached_head_and_no_repository(tmp_path: Path) -> None:
    git = _repository(tmp_path)
    (git / "HEAD").write_text(SHA + "\n")
    assert read_git_sha(git.parent) == SHA
    assert read_git_sha(tmp_path / "nowhere") is None


def test_evidence_strings_have_documented_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TRACE_ID", "WEEK06_DATA_RELEASE_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GIT_SHA", "")
    settings = Settings.from_env()
    assert settings.trace_id == DEFAULT_TRACE_ID and settings.release_id == DEFAULT_DATA_RELEASE_ID
    assert isinstance(settings.git_sha, str) and settings.git_sha
    monkeypatch.setenv("TRACE_ID", "trace-7")
    monkeypatch.setenv("WEEK06_DATA_RELEASE_ID", "2026.04.18")
    monkeypatch.setenv("GIT_SHA", "abc1234")
    settings = Settings.from_env()
    assert (settings.trace_id, settings.release_id, settings.git_sha) == ("trace-7", "2026.04.18", "abc1234")
    assert DEFAULT_GIT_SHA == "unknown"


def test_an_end_date_closes_the_partitions_and_the_ingest_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import date

    from orchestration.config import Settings
    from orchestration.defs.partitions import daily_partitions
    from orchestration.partitions import partition_bounds

    monkeypatch.setenv("WEEK06_PARTITION_START_DATE", "2026-04-01")
    monkeypatch.setenv("WEEK06_PARTITION_END_DATE", "2026-04-17")
    settings = Settings.from_env()
    keys = daily_partitions(settings.partition_start, settings.partition_end).get_partition_keys()
    assert (keys[0], keys[-1], len(keys)) == ("2026-04-01", "2026-04-17", 17)
    assert partition_bounds(settings, today=date(2026, 12, 3)) == (date(2026, 4, 1), date(2026, 4, 17))
    monkeypatch.delenv("WEEK06_PARTITION_END_DATE")
    open_ended = Settings.from_env()
    assert partition_bounds(open_ended, today=date(2026, 12, 3)) == (date(2026, 4, 1), date(2026, 12, 4))
