"""``python -m caseharvest.replica``: serve the replica until Ctrl-C and print its proxy URL."""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from pathlib import Path

from caseharvest.replica.cases import FAULTS, ReplicaConfig
from caseharvest.replica.registry import SITES, build_site
from caseharvest.replica.server import ReplicaServer


def _parser() -> argparse.ArgumentParser:
    defaults = ReplicaConfig()
    parser = argparse.ArgumentParser(
        prog="python -m caseharvest.replica",
        description="Serve an offline replica of commerce.shandong.gov.cn (column 21482), or "
        "with --site of another CMS family. Use it as an HTTP proxy: http_proxy=<printed URL>; "
        "with --site the column URL is printed on a second line.",
    )
    parser.add_argument(
        "--site",
        "--family",
        dest="site",
        choices=sorted(SITES),
        default=None,
        help="serve this replica site instead of Shandong (the Shandong-only options "
        "--per-page, --group-size, --grow-by, --fault, --post-refused do not apply)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default %(default)s)")
    parser.add_argument("--port", type=int, default=8080, help="port, 0 = any free one")
    parser.add_argument(
        "--cases", type=int, default=None, help=f"cases in the column (Shandong: {defaults.cases})"
    )
    parser.add_argument("--per-page", type=int, default=defaults.per_page, help="jpage perPage")
    parser.add_argument(
        "--group-size", type=int, default=defaults.group_size, help="jpage groupSize"
    )
    parser.add_argument(
        "--grow-by",
        type=int,
        default=0,
        help="cases published when the first dataproxy request comes",
    )
    parser.add_argument("--fault", choices=FAULTS, default=None, help="serve a failure mode")
    parser.add_argument(
        "--post-refused", action="store_true", help="answer dataproxy POSTs with 405"
    )
    parser.add_argument("--seed", type=int, default=None, help="content RNG seed")
    parser.add_argument(
        "--log", type=Path, default=None, help="append every exchange to this JSONL file"
    )
    return parser


def main(argv: list[str] | None = None, *, stop: threading.Event | None = None) -> int:
    """Run the replica until Ctrl-C (or until ``stop`` is set, for tests)."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    defaults = ReplicaConfig()
    try:
        config = ReplicaConfig(
            cases=defaults.cases if args.cases is None else args.cases,
            per_page=args.per_page,
            group_size=args.group_size,
            grow_by=args.grow_by,
            fault=args.fault,
            post_refused=args.post_refused,
            seed=defaults.seed if args.seed is None else args.seed,
        )
        sites = None
        if args.site is not None:
            sites = [build_site(args.site, cases=args.cases, seed=args.seed)]
    except ValueError as error:
        sys.stderr.write(f"error: {error}\n")
        return 2
    server = ReplicaServer(config, sites=sites, log_path=args.log, host=args.host, port=args.port)
    try:
        server.start()
    except OSError as error:
        sys.stderr.write(
            f"error: cannot listen on {args.host}:{args.port}: {error}; try --port 0\n"
        )
        return 1
    sys.stdout.write(f"{server.proxy_url}\n")
    if args.site is not None:
        sys.stdout.write(f"{server.site.column_url}\n")
    if server.ca_cert_path is not None:
        logging.info("https sites: CA certificate in %s", server.ca_cert_path)
    sys.stdout.flush()
    waiter = stop if stop is not None else threading.Event()
    try:
        while not waiter.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
