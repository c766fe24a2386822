"""`lake export`: land each partition's raw rows as parquet under the lake root, where Spark reads them."""

from __future__ import annotations

import argparse

from orchestration.cli.errors import EXIT_ENV, EXIT_OK, EXIT_USAGE
from orchestration.cli.output import emit, fail
from orchestration.cli.ranges import check_range, partition_args
from orchestration.config import Settings


def cmd_lake(args: argparse.Namespace, settings: Settings) -> int:
    from orchestration.db import embedded
    from orchestration.lake.export import LakeError, check_lake_root, export_partitions

    first, last = partition_args(args)
    check_range(settings, first, last)
    lake_root = args.lake_root or settings.lake_root
    try:
        check_lake_root(lake_root)  # refuse before starting or reaching any database
        export = export_partitions(embedded.database_url(settings), lake_root, first, last, force=args.force)
    except LakeError as exc:
        # A missing extra is the installation's problem (exit 3); a lake root we cannot write, the call's (2).
        exit_code = EXIT_ENV if exc.code == "spark_extra_missing" else EXIT_USAGE
        return fail(args, exit_code, exc.code, str(exc))
    document = export.to_dict()

    def human() -> None:
        print(f"lake {document['lake_root']}: {document['rows']} rows, partitions {document['partitions_by_status']}")
        for p in export.partitions:
            if p.status != "empty":
                print(f"  {p.partition_key}  {p.status:<9} {p.rows:>7} rows")

    emit(document, args.json, human)
    return EXIT_OK
