"""Parse processes for big files: `python -m orchestration.ingest.workers` speaks pickle frames on
stdin/stdout. The loader starts them itself (not multiprocessing: its spawn mode re-runs the
caller's main script in each child, which an unguarded user script cannot survive).

Frames are two 4-byte big-endian lengths, a pickle and a blob: the bulk bytes of a chunk (its
lines, or the parsed rows' binary COPY tuples) travel as the blob, outside the pickle, which would copy them
once more on each side. The first frame to a worker is its setup (first and last partition, line
limit); each next one a chunk of lines, answered by one frame holding the ParsedChunk. End of
input ends the worker, so a killed loader leaves no worker behind.
"""

from __future__ import annotations

import pickle
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from queue import Queue
from typing import IO, Any

from orchestration.config import PROJECT_ROOT
from orchestration.ingest.chunks import Chunk, ParsedChunk, parse_chunk
from orchestration.ingest.records import RecordParser

_HEADER = struct.Struct(">II")  # the pickle's length, the blob's length
WORKER_COMMAND = [sys.executable, "-m", "orchestration.ingest.workers"]


class WorkerFailed(Exception):
    reason_code = "ingest_worker_failed"


def _send(stream: IO[bytes], value: Any, blob: bytes = b"") -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data), len(blob)))
    stream.write(data)
    if blob:
        stream.write(blob)
    stream.flush()


def _receive(stream: IO[bytes]) -> tuple[Any, bytes]:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError
    size, blob_size = _HEADER.unpack(header)
    data = stream.read(size)
    blob = stream.read(blob_size) if blob_size else b""
    if len(data) < size or len(blob) < blob_size:
        raise EOFError
    return pickle.loads(data), blob


def _send_chunk(stream: IO[bytes], chunk: Chunk, prefix: bytes) -> None:
    _send(stream, (replace(chunk, data=b""), prefix), chunk.data)


def _send_result(stream: IO[bytes], result: Any) -> None:
    if isinstance(result, ParsedChunk):
        _send(stream, replace(result, blob=b""), result.blob)
    else:
        _send(stream, result)


PIPE_BYTES = 1 << 20  # Linux's default ceiling for an unprivileged pipe (/proc/sys/fs/pipe-max-size)


def _widen_pipes(proc: subprocess.Popen[bytes]) -> None:
    """Pipes of 1 MiB instead of 64 KiB: a 2 MiB chunk then crosses in 2 wake-ups, not 32. Only
    where the platform allows it (Linux); elsewhere the default pipe works as well, only slower."""
    import fcntl

    setsize = getattr(fcntl, "F_SETPIPE_SZ", None)
    if setsize is None:
        return
    for stream in (proc.stdin, proc.stdout):
        if stream is not None:
            try:
                fcntl.fcntl(stream.fileno(), setsize, PIPE_BYTES)
            except OSError:
                return  # a lower ceiling: keep the default size


class ParsePool:
    """A few parse processes; `map_ordered` feeds them chunks and yields results in input order,
    never more than `depth` chunks ahead of the consumer (memory stays bounded)."""

    def __init__(self, processes: int, setup: tuple[Any, ...]) -> None:
        self._size = processes
        self._setup = setup
        self._procs: list[subprocess.Popen[bytes]] = []
        self._start()

    def _start(self) -> None:
        self._procs = [
            subprocess.Popen(
                WORKER_COMMAND,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                cwd=PROJECT_ROOT,
            )
            for _ in range(self._size)
        ]
        self._closed = False
        for proc in self._procs:
            _widen_pipes(proc)
        for proc in self._procs:
            assert proc.stdin is not None
            try:
                _send(proc.stdin, self._setup)
            except OSError as exc:
                self.close()
                raise WorkerFailed(f"parse worker {proc.pid} did not start ({exc})") from exc

    def map_ordered(self, tasks: Iterator[tuple[Any, ...]], depth: int) -> Iterator[Any]:
        """Results in task order. A feeder thread writes tasks and a reader thread drains results
        as soon as they are ready, so a worker never waits on a full pipe while the consumer is
        busy; at most `depth` tasks are out (sent, or read and not yet consumed).

        A map left early (the file failed, or is redone on the conflict-safe path) kills the
        workers, whose pipes may hold half a frame; the next map starts fresh ones."""
        if self._closed:
            self._start()
        slots = threading.Semaphore(depth)
        order: Queue[int | BaseException | None] = Queue()  # in task order: a worker, a failure, the end
        results: Queue[tuple[str, Any]] = Queue()

        def feed() -> None:
            try:
                for n, task in enumerate(tasks):
                    slots.acquire()
                    proc = self._procs[n % len(self._procs)]
                    assert proc.stdin is not None
                    try:
                        _send_chunk(proc.stdin, *task)
                    except OSError as exc:  # a broken pipe: the worker is gone
                        raise WorkerFailed(f"parse worker {proc.pid} stopped reading ({exc})") from exc
                    order.put(n % len(self._procs))
            except BaseException as exc:  # handed to the consumer, in its turn
                order.put(exc)
                return
            order.put(None)

        def read() -> None:
            while (index := order.get()) is not None:
                if isinstance(index, BaseException):
                    results.put(("error", index))
                    return
                proc = self._procs[index]
                assert proc.stdout is not None
                try:
                    result, blob = _receive(proc.stdout)
                # ValueError: close() shut the pipe under this read (the map was left early: the
                # database went away, or the file failed), which is the end of this reader too.
                except (EOFError, OSError, ValueError):
                    failed = WorkerFailed(f"parse worker {proc.pid} ended (exit code {proc.poll()})")
                    results.put(("error", failed))
                    return
                if isinstance(result, BaseException):
                    results.put(("error", WorkerFailed(f"parse worker {proc.pid} failed: {result!r}")))
                    return
                if isinstance(result, ParsedChunk):
                    result.blob = blob
                results.put(("ok", result))
            results.put(("end", None))

        feeder = threading.Thread(target=feed, name="ingest-feeder", daemon=True)
        reader = threading.Thread(target=read, name="ingest-reader", daemon=True)
        feeder.start()
        reader.start()
        try:
            while True:
                kind, value = results.get()
                if kind == "end":
                    return
                if kind == "error":
                    raise value
                slots.release()
                yield value
        finally:
            if feeder.is_alive() or reader.is_alive():
                self.close()  # unblocks both: their pipes break
                order.put(None)
                slots.release()
                feeder.join(timeout=5)
                reader.join(timeout=5)

    def close(self) -> None:
        self._closed = True
        for proc in self._procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            for stream in (proc.stdin, proc.stdout):
                if stream is not None:
                    try:
                        stream.close()
                    except OSError:
                        pass


def main() -> int:
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # stdout carries frames only: a stray print must not corrupt them
    try:
        (first, last, max_line_bytes), _ = _receive(inp)
    except EOFError:
        return 0
    parser = RecordParser(first, last)
    while True:
        try:
            (chunk, prefix), data = _receive(inp)
        except EOFError:
            return 0
        chunk.data = data
        try:
            result: Any = parse_chunk(parser, chunk, max_line_bytes, prefix)
        except Exception as exc:  # reported to the loader, which fails the file
            result = exc
        try:
            _send_result(out, result)
        except BrokenPipeError:
            return 0


if __name__ == "__main__":
    sys.exit(main())
