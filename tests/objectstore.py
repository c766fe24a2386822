"""A real S3-compatible server for tests: moto's standalone server (`moto_server`) on 127.0.0.1.

Started as its own process by the tests that need it and stopped by them; nothing here mocks the
client: boto3 speaks HTTP to the server exactly as it would to MinIO or S3.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ACCESS_KEY = "factory-tests"
SECRET_KEY = "s3cr3t-never-shown-Zq8"  # tests assert this string never appears in any output
REGION = "eu-west-1"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _moto_server() -> list[str]:
    beside = Path(sys.executable).parent / "moto_server"
    found = str(beside) if beside.exists() else shutil.which("moto_server")
    return [found] if found else [sys.executable, "-m", "moto.server"]


@dataclass
class S3Server:
    endpoint: str
    process: subprocess.Popen[bytes]

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )

    def env(self) -> dict[str, str]:
        return {
            "MINIO_ENDPOINT": self.endpoint,
            "MINIO_ACCESS_KEY": ACCESS_KEY,
            "MINIO_SECRET_KEY": SECRET_KEY,
            "MINIO_REGION": REGION,
        }

    def upload(self, bucket: str, key: str, content: bytes) -> dict[str, Any]:
        """Put `content` at s3://bucket/key (creating the bucket); return its size and sha256."""
        client = self.client()
        existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
        if bucket not in existing:
            client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        client.put_object(Bucket=bucket, Key=key, Body=content)
        return {"size_bytes": len(content), "checksum_sha256": hashlib.sha256(content).hexdigest()}


@contextmanager
def s3_server(**env: str) -> Iterator[S3Server]:
    """Start moto_server on a free port of 127.0.0.1, wait until it answers, stop it afterwards."""
    port = _free_port()
    process = subprocess.Popen(
        [*_moto_server(), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **env},
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/data.json", timeout=2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.1)
        yield S3Server(endpoint, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
