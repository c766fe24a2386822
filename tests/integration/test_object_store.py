"""s3:// sources against a real S3-compatible server (moto_server on 127.0.0.1, started here).

The course's ticket files and a large generated export are uploaded, a course-shaped manifest
declares them with their real sizes and checksums, and what the factory loads from the store is
compared with what it loads from the same files on disk. Then every failure the store can cause.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from orchestration.cli import main
from orchestration.config import Settings
from orchestration.db.connection import connect
from orchestration.gate.manifest_gate import judge_manifest
from orchestration.ingest.loader import ingest_gated, ingest_manifest
from orchestration.sources.digests import DigestCache, object_identity
from orchestration.sources.object_store import (
    ObjectChanged,
    ObjectRef,
    ObjectStore,
    ObjectStoreConfig,
)
from tests.conftest import course_fixture
from tests.objectstore import REGION, SECRET_KEY, S3Server, s3_server

BUCKET = "omni-raw-tickets"
COURSE_FILES = ("tickets-seed-500.jsonl", "tickets-seed-001.jsonl", "tickets-smoke.jsonl")
LARGE_TICKETS = 10_000  # ~19 MB: past the ingest's parallel threshold (16 MiB) and one 16 MiB part

# The reason codes of s3:// sources, each produced by a test below (the unit test of the registry
# counts them as covered by this module).
OBJECT_STORE_GATE_CODES = frozenset(
    {
        "object_store_unreachable",
        "object_access_denied",
        "object_bucket_missing",
        "object_missing",
        "object_store_error",
    }
)


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    with s3_server() as server:
        yield server


@pytest.fixture()
def store_env(s3: S3Server, monkeypatch: pytest.MonkeyPatch) -> S3Server:
    for name, value in s3.env().items():
        monkeypatch.setenv(name, value)
    return s3


@pytest.fixture(scope="module")
def large_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from orchestration.generate.generator import generate

    summary = generate(tmp_path_factory.mktemp("large"), date(2026, 4, 10), 1, LARGE_TICKETS, seed=12)
    return summary.files[0].data_path


def _course_manifest(assets: list[dict[str, Any]], batch_day: str = "20260417") -> dict[str, Any]:
    """The course's own synthetic manifest, its assets replaced by ours (real sizes and checksums)."""
    manifest = json.loads(course_fixture("manifest_tickets_synthetic_v1.json").read_text(encoding="utf-8"))
    manifest["manifest_id"] = f"manifest-tickets-synthetic-{batch_day}-001"
    manifest["batch_id"] = f"batch-{batch_day}-001"
    manifest["assets"] = assets
    return manifest


