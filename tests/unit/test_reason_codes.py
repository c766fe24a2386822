"""The reason code registry: complete, documented in docs/reason-codes.md, and every gate code reachable.

Emitted codes are found by reading the source (Python AST, dbt macros), so a new code that
nobody registered fails here rather than reaching users without a sentence.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestration import contracts, reasons
from orchestration.gate.manifest_gate import judge_manifest
from orchestration.gate.manifests import ManifestUnreadable
from orchestration.gate.verdicts import GateResult
from tests.conftest import PROJECT_ROOT
from tests.helpers import jsonl, ticket, write_source

SNAKE = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")
GATE_MODULES = sorted((PROJECT_ROOT / "orchestration" / "gate").glob("*.py"))

# Where a code sits in a call: function (or method) name -> positional index of the code.
_EMITTERS = {
    "Reason": 0,
    "ManifestUnreadable": 0,
    "ContractViolation": 0,
    "add": 1,  # AssetJudgment.add(judgment, code, message)
    "reject": 2,  # RecordParser.reject(line_number, raw, code, detail)
    "_failed": 1,  # the loader's failed-file result (result, code, message)
    "require_valid": 2,
    "Check": 2,  # evidence Check(name, status, (codes, ...))
    "LakeError": 0,  # the lake export's refusals (code, message)
}


def _strings(node: ast.AST | None) -> Iterator[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.Tuple | ast.List):
        for element in node.elts:
            yield from _strings(element)
    elif isinstance(node, ast.BoolOp | ast.IfExp):
        for child in ast.iter_child_nodes(node):
            yield from _strings(child)


def _leading_code(node: ast.AST) -> Iterator[str]:
    """`raise X(f"partition_out_of_range: ...")`: a message that starts with its code."""
    first = node.values[0] if isinstance(node, ast.JoinedStr) and node.values else node
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        match = re.match(r"(?:data-factory: )?([a-z]+(?:_[a-z0-9]+)+): ", first.value)
        if match:
            yield match[1]


def emitted_codes(path: Path) -> set[str]:
    """Reason code literals a Python module emits."""
    codes: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            position = _EMITTERS.get(name)
            if position is not None and len(node.args) > position:
                codes.update(_strings(node.args[position]))
            for keyword in node.keywords:
                if keyword.arg == "reason_code" or (keyword.arg == "code" and position is not None):
                    codes.update(_strings(keyword.value))
            if name in ("UsageError", "ValueError", "print") and node.args:
                codes.update(_leading_code(node.args[0]))
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value in ("code", "reason_codes"):
                    codes.update(_strings(value))
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id in ("reason_code", "codes") for t in targets):
                codes.update(_strings(node.value))
        elif isinstance(node, ast.BoolOp) and any(isinstance(v, ast.Name) and v.id == "codes" for v in node.values):
            codes.update(_strings(node))  # `codes or ("contract_violation",)`
    return codes


def macro_codes(path: Path) -> set[str]:
    """Reason codes a dbt macro raises (the window macro) or writes as a test's failure_reason."""
    text = path.read_text(encoding="utf-8")
    codes = set(re.findall(r"refuse_partition_window\(\s*'([a-z_]+)'", text))
    codes.update(re.findall(r"'([a-z_]+)' as failure_reason", text))
    codes.update(re.findall(r"then '([a-z_]+)'", text) if "failure_reason" in text else [])
    codes.update(re.findall(r"\(\s*'([a-z_]+)', column", text))
    codes.update(c + "<column>" for c in re.findall(r"'(exceeds_)' ~", text))
    return codes


# ---------------------------------------------------------------- the registry itself


def test_registry_entries_are_unique_snake_case_with_a_sentence() -> None:
    seen = [entry.code for entry in reasons.REASON_CODES]
    assert len(seen) == len(set(seen)), sorted(c for c in seen if seen.count(c) > 1)
    for entry in reasons.REASON_CODES:
        assert entry.sentence.endswith(".") and len(entry.sentence) > 15, entry
        assert set(entry.where) <= {"gate", "ingest", "evidence", "dbt", "cli", "database", "backfill"}, entry
        if entry.pattern is None:
            assert SNAKE.fullmatch(entry.code), entry.code
        else:
            assert "<" in entry.code, "a family is named by its shape, e.g. contract_<rule>:<field>"


@pytest.mark.parametrize(
    ("code", "family"),
    [
        ("contract_required:priority", "contract_<rule>:<field>"),
        ("contract_enum:status", "contract_<rule>:<field>"),
        ("contract_additional_properties:sentiment", "contract_<rule>:<field>"),
        ("contract_max_length:subject", "contract_<rule>:<field>"),
        ("exceeds_tickets_created", "exceeds_<column>"),
    ],
)
def test_family_members_find_their_family(code: str, family: str) -> None:
    entry = reasons.lookup(code)
    assert entry is not None and entry.code == family
    assert reasons.sentence(code) == entry.sentence


