"""The Dagster code location (`dagster dev -m orchestration.definitions`): loaded lazily, assembly only.

Nothing imports this module; Dagster calls `defs()` when it loads the code location, and tests or
scripts do the same. The assembly itself lives in orchestration/defs/assembly.py.
"""

from __future__ import annotations

import dagster as dg

from orchestration.defs.assembly import build_definitions


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions()
