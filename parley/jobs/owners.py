"""Who holds a running job, and whether that holder is still alive.

A worker id is ``host:pid:nonce``. On the same host a dead pid proves the holder is gone,
so a restarted server takes its crashed worker's job back at once; a holder on another
host is judged by its heartbeat alone (``job_stale_seconds``).
"""

from __future__ import annotations

import os
import secrets
import socket

__all__ = ["is_dead", "new_worker_id", "worker_id_for"]


def worker_id_for(pid: int, name: str) -> str:
    """The id of the worker process ``pid`` on this host."""
    return f"{socket.gethostname()}:{pid}:{name}"


def new_worker_id(name: str = "worker") -> str:
    """A fresh id for this process (a Celery worker, the CLI)."""
    return worker_id_for(os.getpid(), f"{name}-{secrets.token_hex(3)}")


def is_dead(worker_id: str | None) -> bool:
    """True only when the holder surely is gone: no holder, or a dead pid on this host."""
    if not worker_id:
        return True
    host, _, rest = worker_id.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    """A child that died but was not yet reaped still answers ``kill(pid, 0)``."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] == "Z"
    except OSError:
        return False