def test_unknown_codes_are_not_registered() -> None:
    assert reasons.lookup("everything_is_fine") is None
    assert reasons.lookup("contract_required") is None  # a family member names its field
    assert "not in the reason code registry" in reasons.sentence("everything_is_fine")


def test_documented_table_is_the_registry() -> None:
    table = reasons.documented_table()
    assert table is not None, "docs/reason-codes.md has no reason codes table between its markers"
    documented = re.findall(r"^\| `([^`]+)` \|", table, re.M)
    registered = [entry.code for entry in reasons.REASON_CODES]
    assert sorted(set(registered) - set(documented)) == [], "registered but not in docs/reason-codes.md"
    assert sorted(set(documented) - set(registered)) == [], "in docs/reason-codes.md but not registered"
    assert table == reasons.markdown_table(), "docs/reason-codes.md is stale: python -m orchestration.reasons --write"


# ---------------------------------------------------------------- every emitted code is registered


def test_the_source_scan_finds_the_gate_codes() -> None:
    # Guards the scanner itself: if it found nothing, "all registered" would prove nothing.
    found = set().union(*(emitted_codes(module) for module in GATE_MODULES))
    assert {"checksum_mismatch", "manifest_missing", "remote_source_not_configured", "gate_report_invalid"} <= found
    assert len(found) >= 25


def test_every_code_the_gate_emits_is_registered() -> None:
    found = set().union(*(emitted_codes(module) for module in GATE_MODULES))
    unregistered = sorted(code for code in found if reasons.lookup(code) is None)
    assert unregistered == []


def _product_modules() -> list[Path]:
    return sorted(p for p in (PROJECT_ROOT / "orchestration").rglob("*.py") if p not in GATE_MODULES)


