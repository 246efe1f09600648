"""Score extracted text and metadata against hand-checked gold pages.

Pure functions, shared by the gold test and the extraction benchmark. Text is compared as
character bigrams after NFKC folding and whitespace removal, so line breaks, indents and
full-width versus half-width punctuation never count, while every lost, added or wrong
character does.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

# Chrome that never belongs in an article body. Checked after normalize_for_score, so the
# full-width and half-width spellings of a marker are the same marker.
LEAK_MARKERS: tuple[str, ...] = (
    "免责声明",
    "版权与免责声明",
    "版权所有",
    "发布日期",
    "发布时间",
    "浏览次数",
    "信息来源",
    "打印本页",
    "【打印】",
    "关闭窗口",
    "主办单位",
    "承办单位",
    "ICP备",
    "公网安备",
    "网站标识码",
    "字体：【",
    "字号：",
    "分享到",
    "当前位置",
    "您现在的位置",
    "您当前的位置",
    "相关链接",
    "相关附件",
    "上一篇",
    "下一篇",
    "索引号",
    "发布机构",
    "成文日期",
)

_ISO_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})")


def normalize_for_score(text: str) -> str:
    """NFKC-fold `text` and remove all whitespace (including ideographic spaces and NBSP)."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(folded.split())


def _bigrams(text: str) -> Counter[str]:
    # A one-character string has no bigram; count it as its own token so that "a" vs "a"
    # scores 1.0 and "a" vs "b" scores 0.0 instead of both being "empty".
    if len(text) == 1:
        return Counter([text])
    return Counter(text[i : i + 2] for i in range(len(text) - 1))


def bigram_f1(candidate: str, gold: str) -> float:
    """Character-bigram F1 of `candidate` against `gold`, multiset overlap, on normalized text.

    Both empty scores 1.0; exactly one empty scores 0.0.
    """
    cand = normalize_for_score(candidate)
    ref = normalize_for_score(gold)
    if not cand and not ref:
        return 1.0
    if not cand or not ref:
        return 0.0
    cand_grams = _bigrams(cand)
    ref_grams = _bigrams(ref)
    overlap = sum((cand_grams & ref_grams).values())
    if overlap == 0:
        return 0.0
    precision = overlap / sum(cand_grams.values())
    recall = overlap / sum(ref_grams.values())
    return 2 * precision * recall / (precision + recall)


def find_leaks(text: str, gold: str) -> list[str]:
    """Return the LEAK_MARKERS present in `text` but absent from `gold` (after normalization)."""
    cand = normalize_for_score(text)
    ref = normalize_for_score(gold)
    leaks = []
    for marker in LEAK_MARKERS:
        needle = normalize_for_score(marker)
        if needle in cand and needle not in ref:
            leaks.append(marker)
    return leaks


def same_field(candidate: str | None, gold: str | None) -> bool:
    """True when two metadata strings agree after normalization; None and "" both mean absent."""
    cand = normalize_for_score(candidate) if candidate else ""
    ref = normalize_for_score(gold) if gold else ""
    return cand == ref


def iso_date(value: object) -> str | None:
    """Return `value` (a date, datetime or ISO-like string) as YYYY-MM-DD, or None.

    A string that does not start with an ISO date comes back stripped, so it can never
    equal a gold date by accident.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        match = _ISO_DATE.match(value.strip())
        return match.group(1) if match else value.strip() or None
    raise TypeError(f"not a date: {value!r}")


class ExtractionLike(Protocol):
    """The attributes of an extraction result that are scored."""

    @property
    def text(self) -> str: ...

    @property
    def title(self) -> str | None: ...

    @property
    def published(self) -> object: ...

    @property
    def source(self) -> str | None: ...


@dataclass(frozen=True)
class PageFields:
    """Body text and metadata of one page, as extracted or as the gold says."""

    text: str
    title: str | None
    published: str | None
    source: str | None

    @classmethod
    def from_extraction(cls, result: ExtractionLike) -> PageFields:
        """Take the scored fields of an extraction result; the date may be a date or a string."""
        return cls(
            text=result.text or "",
            title=result.title,
            published=iso_date(result.published),
            source=result.source,
        )


@dataclass(frozen=True)
class PageResult:
    """One gold page and what an extractor produced for it (None when it raised)."""

    stem: str
    template: str
    gold: PageFields
    candidate: PageFields | None
    error: str | None = None


@dataclass(frozen=True)
class PageScore:
    """The score of one page."""

    stem: str
    template: str
    f1: float
    leaks: tuple[str, ...]
    title_ok: bool
    published_ok: bool
    source_ok: bool
    error: str | None = None


def score_page(result: PageResult) -> PageScore:
    """Score one page; an extractor failure scores F1 0 and every field wrong."""
    cand = result.candidate
    if cand is None:
        return PageScore(
            stem=result.stem,
            template=result.template,
            f1=0.0,
            leaks=(),
            title_ok=False,
            published_ok=False,
            source_ok=False,
            error=result.error or "no result",
        )
    gold = result.gold
    return PageScore(
        stem=result.stem,
        template=result.template,
        f1=bigram_f1(cand.text, gold.text),
        leaks=tuple(find_leaks(cand.text, gold.text)),
        title_ok=same_field(cand.title, gold.title),
        published_ok=cand.published == gold.published,
        source_ok=same_field(cand.source, gold.source),
        error=result.error,
    )


@dataclass(frozen=True)
class QualityReport:
    """Aggregate extraction quality over a gold set."""

    pages: tuple[PageScore, ...]
    mean_f1: float
    min_f1: float
    min_f1_page: str
    leak_pages: tuple[str, ...]
    title_accuracy: float
    published_accuracy: float
    source_accuracy: float
    failed_pages: tuple[str, ...]

    def template_f1(self) -> dict[str, float]:
        """Mean F1 per template name, in template-name order."""
        by_template: dict[str, list[float]] = {}
        for page in self.pages:
            by_template.setdefault(page.template, []).append(page.f1)
        return {name: sum(v) / len(v) for name, v in sorted(by_template.items())}


def score_gold_set(results: Iterable[PageResult]) -> QualityReport:
    """Score every page and aggregate; raises ValueError on an empty set."""
    pages = tuple(score_page(result) for result in results)
    if not pages:
        raise ValueError("cannot score an empty gold set")
    count = len(pages)
    worst = min(pages, key=lambda page: page.f1)
    return QualityReport(
        pages=pages,
        mean_f1=sum(page.f1 for page in pages) / count,
        min_f1=worst.f1,
        min_f1_page=worst.stem,
        leak_pages=tuple(page.stem for page in pages if page.leaks),
        title_accuracy=sum(page.title_ok for page in pages) / count,
        published_accuracy=sum(page.published_ok for page in pages) / count,
        source_accuracy=sum(page.source_ok for page in pages) / count,
        failed_pages=tuple(page.stem for page in pages if page.error is not None),
    )
