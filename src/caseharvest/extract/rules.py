"""Extraction rules: the per-site ``[extract]`` profile table as a typed, validated value."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from lxml.cssselect import CSSSelector
from lxml.etree import XPath

# "markers:START:END" selects the content between <meta name=START> and <meta name=END>.
MARKERS_PREFIX = "markers:"


@dataclass(frozen=True)
class MarkerRange:
    """A body selector of the form ``markers:START:END`` (names of the bounding meta tags)."""

    start: str
    end: str


@functools.lru_cache(maxsize=512)
def compile_css(selector: str) -> XPath:
    """Compile a CSS selector once; raises ``ValueError`` when it does not parse."""
    try:
        return CSSSelector(selector, translator="html")
    except Exception as exc:  # cssselect raises its own SelectorError/ExpressionError family
        raise ValueError(f"invalid CSS selector {selector!r}: {exc}") from exc


def parse_marker_range(selector: str) -> MarkerRange | None:
    """Return the meta names of a ``markers:START:END`` selector, or None for a CSS selector."""
    if not selector.startswith(MARKERS_PREFIX):
        return None
    parts = selector[len(MARKERS_PREFIX) :].split(":")
    if len(parts) != 2 or not all(part.strip() for part in parts):
        raise ValueError(f"marker selector must look like 'markers:START:END', got {selector!r}")
    return MarkerRange(parts[0].strip(), parts[1].strip())


@dataclass(frozen=True)
class ExtractionRules:
    """Where a site keeps its article body and which page chrome must never reach the text."""

    # Tried in order; the first that yields enough clean text wins.
    body_selectors: tuple[str, ...] = (
        "markers:ContentStart:ContentEnd",
        "div#zoom",
        "td#zoom",
        "div.TRS_Editor",
        "div.TRS_UEDITOR",
        # The newer TRS editor's body (TRS WCM 8+).
        "div.trs_editor_view",
        "div#UCAP-CONTENT",
        "div.pages_content",
        "div.article-content",
    )
    # Removed from the selected subtree before its text is read.
    prune_selectors: tuple[str, ...] = (
        "script",
        "style",
        "noscript",
        "template",
        "iframe",
        "select",
        "button",
        "input",
        "textarea",
        "[style*='display:none']",
        "[style*='display: none']",
        ".bdsharebuttonbox",
        ".bdshare",
        ".share",
        "#share",
        ".print",
        "#print",
    )
    # The body is cut at the first line holding one of these (they can sit inside the container).
    end_markers: tuple[str, ...] = (
        "版权与免责声明",
        "【打印本页】",
        "打印本页",
        "【关闭窗口】",
        "关闭窗口",
        "上一篇",
        "下一篇",
        "相关链接",
        "相关文章",
        "相关阅读",
    )
    # Text that belongs to page chrome: a body holding one of them is not trusted.
    leak_markers: tuple[str, ...] = (
        "发布日期",
        "发布时间",
        "浏览次数",
        "免责声明",
        "版权所有",
        "主办单位",
        "ICP备",
        "公网安备",
        "网站标识码",
        "信息来源",
        "当前位置",
        # Heads the attachment block after the body: an end marker would stop the attachment scan.
        "相关附件",
        # The metadata grid of government-disclosure pages.
        "索引号",
        "发布机构",
        "成文日期",
    )
    # Site and column words removed from the <title> element when it is the title of last resort
    # (each profile names its own: the site-neutral defaults hold no site's words).
    title_strip: tuple[str, ...] = ()
    # Download scripts whose links are attachments whatever the file name (Hanweb's
    # downfile.jsp, jpaas's document/download): the profile names its CMS's.
    attachment_paths: tuple[str, ...] = ()
    min_body_chars: int = 20

    def __post_init__(self) -> None:
        for name in (
            "body_selectors",
            "prune_selectors",
            "end_markers",
            "leak_markers",
            "title_strip",
            "attachment_paths",
        ):
            value = getattr(self, name)
            if isinstance(value, str) or not all(isinstance(item, str) for item in value):
                raise TypeError(f"{name} must be a sequence of strings, got {value!r}")
            # Lists from a TOML table become tuples so the rules stay hashable.
            object.__setattr__(self, name, tuple(value))
        if not isinstance(self.min_body_chars, int) or self.min_body_chars < 0:
            raise ValueError(
                f"min_body_chars must be a non-negative int, got {self.min_body_chars!r}"
            )
        for word in (
            *self.end_markers,
            *self.leak_markers,
            *self.title_strip,
            *self.attachment_paths,
        ):
            if not word.strip():
                raise ValueError(
                    "end_markers, leak_markers, title_strip and attachment_paths must not "
                    "hold blank strings"
                )
        for selector in self.body_selectors:
            if parse_marker_range(selector) is None:
                compile_css(selector)
        for selector in self.prune_selectors:
            compile_css(selector)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> ExtractionRules:
        """Build rules from a profile's ``[extract]`` table; keys are field names."""
        known = {field.name for field in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(
                f"unknown extract rule key(s) {', '.join(unknown)}; "
                f"known keys: {', '.join(sorted(known))}"
            )
        return cls(**dict(data))
