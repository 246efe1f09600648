"""Clean article text and metadata from archived pages (decoding, body rules, fallback)."""

from __future__ import annotations

from caseharvest.extract.decoding import decode_html
from caseharvest.extract.metadata import Attachment
from caseharvest.extract.page import ExtractedPage, ReadPage, extract_page, read_page
from caseharvest.extract.rules import ExtractionRules

__all__ = [
    "Attachment",
    "ExtractedPage",
    "ExtractionRules",
    "ReadPage",
    "decode_html",
    "extract_page",
    "read_page",
]
