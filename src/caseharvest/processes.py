"""Pools of worker processes that end with the process that started them."""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver
import os
import select
import threading
import time
from concurrent.futures import ProcessPoolExecutor

_WATCH_SECONDS = 1.0


def start_fork_server(preload: tuple[str, ...]) -> None:
    """Start this process's fork server now, with *preload* imported in it once for all.

    It returns at once: the server imports on another core while this process goes on, and
    the first pool to need a worker finds it ready instead of waiting a second for it. The
    server is one per process; modules not in its preload are imported by each worker.
    """
    multiprocessing.set_forkserver_preload(list(preload))
    multiprocessing.forkserver.ensure_running()


def worker_pool(workers: int, *, preload: tuple[str, ...] = ()) -> ProcessPoolExecutor:
    """*workers* processes started by a fork server, with *preload* imported once for all.

    A fork server's workers start clean, never as forks of a process running a reactor and
    its threads. Each ends when the process that made the pool does (see
    :func:`end_with_process`). *preload* counts if the fork server is not running yet
    (:func:`start_fork_server`).
    """
    if preload:
        start_fork_server(preload)
    context = multiprocessing.get_context("forkserver")
    return ProcessPoolExecutor(
        workers, mp_context=context, initializer=end_with_process, initargs=(os.getpid(),)
    )


def end_with_process(pid: int) -> None:
    """Pool initializer: this worker exits as soon as process *pid* (its pool's owner) ends.

    A crawl killed with SIGKILL must not leave workers waiting forever on a queue they hold
    both ends of, nor its fork server, which they keep alive (and with it the caller's
    pipes). The parent-death signal cannot help: a fork server's workers are not children
    of the pool's owner.
    """
    threading.Thread(target=_exit_after, args=(pid,), daemon=True, name="end-with").start()


def _exit_after(pid: int) -> None:
    try:
        descriptor = os.pidfd_open(pid)
    except (AttributeError, OSError):  # not Linux 5.3+, or *pid* has ended already
        while _alive(pid):
            time.sleep(_WATCH_SECONDS)
    else:
        select.select([descriptor], [], [])  # readable once the process has ended
    os._exit(1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
