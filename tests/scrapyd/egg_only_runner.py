"""Scrapyd's job runner with the checkout hidden: caseharvest comes from the deployed egg.

The test venv has caseharvest installed in editable mode, and Scrapyd appends an egg to
``sys.path`` behind it, so without this a job would run the checkout, not what was deployed.
A Scrapyd node has caseharvest's dependencies but not caseharvest (README, "Running on several
machines"); this runner makes the test node look like one. Scrapyd starts it as
``python -m egg_only_runner`` (its ``runner`` option), with this folder on ``PYTHONPATH``.
"""

from __future__ import annotations

import importlib.util
import os
import sys


def run() -> None:
    hidden = os.path.realpath(os.environ["CASEHARVEST_TEST_HIDDEN_SOURCE"])
    sys.path[:] = [entry for entry in sys.path if os.path.realpath(entry or ".") != hidden]
    if importlib.util.find_spec("caseharvest") is not None:
        sys.exit(f"egg_only_runner: caseharvest is importable without the egg ({sys.path})")

    from scrapyd.runner import main  # after the path is cleaned

    main()


# Guarded as Scrapyd's own runner is: the crawl's worker processes import the main module.
if __name__ == "__main__":
    run()
