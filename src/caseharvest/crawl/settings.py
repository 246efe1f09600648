"""Scrapy settings for caseharvest, and every CASEHARVEST_* default (one place for all of them)."""

from __future__ import annotations

from scrapy.settings import default_settings as _scrapy_defaults

from caseharvest import __version__

BOT_NAME = "caseharvest"
SPIDER_MODULES = ["caseharvest.crawl.column_spider"]
NEWSPIDER_MODULE = "caseharvest.crawl.column_spider"

# --- caseharvest -------------------------------------------------------------------------------
# Who to contact about this crawler: goes into the User-Agent and the WARC operator field.
# Real users set their own (environment variable CASEHARVEST_CONTACT or -s CASEHARVEST_CONTACT=…).
CASEHARVEST_CONTACT = "https://github.com/caseharvest/caseharvest"
# Archive folder (WARCs, text, catalog, logs); the CLI's --archive overrides it.
CASEHARVEST_ARCHIVE = "archive"
# Rotate WARC files once they reach this many bytes (compressed).
CASEHARVEST_WARC_MAX_SIZE = 1_000_000_000
# Stop after this many new cases (0 = no limit); the CLI's --limit sets it.
CASEHARVEST_LIMIT = 0
# Walk the whole listing even when it looks like nothing is new (`fetch --full`).
CASEHARVEST_FULL = False
# Every run walks the whole listing when the last complete walk is older than this (days):
# it catches back-dated cases inserted low in the listing, and withdrawn ones.
CASEHARVEST_FULL_WALK_DAYS = 7
# Send conditional requests for every known case (`fetch --revalidate`).
CASEHARVEST_REVALIDATE = False
# Processes that read case pages (links and extraction); 0 reads in the crawl process. "auto":
# none for a polite crawl (it waits on the site, not on reading), one per core beyond the
# first for a crawl without delay (a local replica, --from-warc).
CASEHARVEST_EXTRACT_WORKERS = "auto"
# Words written into each warcinfo record's description (the demo marks its content synthetic).
CASEHARVEST_WARCINFO_DESCRIPTION = ""
# Fetch page requisites (scripts, stylesheets, images) so archived pages replay as they looked.
CASEHARVEST_REQUISITES = True

# --- politeness: one request at a time per site, ~1 s apart, robots.txt obeyed ---------------
USER_AGENT = f"caseharvest/{__version__} (+{CASEHARVEST_CONTACT})"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 1
DOWNLOAD_DELAY = 1.0
# ±50 % around the delay, so requests do not arrive like clockwork.
DOWNLOAD_DELAY_JITTER = 0.5
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
# Two retries (three tries in all) for 5xx and timeouts; every try is archived.
RETRY_ENABLED = True
RETRY_TIMES = 2
# Scrapy's list without 429: a WAF answering 429 blocks harder when retried; the spider stops
# the site at the first one instead (column_spider.anti_bot_challenge).
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408]
DOWNLOAD_TIMEOUT = 60
# Scrapy starts this many asyncio tasks for the output of every callback; our callbacks yield
# a handful of requests and at most one case, and the default (100) was a tenth of fetch's CPU.
CONCURRENT_ITEMS = 4
# Answers whose items are still in the pipeline (waiting for a reading process) hold their
# bodies. With Scrapy's 5 MB a fast 20,000-case crawl peaked at 114 MB, with this limit at
# 104 MB, and took no longer. A soft limit: a larger answer still goes through, and new
# requests wait while it is processed.
SCRAPER_SLOT_MAX_ACTIVE_SIZE = 1_000_000
# Scrapy checks each callback for a generator returning a value (a mistake it warns about) by
# reading the callback's source and parsing it, and caches the answer weakly by the bound
# method: a new object with every request, so the source was parsed again and again (2 % of
# the reactor's time over an archive). The spider's callbacks are tested; the check stays off.
WARN_ON_GENERATOR_RETURN_VALUE = False
# Session cookies (JSESSIONID) as a browser would keep them.
COOKIES_ENABLED = True
# Cache hits are not captures: `fetch` refuses to run with the HTTP cache on.
HTTPCACHE_ENABLED = False
# Scrapy's telnet console and remote control (an HTTP server that can steer the crawl) stay
# off even where a user puts their extensions back (see EXTENSIONS).
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
# Statistics nobody reads, paid for on every request: the run report counts what matters.
DOWNLOADER_STATS = False
# Attachments can be large; warn at 64 MB, refuse at 512 MB rather than exhaust memory.
DOWNLOAD_WARNSIZE = 64 * 1024 * 1024
DOWNLOAD_MAXSIZE = 512 * 1024 * 1024

# --- wiring ------------------------------------------------------------------------------------
DOWNLOADER_MIDDLEWARES = {
    # Before the retry middleware (550) sees the exception: a stale keep-alive connection is
    # sent again on a fresh one without spending the retries meant for the site's faults.
    "caseharvest.crawl.fresh_connections.FreshConnectionRetry": 560,
    # Answers reach it before HttpCompressionMiddleware (590) does.
    "caseharvest.crawl.coded_bodies.CodedBodiesAsBytes": 595,
}
EXTENSIONS = {
    # Archives every fetch from the response_downloaded signal: raw bodies, every try.
    "caseharvest.crawl.capture_extension.WarcCaptureExtension": 100,
    # Commits the catalog rows held back (archive.ledger.COMMIT_SECONDS) while none settles.
    "caseharvest.crawl.pending_commits.PendingCommits": 110,
}
# Scrapy's own extensions less a console and a remote control that a cron job must not open,
# and feeds of items that hold raw pages (`caseharvest export` is the feed). They are left out
# of the base list, not set to None: Scrapy imports every extension its settings name, a
# disabled one too, and the remote control's import (aiohttp) was 0.2 s of every run.
EXTENSIONS_BASE = {
    name: order
    for name, order in _scrapy_defaults.EXTENSIONS_BASE.items()
    if name
    not in (
        "scrapy.extensions.telnet.TelnetConsole",
        "scrapy.extensions.remote_control.RemoteControl",
        "scrapy.extensions.feedexport.FeedExporter",
    )
}
# The progress line (crawl.progress.ProgressExtension) is added by `fetch` on a terminal.
SPIDER_MIDDLEWARES = {
    # Each spider middleware wraps every callback's output in one more async generator. These
    # three do nothing here: no depth limit, no URL too long to archive (a request refused
    # for its length would leave its case without an outcome), and no spider meta copying.
    "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
    "scrapy.spidermiddlewares.urllength.UrlLengthMiddleware": None,
    "scrapy.spidermiddlewares.metacopy.MetaCopyDetectionMiddleware": None,
}
ITEM_PIPELINES = {
    "caseharvest.crawl.case_pipeline.CasePipeline": 300,
}

LOG_LEVEL = "INFO"
# Plain `scrapy crawl` (and Scrapyd, through LOG_FILE) logs as Scrapy does; `caseharvest fetch`
# switches this off and attaches its own handlers: the run's log file, the terminal at WARNING.
LOG_INSTALL_ROOT_HANDLER = True
