"""`s3://bucket/key` objects of an S3-compatible store (MinIO, AWS S3, ...), read with bounded memory.

The store is configured by the course's variables MINIO_ENDPOINT, MINIO_ACCESS_KEY and
MINIO_SECRET_KEY (plus MINIO_REGION). The client is boto3 (see docs/object-store.md for why),
imported only when an object is actually looked at, so a factory without a store pays nothing.

Every failure is an `ObjectStoreError` subclass carrying a registered reason code; its message
never holds the secret key (nor the access key).
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import urlparse

OBJECT_SCHEMES = frozenset({"s3"})
PART_BYTES = 16 << 20  # one ranged GET per part: a broken stream resumes where it stopped
DEFAULT_REGION = "us-east-1"
_RESUMES = 3  # a part whose stream breaks is asked again from where it stopped, this many times
_CONTENT_RANGE_TOTAL = re.compile(r"/(\d+)\s*$")


class ObjectStoreError(Exception):
    """An object could not be examined or read; `environment` errors are the deployment's, not the manifest's."""

    reason_code = "object_store_error"
    judgment = "not_available"  # the gate's judgment of an asset that meets this error
    environment = True  # the CLI exits 3 (environment problem) rather than 1

    def __init__(self, message: str) -> None:
        super().__init__(f"{self.reason_code}: {message}")
        self.message = message


class ObjectStoreUnreachable(ObjectStoreError):
    reason_code = "object_store_unreachable"


class ObjectAccessDenied(ObjectStoreError):
    reason_code = "object_access_denied"


class ObjectBucketMissing(ObjectStoreError):
    reason_code = "object_bucket_missing"
    judgment = "reject"
    environment = False


class ObjectMissing(ObjectStoreError):
    reason_code = "object_missing"
    judgment = "reject"
    environment = False


class ObjectChanged(ObjectStoreError):
    reason_code = "object_changed_during_read"
    judgment = "reject"
    environment = False


# Codes of failures that are the deployment's (store down, keys refused): the CLI exits 3 on them.
ENVIRONMENT_CODES = frozenset(
    error.reason_code
    for error in (ObjectStoreError, ObjectStoreUnreachable, ObjectAccessDenied, ObjectBucketMissing, ObjectMissing)
    if error.environment
)


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class ObjectStoreConfig:
    """Where the store is and how to sign requests. The secret never appears in its repr."""

    endpoint: str | None = field(default=None, repr=False)  # a URL could carry a user and password
    access_key: str | None = field(default=None, repr=False)
    secret_key: str | None = field(default=None, repr=False)
    region: str = DEFAULT_REGION
    secure: bool = False  # for an endpoint given without a scheme (host:port, MinIO's habit)

    def __repr__(self) -> str:
        return f"ObjectStoreConfig(endpoint={self.shown_endpoint!r}, region={self.region!r})"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ObjectStoreConfig:
        return cls(
            endpoint=(env.get("MINIO_ENDPOINT") or "").strip() or None,
            access_key=env.get("MINIO_ACCESS_KEY") or None,
            secret_key=env.get("MINIO_SECRET_KEY") or None,
            region=(env.get("MINIO_REGION") or "").strip() or DEFAULT_REGION,
            secure=_flag(env.get("MINIO_SECURE")),
        )

    @property
    def configured(self) -> bool:
        return self.endpoint is not None

    @property
    def endpoint_url(self) -> str:
        assert self.endpoint is not None
        if "://" in self.endpoint:
            return self.endpoint.rstrip("/")
        return f"{'https' if self.secure else 'http'}://{self.endpoint.rstrip('/')}"

    @property
    def shown_endpoint(self) -> str:
        """The endpoint as it may be shown: scheme, host and port only (no user or password a URL could carry)."""
        if not self.configured:
            return "(not configured)"
        parsed = urlparse(self.endpoint_url)
        return f"{parsed.scheme}://{parsed.hostname or ''}{f':{parsed.port}' if parsed.port else ''}"

    def describe(self) -> dict[str, Any]:
        """What metadata and reports may say about the store (never a key)."""
        return {
            "configured": self.configured,
            "endpoint": self.shown_endpoint,
            "region": self.region,
            "signed": bool(self.access_key and self.secret_key),
        }


@dataclass(frozen=True)
class ObjectRef:
    bucket: str
    key: str

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    @classmethod
    def parse(cls, location: str) -> ObjectRef:
        """`s3://bucket/key` -> ObjectRef; ValueError when the URL names no object."""
        scheme, separator, rest = location.partition("://")
        if not separator or scheme.lower() not in OBJECT_SCHEMES:
            raise ValueError(f"not an s3:// URL: {location!r}")
        bucket, _, key = rest.partition("/")  # the key is taken literally, as S3 tools do
        if not bucket or "@" in bucket or ":" in bucket:
            raise ValueError("an s3:// URL names its bucket right after s3:// (s3://bucket/key)")
        if not key or key.endswith("/"):
            raise ValueError("an s3:// URL names one object: s3://bucket/key (a prefix or a bucket is not a file)")
        return cls(bucket, key)


def is_object_location(location: str) -> bool:
    return urlparse(location).scheme.lower() in OBJECT_SCHEMES


@dataclass(frozen=True)
class ObjectInfo:
    """One object as the store described it (HEAD): reads are pinned to this ETag (and version)."""

    ref: ObjectRef
    size: int
    etag: str | None
    version_id: str | None
    store: ObjectStore = field(repr=False, compare=False)

    def open(self) -> ObjectReader:
        return ObjectReader(self)


_clients: dict[ObjectStoreConfig, Any] = {}
_clients_lock = threading.Lock()


def _client(config: ObjectStoreConfig) -> Any:
    """One boto3 client per configuration (clients are thread-safe; building one costs ~50 ms)."""
    with _clients_lock:
        client = _clients.get(config)
        if client is None:
            import boto3
            from botocore import UNSIGNED
            from botocore.config import Config

            options: dict[str, Any] = {
                "region_name": config.region,
                "s3": {"addressing_style": "path"},  # MinIO and most S3-compatible stores
                "retries": {"max_attempts": 3, "mode": "standard"},
                "connect_timeout": 5,
                "read_timeout": 60,
            }
            signed = bool(config.access_key and config.secret_key)
            if not signed:
                options["signature_version"] = UNSIGNED  # anonymous reads of a public bucket
            client = boto3.session.Session().client(
                "s3",
                endpoint_url=config.endpoint_url,
                region_name=config.region,
                aws_access_key_id=config.access_key if signed else None,
                aws_secret_access_key=config.secret_key if signed else None,
                config=Config(**options),
            )
            _clients[config] = client
        return client


class ObjectStore:
    """HEAD, GET and hash objects of one configured store; every error mapped to a reason code."""

    def __init__(self, config: ObjectStoreConfig, part_bytes: int = PART_BYTES) -> None:
        if not config.configured:
            raise ValueError("the object store is not configured (MINIO_ENDPOINT is empty)")
        self.config = config
        self.part_bytes = part_bytes

    def __repr__(self) -> str:
        return f"ObjectStore({self.config.shown_endpoint})"

    @property
    def client(self) -> Any:
        return _client(self.config)

    def head(self, ref: ObjectRef) -> ObjectInfo:
        try:
            response = self.client.head_object(Bucket=ref.bucket, Key=ref.key)
        except Exception as exc:  # noqa: BLE001 - mapped to a reason code, or re-raised
            raise self._mapped(exc, ref) from None
        return ObjectInfo(
            ref=ref,
            size=int(response["ContentLength"]),
            etag=response.get("ETag"),
            version_id=response.get("VersionId"),
            store=self,
        )

    def sha256(self, info: ObjectInfo) -> str:
        """Stream the whole object through sha256 (for objects whose manifest declares no checksum)."""
        digest = hashlib.sha256()
        with info.open() as reader:
            while block := reader.read(1 << 20):
                digest.update(block)
        return digest.hexdigest()

    def get_part(self, info: ObjectInfo, start: int, end: int) -> Any:
        """The body of bytes start..end-1, only if the object is still the one HEAD described."""
        request: dict[str, Any] = {"Bucket": info.ref.bucket, "Key": info.ref.key}
        if info.etag:
            request["IfMatch"] = info.etag
        if info.version_id:
            request["VersionId"] = info.version_id
        if end > start:
            request["Range"] = f"bytes={start}-{end - 1}"
        try:
            response = self.client.get_object(**request)
        except Exception as exc:  # noqa: BLE001
            raise self._mapped(exc, info.ref, reading=True) from None
        total = _CONTENT_RANGE_TOTAL.search(response.get("ContentRange") or "")
        size = int(total[1]) if total else (int(response.get("ContentLength", 0)) if end <= start else None)
        if size is not None and size != info.size:
            response["Body"].close()
            raise ObjectChanged(f"{info.ref.url} now holds {size} bytes, not the {info.size} it held when judged")
        return response["Body"]

    def _mapped(self, exc: BaseException, ref: ObjectRef, *, reading: bool = False) -> BaseException:
        from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError, NoCredentialsError
        from botocore.exceptions import ConnectionError as StoreConnectionError

        where = f"{ref.url} at {self.config.shown_endpoint}"
        if isinstance(exc, HTTPClientError | StoreConnectionError):  # refused, timed out, reset, DNS
            shown = self.config.shown_endpoint
            return ObjectStoreUnreachable(f"the store at {shown} cannot be reached ({type(exc).__name__})")
        if isinstance(exc, NoCredentialsError):
            return ObjectAccessDenied(f"{where}: no credentials (set MINIO_ACCESS_KEY and MINIO_SECRET_KEY)")
        if isinstance(exc, ClientError):
            error = exc.response.get("Error") or {}
            code = str(error.get("Code") or "")
            status = int((exc.response.get("ResponseMetadata") or {}).get("HTTPStatusCode") or 0)
            if code in ("PreconditionFailed", "412") or status == 412:
                return ObjectChanged(f"{where} was replaced after it was judged (its ETag changed)")
            if code == "NoSuchBucket":
                return ObjectBucketMissing(f"{where}: bucket {ref.bucket!r} does not exist")
            if code in ("NoSuchKey", "NoSuchVersion", "404") or status == 404:
                if reading:
                    return ObjectChanged(f"{where} was deleted after it was judged")
                if not self._bucket_exists(ref.bucket):
                    return ObjectBucketMissing(f"{where}: bucket {ref.bucket!r} does not exist")
                return ObjectMissing(f"{where}: no object {ref.key!r} in bucket {ref.bucket!r}")
            if code in ("AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch", "AllAccessDisabled") or (
                status == 403
            ):
                return ObjectAccessDenied(f"{where}: access denied ({code or status}); check the keys and the policy")
            return ObjectStoreError(f"{where}: the store answered {code or 'an error'} (HTTP {status or '?'})")
        if isinstance(exc, BotoCoreError):
            return ObjectStoreError(f"{where}: {type(exc).__name__}")
        return exc

    def _bucket_exists(self, bucket: str) -> bool:
        try:
            self.client.head_bucket(Bucket=bucket)
        except Exception as exc:  # noqa: BLE001
            from botocore.exceptions import ClientError

            if isinstance(exc, ClientError):
                status = int((exc.response.get("ResponseMetadata") or {}).get("HTTPStatusCode") or 0)
                return status != 404
            return True  # unknown: say the key is missing rather than guess the bucket is
        return True


class ObjectReader:
    """A read-only binary stream over one object: ranged GETs pinned to its ETag, never more than
    one read's bytes in memory. A replaced or deleted object raises ObjectChanged; a stream that
    breaks resumes from the byte it stopped at."""

    def __init__(self, info: ObjectInfo) -> None:
        self.info = info
        self._store = info.store
        self._position = 0
        self._body: Any = None
        self._part_end = 0
        self._checked_empty = False

    def __enter__(self) -> ObjectReader:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        if self._body is not None:
            self._body.close()
            self._body = None

    def tell(self) -> int:
        return self._position

    def read(self, size: int = -1) -> bytes:
        info = self.info
        if info.size == 0:
            if not self._checked_empty:  # still confirm the (empty) object is the one judged
                self._store.get_part(info, 0, 0).close()
                self._checked_empty = True
            return b""
        if self._position >= info.size:
            return b""
        wanted = info.size - self._position if size is None or size < 0 else size
        resumes = 0
        while True:
            if self._body is None:
                self._part_end = min(info.size, self._position + self._store.part_bytes)
                self._body = self._store.get_part(info, self._position, self._part_end)
            try:
                data = self._body.read(min(wanted, self._part_end - self._position))
            except Exception as exc:  # noqa: BLE001 - a broken stream: ask again from here
                if not _is_stream_error(exc):
                    raise
                data = b""
            if data:
                self._position += len(data)
                if self._position >= self._part_end:
                    self.close()
                return data
            self.close()
            resumes += 1
            if resumes > _RESUMES:
                raise ObjectStoreUnreachable(
                    f"{info.ref.url}: the stream from {self._store.config.shown_endpoint} kept breaking "
                    f"at byte {self._position} of {info.size}"
                )


def _is_stream_error(exc: BaseException) -> bool:
    from botocore.exceptions import BotoCoreError
    from urllib3.exceptions import HTTPError

    return isinstance(exc, BotoCoreError | HTTPError | OSError)
