"""The generated gold pages (tests/gold/31-… to 60-…) are what the family replicas serve."""

from __future__ import annotations

import pytest

from caseharvest.replica import build_site
from tests.replica.gold_pages import GOLD_DIR, PICKS, GoldFiles, build

PAGES = build()
FAMILIES = {
    "trs": ("fujian-trs", "hubei-trs"),
    "hanweb": ("jiangsu", "jiangxi"),
    "jpaas": ("zhejiang",),
    "nfcms": ("guangdong",),
    "gkmlpt": ("guangdong-gkmlpt",),
}


def test_every_family_template_has_at_least_six_gold_pages() -> None:
    for family, names in FAMILIES.items():
        picks = [pick for pick in PICKS if pick.site in names]
        assert len(picks) >= 6, family
        sites = {name: build_site(name) for name in names}
        covered = {next(c for c in sites[p.site].cases if p.want(c)).template for p in picks}
        assert covered == {t for site in sites.values() for t in site.templates()}, family


@pytest.mark.parametrize("page", PAGES, ids=[page.stem for page in PAGES])
def test_committed_gold_files_match_the_replica(page: GoldFiles) -> None:
    assert (GOLD_DIR / f"{page.stem}.html").read_bytes() == page.html
    assert (GOLD_DIR / f"{page.stem}.txt").read_text(encoding="utf-8") == page.text
    assert (GOLD_DIR / f"{page.stem}.json").read_text(encoding="utf-8") == page.meta
