"""The sha256 of local files, computed once: remembered by file identity so unchanged files are not re-read.

The gate, the ingest of a run and the evidence all need a file's sha256. It is computed once (by
the gate, or by the ingest while it reads the file) and remembered against the file's identity
as the operating system reports it: device, inode, size, modification and change times (ns).
Any write changes the change time, which no user can set back, so an unchanged identity means
unchanged bytes. As git does with its index, a file modified less than `RACY_SECONDS` before its
hashing began is not remembered: a second write within the file system's timestamp resolution
could otherwise keep the same identity.

The memory is a small SQLite file (Settings.digest_cache: WEEK06_DIGEST_CACHE, default
.local/digests.sqlite3; `off` disables it) shared by the processes of a run and by later runs;
when it cannot be used, files are simply hashed again.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

RACY_SECONDS = 2.0  # coarser than any file system's timestamp resolution (FAT: 2 s)
_SCHEMA = """
create table if not exists file_digest (
    path      text primary key,
    identity  text not null,
    sha256    text not null,
    size      integer not null,
    hashed_at real not null
)
"""


def _identity(stat: os.stat_result) -> str:
    return f"{stat.st_dev}:{stat.st_ino}:{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ctime_ns}"


@dataclass(frozen=True)
class Observation:
    """A file's identity taken before it is read, and the moment the reading began."""

    path: Path
    identity: str
    newest_change_ns: int
    began_ns: int

    @classmethod
    def of(cls, path: Path) -> Observation:
        began = time.time_ns()
        stat = path.stat()
        return cls(path, _identity(stat), max(stat.st_mtime_ns, stat.st_ctime_ns), began)

    def still_valid(self) -> bool:
        """The file was not modified while it was read, nor just before (see RACY_SECONDS)."""
        try:
            unchanged = _identity(self.path.stat()) == self.identity
        except OSError:
            return False
        return unchanged and self.newest_change_ns < self.began_ns - int(RACY_SECONDS * 1e9)


class DigestCache:
    """sha256 by file identity; every failure of the cache itself means "not known"."""

    def __init__(self, location: Path | None) -> None:
        self.location = location

    def _connect(self) -> sqlite3.Connection | None:
        if self.location is None:
            return None
        try:
            self.location.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.location, timeout=5, isolation_level=None)
            conn.execute(_SCHEMA)
            return conn
        except (sqlite3.Error, OSError):
            return None

    def known(self, path: Path) -> tuple[str, int] | None:
        """The remembered (sha256, size) of `path` if the file is unchanged since it was hashed."""
        try:
            identity = _identity(path.stat())
        except OSError:
            return None
        return self.known_key(str(path), identity)

    def remember(self, seen: Observation, sha256: str, size: int) -> None:
        """Remember what a complete read of the file observed in `seen` measured (if still valid)."""
        if seen.still_valid():
            self.remember_key(str(seen.path), seen.identity, sha256, size)

    def known_key(self, key: str, identity: str) -> tuple[str, int] | None:
        """By any key and identity: a path and its stat, or an s3:// URL and its ETag, version and size."""
        conn = self._connect()
        if conn is None:
            return None
        try:
            row = conn.execute("select identity, sha256, size from file_digest where path = ?", (key,)).fetchone()
            return (str(row[1]), int(row[2])) if row is not None and row[0] == identity else None
        except sqlite3.Error:
            return None
        finally:
            conn.close()

    def remember_key(self, key: str, identity: str, sha256: str, size: int) -> None:
        conn = self._connect()
        if conn is None:
            return
        try:
            conn.execute(
                "insert into file_digest (path, identity, sha256, size, hashed_at) values (?, ?, ?, ?, ?) "
                "on conflict (path) do update set identity = excluded.identity, sha256 = excluded.sha256, "
                "size = excluded.size, hashed_at = excluded.hashed_at",
                (key, identity, sha256, size, time.time()),
            )
        except sqlite3.Error:
            pass
        finally:
            conn.close()


def object_identity(etag: str | None, version_id: str | None, size: int) -> str | None:
    """An object's identity for the cache: its ETag (and version); None when the store gives no ETag."""
    return f"etag={etag};version={version_id or ''};size={size}" if etag else None


def file_sha256(path: Path, cache: DigestCache | None = None) -> tuple[str, int, bool]:
    """(sha256, size, measured): from the cache when the file is unchanged, else read once and remembered."""
    cache = cache if cache is not None else DigestCache(None)
    known = cache.known(path)
    if known is not None:
        return known[0], known[1], False
    seen = Observation.of(path)
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    sha256 = digest.hexdigest()
    cache.remember(seen, sha256, size)
    return sha256, size, True
