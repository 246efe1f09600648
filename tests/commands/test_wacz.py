"""`caseharvest export --wacz`: a WACZ that `wacz validate` accepts and whose pages resolve."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import zipfile
from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
import surt
from click.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator

from caseharvest.archive.catalog import Catalog
from caseharvest.cli import cli
from caseharvest.commands.serve.tools_venv import find_tool
from tests.commands.test_serve import SEED_URL, require
from tests.conftest import Crawl


@pytest.fixture(scope="module")
def exported(
    revalidated_crawl: Crawl, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path]:
    """(archive copy, WACZ file) of an archive whose second run got 304 revisits."""
    folder = tmp_path_factory.mktemp("wacz")
    archive = folder / "archive"
    shutil.copytree(revalidated_crawl.archive, archive)  # export writes indexes into it
    wacz = folder / "out" / "shandong.wacz"
    result = CliRunner().invoke(cli, ["export", "--archive", str(archive), "--wacz", str(wacz)])
    assert result.exit_code == 0, result.output
    assert f"wrote {wacz}: 2 WARC files" in result.output
    return archive, wacz


def index_lines(zf: zipfile.ZipFile) -> list[tuple[str, str, dict[str, Any]]]:
    rows = []
    for line in zf.read("indexes/index.cdxj").decode("utf-8").splitlines():
        key, stamp, fields = line.split(" ", 2)
        rows.append((key, stamp, json.loads(fields)))
    return rows


def decoded(body: bytes, headers: Any) -> str:
    """The body as text, in the charset its Content-Type declares (GB labels as gb18030)."""
    declared = re.search(r"charset=([\w-]+)", headers.get_header("Content-Type") or "")
    charset = declared.group(1).lower() if declared else "utf-8"
    return body.decode("gb18030" if charset in ("gb2312", "gbk") else charset)


def test_wacz_validate_accepts_the_package(exported: tuple[Path, Path]) -> None:
    wacz_tool = require("wacz", find_tool("wacz"), "`make tools` sets it up")
    result = subprocess.run(
        [str(wacz_tool), "validate", "-f", str(exported[1])],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is valid" in result.stdout


def test_warc_files_are_stored_as_they_are(exported: tuple[Path, Path]) -> None:
    archive, wacz = exported
    with zipfile.ZipFile(wacz) as zf:
        package = json.loads(zf.read("datapackage.json"))
        digest = json.loads(zf.read("datapackage-digest.json"))
        for warc in sorted((archive / "warc/shandong").glob("*.warc.gz")):
            info = zf.getinfo(f"archive/{warc.name}")
            assert info.compress_type == zipfile.ZIP_STORED, "replay reads records by offset"
            assert zf.read(info) == warc.read_bytes()
        listed = {resource["path"]: resource for resource in package["resources"]}
        assert set(listed) == set(zf.namelist()) - {"datapackage.json", "datapackage-digest.json"}
        for path, resource in listed.items():
            data = zf.read(path)
            assert resource["hash"] == "sha256:" + hashlib.sha256(data).hexdigest(), path
            assert resource["bytes"] == len(data)
        assert package["wacz_version"] == "1.1.1" and package["profile"] == "data-package"
        raw_package = zf.read("datapackage.json")
    assert digest == {
        "path": "datapackage.json",
        "hash": "sha256:" + hashlib.sha256(raw_package).hexdigest(),
    }


def test_every_case_is_a_page_that_resolves_through_the_index(
    exported: tuple[Path, Path],
) -> None:
    archive, wacz = exported
    catalog = Catalog.for_archive(archive)
    try:
        cases = {c.url: c for c in catalog.cases("shandong", status="archived")}
    finally:
        catalog.close()
    with zipfile.ZipFile(wacz) as zf:
        header, *pages = [json.loads(line) for line in zf.read("pages/pages.jsonl").splitlines()]
        assert header["format"] == "json-pages-1.0" and header["id"] == "pages"
        assert sorted(page["url"] for page in pages) == sorted(cases), "every case, once"
        rows = index_lines(zf)
        by_key: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for key, stamp, fields in rows:
            by_key.setdefault((key, stamp), []).append(fields)
        assert [(k, s) for k, s, _ in rows] == sorted((k, s) for k, s, _ in rows)
        for page in pages:
            metadata = cases[page["url"]].metadata
            assert metadata is not None
            assert (page["title"], page["published"]) == (metadata["title"], metadata["published"])
            moment = datetime.strptime(page["ts"], "%Y-%m-%dT%H:%M:%SZ")  # RFC 3339, UTC
            matches = by_key[(surt.surt(page["url"]), moment.strftime("%Y%m%d%H%M%S"))]
            # A case revalidated within the second of its capture has two lines there (the
            # capture and its 304 revisit); both must resolve to the same archived response.
            locations = {(m["filename"], m["offset"], m["length"]) for m in matches}
            assert len(locations) == 1, f"one archived response per URL and second: {matches}"
            fields = matches[0]
            member = zf.read(f"archive/{fields['filename']}")
            start = int(fields["offset"])
            record_bytes = member[start : start + int(fields["length"])]
            record = next(iter(ArchiveIterator(BytesIO(record_bytes))))
            assert record.rec_type == "response"
            assert record.rec_headers.get_header("WARC-Target-URI") == page["url"]
            assert record.http_headers.get_statuscode() == "200"
            html = decoded(record.content_stream().read(), record.http_headers)
            assert page["title"] in html, page["url"]


def test_304_revisit_in_the_wacz_index_points_at_its_original(
    exported: tuple[Path, Path],
) -> None:
    with zipfile.ZipFile(exported[1]) as zf:
        seed = [fields for key, _, fields in index_lines(zf) if key == surt.surt(SEED_URL)]
    assert len(seed) == 2, "the original capture and the 304 revisit"
    assert all(f["status"] == "200" and f["mime"] == "text/html" for f in seed)
    assert seed[0]["offset"] == seed[1]["offset"] and seed[0]["filename"] == seed[1]["filename"]


def test_wacz_and_rows_output_do_not_mix(default_crawl: Crawl, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "export",
            "--archive",
            str(default_crawl.archive),
            "--wacz",
            str(tmp_path / "a.wacz"),
            "-o",
            str(tmp_path / "rows.jsonl"),
        ],
    )
    assert result.exit_code == 2 and "--wacz" in result.output
    assert not list(tmp_path.iterdir()), "nothing written"


def test_wacz_of_an_archive_without_warc_files_is_refused(tmp_path: Path) -> None:
    Catalog.for_archive(tmp_path / "archive").close()
    out = tmp_path / "x.wacz"
    result = CliRunner().invoke(
        cli, ["export", "--archive", str(tmp_path / "archive"), "--wacz", str(out)]
    )
    assert result.exit_code == 1 and "no closed WARC file" in result.output
    assert not out.exists()
