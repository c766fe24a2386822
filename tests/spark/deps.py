"""The Spark suite's dependencies: skipped without them, failed without them under WEEK06_REQUIRE_SPARK=1.

`make test-spark` (and so CI) sets WEEK06_REQUIRE_SPARK=1: there a missing Java or `spark` extra
is a failure, never a quiet skip. Elsewhere (`pytest -m spark` on a machine without them) the
tests say what is missing and skip.
"""

from __future__ import annotations

import importlib.util
import os
import shutil

import pytest


def missing_for_spark(*, java: bool) -> str | None:
    """What the suite lacks: the spark extra's modules, and Java when a JVM is started."""
    absent = [name for name in ("pyarrow", "pyspark", "dbt.adapters.spark") if not _importable(name)]
    if absent:
        return f"the spark extra is not installed ({', '.join(absent)}): pip install -e '.[spark]'"
    if java and shutil.which("java") is None:
        return "no java on PATH (Java 17: apt-get install openjdk-17-jre-headless)"
    return None


def require_or_skip(missing: str | None) -> None:
    if missing is None:
        return
    if os.environ.get("WEEK06_REQUIRE_SPARK") == "1":
        pytest.fail(f"WEEK06_REQUIRE_SPARK=1 but {missing}", pytrace=False)
    pytest.skip(missing)


def _importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # a parent package is missing
        return False
