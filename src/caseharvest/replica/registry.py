"""Ready replica sites by demo name, so ``caseharvest demo --site NAME`` and tests can start one.

Each entry says which family it belongs to, the URL a crawler starts from, and how to build
the site (``cases`` and ``seed`` may be overridden). Start one with
``ReplicaServer(family="fujian-trs")`` or ``ReplicaServer(sites=[build_site("zhejiang")])``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from caseharvest.replica.cases import ReplicaConfig, ReplicaSite
from caseharvest.replica.generic_site import GenericConfig, GenericSite
from caseharvest.replica.gkmlpt import GkmlptConfig, GkmlptSite
from caseharvest.replica.guangdong import NfcmsConfig, NfcmsSite
from caseharvest.replica.hanweb_variants import (
    JIANGXI_CONFIG,
    HanwebVariantConfig,
    HanwebVariantSite,
)
from caseharvest.replica.jpaas import JpaasConfig, JpaasSite
from caseharvest.replica.trs import TrsConfig, TrsSite


@dataclass(frozen=True)
class DemoSite:
    """A named replica: its family, start URL, and a builder."""

    name: str
    family: str
    column_url: str
    description: str
    make: Callable[[dict[str, int]], Any]
    notes: dict[str, str] = dataclasses.field(default_factory=dict)

    def build(self, *, cases: int | None = None, seed: int | None = None) -> Any:
        """A fresh site (each call generates its cases anew)."""
        overrides = {"cases": cases, "seed": seed}
        return self.make({key: value for key, value in overrides.items() if value is not None})


def _with(config: Any, overrides: dict[str, int]) -> Any:
    return dataclasses.replace(config, **overrides)


FUJIAN_TRS = TrsConfig(ext="htm", page_name="index", pager="createPageHTML")
HUBEI_TRS = TrsConfig(
    host="swt.hubei.gov.cn",
    site_name="湖北省商务厅",
    column_path="/zfxxgk/fdzdgknr/kfqjs/",
    column_name="开发区建设",
    breadcrumb=("政府信息公开", "法定主动公开内容"),
    ext="shtml",
    pager="countPage",
    encoding="gbk",
    seed=22003,
)

SITES: dict[str, DemoSite] = {
    entry.name: entry
    for entry in (
        DemoSite(
            "shandong",
            "hanweb-jpage",
            "http://commerce.shandong.gov.cn/col/col21482/index.html",
            "Shandong Hanweb JCMS (jpage, dataproxy POST/GET)",
            lambda o: ReplicaSite(_with(ReplicaConfig(), o)),
        ),
        DemoSite(
            "fujian-trs",
            "trs",
            "http://swt.fujian.gov.cn/xxgk/jgzn/jgcs/kfqc/kfqal/",
            "TRS WCM static pages, .htm, createPageHTML, UTF-8",
            lambda o: TrsSite(_with(FUJIAN_TRS, o)),
        ),
        DemoSite(
            "hubei-trs",
            "trs",
            "http://swt.hubei.gov.cn/zfxxgk/fdzdgknr/kfqjs/",
            "TRS WCM static pages, .shtml, countPage pager, GBK with the charset only in <meta>",
            lambda o: TrsSite(_with(HUBEI_TRS, o)),
        ),
        DemoSite(
            "jiangsu",
            "hanweb-variant",
            "https://doc.jiangsu.gov.cn/col/col78712/index.html",
            "Hanweb classic: twin jpage units, dataproxy honouring only page=, 加速乐 cookies",
            lambda o: HanwebVariantSite(_with(HanwebVariantConfig(), o)),
        ),
        DemoSite(
            "jiangxi",
            "hanweb-variant",
            "http://swt.jiangxi.gov.cn/col/col30184/index.html",
            "Hanweb classic: single-quoted records, ?uid=&pageNum= pages, div.jgzn_content",
            lambda o: HanwebVariantSite(_with(JIANGXI_CONFIG, o)),
        ),
        DemoSite(
            "zhejiang",
            "jpaas",
            "http://zcom.zj.gov.cn/col/col1229251058/index.html",
            "Hanweb jpaas: unitbuild.js units, JSON unit API with paramJson paging",
            lambda o: JpaasSite(_with(JpaasConfig(), o)),
        ),
        DemoSite(
            "guangdong",
            "nfcms",
            "https://com.gd.gov.cn/zcqggfwpt/tzjy/index.html",
            "Guangdong gov-cloud NFCMS column over https: index_N.html, a.next",
            lambda o: NfcmsSite(_with(NfcmsConfig(), o)),
        ),
        DemoSite(
            "guangdong-gkmlpt",
            "gkmlpt",
            "https://com.gd.gov.cn/gkmlpt/index",
            "Guangdong gkmlpt over https: window._CONFIG TREE, JSON list API",
            lambda o: GkmlptSite(_with(GkmlptConfig(), o)),
            {"sid": GkmlptConfig().sid, "category": str(GkmlptConfig().case_category)},
        ),
        DemoSite(
            "anhui",
            "generic",
            "http://commerce.ah.gov.cn/public/column/21711?type=4&catId=32712951&action=list",
            "Unknown CMS: query-string pages (pageIndex=N), 下一页 link",
            lambda o: GenericSite(_with(GenericConfig(), o)),
        ),
    )
}


def build_site(name: str, *, cases: int | None = None, seed: int | None = None) -> Any:
    """A fresh replica site for a demo name; KeyError lists the names there are."""
    try:
        entry = SITES[name]
    except KeyError:
        raise KeyError(f"no replica site {name!r}; choose one of {', '.join(SITES)}") from None
    return entry.build(cases=cases, seed=seed)
