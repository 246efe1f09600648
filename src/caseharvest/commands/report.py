"""`caseharvest report`: one self-contained HTML page of charts and tables about an archive.

The charts are Plotly's (plotly.js is inlined once, so the page opens offline); the page is
a Jinja template with autoescaping on, because every title shown is another site's text.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from caseharvest.archive.catalog import Catalog, RunRow
from caseharvest.archive.upgrade import open_catalog
from caseharvest.model import CaseStatus, utc_now

LATEST_CASES = 20
# Every run the catalog holds (SQLite reads a negative LIMIT as none).
ALL_RUNS = -1


@dataclass(frozen=True)
class LatestCase:
    """A row of the table of latest cases."""

    published: str
    site: str
    title: str
    source: str
    url: str
    withdrawn_at: str | None


@dataclass(frozen=True)
class Problem:
    """A row of the last run's problems: what kind, about what, and why."""

    kind: str
    subject: str
    detail: str


@dataclass
class ReportData:
    """What the page shows, read from the catalog."""

    archive: str
    generated_at: str
    cases: int = 0
    published_by_month: dict[str, Counter[str]] = field(default_factory=dict)  # site → months
    runs: list[RunRow] = field(default_factory=list)  # oldest first
    bytes_by_run: list[tuple[str, int]] = field(default_factory=list)
    latest: list[LatestCase] = field(default_factory=list)
    last_run: RunRow | None = None
    problems: list[Problem] = field(default_factory=list)


def _problems(run: RunRow | None) -> list[Problem]:
    summary = (run.summary or {}) if run else {}
    problems = [Problem("failed", url, why) for url, why in summary.get("failed", {}).items()]
    problems += [Problem("dead link", url, why) for url, why in summary.get("dead", {}).items()]
    problems += [Problem("not in the archive", str(miss), "") for miss in summary.get("misses", [])]
    problems += [Problem("warning", "", str(text)) for text in summary.get("warnings", [])]
    return problems


def collect(catalog: Catalog, archive: Path) -> ReportData:
    """Everything the report shows, from one read of the catalog."""
    data = ReportData(archive=str(archive), generated_at=utc_now())
    latest: list[LatestCase] = []
    for case in catalog.iter_cases(status=CaseStatus.ARCHIVED):
        metadata = case.metadata or {}
        data.cases += 1
        published = str(metadata.get("published") or "")
        if published:
            data.published_by_month.setdefault(case.site, Counter())[published[:7]] += 1
        latest.append(
            LatestCase(
                published=published,
                site=case.site,
                title=str(metadata.get("title") or case.listing_title or ""),
                source=str(metadata.get("source") or ""),
                url=case.url,
                withdrawn_at=case.withdrawn_at,
            )
        )
    latest.sort(key=lambda row: (row.published, row.url), reverse=True)
    data.latest = latest[:LATEST_CASES]
    data.runs = list(reversed(catalog.runs(ALL_RUNS)))
    data.last_run = data.runs[-1] if data.runs else None
    data.problems = _problems(data.last_run)
    data.bytes_by_run = catalog.capture_bytes_by_run()
    return data


def _figures(data: ReportData) -> dict[str, Any]:
    """The charts, by name (absent when there is nothing to draw)."""
    import plotly.graph_objects as go

    layout = {"margin": {"l": 50, "r": 20, "t": 30, "b": 50}, "height": 380}
    figures: dict[str, Any] = {}
    if data.published_by_month:
        months = sorted({m for counts in data.published_by_month.values() for m in counts})
        published = go.Figure(
            [
                go.Bar(name=site, x=months, y=[counts.get(m, 0) for m in months])
                for site, counts in sorted(data.published_by_month.items())
            ],
            layout={**layout, "barmode": "stack", "yaxis": {"title": {"text": "cases"}}},
        )
        published.update_xaxes(type="category")
        figures["published"] = published
    if data.runs:
        labels = [f"{run.started_at} {run.command}" for run in data.runs]
        summaries = [run.summary or {} for run in data.runs]
        figures["outcomes"] = go.Figure(
            [
                go.Bar(name="new", x=labels, y=[s.get("new", 0) for s in summaries]),
                go.Bar(name="revised", x=labels, y=[s.get("revised", 0) for s in summaries]),
                go.Bar(
                    name="withdrawn", x=labels, y=[len(s.get("withdrawn", [])) for s in summaries]
                ),
            ],
            layout={**layout, "barmode": "group", "yaxis": {"title": {"text": "cases"}}},
        )
        figures["failures"] = go.Figure(
            [
                go.Bar(name="failed", x=labels, y=[len(s.get("failed", {})) for s in summaries]),
                go.Bar(name="dead links", x=labels, y=[len(s.get("dead", {})) for s in summaries]),
            ],
            layout={**layout, "barmode": "stack", "yaxis": {"title": {"text": "cases"}}},
        )
    if data.bytes_by_run:
        total, starts, sizes = 0, [], []
        for started_at, size in data.bytes_by_run:
            total += size
            starts.append(started_at)
            sizes.append(round(total / 1e6, 3))
        size = go.Figure(
            [go.Scatter(x=starts, y=sizes, mode="lines+markers", name="WARC records")],
            layout={
                **layout,
                "yaxis": {"title": {"text": "MB (compressed)"}, "rangemode": "tozero"},
            },
        )
        size.update_xaxes(type="category")
        figures["size"] = size
    return figures


def render_report(data: ReportData) -> str:
    """The page's HTML."""
    import jinja2
    import plotly.offline
    from markupsafe import Markup

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("caseharvest.commands", "report_assets"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    charts = {
        # Plotly's own HTML: its JSON escapes <, > and /, so no title can end the script.
        name: Markup(
            figure.to_html(
                full_html=False,
                include_plotlyjs=False,
                div_id=f"chart-{name}",
                config={"displaylogo": False, "responsive": True},
            )
        )
        for name, figure in _figures(data).items()
    }
    template = environment.get_template("report.html.j2")
    return template.render(
        data=data,
        charts=charts,
        plotly_js=Markup(plotly.offline.get_plotlyjs()),
    )


def write_report(archive: Path, output: Path) -> ReportData:
    """Write the archive's report to *output*; returns what it shows."""
    catalog = open_catalog(archive, read_only=True)
    try:
        data = collect(catalog, archive)
    finally:
        catalog.close()
    output.write_text(render_report(data), "utf-8")
    return data
