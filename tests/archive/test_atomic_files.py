"""Files written whole or not at all."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from caseharvest.archive import atomic_files
from caseharvest.archive.atomic_files import write_atomically


def test_a_file_is_written_whole_into_folders_made_for_it(tmp_path: Path) -> None:
    path = tmp_path / "text" / "shandong" / "21482" / "2024" / "1.txt"
    data = os.urandom(3 * 1024 * 1024)  # more than one write may take
    write_atomically(path, data)
    assert path.read_bytes() == data
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask  # as open() would have made it
    write_atomically(path, b"second")  # the folder exists now; the file is replaced
    assert path.read_bytes() == b"second"
    assert sorted(p.name for p in path.parent.iterdir()) == ["1.txt"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "1.json"
    path.write_bytes(b"old")

    def disk_full(descriptor: int, data: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic_files.os, "write", disk_full)
    with pytest.raises(OSError) as refused:
        write_atomically(path, b"new")
    assert refused.value.errno == errno.ENOSPC
    monkeypatch.undo()
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["1.json"]


def test_a_file_where_a_folder_should_be_is_an_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "text").write_bytes(b"")
    with pytest.raises(OSError) as refused:
        write_atomically(tmp_path / "text" / "2024" / "1.txt", b"x")
    assert refused.value.filename is not None and "text" in str(refused.value.filename)
