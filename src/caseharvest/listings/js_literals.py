"""JavaScript literals in pages: where an object or array written in a <script> ends."""

from __future__ import annotations

from caseharvest.listings.base import ListingError


def balanced_literal(text: str, start: int, what: str) -> str:
    """The ``{…}`` or ``[…]`` literal opening at *start*, brackets and quotes respected.

    *what* names it in the error raised when it is not closed (a cut or changed page).
    """
    opening = text[start]
    closing = {"{": "}", "[": "]"}[opening]
    depth, index, quote = 0, start, ""
    while index < len(text):
        char = text[index]
        if quote:
            if char == "\\":
                index += 1
            elif char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == opening:
            depth += 1
        elif char == closing:
            depth -= 1
            if depth == 0:
                return text[start : index + 1]
        index += 1
    raise ListingError(f"{what} is not closed")
