"""Speed and memory of fetch, rerun and replay, next to what a user would otherwise run.

    .venv/bin/python bench/run.py [--cases 2000 20000] [--out bench/out] [--repeat 3]

For each size it starts a replica of the Shandong column with that many cases, answered from
memory as fast as wget can ask (bench/fast_replica.py), and measures, in one run:
- fetch: `caseharvest fetch` (delay 0, 16 concurrent requests) against `wget --warc-file`
  over the same case URLs followed by a one-process trafilatura pass over its WARC;
- rerun: an unchanged `caseharvest fetch`: requests the replica answered, wall time;
- replay: `caseharvest replay` against a one-process warcio + trafilatura loop over the same
  WARC files, and whether replay's export equals fetch's;
- fetch --from-warc: the spider run over the fetched archive (every answer read from it)
  against replay of the same files.
Wall and CPU time and peak RSS come from bench/measure.py (one process tree per command).
Below 10,000 cases each comparison runs --repeat times (3), ours and the baseline taking
turns, and the run with the median wall time is reported.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from caseharvest.replica import ReplicaConfig
from fast_replica import FastReplica

BENCH = Path(__file__).resolve().parent
PYTHON = sys.executable
CASEHARVEST = [PYTHON, "-m", "caseharvest"]
FAST = [
    "-s",
    "DOWNLOAD_DELAY=0",
    "-s",
    "AUTOTHROTTLE_ENABLED=False",
    "-s",
    "CONCURRENT_REQUESTS=16",
    "-s",
    "CONCURRENT_REQUESTS_PER_DOMAIN=16",
    "-s",
    "CASEHARVEST_CONTACT=mailto:bench@example.invalid",
]


def measure(
    command: list[str], env: dict[str, str] | None = None, ok: tuple[int, ...] = (0,)
) -> dict[str, Any]:
    """Wall, CPU and peak RSS of *command*, run under bench/measure.py."""
    result = subprocess.run(
        [PYTHON, str(BENCH / "measure.py"), *command],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    figures: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    if figures["exit"] not in ok:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr[-3000:]}")
    return figures


def proxied_env(replica: FastReplica) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("no_proxy", "http_proxy")}
    env["http_proxy"] = replica.proxy_url
    return env


def export(archive: Path) -> str:
    return subprocess.run(
        [*CASEHARVEST, "export", "--archive", str(archive), "--all-versions"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median wall time, with every run's wall time beside it."""
    ordered = sorted(runs, key=lambda run: run["wall_s"])
    return {**ordered[len(ordered) // 2], "walls": [round(run["wall_s"], 2) for run in runs]}


def wget_command(replica: FastReplica, work: Path) -> list[str]:
    return [
        "wget",
        "--quiet",
        "--tries=3",
        "--delete-after",
        "-P",
        str(work / "wget"),
        "-e",
        "robots=off",
        "-e",
        "use_proxy=on",
        "-e",
        f"http_proxy={replica.proxy_url}",
        f"--warc-file={work / 'wget'}",
        "-i",
        str(work / "urls.txt"),
    ]


def bench_size(cases: int, out: Path, repeats: int) -> dict[str, Any]:
    work = out / f"{cases}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    archive = work / "archive"
    figures: dict[str, Any] = {"cases": cases}
    with FastReplica(ReplicaConfig(cases=cases)) as replica:
        env = proxied_env(replica)
        urls = [case.url for case in replica.site.listed()]
        (work / "urls.txt").write_text("\n".join(urls) + "\n", "utf-8")
        # fetch and its baseline take turns, so that a machine whose speed drifts (this one
        # does, by a tenth and more within minutes) slows both alike.
        runs: dict[str, list[dict[str, Any]]] = {"fetch": [], "wget": [], "wget_extract": []}
        for _ in range(repeats):
            shutil.rmtree(archive, ignore_errors=True)
            replica.clear_log()
            fetch = measure(
                [*CASEHARVEST, "fetch", "--archive", str(archive), "--quiet", *FAST], env
            )
            fetch["requests"] = len(replica.exchanges())
            runs["fetch"].append(fetch)
            shutil.rmtree(work / "wget", ignore_errors=True)
            (work / "wget.warc.gz").unlink(missing_ok=True)
            (work / "wget").mkdir()
            # exit 8: some answer was an error (the replica's dead link is a 404)
            runs["wget"].append(measure(wget_command(replica, work), env, ok=(0, 8)))
            runs["wget_extract"].append(
                measure(
                    [
                        PYTHON,
                        str(BENCH / "naive_extract.py"),
                        str(work / "wget.jsonl"),
                        str(work / "wget.warc.gz"),
                    ]
                )
            )
        figures.update({step: median_run(step_runs) for step, step_runs in runs.items()})

        # The archive of the last fetch: an unchanged rerun, then replay and --from-warc.
        replica.clear_log()
        figures["rerun"] = measure(
            [*CASEHARVEST, "fetch", "--archive", str(archive), "--quiet", *FAST], env
        )
        figures["rerun"]["requests"] = len(replica.exchanges())
        figures["rerun"]["after_robots"] = len(
            [e for e in replica.exchanges() if not e.url.endswith("/robots.txt")]
        )
    warcs = [str(p) for p in sorted((archive / "warc").rglob("*.warc.gz"))]
    replays: dict[str, list[dict[str, Any]]] = {"naive_replay": [], "replay": [], "from_warc": []}
    for _ in range(repeats):
        replays["naive_replay"].append(
            measure([PYTHON, str(BENCH / "naive_extract.py"), str(work / "naive.jsonl"), *warcs])
        )
        shutil.rmtree(work / "replayed", ignore_errors=True)
        replay = [
            *CASEHARVEST,
            "replay",
            str(archive / "warc"),
            "--archive",
            str(work / "replayed"),
        ]
        replays["replay"].append(measure([*replay, "--quiet"]))
        # The spider again, every answer read from the archive (no network, no delay): what
        # re-running a crawl over an archive costs, beside replay of the same files. Misses
        # (none expected) would exit 1.
        shutil.rmtree(work / "from-warc", ignore_errors=True)
        replays["from_warc"].append(
            measure(
                [
                    *CASEHARVEST,
                    "fetch",
                    "--from-warc",
                    str(archive / "warc"),
                    "--archive",
                    str(work / "from-warc"),
                    "--quiet",
                    *FAST,
                ],
                ok=(0, 1),
            )
        )
    figures.update({step: median_run(step_runs) for step, step_runs in replays.items()})
    figures["replay"]["identical"] = export(archive) == export(work / "replayed")
    return figures


def row(label: str, ours: dict[str, Any], theirs: dict[str, Any], theirs_label: str) -> str:
    ratio = ours["wall_s"] / theirs["wall_s"]
    return (
        f"| {label} | {ours['wall_s']:.1f} s | {ours['cpu_s']:.1f} s | "
        f"{ours['peak_rss_mb']:.0f} MB | {theirs_label} {theirs['wall_s']:.1f} s / "
        f"{theirs['cpu_s']:.1f} s CPU / {theirs['peak_rss_mb']:.0f} MB | {ratio:.2f} |"
    )


def table(results: list[dict[str, Any]]) -> str:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
        cwd=BENCH,
    ).stdout.strip()
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    lines = [
        f"machine: {os.cpu_count()} cores, {memory_gb:.0f} GiB, {platform.platform()}, "
        f"Python {platform.python_version()}; {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; "
        f"commit {commit}",
        "",
        "| step | wall | CPU | peak RSS | baseline (wall / CPU / peak RSS) "
        "| ratio (ours / baseline) |",
        "|---|---|---|---|---|---|",
    ]
    for result in results:
        n = result["cases"]
        wget_total = {
            "wall_s": result["wget"]["wall_s"] + result["wget_extract"]["wall_s"],
            "cpu_s": result["wget"]["cpu_s"] + result["wget_extract"]["cpu_s"],
            "peak_rss_mb": max(
                result["wget"]["peak_rss_mb"], result["wget_extract"]["peak_rss_mb"]
            ),
        }
        lines.append(
            row(
                f"fetch {n} ({result['fetch']['requests']} requests; median of "
                f"{len(result['fetch']['walls'])})",
                result["fetch"],
                wget_total,
                "wget + trafilatura",
            )
        )
        wget = result["wget"]
        lines.append(
            f"| wget alone {n} | {wget['wall_s']:.1f} s | {wget['cpu_s']:.1f} s | "
            f"{wget['peak_rss_mb']:.0f} MB | the replica keeps up: under 2 s for 2,000 pages | |"
        )
        lines.append(
            f"| rerun {n}, nothing new | {result['rerun']['wall_s']:.1f} s | "
            f"{result['rerun']['cpu_s']:.1f} s | {result['rerun']['peak_rss_mb']:.0f} MB | "
            f"{result['rerun']['requests']} requests, {result['rerun']['after_robots']} after "
            "robots.txt | |"
        )
        replay = result["replay"]
        lines.append(
            row(
                f"replay {n} (output identical: {replay['identical']}; median of "
                f"{len(replay['walls'])})",
                replay,
                result["naive_replay"],
                "warcio + trafilatura loop",
            )
        )
        lines.append(row(f"fetch --from-warc {n}", result["from_warc"], replay, "replay"))
        lines.append(
            f"| replay {n} throughput | {n / replay['wall_s']:.0f} cases/s | | | "
            f"loop {n / result['naive_replay']['wall_s']:.0f} cases/s | "
            f"{result['naive_replay']['wall_s'] / replay['wall_s']:.2f}× faster |"
        )
    for small, large in itertools.pairwise(results):
        for step in ("fetch", "replay"):
            growth = large[step]["peak_rss_mb"] / small[step]["peak_rss_mb"]
            lines.append(
                f"| {step} peak RSS {large['cases']} / {small['cases']} | {growth:.2f}× | | | | |"
            )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--out", type=Path, default=BENCH / "out")
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="runs of fetch and its baseline, taking turns, at sizes under 10,000 cases "
        "(the median is reported; larger sizes run once)",
    )
    options = parser.parse_args()
    if shutil.which("wget") is None:
        raise SystemExit("wget is needed for the baseline: apt-get install wget")
    results = []
    for cases in options.cases:
        repeats = options.repeat if cases < 10_000 else 1
        results.append(bench_size(cases, options.out, repeats))
        print(json.dumps(results[-1]), file=sys.stderr)
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
