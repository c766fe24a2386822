"""Where a declared file is: a local path under the manifest's folder, a configured object store, or
nowhere this factory reads; and how a location may be shown (no password, no signed URL's secret)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlencode, urlparse, urlunparse

from orchestration.db.connection import redact
from orchestration.gate.verdicts import Reason
from orchestration.sources.object_store import OBJECT_SCHEMES

# Object stores and web locations a deployment could be configured to read; none is configured in
# this factory, so their files are `not_available` (not rejected: the manifest is not wrong).
REMOTE_SCHEMES = frozenset(
    {"s3", "s3a", "s3n", "gs", "gcs", "az", "abfs", "abfss", "wasb", "wasbs", "adl", "hdfs", "webhdfs"}
    | {"http", "https", "ftp", "ftps", "sftp", "oss", "cos", "r2"}
)
# Query parameters of signed URLs that carry a secret (S3 X-Amz-Signature / -Credential, Azure sig, tokens).
_SECRET_QUERY_KEY = re.compile(r"sig|token|credential|secret|password|key", re.I)


def shown_location(location: str) -> str:
    """A declared location as it may be shown: no URL password, no secret of a signed URL."""
    text = redact(location)
    parsed = urlparse(text)
    if len(parsed.scheme) > 1 and parsed.query:
        pairs = parse_qsl(parsed.query, keep_blank_values=True)
        hidden = [(key, "***" if _SECRET_QUERY_KEY.search(key) else value) for key, value in pairs]
        text = urlunparse(parsed._replace(query=urlencode(hidden, safe="*")))
    return text


def resolve_location(location: str, manifest_dir: Path) -> tuple[Path | None, str, Reason | None]:
    """The local path a location names, or the judgment and reason why it names none."""
    shown = shown_location(location)
    if "\x00" in location:
        return None, "reject", Reason("invalid_location", f"{shown!r} contains a NUL character")
    parsed = urlparse(location)
    scheme = parsed.scheme.lower()
    if scheme and len(scheme) > 1:  # a one-letter scheme is a Windows drive
        if scheme in REMOTE_SCHEMES:
            return (
                None,
                "not_available",
                Reason(
                    "remote_source_not_configured",
                    f"{shown!r}: no {scheme}:// source is configured here; "
                    + (
                        "set MINIO_ENDPOINT (and MINIO_ACCESS_KEY, MINIO_SECRET_KEY) to read s3:// objects"
                        if scheme in OBJECT_SCHEMES
                        else "only local files and s3:// objects can be read"
                    ),
                ),
            )
        if scheme != "file":
            return (
                None,
                "reject",
                Reason("unsupported_scheme", f"{shown!r}: scheme {scheme!r} is not a source this factory knows"),
            )
        if parsed.netloc not in ("", "localhost"):
            return (
                None,
                "reject",
                Reason("unsupported_scheme", f"{shown!r}: a file:// URL names a local path (file:///path)"),
            )
        location = unquote(parsed.path)
    candidate = Path(location)
    if not candidate.is_absolute():
        candidate = manifest_dir / candidate
    return candidate, "accept", None
