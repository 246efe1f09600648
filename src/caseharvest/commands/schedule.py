"""`caseharvest schedule`: crawls of whole sites put on Scrapyd nodes, never one site twice.

Politeness decides the unit of work: one site is crawled by one job at a time, on one node, so
the load on a site is what one `caseharvest fetch` puts on it however many machines there are.
A site whose job is pending or running on any node, or whose archive another run holds, is
skipped. Each site goes to the node that rendezvous hashing picks for it: the same node every
time while the list of nodes stays the same, so a node's archive of the site stays incremental.

Scrapyd's API is plain HTTP + JSON (``listjobs.json``, ``schedule.json``); the standard library
speaks it. Job ids name their site (``<site>.<UTC time>``): Scrapyd lists running jobs without
their spider arguments, and the id is how a running job's site is known.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from caseharvest.archive.lock import ArchiveLock

SPIDER = "column"
DEFAULT_PROJECT = "caseharvest"
_JOB_TIME = "%Y%m%dT%H%M%SZ"
_JOB_ID = re.compile(r"^(?P<site>.+)\.(?P<time>\d{8}T\d{6}Z)$")


class ScrapydError(RuntimeError):
    """A Scrapyd node cannot be reached or refused a request; the message says which and why."""


def job_id_for(site: str, now: datetime) -> str:
    """The id of a job crawling *site*, scheduled at *now* (UTC)."""
    return f"{site}.{now.strftime(_JOB_TIME)}"


def site_of_job(job_id: str) -> str | None:
    """The site a job id made by :func:`job_id_for` names; None for other ids."""
    match = _JOB_ID.match(job_id)
    return match.group("site") if match else None


@dataclass(frozen=True)
class NodeJob:
    """A pending or running job of the project on a node."""

    node: str
    job_id: str
    state: str
    site: str | None


class ScrapydNode:
    """One Scrapyd server, by its URL (``http://[user:password@]host:6800``)."""

    def __init__(self, url: str, project: str = DEFAULT_PROJECT, timeout: float = 30) -> None:
        parts = urllib.parse.urlsplit(url if "://" in url else f"http://{url}")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{url!r} is not a Scrapyd URL (http://host:6800)")
        self._authorization: str | None = None
        if parts.username is not None:
            credentials = f"{urllib.parse.unquote(parts.username)}:"
            credentials += urllib.parse.unquote(parts.password or "")
            self._authorization = "Basic " + base64.b64encode(credentials.encode()).decode()
        netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
        # The URL without credentials: what messages show, and the node's identity for hashing.
        self.url = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
        self.project = project
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"ScrapydNode({self.url!r})"

    def jobs(self) -> list[NodeJob]:
        """The project's pending and running jobs (finished ones do not matter here)."""
        answer = self._call("listjobs.json", {"project": self.project})
        found = []
        for state in ("pending", "running"):
            for job in answer.get(state, []):
                if job.get("spider") != SPIDER:
                    continue
                job_id = str(job.get("id", ""))
                args = job.get("args") or {}
                site = args.get("site") or site_of_job(job_id)
                found.append(NodeJob(self.url, job_id, state, site))
        return found

    def schedule(
        self,
        job_id: str,
        arguments: Mapping[str, str],
        settings: Mapping[str, str],
    ) -> str:
        """Put one job of the column spider in the node's queue; returns its job id."""
        form: list[tuple[str, str]] = [
            ("project", self.project),
            ("spider", SPIDER),
            ("jobid", job_id),
            *arguments.items(),
            *(("setting", f"{name}={value}") for name, value in settings.items()),
        ]
        answer = self._call("schedule.json", form=form)
        return str(answer.get("jobid", job_id))

    def _call(
        self,
        endpoint: str,
        query: Mapping[str, str] | None = None,
        form: Sequence[tuple[str, str]] | None = None,
    ) -> dict[str, Any]:
        url = f"{self.url}/{endpoint}"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        request = urllib.request.Request(url, data=data)
        if self._authorization:
            request.add_header("Authorization", self._authorization)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = response.read()
        except urllib.error.HTTPError as exc:
            raise ScrapydError(f"{self.url}: {endpoint} answered HTTP {exc.code}") from exc
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ScrapydError(f"{self.url}: cannot reach Scrapyd ({reason})") from exc
        try:
            answer = json.loads(body)
        except ValueError as exc:
            raise ScrapydError(
                f"{self.url}: {endpoint} did not answer JSON; is it Scrapyd?"
            ) from exc
        if not isinstance(answer, dict) or answer.get("status") != "ok":
            message = answer.get("message") if isinstance(answer, dict) else answer
            raise ScrapydError(f"{self.url}: {endpoint}: {message}{self._hint(str(message))}")
        return answer

    def _hint(self, message: str) -> str:
        not_deployed = (f"project '{self.project}' not found", f"spider '{SPIDER}' not found")
        if any(words in message for words in not_deployed):
            return (
                "; deploy caseharvest there first: `scrapyd-deploy TARGET` in a checkout, with "
                "a [deploy:TARGET] section naming this node in scrapy.cfg"
            )
        return ""


def node_for(site: str, nodes: Sequence[ScrapydNode]) -> ScrapydNode:
    """The node that crawls *site*: rendezvous hashing over the nodes' URLs.

    The choice depends only on the site and the set of nodes: a site keeps its node (and that
    node's archive of it) from run to run; adding or removing a node moves only the sites that
    it gains or held.
    """

    def weight(node: ScrapydNode) -> bytes:
        return hashlib.sha256(f"{node.url}\n{site}".encode()).digest()

    return max(nodes, key=weight)


def archive_for(archive_root: str, site: str) -> str:
    """``<archive-root>/<site>``: one archive per site, so sites never wait on each other's lock."""
    return str(PurePosixPath(archive_root) / site)


@dataclass
class Decision:
    """What became of one site: scheduled on a node, or skipped with the reason."""

    site: str
    node: str | None = None
    job_id: str | None = None
    skipped: str | None = None
    failed: str | None = None


@dataclass
class ScheduleRequest:
    """One `caseharvest schedule`: which sites, where their archives live, how to crawl."""

    sites: Sequence[str]
    archive_root: str
    arguments: Mapping[str, str] = field(default_factory=dict)
    settings: Mapping[str, str] = field(default_factory=dict)


def busy_sites(nodes: Iterable[ScrapydNode]) -> dict[str, NodeJob]:
    """Site → a pending or running job of it, over every node (raises ScrapydError)."""
    busy: dict[str, NodeJob] = {}
    for node in nodes:
        for job in node.jobs():
            if job.site is not None:
                busy.setdefault(job.site, job)
    return busy


def held_archive(archive: str) -> str | None:
    """Who holds the lock of *archive*, when it is a folder this machine sees (shared storage)."""
    path = PurePosixPath(archive)
    if not path.is_absolute():
        return None  # relative to each node's Scrapyd folder: nothing to look at from here
    return ArchiveLock(Path(archive)).held_by()


def schedule_sites(
    request: ScheduleRequest, nodes: Sequence[ScrapydNode], now: datetime
) -> list[Decision]:
    """One job per site on its node, skipping sites busy anywhere; a decision for each site.

    Raises :class:`ScrapydError` when a node cannot say which jobs it has: a site might be
    running there, so nothing is scheduled.
    """
    busy = busy_sites(nodes)
    decisions = []
    for site in dict.fromkeys(request.sites):
        decision = Decision(site)
        decisions.append(decision)
        archive = archive_for(request.archive_root, site)
        if site in busy:
            job = busy[site]
            decision.skipped = f"job {job.job_id} is {job.state} on {job.node}"
            continue
        holder = held_archive(archive)
        if holder is not None:
            decision.skipped = f"another run holds its archive {archive} ({holder})"
            continue
        node = node_for(site, nodes)
        decision.node = node.url
        arguments = {"site": site, "archive": archive, **request.arguments}
        try:
            decision.job_id = node.schedule(job_id_for(site, now), arguments, request.settings)
        except ScrapydError as exc:
            decision.failed = str(exc)
    return decisions


__all__ = [
    "DEFAULT_PROJECT",
    "Decision",
    "NodeJob",
    "ScheduleRequest",
    "ScrapydError",
    "ScrapydNode",
    "archive_for",
    "busy_sites",
    "job_id_for",
    "node_for",
    "schedule_sites",
    "site_of_job",
]
