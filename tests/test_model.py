"""The site-neutral vocabulary: what its values promise."""

from __future__ import annotations

from caseharvest.model import CaseKey


def test_keys_share_one_copy_of_a_site_and_a_column_name() -> None:
    # A crawl holds tens of thousands of keys, each parsed from its own URL or catalog row.
    parsed = [CaseKey("".join(["shan", "dong"]), "".join(["214", "82"]), str(n)) for n in range(3)]
    assert len({id(key.site) for key in parsed}) == 1
    assert len({id(key.column) for key in parsed}) == 1
    assert parsed[0] == CaseKey("shandong", "21482", "0")
    assert CaseKey.parse("shandong/21482/0") == parsed[0]
