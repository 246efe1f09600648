"""Offline replica of the 开发区典型案例 column of commerce.shandong.gov.cn (Hanweb JCMS).

Start a :class:`ReplicaServer` and point a crawler's ``http_proxy`` at its ``proxy_url``: it answers
``http://commerce.shandong.gov.cn/...`` with deterministic content, records every exchange, and can
be switched into the site's failure modes (csrf stub, anti-bot challenges, empty column).
"""

from __future__ import annotations

from caseharvest.replica.cases import (
    COLUMN_ID,
    DEFAULT_CONFIG,
    FAULTS,
    SITE_HOST,
    SITE_ROOT,
    TEMPLATES,
    ReplicaCase,
    ReplicaConfig,
    ReplicaSite,
)
from caseharvest.replica.exchanges import Exchange, load_exchanges
from caseharvest.replica.server import ReplicaServer

COLUMN_URL = f"{SITE_ROOT}/col/col{COLUMN_ID}/index.html"

__all__ = [
    "COLUMN_ID",
    "COLUMN_URL",
    "DEFAULT_CONFIG",
    "FAULTS",
    "SITE_HOST",
    "SITE_ROOT",
    "TEMPLATES",
    "Exchange",
    "ReplicaCase",
    "ReplicaConfig",
    "ReplicaServer",
    "ReplicaSite",
    "load_exchanges",
]
