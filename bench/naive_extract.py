"""The pipeline a user would otherwise script: one process, warcio + trafilatura per response.

Usage: naive_extract.py OUTPUT.jsonl WARC...  (every HTML response's text, one JSON line each)
"""

from __future__ import annotations

import json
import sys

import trafilatura
from warcio.archiveiterator import ArchiveIterator


def main() -> int:
    output, warcs = sys.argv[1], sys.argv[2:]
    pages = 0
    with open(output, "w", encoding="utf-8") as out:
        for path in warcs:
            with open(path, "rb") as stream:
                for record in ArchiveIterator(stream):
                    if record.rec_type != "response":
                        continue
                    content_type = record.http_headers.get_header("Content-Type") or ""
                    if "html" not in content_type:
                        continue
                    html = record.content_stream().read()
                    text = trafilatura.extract(html, include_tables=True)
                    url = record.rec_headers.get_header("WARC-Target-URI")
                    out.write(json.dumps({"url": url, "text": text}, ensure_ascii=False) + "\n")
                    pages += 1
    print(f"{pages} pages", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
