"""The local spool: where reports go, durably, while Redis is away.

Each serving process appends to a file of its own, ``spool-<time_ns>-<pid>.jsonl`` (one JSON line per report,
written, flushed and fsynced before the report is acknowledged), and holds an exclusive ``flock`` on it for as
long as it may write there. A replay takes a file only with that lock, so it never reads a file still being
written, and takes the files of dead processes too (the kernel drops a dead process's locks). File names sort
in creation order.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from supersms.receiver.delivery import Delivery

logger = logging.getLogger(__name__)

SPOOL_PATTERN = "spool-*.jsonl"
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | os.O_CLOEXEC


class SpoolWriter:
    """Appends reports to this process's spool file; thread-safe, and safe across ``fork``."""

    def __init__(self, *, directory: str | Path) -> None:
        self.directory = Path(directory)
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._pid = 0

    def append(self, delivery: Delivery) -> None:
        """Write one report and ``fsync`` it: once this returns, it survives a crash. Raises ``OSError``."""
        line = delivery.to_line()
        with self._lock:
            fd = self._current()
            try:
                _write_all(fd, line)
                os.fsync(fd)
            except OSError:
                self._close()  # a torn line must stay its file's last: the next report starts a new file
                raise

    def rotate(self) -> None:
        """Let go of the current file (and its lock) so a replay can take it; the next append starts another."""
        with self._lock:
            self._close()

    def writable(self) -> bool:
        """True when the spool directory exists (or can be made) and we may create files in it."""
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError:
            return False
        return self.directory.is_dir() and os.access(self.directory, os.W_OK | os.X_OK)

    def _current(self) -> int:
        if self._fd is None or self._pid != os.getpid():
            self._close()
            self._fd, self._pid = _create_locked(self.directory), os.getpid()
        return self._fd

    def _close(self) -> None:
        if self._fd is not None:
            # in a forked child this closes only the inherited copy: the parent keeps its lock
            os.close(self._fd)
        self._fd = None


def spool_files(directory: str | Path) -> list[Path]:
    """The spool files in ``directory``, oldest first (none when the directory does not exist)."""
    try:
        return sorted(Path(directory).glob(SPOOL_PATTERN))
    except OSError:
        return []


@contextmanager
def claimed(path: Path) -> Iterator[BinaryIO | None]:
    """Open ``path`` for replay under an exclusive lock; None when a live process holds it or it is gone."""
    try:
        file = open(path, "rb")  # noqa: SIM115 - closed below, once the lock is no longer needed
    except FileNotFoundError:
        file = None
    if file is None:
        yield None
        return
    with file:
        try:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            locked = True
        except BlockingIOError:
            locked = False
        yield file if locked and _still_at(path, file) else None


def complete_lines(file: BinaryIO) -> Iterator[bytes]:
    """The lines of a spool file in order, without a torn last line (a write cut short by a crash)."""
    for line in file:
        if line.endswith(b"\n"):
            yield line
        else:
            logger.warning("spool %s: ignoring a torn last line of %d bytes", file.name, len(line))


def _create_locked(directory: Path) -> int:
    """A new spool file, locked before it becomes visible under its name (so no replay takes it empty)."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    name = f"spool-{time.time_ns():020d}-{os.getpid()}.jsonl"
    path = directory / f".{name}.new"
    fd = os.open(path, _CREATE_FLAGS, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.rename(path, directory / name)
        path = directory / name
        _fsync_directory(directory)
    except OSError:
        os.close(fd)
        path.unlink(missing_ok=True)  # nothing was written to it: no report is lost with it
        raise
    logger.info("spooling reports to %s", directory / name)
    return fd


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _fsync_directory(directory: Path) -> None:
    """Make a new file's name durable, not only its content."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _still_at(path: Path, file: BinaryIO) -> bool:
    """True when ``path`` still names the open file (a replay may have removed it before we got the lock)."""
    try:
        return os.stat(path).st_ino == os.fstat(file.fileno()).st_ino
    except FileNotFoundError:
        return False
