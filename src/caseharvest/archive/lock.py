"""One run per archive at a time: an advisory lock file naming its holder."""

from __future__ import annotations

import fcntl
import os
import socket
import sys
from pathlib import Path
from types import TracebackType

from caseharvest.archive.layout import ArchiveLayout


class ArchiveLockedError(RuntimeError):
    """Another process holds the archive; the message names it."""


class ArchiveLock:
    """``flock`` on ``<archive>/.caseharvest.lock``; the kernel frees it if the holder dies."""

    def __init__(self, archive: Path) -> None:
        self.path = ArchiveLayout(archive).lock
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip() or "unknown"
            os.close(fd)
            raise ArchiveLockedError(
                f"another caseharvest run holds {self.path.parent} ({holder}); "
                "wait for it to finish"
            ) from None
        os.ftruncate(fd, 0)
        holder = f"pid {os.getpid()} on {socket.gethostname()}: {' '.join(sys.argv)}"
        os.pwrite(fd, holder.encode("utf-8"), 0)
        self._fd = fd

    def held_by(self) -> str | None:
        """Who holds the lock now (another process), or None when it is free."""
        if not self.path.exists():
            return None
        fd = os.open(self.path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return os.pread(fd, 4096, 0).decode("utf-8", "replace").strip() or "unknown"
        else:
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
        finally:
            os.close(fd)

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> ArchiveLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()
