"""The data in: `generate` (synthetic exports and their manifests), `gate` (judge a manifest's
files) and `ingest` (gate, then load the accepted files into raw.ticket_events)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from orchestration.cli.errors import EXIT_ENV, EXIT_OK, EXIT_REFUSED, EXIT_USAGE
from orchestration.cli.output import emit
from orchestration.config import Settings


def cmd_generate(args: argparse.Namespace, settings: Settings) -> int:
    from orchestration.generate.generator import generate

    started = time.perf_counter()
    summary = generate(
        Path(args.out),
        args.start,
        args.days,
        args.tickets_per_day,
        seed=args.seed,
        invalid_rate=args.invalid_rate,
        duplicate_rate=args.duplicate_rate,
        late_rate=args.late_rate,
    )
    document = summary.to_dict()
    elapsed = time.perf_counter() - started
    emit(
        document,
        args.json,
        lambda: print(
            f"wrote {document.get('records')} lines in {len(document.get('files', []))} daily batches to "
            f"{args.out} in {elapsed:.1f}s (invalid {document.get('invalid')}, duplicates "
            f"{document.get('duplicates')}, late updates {document.get('late_updates')})"
        ),
    )
    return EXIT_OK


def cmd_gate(args: argparse.Namespace, settings: Settings) -> int:
    from orchestration.gate.manifest_gate import judge_manifest
    from orchestration.gate.manifests import ManifestUnreadable
    from orchestration.gate.verdicts import unreadable_report
    from orchestration.sources.digests import DigestCache

    manifest = Path(args.manifest)
    try:
        result = judge_manifest(
            manifest, _source_root(args, settings), settings.object_store, DigestCache(settings.digest_cache)
        )
    except ManifestUnreadable as err:
        if not args.json:
            raise
        # Scripts get their one JSON document (status `unreadable`) even when there is nothing to judge.
        emit(unreadable_report(manifest, err), True, lambda: None)
        print(f"data-factory: {err}", file=sys.stderr)
        return EXIT_USAGE
    document = result.to_dict()

    def human() -> None:
        print(f"{document['manifest_id']}: {document['status']}")
        for asset in document["assets"]:
            reasons = "; ".join(f"{r['code']}: {r['message']}" for r in asset["reasons"]) or "ok"
            judgment = asset["judgment"]
            if asset["metadata_judgment"] != judgment:
                judgment += f" (metadata alone: {asset['metadata_judgment']})"
            loadable = "loadable" if asset["loadable"] else "not loadable"
            print(f"  {asset['source_id']}: {judgment}, {loadable} ({reasons})")

    emit(document, args.json, human)
    if _environment_problem(r["code"] for a in document["assets"] for r in a["reasons"]):
        return EXIT_ENV
    return EXIT_REFUSED if result.refused else EXIT_OK


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from orchestration.db import embedded
    from orchestration.ingest.loader import ingest_manifest

    url = embedded.database_url(settings)
    result = ingest_manifest(
        url,
        Path(args.manifest),
        settings=settings,
        source_root=_source_root(args, settings),
        dry_run=args.dry_run,
        reread=args.reread,
    )
    document = result.to_dict()

    def human() -> None:
        t = document["totals"]
        print(
            f"{document['manifest_id']} run {document['run_id']}: {document['status']}"
            + (" (dry run: nothing written)" if document["dry_run"] else "")
        )
        for f in document["files"]:
            print(
                f"  {f['source_id']}: {f['status']} read {f['lines_read']} loaded {f['loaded']} "
                f"duplicates {f['duplicates']} rejected {f['rejected']} {f['rejected_by_reason'] or ''}"
                + "".join(f"\n    {r['code']}: {r['message']}" for r in f["reasons"])
            )
        print(
            f"  total: read {t['lines_read']} loaded {t['loaded']} duplicates {t['duplicates']} "
            f"rejected {t['rejected']}; touched partitions: {', '.join(document['touched_partitions']) or '-'}"
        )

    environment = _environment_problem(r["code"] for f in document["files"] for r in f["reasons"])
    if result.connection_lost or environment:
        document["exit_code"] = EXIT_ENV
    emit(document, args.json, human)
    if result.connection_lost or environment:
        return EXIT_ENV
    if result.status == "failed":
        return EXIT_REFUSED
    return EXIT_OK if result.status == "success" else EXIT_REFUSED


def _environment_problem(codes: Any) -> bool:
    """An object store that cannot be reached or refuses our keys is the deployment's problem (exit 3)."""
    from orchestration.sources.object_store import ENVIRONMENT_CODES

    return not ENVIRONMENT_CODES.isdisjoint(codes)


def _source_root(args: argparse.Namespace, settings: Settings) -> Path | None:
    return Path(args.source_root) if getattr(args, "source_root", None) else settings.source_root
