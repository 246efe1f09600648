"""Record URLs with scrapy-webarchive into one WACZ (run by its own venv's Python).

    python webarchive_spider.py OUT_DIR URL…

A plain Scrapy spider with scrapy-webarchive's WaczExporter extension, the proxy taken from
``http_proxy`` as Scrapy does: what a user of that plugin would hand caseharvest.
"""

import sys

import scrapy
from scrapy.crawler import CrawlerProcess

OUT, URLS = sys.argv[1], sys.argv[2:]


class Pages(scrapy.Spider):
    name = "pages"

    def start_requests(self):  # type: ignore[no-untyped-def]  # Scrapy 2.11's API
        for url in URLS:
            yield scrapy.Request(url)

    def parse(self, response):  # type: ignore[no-untyped-def]
        return None


process = CrawlerProcess(
    {
        "EXTENSIONS": {"scrapy_webarchive.extensions.WaczExporter": 543},
        "SW_EXPORT_URI": OUT,
        "ROBOTSTXT_OBEY": False,
        "LOG_LEVEL": "WARNING",
    }
)
process.crawl(Pages)
process.start()
