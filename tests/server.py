"""``parley serve`` in its own process, as an operator starts it (CLI, env, log setup)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import APP_ID, APP_SECRET, data_dir, wait_for_token
from tests.helpers import free_port


@dataclass
class Served:
    base: str
    token: str
    log: Path
    data: Path


@contextmanager
def parley_serve(tmp_path: Path, **env: str) -> Iterator[Served]:
    (tmp_path / "data").mkdir()
    data = data_dir(tmp_path / "data")
    port = free_port()
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("PARLEY_", "PROMETHEUS_"))
    } | {
        # the suite's loopback receivers (tests/conftest.py allows them for in-process servers)
        "PARLEY_OUTBOUND_ALLOW": os.environ.get("PARLEY_OUTBOUND_ALLOW", "127.0.0.0/8,::1"),
        "PARLEY_DATA_DIR": str(data),
        "PARLEY_APP_ID": APP_ID,
        "PARLEY_APP_SECRET": APP_SECRET,
        "PARLEY_PORT": str(port),
        # models load at their first use: most of these servers never hear audio
        "PARLEY_WARM_MODELS": "false",
        **env,
    }
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "parley", "serve"],
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        try:
            token = wait_for_token(base, timeout=120)
        except Exception as exc:
            raise AssertionError(log.read_text()[-3000:]) from exc
        yield Served(base, token, log, data)
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
