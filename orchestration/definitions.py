"""The Dagster code location (`dagster dev -m orchestration.definitions`): loaded lazily, assembly only.

Nothing imports this module; Dagster calls `defs()` when it loads the code location, and tests or
scripts do the same. The assembly itself lives in orchestration/defs/assembly.py.

`defs` is also usable the way the course's tooling uses its `defs` (`defs.resolve_job_def(...)`,
`defs.resolve_all_asset_keys()`, `defs.get_repository_def()`): reading such an attribute builds
the definitions then, never at import (tests/course/ runs the course's own test against it).
"""

from __future__ import annotations

from typing import Any

import dagster as dg

from orchestration.defs.assembly import build_definitions


def _load() -> dg.Definitions:
    return build_definitions()


_LazyDefinitions = type(dg.definitions(_load))


class CourseDefinitions(_LazyDefinitions):  # type: ignore[misc, valid-type]
    """Dagster's lazy definitions, with the built Definitions' attributes readable on it."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self(), name)


defs = CourseDefinitions(load_fn=_load, has_context_arg=False)
