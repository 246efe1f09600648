"""The isolated environment of the replay tools: pywb's ``wayback`` and ``wacz``.

pywb cannot share caseharvest's environment: it pins ``brotlipy``, whose ``brotli`` module
shadows the Brotli package Scrapy decodes ``br`` responses with. So it lives in a venv of its
own (``$CASEHARVEST_TOOLS_VENV``, else ``~/.cache/caseharvest/tools-venv``), created with
plain ``python -m venv`` and ``pip install`` on first use, and runs as a subprocess.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

logger = logging.getLogger(__name__)

VENV_ENV = "CASEHARVEST_TOOLS_VENV"
# Pinned: the collection config and the tests are written against these versions.
REQUIREMENTS = ("pywb==2.10.0", "wacz==0.6.0")
# Written last by a setup that finished; a venv without it is half-built and is rebuilt.
READY_MARKER = "caseharvest-tools.json"

Report = Callable[[str], None]


class ToolsSetupError(RuntimeError):
    """The tools venv could not be created; the message says what failed and what to do."""


def default_venv() -> Path:
    """``$CASEHARVEST_TOOLS_VENV``, else ``$XDG_CACHE_HOME/caseharvest/tools-venv``."""
    explicit = os.environ.get(VENV_ENV)
    if explicit:
        return Path(explicit).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "caseharvest" / "tools-venv"


def venv_is_ready(venv: Path) -> bool:
    """True when *venv* holds a finished setup of exactly :data:`REQUIREMENTS`."""
    try:
        recorded = json.loads((venv / READY_MARKER).read_text("utf-8"))
    except (FileNotFoundError, ValueError):
        return False
    return bool(recorded.get("requirements") == list(REQUIREMENTS))


def _from_explicit(path: Path, name: str) -> Path | None:
    """*path* itself when it is the tool, or the tool inside the venv folder *path*."""
    if path.is_dir():
        candidate = path / "bin" / name
        return candidate if candidate.is_file() else None
    return path if path.is_file() else None


def find_tool(name: str, explicit: Path | None = None, venv: Path | None = None) -> Path | None:
    """Where the command *name* is: *explicit* (the command or a venv), PATH, the tools venv."""
    if explicit is not None:
        return _from_explicit(explicit, name)
    on_path = shutil.which(name)
    if on_path:
        return Path(on_path)
    venv = venv or default_venv()
    candidate = venv / "bin" / name
    return candidate if venv_is_ready(venv) and candidate.is_file() else None


@contextmanager
def _setup_lock(venv: Path) -> Iterator[None]:
    """One setup at a time (two test processes, or two shells, may ask at once)."""
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.with_name(venv.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _run(command: list[str], what: str) -> None:
    # pip's own messages go to the user's terminal: a setup that needs the network says why
    # it fails better than we could.
    result = subprocess.run(command, stdin=subprocess.DEVNULL, check=False)
    if result.returncode != 0:
        raise ToolsSetupError(
            f"{what} failed (exit {result.returncode}): {' '.join(command)}; fix the cause "
            "above, or install pywb yourself and pass `--pywb PATH`"
        )


def ensure_tools_venv(venv: Path | None = None, report: Report | None = None) -> Path:
    """Create the tools venv with :data:`REQUIREMENTS` unless it is ready; returns its path."""
    venv = venv or default_venv()
    if venv_is_ready(venv):
        return venv
    say = report or (lambda message: logger.info("%s", message))
    with _setup_lock(venv):
        if venv_is_ready(venv):  # another process finished it while we waited
            return venv
        if venv.exists():
            if not (venv / "pyvenv.cfg").exists():
                raise ToolsSetupError(
                    f"{venv} exists and is not a virtual environment; remove it or set "
                    f"{VENV_ENV} to another folder"
                )
            say(f"removing the unfinished tools venv {venv}")
            shutil.rmtree(venv)
        say(
            f"setting up pywb and wacz in their own venv {venv} "
            f"({', '.join(REQUIREMENTS)}; once, from the package index)"
        )
        _run([sys.executable, "-m", "venv", str(venv)], "creating the venv")
        _run(
            [
                str(venv / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                *REQUIREMENTS,
            ],
            "installing pywb",
        )
        (venv / READY_MARKER).write_text(
            json.dumps({"requirements": list(REQUIREMENTS)}) + "\n", "utf-8"
        )
        say(f"pywb is ready in {venv}")
    return venv


def resolve_tool(name: str, explicit: Path | None = None, report: Report | None = None) -> Path:
    """The command *name*: found (see :func:`find_tool`), else installed in the tools venv."""
    found = find_tool(name, explicit)
    if found is not None:
        return found
    if explicit is not None:
        raise ToolsSetupError(f"no `{name}` at {explicit} (give the command or its venv folder)")
    venv = ensure_tools_venv(report=report)
    return venv / "bin" / name


def main() -> None:
    """``python -m caseharvest.commands.serve.tools_venv``: prepare the tools venv (make tools)."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        venv = ensure_tools_venv()
    except ToolsSetupError as exc:
        logger.error("%s", exc)
        sys.exit(1)
    logger.info("tools venv ready: %s", venv)


if __name__ == "__main__":
    main()
