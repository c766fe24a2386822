"""The course's tests kept in tests/course/ are the course's files, changed only in their import line."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _listed() -> dict[str, tuple[str, str, str]]:
    readme = (HERE / "README.md").read_text(encoding="utf-8")
    rows = re.findall(
        r"^\| (test_[^ |]+\.py) \| [^|]+ : [^|]+ \| `([^`]+)` -> `([^`]+)` \| `([0-9a-f]{64})` \|$", readme, re.M
    )
    return {name: (course_line, our_line, digest) for name, course_line, our_line, digest in rows}


def test_every_course_test_is_listed_with_its_origin() -> None:
    present = {p.name for p in HERE.glob("test_week*.py")}
    assert present and set(_listed()) == present


def test_course_tests_differ_from_the_course_only_by_the_import() -> None:
    for name, (course_line, our_line, digest) in _listed().items():
        text = (HERE / name).read_text(encoding="utf-8")
        assert text.count(our_line) == 1, name
        original = text.replace(our_line, course_line, 1)
        assert hashlib.sha256(original.encode("utf-8")).hexdigest() == digest, f"{name} differs from the course's file"
