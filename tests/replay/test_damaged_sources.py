"""A damaged source: every whole record before the damage, one line, exit 1, a sound archive."""

from __future__ import annotations

from pathlib import Path

from caseharvest.capture.record_framing import Damage, iter_raw_records

from .conftest import Recording, answers, assert_gold, export, good_cases, heritrix_file, run_cli


def _record_starts(path: Path) -> list[int]:
    return [r.location.offset for r in iter_raw_records(path) if not isinstance(r, Damage)]


def _truncated_copy(source: Path, target: Path) -> int:
    """*source* cut in the middle of a record two thirds in; returns where that record starts."""
    starts = _record_starts(source)
    cut_record = starts[len(starts) * 2 // 3]
    following = starts[starts.index(cut_record) + 1]
    target.write_bytes(source.read_bytes()[: (cut_record + following) // 2])
    return cut_record


def test_a_truncated_wget_file_keeps_what_came_before_and_a_rerun_continues(
    wget_warc: Recording, tmp_path: Path
) -> None:
    source = tmp_path / "in" / "w.warc.gz"
    source.parent.mkdir()
    cut_at = _truncated_copy(wget_warc.path, source)
    archive = tmp_path / "archive"
    result = run_cli("replay", str(source), "--archive", str(archive), "--quiet")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if "damaged" in line]
    assert errors == [f"error: {source}: damaged at byte {cut_at}: file ends inside a gzip member"]
    kept = {row["url"] for row in export(archive)}
    assert 0 < len(kept) < len(wget_warc.cases)
    # Consistent: verify passes (the archive keeps the file cut before the damage).
    checked = run_cli("verify", "--archive", str(archive))
    assert checked.exit_code == 0, checked.output
    assert (archive / "warc" / "shandong" / "w.warc.gz").stat().st_size == cut_at
    assert source.stat().st_size > cut_at, "the source is never written to"

    # The user fetches the file again, whole, and reruns the same command.
    source.write_bytes(wget_warc.path.read_bytes())
    again = run_cli("replay", str(source), "--archive", str(archive), "--quiet")
    assert again.exit_code == 0, again.output
    assert_gold(archive, wget_warc.cases)
    assert run_cli("verify", "--archive", str(archive)).exit_code == 0
    assert [p.name for p in (archive / "warc" / "shandong").iterdir()] == ["w.warc.gz"]


def test_garbage_after_the_last_record_of_a_plain_warc(tmp_path: Path) -> None:
    cases = good_cases()[:3]
    import gzip

    plain = gzip.decompress(heritrix_file(answers(cases), "2024-01-02T03:04:05Z"))
    source = tmp_path / "crawl.warc"
    source.write_bytes(plain + b"this is not a record\r\n\r\n")
    archive = tmp_path / "archive"
    result = run_cli("replay", str(source), "--archive", str(archive), "--quiet")
    assert result.exit_code == 1
    assert f"{source}: damaged at byte {len(plain)}" in result.output
    assert_gold(archive, cases)
    assert run_cli("verify", "--archive", str(archive)).exit_code == 0


def test_a_truncated_whole_file_gzip_keeps_its_whole_records(tmp_path: Path) -> None:
    import gzip

    cases = good_cases()[:4]
    plain = gzip.decompress(heritrix_file(answers(cases), "2024-01-02T03:04:05Z"))
    whole = gzip.compress(plain, mtime=0)
    source = tmp_path / "gzipped-by-hand.warc.gz"
    source.write_bytes(whole[: len(whole) * 3 // 4])
    archive = tmp_path / "archive"
    result = run_cli("replay", str(source), "--archive", str(archive), "--quiet")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert 0 < len(export(archive)) < len(cases)
    checked = run_cli("verify", "--archive", str(archive))
    assert checked.exit_code == 0, checked.output


def test_a_file_that_is_no_archive_at_all(tmp_path: Path) -> None:
    source = tmp_path / "notes.warc.gz"
    source.write_bytes(b"just some text\n")
    result = run_cli("replay", str(source), "--archive", str(tmp_path / "archive"))
    assert result.exit_code == 1
    assert result.output.strip().endswith("damaged at byte 0: not a WARC or ARC record") or (
        "damaged at byte 0" in result.output
    )
    assert "Traceback" not in result.output
    assert not (tmp_path / "archive").exists(), "nothing half-built"
