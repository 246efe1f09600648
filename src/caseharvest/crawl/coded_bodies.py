"""Keep Scrapy from guessing the charset of bodies that are still gzip, br or zstd bytes."""

from __future__ import annotations

from typing import Any

from scrapy import Request
from scrapy.http import Response, TextResponse


class CodedBodiesAsBytes:
    """Answers with a Content-Encoding reach HttpCompressionMiddleware as plain responses.

    Scrapy types an answer by its Content-Type before decoding it, and the compression
    middleware's ``replace`` reads the text response's ``encoding`` first: when no charset is
    declared, that runs charset detection over the compressed bytes and throws the result
    away (3 % of a fast crawl's CPU). The decoded answer is typed again, from its real body.
    """

    def process_response(
        self, request: Request, response: Response, spider: Any = None
    ) -> Response:
        if not isinstance(response, TextResponse) or not response.headers.get(b"Content-Encoding"):
            return response
        return Response(**{name: getattr(response, name) for name in Response.attributes})
