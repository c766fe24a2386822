"""A hostile-input catalogue, generated here: every line and manifest attack we could think of,
each with its reason code and exit code, through the real CLI and database, on both parse paths.
Nothing is lost (every line is loaded or kept as a reject with a registered code), no attack
fails a file or the command, and the tables stay intact."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from orchestration import reasons
from orchestration.cli import main
from orchestration.db.connection import connect
from orchestration.ingest import loader
from tests.helpers import jsonl, ticket, write_source

GOOD = json.dumps(ticket(1))


def _dumps(**overrides: object) -> bytes:
    return json.dumps(ticket(**overrides)).encode()  # type: ignore[arg-type]


# (name, line, the reason code, or None when the line must load exactly as written)
LINE_ATTACKS: list[tuple[str, bytes, str | None]] = [
    ("blank", b"", "blank_line"),
    ("spaces", b" \t ", "blank_line"),
    ("lone_cr", b"\r", "blank_line"),
    ("not_utf8", b"\xff\xfe{}", "undecodable_bytes"),
    ("utf16_line", GOOD.encode("utf-16"), "undecodable_bytes"),
    ("overlong_utf8_nul", GOOD.encode().replace(b'"tests"', b'"te\xc0\x80"'), "undecodable_bytes"),
    ("utf8_encoded_surrogate", GOOD.encode().replace(b'"tests"', b'"te\xed\xa0\x80"'), "undecodable_bytes"),
    ("truncated", GOOD.encode()[:40], "malformed_json"),
    ("nan", b'{"a": NaN}', "malformed_json"),
    ("infinity", b'{"a": -Infinity}', "malformed_json"),
    ("two_objects", (GOOD + GOOD).encode(), "malformed_json"),
    ("trailing_garbage", (GOOD + " x").encode(), "malformed_json"),
    ("bom_mid_file", b"\xef\xbb\xbf" + GOOD.encode(), "malformed_json"),
    ("raw_tab_in_string", GOOD.replace("tests", "te\tsts").encode(), "malformed_json"),
    ("deep_objects", b'{"a":' * 50_000 + b"1" + b"}" * 50_000, "malformed_json"),
    ("deep_arrays", b"[" * 50_000 + b"]" * 50_000, "malformed_json"),
    ("array", b"[1, 2]", "not_an_object"),
    ("string", b'"ticket"', "not_an_object"),
    ("null", b"null", "not_an_object"),
    ("empty_object", b"{}", "contract_required:ticket_id"),
    ("duplicate_key", (GOOD[:-1] + ', "status": "closed"}').encode(), "duplicate_key"),
    (
        "duplicate_key_escaped",
        GOOD.replace('"owner": "tests"', '"owner": "tests", "\\u006fwner": "x"').encode(),
        "duplicate_key",
    ),
    ("nul_in_key", _dumps(**{"own\u0000er": "x"}), "contract_additional_properties:own\\u0000er"),
    ("surrogate_in_key", _dumps(**{"ow\ud800ner": "x"}), "contract_additional_properties:ow\\ud800ner"),
    ("huge_key", _dumps(**{"k" * 100_000: 1}), "contract_additional_properties:" + "k" * 64),
    ("nul_in_value", _dumps(n=2, subject="a\u0000b"), "nul_character"),
    ("surrogate_in_value", _dumps(n=3, subject="\udfff"), "invalid_unicode"),
    ("number_for_text", _dumps(n=4, customer_id=12345), "contract_type:customer_id"),
    ("bool_for_enum", _dumps(n=5, status=True), "contract_enum:status"),
    (
        "huge_number",
        GOOD.replace('"owner": "tests"', '"owner": "tests", "n": 1e999').encode(),
        "contract_additional_properties:n",
    ),
    ("leap_second", _dumps(n=6, updated_at="2026-04-17T23:59:60Z"), "contract_format:updated_at"),
    ("hour_24", _dumps(n=7, updated_at="2026-04-17T24:00:00Z"), "contract_format:updated_at"),
    ("local_time", _dumps(n=8, created_at="2026-04-17T08:00:00"), "contract_format:created_at"),
    ("year_one", _dumps(n=9, created_at="0001-01-01T00:00:00Z"), "partition_out_of_range"),
    ("far_offset_overflow", _dumps(n=10, updated_at="9999-12-31T23:59:59-23:59"), "invalid_timestamp"),
    ("before_partitions", _dumps(n=11, day="2025-12-31"), "partition_out_of_range"),
    ("line_too_long", _dumps(n=12, description="x" * 1_100_000), "line_too_long"),
    # Lines that are valid however odd: they load, byte for byte what was meant.
    ("sql_in_text", _dumps(n=13, subject="'); drop table raw.ticket_events; --"), None),
    ("copy_escapes", _dumps(n=14, customer_id="c\\.\n\\N\t\r"), None),
    ("bidi_and_zero_width", _dumps(n=15, subject="\u202e\u200b\ufeff\u2028"), None),
    ("escaped_key", GOOD.replace('"owner"', '"\\u006fwner"').replace("000001", "000016").encode(), None),
    ("year_9999", _dumps(n=17, updated_at="9999-12-31T23:59:59Z"), None),
    ("offset_crosses_day", _dumps(n=18, created_at="2026-04-17T00:30:00+14:00"), None),
    ("nanoseconds", _dumps(n=19, created_at="2026-04-17T08:00:00.123456789Z"), None),
    ("many_tags", _dumps(n=20, tags=["x"] * 50_000), None),
    ("crlf", _dumps(n=21) + b"\r", None),
]

HOSTILE_TEXT = ["\u0000", "\ud800", "\\u0000", "\\", "\t\n\r", "\\N", "'", '"', "%s", "{{x}}", "\u202e", "é" * 600]


def _generated_lines() -> list[bytes]:
    """Every string field of a ticket given each hostile text (and as a key): codes vary, but every
    outcome must be a load or a registered reason code."""
    lines = []
    base = ticket(100)
    for n, (field, value) in enumerate(base.items()):
        for m, text in enumerate(HOSTILE_TEXT):
            record = dict(base, ticket_id=f"TKT-20260417-{200_000 + n * 100 + m:06d}")
            record[field] = text if isinstance(value, str) else record[field]
            record[f"x{text}"] = 1 if m % 2 else record.pop("owner")
            lines.append(json.dumps(record).encode())
            lines.append(json.dumps(record, ensure_ascii=False).encode("utf-8", "surrogatepass"))
    return lines


def _rows(url: str, sql: str) -> list[tuple]:
    with connect(url) as conn:
        return conn.execute(sql).fetchall()


@pytest.mark.parametrize("workers", [0, 2], ids=["in_process", "parse_workers"])
def test_hostile_lines(
    empty_db: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys,
    workers: int,  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setenv("WEEK06_INGEST_WORKERS", str(workers))
    monkeypatch.setattr(loader, "PARALLEL_MIN_BYTES", 0 if workers else loader.PARALLEL_MIN_BYTES)
    generated = _generated_lines()
    lines = [GOOD.encode(), *(raw for _, raw, _ in LINE_ATTACKS), *generated, _dumps(n=99)]
    manifest = write_source(tmp_path, "hostile.jsonl", jsonl(*lines))
    assert main(["ingest", "--manifest", str(manifest), "--json"]) == 1  # refusals, never a failure
    document = json.loads(capsys.readouterr().out)
    (f,) = document["files"]
    assert f["status"] == "loaded" and f["lines_read"] == len(lines), f["reasons"]
    codes = {
        number: code for number, code in _rows(empty_db, "select line_number, reason_codes[1] from ops.ingest_rejects")
    }
    for number, (name, _, expected) in enumerate(LINE_ATTACKS, 2):
        assert codes.get(number) == expected, (name, codes.get(number), expected)
    for code in set(codes.values()):
        assert reasons.lookup(code) is not None, f"unregistered reason code {code!r}"
    assert f["loaded"] + f["duplicates"] + f["rejected"] == len(lines)
    stored = {
        row[0]: row[1:] for row in _rows(empty_db, "select ticket_id, customer_id, payload from raw.ticket_events")
    }
    assert stored["TKT-20260417-000013"][1]["subject"] == "'); drop table raw.ticket_events; --"
    assert stored["TKT-20260417-000014"][0] == "c\\.\n\\N\t\r"
    assert stored["TKT-20260417-000015"][1]["subject"] == "\u202e\u200b\ufeff\u2028"
    assert len(stored["TKT-20260417-000020"][1]["tags"]) == 50_000
    valid_generated = sum(1 for raw in generated if raw and b'"owner"' in raw)
    assert valid_generated > 0 and len(stored) >= 2 + sum(1 for *_, c in LINE_ATTACKS if c is None)


def _manifest_with(tmp: Path, **asset: object) -> Path:
    return write_source(tmp, "f.jsonl", jsonl(ticket(1)), **asset)


def _replace_data(tmp: Path, make: Callable[[Path], None]) -> Path:
    manifest = _manifest_with(tmp)
    data = tmp / "data" / "f.jsonl"
    data.unlink()
    make(data)
    return manifest


def _edit(tmp: Path, edit: Callable[[str], str | bytes]) -> Path:
    manifest = _manifest_with(tmp)
    text = edit(manifest.read_text())
    manifest.write_bytes(text if isinstance(text, bytes) else text.encode())
    return manifest


# name -> (build the manifest in a folder, exit code of `ingest`, reason code it reports)
MANIFEST_ATTACKS: dict[str, tuple[Callable[[Path], Path], int, str]] = {
    "missing": (lambda t: t / "absent.json", 2, "manifest_missing"),
    "folder": (lambda t: (t / "m.json").mkdir() or t / "m.json", 2, "manifest_unreadable"),
    "fifo": (lambda t: os.mkfifo(t / "m.json") or t / "m.json", 2, "manifest_unreadable"),
    "device": (lambda t: (t / "m.json").symlink_to("/dev/zero") or t / "m.json", 2, "manifest_unreadable"),
    "binary": (lambda t: _edit(t, lambda s: b"\xff\xfe\x00"), 2, "manifest_undecodable"),
    "truncated": (lambda t: _edit(t, lambda s: s[:20]), 2, "manifest_malformed_json"),
    "deep": (lambda t: _edit(t, lambda s: "[" * 100_000 + "]" * 100_000), 2, "manifest_malformed_json"),
    "array": (lambda t: _edit(t, lambda s: "[]"), 2, "manifest_invalid"),
    "duplicate_key": (
        lambda t: _edit(t, lambda s: s.replace('"asset_type"', '"source_url_or_path": "/etc/passwd", "asset_type"')),
        2,
        "manifest_duplicate_key",
    ),
    "nul_in_source_id": (lambda t: _manifest_with(t, source_id="structured:a\u0000b"), 2, "manifest_invalid"),
    "surrogate_in_source_id": (lambda t: _manifest_with(t, source_id="structured:\ud800"), 2, "manifest_invalid"),
    # The course's manifest schema sets no minimum on size_bytes: the file's real size refutes it.
    "negative_size": (lambda t: _manifest_with(t, size_bytes=-1), 1, "size_mismatch"),
    "traversal": (
        lambda t: _manifest_with(t, source_url_or_path="../../../../etc/passwd"),
        1,
        "path_outside_source_root",
    ),
    "absolute": (lambda t: _manifest_with(t, source_url_or_path="/etc/passwd"), 1, "path_outside_source_root"),
    "file_url": (lambda t: _manifest_with(t, source_url_or_path="file:///etc/passwd"), 1, "path_outside_source_root"),
    "nul_in_path": (lambda t: _manifest_with(t, source_url_or_path="../data/f.jsonl\u0000.txt"), 1, "invalid_location"),
    "other_scheme": (lambda t: _manifest_with(t, source_url_or_path="javascript:alert(1)"), 1, "unsupported_scheme"),
    "remote_unconfigured": (
        lambda t: _manifest_with(t, source_url_or_path="https://example.com/f.jsonl"),
        1,
        "remote_source_not_configured",
    ),
    # Not in the course's asset_type enum: the manifest itself is invalid.
    "csv": (lambda t: _manifest_with(t, asset_type="csv"), 2, "manifest_invalid"),
    "size_lie": (lambda t: _manifest_with(t, size_bytes=1), 1, "size_mismatch"),
    "huge_size": (lambda t: _manifest_with(t, size_bytes=10**30), 1, "size_mismatch"),
    "checksum_lie": (
        lambda t: _manifest_with(t, checksum_sha256=hashlib.sha256(b"other").hexdigest()),
        1,
        "checksum_mismatch",
    ),
    "symlink_escape": (
        lambda t: _replace_data(t, lambda d: d.symlink_to("/etc/passwd")),
        1,
        "path_outside_source_root",
    ),
    "symlink_loop": (lambda t: _replace_data(t, lambda d: d.symlink_to(d)), 1, "file_unreadable"),
    "data_fifo": (lambda t: _replace_data(t, os.mkfifo), 1, "not_a_regular_file"),
    "data_folder": (lambda t: _replace_data(t, lambda d: d.mkdir()), 1, "not_a_regular_file"),
    "data_missing": (lambda t: _replace_data(t, lambda d: None), 1, "file_missing"),
}


@pytest.mark.parametrize("name", sorted(MANIFEST_ATTACKS))
def test_hostile_manifests(empty_db: str, tmp_path: Path, capsys, name: str) -> None:  # type: ignore[no-untyped-def]
    build, exit_code, code = MANIFEST_ATTACKS[name]
    manifest = build(tmp_path)
    assert main(["ingest", "--manifest", str(manifest), "--source-root", str(tmp_path), "--json"]) == exit_code
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    assert code in json.dumps(document), (name, document)
    assert "Traceback" not in captured.err
    for table in ("raw.ticket_events", "ops.ingest_ledger", "ops.ingest_rejects", "ops.ingest_state"):
        assert _rows(empty_db, f"select count(*) from {table}") == [(0,)], (name, table)
