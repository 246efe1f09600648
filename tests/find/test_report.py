"""`caseharvest report`: one offline HTML page whose charts render in headless Chromium."""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

import lxml.html
import pytest
from click.testing import CliRunner

from caseharvest.cli import cli
from tests.conftest import Crawl

HOSTILE_TITLE = "<script>document.title='pwned'</script>飞地经济<b>案例</b>"
CHARTS = ("published", "outcomes", "failures", "size")


def _newest_case_gets_a_hostile_title(archive: Path) -> str:
    db = sqlite3.connect(archive / "catalog.sqlite3")
    site, column, case_id = db.execute(
        "SELECT c.site, c.column_id, c.case_id FROM cases c JOIN versions v ON v.site = c.site"
        " AND v.column_id = c.column_id AND v.case_id = c.case_id AND v.version = c.latest_version"
        " ORDER BY json_extract(v.metadata, '$.published') DESC LIMIT 1"
    ).fetchone()
    db.execute(
        "UPDATE versions SET metadata = json_set(metadata, '$.title', ?) WHERE site = ?"
        " AND column_id = ? AND case_id = ?",
        (HOSTILE_TITLE, site, column, case_id),
    )
    db.commit()
    db.close()
    return f"{site}/{column}/{case_id}"


@pytest.fixture(scope="module")
def report(revised_crawl: Crawl, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    archive = folder / "archive"
    shutil.copytree(revised_crawl.archive, archive)
    _newest_case_gets_a_hostile_title(archive)
    output = folder / "report.html"
    result = CliRunner().invoke(cli, ["report", "--archive", str(archive), "-o", str(output)])
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output and "2 runs" in result.output
    return output


def test_the_page_needs_nothing_from_the_network(report: Path) -> None:
    html = report.read_text("utf-8")
    assert not re.search(r"""<(script|link|img|iframe)[^>]*\s(src|href)=["']?(https?:)?//""", html)
    assert "cdn" not in " ".join(re.findall(r"<script[^>]*>", html)).lower()
    assert "Plotly.newPlot" in html


def test_titles_from_other_sites_stay_text(report: Path) -> None:
    page = lxml.html.fromstring(report.read_bytes())
    cells = [td.text_content() for td in page.xpath('//table[@id="latest-cases"]//td')]
    assert HOSTILE_TITLE in cells
    assert not [s for s in page.xpath("//script") if "pwned" in (s.text or "")]
    assert not page.xpath('//table[@id="latest-cases"]//b')


def test_chromium_renders_every_chart(report: Path, chromium: list[str]) -> None:
    result = subprocess.run(
        [*chromium, "--virtual-time-budget=15000", "--dump-dom", report.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    dom = lxml.html.fromstring(result.stdout)
    assert dom.findtext(".//title").startswith("caseharvest report")  # no script renamed it
    for name in CHARTS:
        [chart] = dom.xpath(f'//div[@id="chart-{name}"]')
        assert chart.xpath('.//svg[contains(@class, "main-svg")]'), f"{name} was not drawn"
        drawn = chart.xpath(
            './/g[contains(@class, "point")]/path | .//path[contains(@class, "js-line")]'
        )
        assert drawn, f"{name} has no bars or lines"
    legend = dom.xpath('//div[@id="chart-outcomes"]//g[contains(@class, "legend")]//text')
    assert {t.text_content() for t in legend} >= {"new", "revised", "withdrawn"}
