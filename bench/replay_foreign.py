"""Replay of another tool's files against replay of caseharvest's own files of the same cases.

    .venv/bin/python bench/replay_foreign.py [--cases 2000] [--repeat 2] [--out bench/out-foreign]

Starts the bundled replica with N cases, crawls it twice — `caseharvest fetch` (its own WARC
files) and `wget --warc-file` over the column page and every case URL (a WARC/1.0 file with
chunked, gzip-compressed bodies as sent, and no name caseharvest knows) — then times
`caseharvest replay` of each into a new archive (best of --repeat runs; wall time, CPU, peak
RSS from bench/measure.py) and checks that both rebuilt the same case texts. Target: the
foreign replay within 1.2x of the own-files replay.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from caseharvest.replica import COLUMN_URL, ReplicaConfig, ReplicaServer

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from run import CASEHARVEST, FAST, measure, proxied_env  # noqa: E402

TARGET = 1.2


def texts(archive: Path) -> dict[str, str]:
    """Case URL → latest text, as `export` gives them."""
    output = subprocess.run(
        [*CASEHARVEST, "export", "--archive", str(archive)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = [json.loads(line) for line in output.splitlines()]
    return {row["url"]: row["text"] for row in rows}


def best_replay(source: Path, work: Path, label: str, repeat: int) -> dict[str, Any]:
    """The fastest of *repeat* replays of *source* into new archives."""
    runs = []
    for number in range(repeat):
        target = work / f"replay-{label}-{number}"
        shutil.rmtree(target, ignore_errors=True)
        runs.append(
            measure([*CASEHARVEST, "replay", str(source), "--archive", str(target), "--quiet"])
        )
    best = min(runs, key=lambda figures: figures["wall_s"])
    best["archive"] = str(work / f"replay-{label}-{runs.index(best)}")
    return best


def bench(cases: int, out: Path, repeat: int) -> dict[str, Any]:
    work = out / str(cases)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    with ReplicaServer(ReplicaConfig(cases=cases)) as replica:
        env = proxied_env(replica)
        own = work / "fetched"
        measure([*CASEHARVEST, "fetch", "--archive", str(own), "--quiet", *FAST], env)
        urls = [COLUMN_URL, *(case.url for case in replica.site.listed())]
        (work / "urls.txt").write_text("\n".join(urls) + "\n", "utf-8")
        measure(
            [
                "wget",
                "--quiet",
                "--tries=3",
                "--delete-after",
                "-P",
                str(work / "wget-files"),
                "-e",
                "robots=off",
                "--compression=none",
                "--header=Accept-Encoding: gzip",
                f"--warc-file={work / 'mirror'}",
                "-i",
                str(work / "urls.txt"),
            ],
            env,
            ok=(0, 8),  # 8: the replica's dead links answer 404
        )
    foreign_file = work / "mirror.warc.gz"
    own_replay = best_replay(own / "warc", work, "own", repeat)
    foreign_replay = best_replay(foreign_file, work, "foreign", repeat)
    own_texts = texts(Path(own_replay["archive"]))
    foreign_texts = texts(Path(foreign_replay["archive"]))
    same = {url: text for url, text in foreign_texts.items() if own_texts.get(url) == text}
    return {
        "cases": cases,
        "own": own_replay,
        "own_bytes": sum(p.stat().st_size for p in (own / "warc").rglob("*.warc.gz")),
        "foreign": foreign_replay,
        "foreign_bytes": foreign_file.stat().st_size,
        "ratio": foreign_replay["wall_s"] / own_replay["wall_s"],
        "cases_rebuilt": {"own": len(own_texts), "foreign": len(foreign_texts)},
        "same_text": len(same),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--out", type=Path, default=BENCH / "out-foreign")
    args = parser.parse_args()
    if shutil.which("wget") is None:
        raise SystemExit("wget is needed (Debian package wget)")
    result = bench(args.cases, args.out, args.repeat)
    print(json.dumps(result, indent=2))
    verdict = "met" if result["ratio"] <= TARGET else "MISSED"
    print(
        f"replay of {args.cases} cases: own files {result['own']['wall_s']:.2f} s, "
        f"wget WARC {result['foreign']['wall_s']:.2f} s: ratio {result['ratio']:.2f} "
        f"(target {TARGET}: {verdict}); same text for {result['same_text']} of "
        f"{result['cases_rebuilt']['own']} cases"
    )
    return 0 if result["ratio"] <= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
