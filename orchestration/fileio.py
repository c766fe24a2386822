"""Files as users see them: written whole or not at all, and shown without machine paths."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from orchestration.config import PROJECT_ROOT


def write_text_atomic(path: Path, text: str) -> None:
    """Write to a hidden temporary file beside `path`, fsync, then rename over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def display_path(path: Path) -> str:
    """Paths inside the project are shown relative to it (no machine path in reports or evidence)."""
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except (ValueError, OSError, RuntimeError):
        return str(path)