def _asset(source_id: str, location: str, declared: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    asset = {
        "source_id": source_id,
        "source_url_or_path": location,
        "asset_type": "jsonl",
        **declared,
        "metadata_status": "complete",
        "pii_scan_status": "redacted",
    }
    asset.update(overrides)
    return asset


def _write_manifest(folder: Path, manifest: dict[str, Any], name: str = "manifest.json") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def _one_object(s3: S3Server, tmp_path: Path, key: str, content: bytes, **overrides: Any) -> Path:
    declared = s3.upload(BUCKET, key, content)
    asset = _asset(f"structured:tickets:{key.split('/')[-1].split('.')[0]}", f"s3://{BUCKET}/{key}", declared)
    asset.update(overrides)
    return _write_manifest(tmp_path / "manifests", _course_manifest([asset]))


def _raw_rows(url: str) -> set[tuple[Any, ...]]:
    with connect(url) as conn:
        return set(
            conn.execute(
                "select record_fingerprint, partition_date, source_id, source_fingerprint, source_line "
                "from raw.ticket_events"
            ).fetchall()
        )


def _outputs_hold_no_secret(*texts: str) -> None:
    for text in texts:
        assert SECRET_KEY not in text


def _counts(files: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    keys = ("source_id", "status", "source_fingerprint", "size_bytes", "lines_read", "loaded", "duplicates")
    return [tuple(f[k] for k in keys) + (f["rejected"], f["rejected_by_reason"]) for f in files]


def _truncate(url: str) -> None:
    with connect(url) as conn:
        conn.execute("truncate raw.ticket_events, ops.ingest_ledger, ops.ingest_rejects, ops.ingest_state")
        conn.commit()


# ---------------------------------------------------------------- the same files, from the store and from disk


def test_store_and_disk_load_the_same_rows(
    store_env: S3Server, empty_db: str, tmp_path: Path, large_export: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = {name: course_fixture(name) for name in COURSE_FILES}
    files[large_export.name] = large_export
    remote, local = [], []
    (tmp_path / "data").mkdir()
    for name, path in files.items():
        content = path.read_bytes()
        declared = store_env.upload(BUCKET, f"synthetic/{name}", content)
        source_id = f"structured:tickets:{name.removesuffix('.jsonl').replace('-', '_')}"
        remote.append(_asset(source_id, f"s3://{BUCKET}/synthetic/{name}", declared))
        (tmp_path / "data" / name).write_bytes(content)
        local.append(_asset(source_id, f"../data/{name}", declared))
    remote_manifest = _write_manifest(tmp_path / "manifests", _course_manifest(remote), "remote.json")
    local_manifest = _write_manifest(tmp_path / "manifests", _course_manifest(local), "local.json")

    assert main(["gate", "--manifest", str(remote_manifest), "--json"]) == 0
    gate_out = capsys.readouterr().out
    report = json.loads(gate_out)
    assert report["status"] == "accept" and all(a["loadable"] for a in report["assets"])

    # Exit 1: the generated export breaks some lines on purpose (rejected, accounted).
    assert main(["ingest", "--manifest", str(remote_manifest), "--json"]) == 1
    ingest_out = capsys.readouterr().out
    from_store = json.loads(ingest_out)
    _outputs_hold_no_secret(gate_out, ingest_out)
    assert [f["status"] for f in from_store["files"]] == ["loaded"] * 4
    assert from_store["totals"]["rejected"] > 0  # the generated export breaks some lines on purpose
    store_rows = _raw_rows(empty_db)
    with connect(empty_db) as conn:
        ledger = conn.execute("select source_path, source_etag from ops.ingest_ledger order by source_id").fetchall()
    assert all(path.startswith(f"s3://{BUCKET}/synthetic/") and etag for path, etag in ledger)

    _truncate(empty_db)
    from_disk = ingest_manifest(empty_db, local_manifest, settings=Settings.from_env()).to_dict()
    assert _counts(from_store["files"]) == _counts(from_disk["files"])
    assert from_store["totals"] == from_disk["totals"]
    assert _raw_rows(empty_db) == store_rows
    assert len(store_rows) == from_store["totals"]["loaded"]


def test_an_object_loaded_once_is_already_loaded(store_env: S3Server, empty_db: str, tmp_path: Path) -> None:
    manifest = _one_object(store_env, tmp_path, "again/seed-500.jsonl", course_fixture(COURSE_FILES[0]).read_bytes())
    first = ingest_manifest(empty_db, manifest, settings=Settings.from_env())
    assert [f.status for f in first.files] == ["loaded"] and first.files[0].loaded == 500
    second = ingest_manifest(empty_db, manifest, settings=Settings.from_env())
    assert [f.status for f in second.files] == ["already_loaded"]
    assert second.files[0].previous_run_id == first.run_id
    assert second.files[0].lines_read == 0  # decided before reading the object

    # The same bytes uploaded under another key: a new ETag? S3 ETags of a single PUT are the
    # content's MD5, so the store says "same object": already_loaded again, nothing read.
    # A version or ETag the ledger has not seen is read again (and adds no row: all duplicates).
    with connect(empty_db) as conn:
        conn.execute("update ops.ingest_ledger set source_etag = '\"not-the-etag\"'")
        conn.commit()
    third = ingest_manifest(empty_db, manifest, settings=Settings.from_env())
    assert [(f.status, f.loaded, f.duplicates) for f in third.files] == [("loaded", 0, 500)]


def test_an_object_without_declared_checksum_is_measured_by_the_gate(
    store_env: S3Server, empty_db: str, tmp_path: Path
) -> None:
    content = course_fixture("tickets-smoke.jsonl").read_bytes()
    manifest = _one_object(store_env, tmp_path, "nosum/smoke.jsonl", content, checksum_sha256=None)
    cache = DigestCache(tmp_path / "digests.sqlite3")
    gate = judge_manifest(manifest, object_store=Settings.from_env().object_store, digests=cache)
    (asset,) = gate.assets
    assert asset.judgment == "warn" and [r.code for r in asset.reasons] == ["missing_checksum"]
    assert asset.sha256 == hashlib.sha256(content).hexdigest()
    # Measured once per object version: the next gate (the ingest's, the evidence's) finds it.
    assert asset.object is not None
    identity = object_identity(asset.object.etag, asset.object.version_id, asset.object.size)
    assert identity and cache.known_key(asset.object.ref.url, identity) == (asset.sha256, len(content))
    (result,) = ingest_gated(empty_db, gate, settings=Settings.from_env()).files
    assert (result.status, result.loaded) == ("loaded", 2)


@pytest.mark.heavy
def test_a_partition_runs_from_the_store(
    store_env: S3Server, empty_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orchestration.defs.runner import instance_for, run_partitions
    from orchestration.evidence.report import read_evidence

    assets = []
    for name in COURSE_FILES:
        declared = store_env.upload(BUCKET, f"run/{name}", course_fixture(name).read_bytes())
        assets.append(
            _asset(f"structured:tickets:run_{name[:-6].replace('-', '_')}", f"s3://{BUCKET}/run/{name}", declared)
        )
    manifests = tmp_path / "manifests"
    _write_manifest(manifests, _course_manifest(assets))
    monkeypatch.setenv("WEEK06_MANIFEST_DIR", str(manifests))
    settings = Settings.from_env()
    outcome = run_partitions(date(2026, 4, 17), date(2026, 4, 17), instance=instance_for(settings))
    assert outcome.success, outcome
    evidence = read_evidence(settings.report_dir, date(2026, 4, 17))
    assert evidence is not None and evidence["status"] in ("success", "warning")
    assert not {"remote_source_not_configured", "ledger_missing"} & set(evidence["reason_codes"])
    _outputs_hold_no_secret(json.dumps(evidence))
    with connect(empty_db) as conn:
        day_rows = conn.execute("select count(*) from raw.ticket_events where partition_date = '2026-04-17'").fetchone()
        silver = conn.execute("select count(*) from silver.ticket_fact where partition_date = '2026-04-17'").fetchone()
    assert day_rows and day_rows[0] >= 2 and silver and silver[0] >= 2


# ---------------------------------------------------------------- failures: codes, exit codes, nothing kept


def _nothing_kept(url: str) -> None:
    with connect(url) as conn:
        for table in ("raw.ticket_events", "ops.ingest_ledger", "ops.ingest_rejects", "ops.ingest_state"):
            assert conn.execute(f"select count(*) from {table}").fetchone() == (0,), table


def _gate_and_ingest_codes(
    manifest: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[int, dict[str, Any], int, dict[str, Any]]:
    gate_exit = main(["gate", "--manifest", str(manifest), "--json"])
    gate_out = capsys.readouterr()
    ingest_exit = main(["ingest", "--manifest", str(manifest), "--json"])
    ingest_out = capsys.readouterr()
    _outputs_hold_no_secret(gate_out.out, gate_out.err, ingest_out.out, ingest_out.err)
    return gate_exit, json.loads(gate_out.out), ingest_exit, json.loads(ingest_out.out)


def _codes(report: dict[str, Any]) -> list[str]:
    return [r["code"] for a in report["assets"] for r in a["reasons"]]


def test_unreachable_store_is_an_environment_problem(
    empty_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.objectstore import _free_port

    monkeypatch.setenv("MINIO_ENDPOINT", f"http://127.0.0.1:{_free_port()}")  # nothing listens there
    monkeypatch.setenv("MINIO_ACCESS_KEY", "someone")
    monkeypatch.setenv("MINIO_SECRET_KEY", SECRET_KEY)
    asset = _asset("structured:tickets:x", f"s3://{BUCKET}/x.jsonl", {"size_bytes": 10, "checksum_sha256": "a" * 64})
    manifest = _write_manifest(tmp_path, _course_manifest([asset]))
    gate_exit, gate, ingest_exit, ingest = _gate_and_ingest_codes(manifest, capsys)
    assert (gate_exit, ingest_exit) == (3, 3)
    assert gate["assets"][0]["judgment"] == "not_available"
    assert _codes(gate) == ["object_store_unreachable"]
    assert ingest["files"][0]["status"] == "refused"
    _nothing_kept(empty_db)


@pytest.mark.parametrize("case", ["object_bucket_missing", "object_missing", "size_mismatch"])
def test_missing_objects_and_wrong_sizes_are_rejected(
    case: str, store_env: S3Server, empty_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    content = course_fixture("tickets-seed-001.jsonl").read_bytes()
    declared = store_env.upload(BUCKET, "present/seed-001.jsonl", content)
    location = {
        "object_bucket_missing": "s3://no-such-bucket/present/seed-001.jsonl",
        "object_missing": f"s3://{BUCKET}/absent/seed-001.jsonl",
        "size_mismatch": f"s3://{BUCKET}/present/seed-001.jsonl",
    }[case]
    if case == "size_mismatch":
        declared = {**declared, "size_bytes": declared["size_bytes"] + 1}
    manifest = _write_manifest(tmp_path, _course_manifest([_asset("structured:tickets:y", location, declared)]))
    gate_exit, gate, ingest_exit, ingest = _gate_and_ingest_codes(manifest, capsys)
    assert (gate_exit, ingest_exit) == (1, 1)
    assert gate["assets"][0]["judgment"] == "reject" and _codes(gate) == [case]
    assert ingest["files"][0]["status"] == "refused"
    _nothing_kept(empty_db)


def test_checksum_mismatch_is_found_while_streaming_and_nothing_is_kept(
    store_env: S3Server, empty_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    content = course_fixture("tickets-seed-500.jsonl").read_bytes()
    manifest = _one_object(store_env, tmp_path, "bad/seed-500.jsonl", content, checksum_sha256="0" * 64)
    gate_exit, gate, ingest_exit, ingest = _gate_and_ingest_codes(manifest, capsys)
    assert gate_exit == 0 and gate["assets"][0]["loadable"]  # only the bytes can tell, and the gate did not read them
    assert ingest_exit == 1
    (failed,) = ingest["files"]
    assert failed["status"] == "failed" and [r["code"] for r in failed["reasons"]] == ["checksum_mismatch"]
    assert failed["lines_read"] == 0 and failed["loaded"] == 0
    _nothing_kept(empty_db)


def test_an_object_replaced_after_the_gate_is_not_kept(store_env: S3Server, empty_db: str, tmp_path: Path) -> None:
    content = course_fixture("tickets-seed-500.jsonl").read_bytes()
    manifest = _one_object(store_env, tmp_path, "moving/seed-500.jsonl", content)
    gate = judge_manifest(manifest, object_store=Settings.from_env().object_store)
    assert gate.assets[0].loadable
    # Same size, other bytes: only the ETag tells the objects apart.
    store_env.client().put_object(Bucket=BUCKET, Key="moving/seed-500.jsonl", Body=content.replace(b"TKT-", b"TKX-"))
    (failed,) = ingest_gated(empty_db, gate, settings=Settings.from_env()).files
    assert failed.status == "failed" and [r["code"] for r in failed.reasons] == ["object_changed_during_read"]
    _nothing_kept(empty_db)


def test_an_object_replaced_in_the_middle_of_a_read_stops_the_read(store_env: S3Server) -> None:
    content = b"".join(course_fixture(name).read_bytes() for name in COURSE_FILES)
    store_env.upload(BUCKET, "parts/all.jsonl", content)
    store = ObjectStore(Settings.from_env().object_store, part_bytes=64 << 10)
    info = store.head(ObjectRef(BUCKET, "parts/all.jsonl"))
    whole = b""
    with info.open() as reader:
        while block := reader.read(1 << 20):
            whole += block
    assert whole == content and reader.tell() == len(content)  # many ranged parts, one exact object
    with info.open() as reader:
        reader.read(100 << 10)  # inside the second part
        store_env.client().put_object(Bucket=BUCKET, Key="parts/all.jsonl", Body=content[::-1])
        with pytest.raises(ObjectChanged) as err:
            while reader.read(1 << 20):
                pass
    assert err.value.reason_code == "object_changed_during_read"


def test_denied_access_is_an_environment_problem(
    empty_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A server that checks signatures once its first two actions (create the bucket, put the
    # object) are done: our keys are unknown to it, as wrong keys would be to MinIO.
    with s3_server(INITIAL_NO_AUTH_ACTION_COUNT="2") as locked:
        client = locked.client()
        client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        client.put_object(Bucket=BUCKET, Key="k.jsonl", Body=b"{}\n")
        for name, value in locked.env().items():
            monkeypatch.setenv(name, value)
        asset = _asset("structured:tickets:z", f"s3://{BUCKET}/k.jsonl", {"size_bytes": 3, "checksum_sha256": "b" * 64})
        manifest = _write_manifest(tmp_path, _course_manifest([asset]))
        gate_exit, gate, ingest_exit, ingest = _gate_and_ingest_codes(manifest, capsys)
    assert (gate_exit, ingest_exit) == (3, 3)
    assert gate["assets"][0]["judgment"] == "not_available" and _codes(gate) == ["object_access_denied"]
    _nothing_kept(empty_db)


def test_other_store_errors_are_named(empty_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    # An HTTP server that is no S3 store: it answers every request 501 Not Implemented.
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class NotAStore(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            self.send_response(501)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_HEAD = do_GET = _answer

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), NotAStore)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("MINIO_ENDPOINT", f"127.0.0.1:{server.server_address[1]}")  # host:port, MinIO's habit
        monkeypatch.setenv("MINIO_SECRET_KEY", SECRET_KEY)
        monkeypatch.setenv("MINIO_ACCESS_KEY", "someone")
        asset = _asset("structured:tickets:w", f"s3://{BUCKET}/w.jsonl", {"size_bytes": 3, "checksum_sha256": "c" * 64})
        manifest = _write_manifest(tmp_path, _course_manifest([asset]))
        gate_exit, gate, ingest_exit, _ = _gate_and_ingest_codes(manifest, capsys)
    finally:
        server.shutdown()
        server.server_close()
    assert (gate_exit, ingest_exit) == (3, 3)
    assert _codes(gate) == ["object_store_error"] and gate["assets"][0]["judgment"] == "not_available"
    _nothing_kept(empty_db)


def test_without_endpoint_s3_stays_not_configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MINIO_ENDPOINT", "MINIO_ACCESS_KEY", "MINIO_SECRET_KEY", "MINIO_REGION"):
        monkeypatch.delenv(name, raising=False)
    gate = judge_manifest(
        course_fixture("manifest_tickets_synthetic_v1.json"), object_store=Settings.from_env().object_store
    )
    assert {r.code for a in gate.assets for r in a.reasons} >= {"remote_source_not_configured"}
    assert all(a.judgment == "not_available" for a in gate.assets)


def test_the_secret_is_never_shown() -> None:
    config = ObjectStoreConfig(endpoint="http://user:pw@127.0.0.1:9", access_key="AK", secret_key=SECRET_KEY)
    store = ObjectStore(config)
    for text in (repr(config), repr(store), str(config.describe()), config.shown_endpoint, repr(Settings.from_env())):
        assert SECRET_KEY not in text and "pw" not in text.replace("path", "")


def test_a_stream_that_breaks_resumes_where_it_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    # A minimal S3-speaking server whose first GET dies half-way through its body (as a dropped
    # connection would): the reader asks again from the byte it stopped at, pinned to the ETag.
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    body = b"".join(course_fixture(name).read_bytes() for name in COURSE_FILES)
    ranges_asked: list[str] = []

    class Flaky(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_HEAD(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", '"v1"')
            self.end_headers()

        def do_GET(self) -> None:
            assert self.headers.get("If-Match") == '"v1"'
            first, last = (int(x) for x in self.headers["Range"].removeprefix("bytes=").split("-"))
            ranges_asked.append(f"{first}-{last}")
            part = body[first : last + 1]
            self.send_response(206)
            self.send_header("Content-Length", str(len(part)))
            self.send_header("Content-Range", f"bytes {first}-{last}/{len(body)}")
            self.send_header("ETag", '"v1"')
            self.end_headers()
            if len(ranges_asked) == 1:
                self.wfile.write(part[: len(part) // 2])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)
                return
            self.wfile.write(part)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Flaky)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        config = ObjectStoreConfig(endpoint=f"http://127.0.0.1:{server.server_address[1]}")
        store = ObjectStore(config, part_bytes=256 << 10)
        info = store.head(ObjectRef(BUCKET, "flaky.jsonl"))
        read = b""
        with info.open() as reader:
            while block := reader.read(64 << 10):
                read += block
    finally:
        server.shutdown()
        server.server_close()
    assert read == body
    half = (256 << 10) // 2
    assert ranges_asked[0] == f"0-{(256 << 10) - 1}" and ranges_asked[1].startswith(f"{half}-")  # resumed
