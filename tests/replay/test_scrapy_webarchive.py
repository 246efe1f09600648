"""A WACZ recorded by scrapy-webarchive itself (its own venv), replayed by caseharvest."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from caseharvest.replica import ReplicaServer

from .conftest import assert_gold, good_cases, run_cli

RECORDER = Path(__file__).parent / "recorders" / "webarchive_spider.py"
# scrapy-webarchive pins Scrapy 2.11, older than ours: it gets a venv of its own, kept between
# runs. Its Scrapy breaks with today's w3lib and Twisted, hence the caps.
PACKAGES = ["scrapy-webarchive", "w3lib<2.2", "Twisted<24.11"]


def webarchive_python() -> Path:
    folder = Path(
        os.environ.get("CASEHARVEST_WEBARCHIVE_VENV")
        or Path.home() / ".cache" / "caseharvest" / "scrapy-webarchive-venv"
    )
    python = folder / "bin" / "python"
    ready = folder / ".installed"
    if not ready.exists():
        venv.EnvBuilder(with_pip=True, clear=True).create(folder)
        install = subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", *PACKAGES],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if install.returncode != 0:
            pytest.skip(f"scrapy-webarchive does not install here: {install.stderr[-500:]}")
        ready.touch()
    return python


def test_a_wacz_recorded_by_scrapy_webarchive(replica: ReplicaServer, tmp_path: Path) -> None:
    python = webarchive_python()
    cases = good_cases(replica)[:6]
    env = {k: v for k, v in os.environ.items() if k.lower() != "http_proxy"}
    env["http_proxy"] = replica.proxy_url
    recorded = subprocess.run(
        [str(python), str(RECORDER), f"{tmp_path / 'out'}/", *(case.url for case in cases)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert recorded.returncode == 0, recorded.stderr[-2000:]
    (wacz,) = (tmp_path / "out").glob("*.wacz")
    archive = tmp_path / "archive"
    result = run_cli("replay", str(wacz), "--archive", str(archive), "--workers", "2")
    assert result.exit_code == 0, result.output
    assert_gold(archive, cases)
    verify = run_cli("verify", "--archive", str(archive))
    assert verify.exit_code == 0, verify.output
    assert sys.executable != str(python)  # recorded by another Scrapy than ours
