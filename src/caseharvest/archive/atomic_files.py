"""Files that appear whole or not at all: written beside their name, then renamed over it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def replaced_on_success(path: Path, *, sync: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside *path*; when the block succeeds it becomes *path*.

    A fixed temporary name (one writer per archive holds its lock) is much cheaper than
    mkstemp's random ones, and gives the file the permissions the user's umask gives. With
    *sync* the bytes reach the disk before the rename (indexes, packages); text files skip it:
    a killed process never leaves a partial file this way, and after a power loss `verify`
    finds a file that did not reach the disk and `replay` rebuilds it.
    """
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield temporary
        if sync:
            with open(temporary, "rb") as written:
                os.fsync(written.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_atomically(path: Path, data: bytes, *, sync: bool = False) -> None:
    """Write *data* to *path* whole or not at all (creating its folder when needed)."""
    try:
        with replaced_on_success(path, sync=sync) as temporary:
            _write_new(temporary, data)
    except FileNotFoundError:
        if path.parent.is_dir():
            raise
        # Asking first cost a syscall per file: a crawl writes two per case into few folders.
        path.parent.mkdir(parents=True, exist_ok=True)
        with replaced_on_success(path, sync=sync) as temporary:
            _write_new(temporary, data)


def _write_new(path: Path, data: bytes) -> None:
    """*data* into *path*, created or truncated: open, write, close and nothing else (a
    buffered file object asks the file for its size and whether it is a terminal first)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(descriptor, view) :]
    finally:
        os.close(descriptor)