@pytest.mark.parametrize("path", _product_modules(), ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_every_code_the_product_emits_is_registered(path: Path) -> None:
    unregistered = sorted(code for code in emitted_codes(path) if reasons.lookup(code) is None)
    assert unregistered == [], f"{path.name} emits codes missing from orchestration/reasons.py"


@pytest.mark.parametrize(
    "path", sorted((PROJECT_ROOT / "macros").rglob("*.sql")), ids=lambda p: str(p.relative_to(PROJECT_ROOT))
)
def test_every_code_the_dbt_macros_emit_is_registered(path: Path) -> None:
    unregistered = sorted(code for code in macro_codes(path) if reasons.lookup(code) is None)
    assert unregistered == [], f"{path.name} emits codes missing from orchestration/reasons.py"


def test_the_macro_scan_finds_the_window_codes() -> None:
    found = macro_codes(PROJECT_ROOT / "macros" / "partition_window.sql")
    assert found == {"invalid_partition_var", "partition_out_of_range"}


# ---------------------------------------------------------------- one crafted input per gate code


def _rewrite(manifest: Path, **changes: Any) -> Path:
    document = json.loads(manifest.read_text())
    for key, value in changes.items():
        if value is None:
            document.pop(key, None)
        else:
            document[key] = value
    manifest.write_text(json.dumps(document))
    return manifest


def _source(tmp_path: Path, **asset_overrides: Any) -> Path:
    return write_source(tmp_path, "t.jsonl", jsonl(ticket()), **asset_overrides)


def _unreadable(content: bytes | None) -> Callable[[Path], Path]:
    def build(tmp_path: Path) -> Path:
        path = tmp_path / "m.json"
        if content is None:
            path.mkdir()  # exists, cannot be read as a file
        else:
            path.write_bytes(content)
        return path

    return build


def _duplicated(tmp_path: Path) -> Path:
    manifest = _source(tmp_path)
    assets = json.loads(manifest.read_text())["assets"]
    return _rewrite(manifest, assets=assets * 2)


def _symlink_loop(tmp_path: Path) -> Path:
    manifest = _source(tmp_path, source_url_or_path="../data/loop.jsonl")
    (tmp_path / "data" / "loop.jsonl").symlink_to(tmp_path / "data" / "loop.jsonl")
    return manifest


def _folder(tmp_path: Path) -> Path:
    manifest = _source(tmp_path, source_url_or_path="../data/folder.jsonl")
    (tmp_path / "data" / "folder.jsonl").mkdir()
    return manifest


GATE_SCENARIOS: dict[str, Callable[[Path], Path]] = {
    "manifest_missing": lambda tmp: tmp / "absent.json",
    "manifest_unreadable": _unreadable(None),
    "manifest_undecodable": _unreadable(b'{"manifest_id": "\xff"}'),
    "manifest_malformed_json": _unreadable(b'{"manifest_id": '),
    "manifest_invalid": _unreadable(json.dumps({"manifest_id": "manifest-x-20260417-001"}).encode()),
    "manifest_duplicate_key": _unreadable(b'{"manifest_id": "manifest-x-20260417-001", "manifest_id": "y"}'),
    "duplicate_source_id": _duplicated,
    "missing_cursor": lambda tmp: _rewrite(_source(tmp), load_mode="incremental_cursor"),
    "missing_replay_from_batch": lambda tmp: _rewrite(_source(tmp), load_mode="replay"),
    "missing_backfill_window": lambda tmp: _rewrite(
        _source(tmp), load_mode="backfill", selection_window={"start_at": "2026-04-17T00:00:00Z"}
    ),
    "partial_metadata": lambda tmp: _source(tmp, metadata_status="partial"),
    "missing_metadata": lambda tmp: _source(tmp, metadata_status="missing"),
    "pii_suspected": lambda tmp: _source(tmp, pii_scan_status="suspected"),
    "pii_scan_gap": lambda tmp: _source(tmp, pii_scan_status="not_run"),
    "missing_checksum": lambda tmp: _source(tmp, checksum_sha256=None),
    "contract_mismatch": lambda tmp: _source(tmp, contract_ref="omni://contracts/data/audio_asset/v1"),
    "unknown_license": lambda tmp: _rewrite(_source(tmp), license_tag="unknown"),
    "unsupported_asset_type": lambda tmp: _source(tmp, asset_type="pdf"),
    "invalid_location": lambda tmp: _source(tmp, source_url_or_path="../data/t\x00.jsonl"),
    "remote_source_not_configured": lambda tmp: _source(tmp, source_url_or_path="gs://bucket/t.jsonl"),
    "unsupported_scheme": lambda tmp: _source(tmp, source_url_or_path="mailto:ops@example.com"),
    "path_outside_source_root": lambda tmp: _source(tmp, source_url_or_path="/etc/hostname"),
    "file_missing": lambda tmp: _source(tmp, source_url_or_path="../data/absent.jsonl"),
    "not_a_regular_file": _folder,
    "file_unreadable": _symlink_loop,
    "size_mismatch": lambda tmp: _source(tmp, size_bytes=3),
    "checksum_mismatch": lambda tmp: _source(tmp, checksum_sha256="f" * 64),
}


def test_every_gate_code_has_a_scenario() -> None:
    # The s3:// codes need a running store: tests/integration/test_object_store.py produces each.
    from tests.integration.test_object_store import OBJECT_STORE_GATE_CODES

    gate_codes = {e.code for e in reasons.REASON_CODES if "gate" in e.where}
    assert set(GATE_SCENARIOS) | {"gate_report_invalid"} | OBJECT_STORE_GATE_CODES == gate_codes


@pytest.mark.parametrize("code", sorted(GATE_SCENARIOS))
def test_gate_reason_code_is_produced(tmp_path: Path, code: str) -> None:
    manifest = GATE_SCENARIOS[code](tmp_path)
    try:
        result = judge_manifest(manifest)
    except ManifestUnreadable as err:
        assert err.code == code, err
        assert err.message
        return
    reasons_given = [r for a in result.assets for r in a.reasons if r.code == code]
    assert reasons_given, [r.code for a in result.assets for r in a.reasons]
    assert all(r.message for r in reasons_given)
    assert result.to_dict()["status"] != "accept"  # every code here is a refusal or a doubt
    assert not any(a.loadable for a in result.assets) or code in ("missing_checksum", "partial_metadata")


def test_gate_report_invalid_is_produced_when_the_report_breaks_its_contract(tmp_path: Path) -> None:
    result: GateResult = judge_manifest(_source(tmp_path))
    result.assets[0].add("warn", "Not A Code", "a code that breaks the contract's pattern")
    with pytest.raises(contracts.ContractViolation) as err:
        result.to_dict()
    assert err.value.code == "gate_report_invalid"


def test_no_registered_code_is_dead() -> None:
    # A code the product no longer emits must leave the registry (and docs/reason-codes.md) with it.
    sources = [p for p in (PROJECT_ROOT / "orchestration").rglob("*.py") if p.name != "reasons.py"]
    sources += list((PROJECT_ROOT / "macros").rglob("*.sql"))
    text = "\n".join(p.read_text(encoding="utf-8") for p in sources)
    dead = []
    for entry in reasons.REASON_CODES:
        literal = entry.code.split("<")[0] if entry.pattern else entry.code
        if not re.search(rf"(?<![a-z0-9_]){re.escape(literal)}" + ("" if entry.pattern else r"(?![a-z0-9_])"), text):
            dead.append(entry.code)
    assert dead == []
