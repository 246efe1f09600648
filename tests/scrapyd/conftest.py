"""Real Scrapyd daemons on 127.0.0.1, with caseharvest deployed as a user deploys it.

Each node runs from its own folder (its scrapyd.conf, eggs, logs, dbs) on a free port, with
the replica as its ``http_proxy``: Scrapyd hands its environment to every job, which is how a
job reaches the replica (Scrapy reads proxies from the environment only). The egg is built by
``scrapyd-deploy`` from a copy of the checkout's tracked files, as in a fresh clone.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from caseharvest.replica import ReplicaConfig, ReplicaServer

ROOT = Path(__file__).parents[2]
BIN = Path(sys.executable).parent
# What a fresh clone holds that building the egg reads.
CHECKOUT_FILES = ("src", "pyproject.toml", "setup.py", "scrapy.cfg", "README.md")
# Politeness is for real sites; the replica needs none.
FAST_SETTINGS = {
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_ENABLED": "False",
    "CASEHARVEST_CONTACT": "mailto:tests@example.invalid",
}
REPLICA_CASES = 20
WAIT_SECONDS = 60


def wait_for(condition: Callable[[], Any], what: str, timeout: float = WAIT_SECONDS) -> Any:
    """Poll *condition* until it returns something true; fail after *timeout* seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Node:
    """One Scrapyd daemon started by a test."""

    url: str
    folder: Path
    process: subprocess.Popen[bytes]

    def get(self, endpoint: str, **query: str) -> dict[str, Any]:
        url = f"{self.url}/{endpoint}?{urllib.parse.urlencode(query)}"
        with _direct.open(url, timeout=10) as response:
            answer: dict[str, Any] = json.load(response)
        return answer

    def post(self, endpoint: str, form: list[tuple[str, str]]) -> dict[str, Any]:
        data = urllib.parse.urlencode(form).encode()
        with _direct.open(f"{self.url}/{endpoint}", data=data, timeout=30) as response:
            answer: dict[str, Any] = json.load(response)
        return answer

    def state(self, job: str) -> str | None:
        state: str | None = self.get("status.json", job=job).get("currstate")
        return state

    def wait_finished(self, job: str) -> None:
        wait_for(lambda: self.state(job) == "finished", f"job {job} on {self.url} to finish")

    def job_log(self, job: str) -> str:
        return (self.folder / "logs/caseharvest/column" / f"{job}.log").read_text("utf-8")

    def daemon_log(self) -> str:
        return (self.folder / "scrapyd.log").read_text("utf-8", errors="replace")

    def cancel_pending(self) -> None:
        """Drop the jobs a test left queued, so the next test starts from an idle node."""
        for job in self.get("listjobs.json", project="caseharvest").get("pending", []):
            self.post("cancel.json", [("project", "caseharvest"), ("job", job["id"])])


# The tests' own calls to Scrapyd never go through a proxy a developer may have set.
_direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _scrapyd_conf(folder: Path, port: int, poll_interval: float) -> str:
    return "\n".join(
        [
            "[scrapyd]",
            "bind_address = 127.0.0.1",
            f"http_port = {port}",
            f"eggs_dir = {folder / 'eggs'}",
            f"logs_dir = {folder / 'logs'}",
            f"dbs_dir = {folder / 'dbs'}",
            f"poll_interval = {poll_interval}",
            "max_proc = 2",
            "runner = egg_only_runner",
            "",
        ]
    )


