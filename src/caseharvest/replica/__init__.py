"""Offline replicas of Chinese commerce-department sites, one per CMS family.

Start a :class:`ReplicaServer` and point a crawler's ``http_proxy`` at its ``proxy_url``: it answers
the real URLs with deterministic content, records every exchange, and can be switched into the
sites' failure modes. ``ReplicaServer(config)`` serves commerce.shandong.gov.cn (Hanweb JCMS);
``ReplicaServer(sites=[TrsSite(TrsConfig(...))])`` or ``ReplicaServer(family="zhejiang")`` serves
other families (see :data:`SITES`). Sites served over https are reached through
``CONNECT host:443`` with certificates from a CA the server makes at start-up.
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
from caseharvest.replica.family import FamilyCase, FamilySite
from caseharvest.replica.generic_site import GenericConfig, GenericSite
from caseharvest.replica.gkmlpt import GkmlptConfig, GkmlptSite
from caseharvest.replica.guangdong import NfcmsConfig, NfcmsSite
from caseharvest.replica.hanweb_variants import HanwebVariantConfig, HanwebVariantSite
from caseharvest.replica.jpaas import JpaasConfig, JpaasSite
from caseharvest.replica.registry import SITES, DemoSite, build_site
from caseharvest.replica.server import ReplicaServer
from caseharvest.replica.trs import TrsConfig, TrsSite

COLUMN_URL = f"{SITE_ROOT}/col/col{COLUMN_ID}/index.html"

__all__ = [
    "COLUMN_ID",
    "COLUMN_URL",
    "DEFAULT_CONFIG",
    "FAULTS",
    "SITES",
    "SITE_HOST",
    "SITE_ROOT",
    "TEMPLATES",
    "DemoSite",
    "Exchange",
    "FamilyCase",
    "FamilySite",
    "GenericConfig",
    "GenericSite",
    "GkmlptConfig",
    "GkmlptSite",
    "HanwebVariantConfig",
    "HanwebVariantSite",
    "JpaasConfig",
    "JpaasSite",
    "NfcmsConfig",
    "NfcmsSite",
    "ReplicaCase",
    "ReplicaConfig",
    "ReplicaServer",
    "ReplicaSite",
    "TrsConfig",
    "TrsSite",
    "build_site",
    "load_exchanges",
]
