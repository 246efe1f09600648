"""Site profiles: several columns, the user's own folders, errors that name file and key."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from caseharvest.cli import cli
from caseharvest.extract import ExtractionRules
from caseharvest.sites import (
    ProfileError,
    UnknownSiteError,
    available_sites,
    load_profile,
    rules_for_url,
)
from caseharvest.sites.profile import PROFILES_ENV

TWO_COLUMNS = """
name = "mysite"
title = "某省商务厅"
origin = "http://commerce.example.gov.cn"
allowed_hosts = ["commerce.example.gov.cn"]
listing_style = "hanweb-jpage"

[[columns]]
id = "100"
name = "开发区典型案例"
url = "http://commerce.example.gov.cn/col/col100/index.html"

[[columns]]
id = "200"
name = "经验做法"
url = "http://commerce.example.gov.cn/col/col200/index.html"

[extract]
title_strip = ["某省商务厅"]
"""


def write_profile(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_profile_holds_several_columns(tmp_path: Path) -> None:
    write_profile(tmp_path, "mysite", TWO_COLUMNS)
    profile = load_profile("mysite", tmp_path)
    assert [c.id for c in profile.columns] == ["100", "200"]
    assert profile.column_by_id("200").name == "经验做法"
    only = profile.with_columns((profile.column_by_id("200"),))
    assert [c.id for c in only.columns] == ["200"] and only.name == "mysite"
    with pytest.raises(ProfileError, match=r"no column '300'.*100 .*200 "):
        profile.column_by_id("300")


def test_user_profiles_come_from_the_environment_and_win_over_bundled_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shadow = TWO_COLUMNS.replace('name = "mysite"', 'name = "shandong"')
    write_profile(tmp_path, "shandong", shadow)
    write_profile(tmp_path, "mysite", TWO_COLUMNS)
    monkeypatch.setenv(PROFILES_ENV, str(tmp_path))
    assert {"mysite", "shandong"} <= set(available_sites())
    assert load_profile("shandong").title == "某省商务厅"
    monkeypatch.delenv(PROFILES_ENV)
    assert load_profile("shandong").title != "某省商务厅"
    with pytest.raises(UnknownSiteError, match="mysite"):
        load_profile("mysite")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda t: t.replace('listing_style = "hanweb-jpage"', 'listing_style = "nope"'),
            "unknown listing_style 'nope'",
        ),
        (
            lambda t: t.replace('allowed_hosts = ["commerce.example.gov.cn"]\n', ""),
            "lacks the key 'allowed_hosts'",
        ),
        (lambda t: t.replace('id = "200"\n', ""), r"columns\[1\] lacks the key 'id'"),
        (lambda t: t.replace('id = "200"', 'id = "100"'), "two columns share one id"),
        (
            lambda t: t.replace(
                "http://commerce.example.gov.cn/col/col200", "http://other.example/col/col200"
            ),
            "not on an allowed host",
        ),
        (lambda t: t + "colour = 1\n", r"\[extract\]: unknown extract rule key"),
        (lambda t: t.replace("[extract]", 'flavour = "x"\n[extract]'), "unknown key"),
        (lambda t: t.replace("[[columns]]", "[[colums]]", 1), "unknown key"),
        (lambda t: t.replace('name = "mysite"', 'name = "mysite'), "not valid TOML"),
        (lambda t: t.replace('name = "mysite"', 'name = "other"'), "differs from the file name"),
    ],
)
def test_a_bad_profile_names_its_file_and_key(tmp_path: Path, change: object, message: str) -> None:
    path = write_profile(tmp_path, "mysite", change(TWO_COLUMNS))  # type: ignore[operator]
    with pytest.raises(ProfileError, match=message) as raised:
        load_profile("mysite", tmp_path)
    assert str(path) in str(raised.value)


def test_the_cli_reports_a_bad_user_profile_in_one_line(tmp_path: Path) -> None:
    write_profile(tmp_path, "mysite", TWO_COLUMNS.replace("hanweb-jpage", "nope"))
    result = CliRunner().invoke(cli, ["sites", "--profiles", str(tmp_path)])
    assert result.exit_code == 1
    assert "mysite.toml" in result.output and "nope" in result.output
    assert "Traceback" not in result.output


def test_sites_lists_every_column_with_its_listing_style(tmp_path: Path) -> None:
    write_profile(tmp_path / "profiles", "mysite", TWO_COLUMNS)
    result = CliRunner().invoke(
        cli, ["sites", "--profiles", str(tmp_path / "profiles"), "--archive", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    mine = [line for line in result.output.splitlines() if line.startswith("mysite\t")]
    assert len(mine) == 2
    assert "column 200 经验做法\thanweb-jpage" in mine[1]


def test_fetch_column_must_name_a_column_of_the_site(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["fetch", "shandong", "--column", "99999", "--archive", str(tmp_path / "a")]
    )
    assert result.exit_code == 2
    assert "no column '99999'" in result.output and "21482" in result.output
    assert not (tmp_path / "a").exists()


def test_site_neutral_extraction_defaults_hold_no_sites_words() -> None:
    defaults = ExtractionRules()
    shandong = load_profile("shandong")
    words = {"山东", shandong.title, *shandong.extraction.title_strip}
    for value in (defaults.title_strip, defaults.attachment_paths):
        assert not value
    flat = " ".join(
        " ".join(getattr(defaults, name))
        for name in ("body_selectors", "prune_selectors", "end_markers", "leak_markers")
    )
    assert not any(word in flat for word in words if word)
    assert "downfile.jsp" in shandong.extraction.attachment_paths
    assert rules_for_url("http://commerce.shandong.gov.cn/art/1.html") == shandong.extraction
    assert rules_for_url("http://unknown.example/a.html") == defaults