def start_node(folder: Path, replica: ReplicaServer, *, poll_interval: float = 0.2) -> Node:
    """A Scrapyd daemon in *folder*; a long *poll_interval* keeps its jobs pending."""
    folder.mkdir(parents=True)
    port = free_port()
    (folder / "scrapyd.conf").write_text(_scrapyd_conf(folder, port, poll_interval))
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "no_proxy")}
    env["http_proxy"] = replica.proxy_url
    env["PYTHONPATH"] = str(Path(__file__).parent)  # egg_only_runner
    env["CASEHARVEST_TEST_HIDDEN_SOURCE"] = str(ROOT / "src")
    env.pop("CASEHARVEST_PROFILES", None)
    with (folder / "scrapyd.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "scrapyd", "--logfile", "-"],
            cwd=folder,  # scrapyd.conf here; jobs run here too
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    node = Node(f"http://127.0.0.1:{port}", folder, process)

    def answers() -> bool:
        if process.poll() is not None:
            pytest.fail(f"scrapyd exited with {process.returncode}:\n{node.daemon_log()}")
        try:
            return node.get("daemonstatus.json").get("status") == "ok"
        except OSError:
            return False

    wait_for(answers, f"scrapyd on {node.url}")
    return node


def stop_node(node: Node) -> None:
    node.process.send_signal(signal.SIGTERM)
    try:
        node.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        node.process.kill()
        node.process.wait()


def fresh_clone(folder: Path) -> Path:
    """The files of the checkout a `git clone` would hold that the egg is built from."""
    folder.mkdir(parents=True)
    for name in CHECKOUT_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(
                source, folder / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
            )
        else:
            shutil.copy2(source, folder / name)
    return folder


def scrapyd_deploy(clone: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "no_proxy")}
    return subprocess.run(
        [str(BIN / "scrapyd-deploy"), *args],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def point_deploy_target_at(clone: Path, url: str) -> None:
    """The clone's scrapy.cfg, its [deploy] target naming *url* instead of localhost:6800."""
    config = clone / "scrapy.cfg"
    text = config.read_text("utf-8")
    assert "url = http://localhost:6800/" in text, "scrapy.cfg lost its [deploy] target"
    config.write_text(text.replace("url = http://localhost:6800/", f"url = {url}/"))


@pytest.fixture(scope="module")
def replica(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReplicaServer]:
    folder = tmp_path_factory.mktemp("scrapyd-replica")
    config = ReplicaConfig(cases=REPLICA_CASES)
    with ReplicaServer(config, log_path=folder / "replica.jsonl") as server:
        yield server


@pytest.fixture(scope="module")
def egg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The egg `scrapyd-deploy --build-egg` builds from a fresh clone."""
    folder = tmp_path_factory.mktemp("scrapyd-egg")
    clone = fresh_clone(folder / "clone")
    built = folder / "caseharvest.egg"
    result = scrapyd_deploy(clone, "--build-egg", str(built))
    assert result.returncode == 0, result.stderr
    return built


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory, replica: ReplicaServer) -> Iterator[Node]:
    """A Scrapyd node with caseharvest deployed by plain `scrapyd-deploy` from scrapy.cfg."""
    folder = tmp_path_factory.mktemp("scrapyd-node")
    started = start_node(folder / "node", replica)
    try:
        clone = fresh_clone(folder / "clone")
        point_deploy_target_at(clone, started.url)
        deployed = scrapyd_deploy(clone)
        assert deployed.returncode == 0, deployed.stderr + deployed.stdout
        answer = json.loads(deployed.stdout)
        assert answer["status"] == "ok" and answer["spiders"] == 1, answer
        yield started
    finally:
        stop_node(started)


@pytest.fixture(scope="module")
def idle_node(
    tmp_path_factory: pytest.TempPathFactory, replica: ReplicaServer, egg: Path
) -> Iterator[Node]:
    """A second node that never starts its jobs (they stay pending), the egg deployed there."""
    folder = tmp_path_factory.mktemp("scrapyd-idle")
    started = start_node(folder / "node", replica, poll_interval=3600)
    try:
        clone = fresh_clone(folder / "clone")
        point_deploy_target_at(clone, started.url)
        deployed = scrapyd_deploy(clone, "--egg", str(egg), "--version", "1")
        assert deployed.returncode == 0, deployed.stderr + deployed.stdout
        yield started
    finally:
        stop_node(started)
