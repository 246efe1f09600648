"""Extraction quality on the gold set: caseharvest against trafilatura's defaults.

Run by hand from the repository root:

    .venv/bin/python bench/extract_quality.py

Prints one table (mean and minimum bigram F1, pages with chrome in the text, title, date and
source accuracy, time per page) and the mean F1 per page template below it. An extractor that
raises on a page scores F1 0 with every field wrong there, and the page is listed.
"""

from __future__ import annotations

import logging
import platform
import sys
import time
from collections.abc import Callable
from datetime import datetime
from importlib import metadata
from pathlib import Path

# The gold set and its loader live with the tests; this script runs from a checkout.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import trafilatura
from tests.gold_set import GoldPage, load_gold_set

from caseharvest.extract.quality import (
    PageFields,
    PageResult,
    QualityReport,
    iso_date,
    score_gold_set,
)

Extractor = Callable[[GoldPage], PageFields]


def caseharvest_extractor() -> Extractor | str:
    """caseharvest's extract_page with each page's site rules, or why it cannot be imported."""
    try:
        from caseharvest.extract import extract_page
        from caseharvest.sites import rules_for_url
    except ImportError as exc:
        return f"{type(exc).__name__}: {exc}"
    rules = {page.url: rules_for_url(page.url) for page in load_gold_set()}  # as a crawl has them

    def run(page: GoldPage) -> PageFields:
        result = extract_page(
            page.html, page.url, rules=rules[page.url], content_type=page.content_type
        )
        return PageFields.from_extraction(result)

    return run


def trafilatura_defaults(page: GoldPage) -> PageFields:
    """trafilatura with default settings on the page bytes, as it decodes them itself.

    Title and date come from its metadata extraction; it has no source field, so that
    counts as wrong wherever the gold has a source.
    """
    text = trafilatura.extract(page.html, url=page.url) or ""
    document = trafilatura.bare_extraction(page.html, url=page.url, with_metadata=True)
    title = getattr(document, "title", None)
    published = iso_date(getattr(document, "date", None))
    return PageFields(text=text, title=title, published=published, source=None)


def run_extractor(extractor: Extractor, pages: list[GoldPage]) -> tuple[QualityReport, float]:
    """Score `extractor` on every page; returns the report and the mean seconds per page."""
    results = []
    started = time.perf_counter()
    for page in pages:
        try:
            candidate: PageFields | None = extractor(page)
            error = None
        except Exception as exc:
            candidate, error = None, f"{type(exc).__name__}: {exc}"
        results.append(PageResult(page.stem, page.template, page.fields(), candidate, error))
    elapsed = (time.perf_counter() - started) / len(pages)
    return score_gold_set(results), elapsed


def _percent(value: float) -> str:
    return f"{100 * value:.0f} %"


def print_reports(reports: dict[str, tuple[QualityReport, float]], skipped: dict[str, str]) -> None:
    """Print the comparison table, the per-template table and every failed page."""
    header = (
        f"{'extractor':<14}{'mean F1':>9}{'min F1':>9}  {'(page)':<32}{'leaks':>6}"
        f"{'title':>7}{'date':>7}{'source':>8}{'ms/page':>9}"
    )
    print(header)
    print("-" * len(header))
    for name, (report, seconds) in reports.items():
        print(
            f"{name:<14}{report.mean_f1:>9.4f}{report.min_f1:>9.4f}  {report.min_f1_page:<32}"
            f"{len(report.leak_pages):>6}{_percent(report.title_accuracy):>7}"
            f"{_percent(report.published_accuracy):>7}{_percent(report.source_accuracy):>8}"
            f"{1000 * seconds:>9.1f}"
        )
    for name, reason in skipped.items():
        print(f"{name:<14}not run: {reason}")

    templates = sorted({t for report, _ in reports.values() for t in report.template_f1()})
    print()
    print(f"{'mean F1 per template':<22}{'pages':>6}" + "".join(f"{n:>14}" for n in reports))
    for template in templates:
        some_report = next(iter(reports.values()))[0]
        count = sum(1 for page in some_report.pages if page.template == template)
        row = "".join(f"{report.template_f1()[template]:>14.4f}" for report, _ in reports.values())
        print(f"{template:<22}{count:>6}{row}")

    for name, (report, _) in reports.items():
        if report.leak_pages:
            print(f"\n{name}: chrome in the text of {', '.join(report.leak_pages)}")
        for page in report.pages:
            if page.error is not None:
                print(f"{name}: {page.stem} raised {page.error}")


def main() -> int:
    """Run both extractors over the gold set and print the comparison."""
    # trafilatura logs a line per page it finds poor; the table says what matters.
    logging.basicConfig(level=logging.ERROR)
    pages = load_gold_set()
    print(
        f"extract_quality  {datetime.now().astimezone():%Y-%m-%d %H:%M %z}  "
        f"{platform.node()} ({platform.machine()}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, trafilatura {metadata.version('trafilatura')})  "
        f"{len(pages)} gold pages"
    )
    print()
    reports: dict[str, tuple[QualityReport, float]] = {}
    skipped: dict[str, str] = {}
    caseharvest = caseharvest_extractor()
    if isinstance(caseharvest, str):
        skipped["caseharvest"] = caseharvest
    else:
        reports["caseharvest"] = run_extractor(caseharvest, pages)
    reports["trafilatura"] = run_extractor(trafilatura_defaults, pages)
    print_reports(reports, skipped)
    return 0


if __name__ == "__main__":
    sys.exit(main())
