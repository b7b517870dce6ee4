"""``pip install ./client`` works for a user: a wheel, a bare venv, a real server.

Slow (it installs httpx and pydantic from PyPI into a new venv): the wheel is built from a
copy of ``client/`` (so no build output lands in the repository), installed into a venv
without system site packages, and a script run there talks to a real Parley server. Once
with the newest httpx and pydantic, once with the oldest that ``client/pyproject.toml``
allows, so its lower bounds are tested, not hoped for.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from tests.conftest import APP_ID, APP_SECRET, REPO, Api

SCRIPT = """
import importlib.util, json, sys
import parley_client
from parley_client import Parley

server, app_id, app_secret = sys.argv[1:4]
with Parley(server, app_id=app_id, app_secret=app_secret) as parley:
    job = parley.submit_text(
        [{"payload": {"content": "John will send the report by Friday."},
          "from": {"name": "Omar"}}],
        name="From the wheel",
    )
    done = parley.wait(job, interval=0.2, timeout=120)
    messages = parley.messages(done.conversation_id)
    items = parley.action_items(done.conversation_id)
print(json.dumps({
    "module": parley_client.__file__,
    "status": done.status,
    "texts": [m.text for m in messages],
    "speakers": [m.speaker.name if m.speaker else None for m in messages],
    "assignees": [i.assignee.name if i.assignee else None for i in items],
    "absent": [name for name in ("parley", "faster_whisper", "spacy", "numpy", "fastapi")
               if importlib.util.find_spec(name) is None],
}))
"""


def _run(*command: str | Path, cwd: Path, timeout: float = 300) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run(
        [str(c) for c in command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, f"{command}: {done.stdout}\n{done.stderr}"
    return done.stdout


def _floors() -> list[str]:
    """``name==X`` for each ``name>=X`` the client's pyproject declares."""
    project = tomllib.loads((REPO / "client" / "pyproject.toml").read_text())["project"]
    requirements = [Requirement(d) for d in project["dependencies"]]
    return [
        f"{r.name}=={s.version}" for r in requirements for s in r.specifier if s.operator == ">="
    ]


@pytest.mark.slow
@pytest.mark.parametrize("oldest", [False, True], ids=["newest", "oldest"])
def test_the_wheel_installs_alone_and_talks_to_a_server(
    api: Api, tmp_path: Path, oldest: bool
) -> None:
    source = tmp_path / "client"
    shutil.copytree(
        REPO / "client", source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__")
    )
    wheels = tmp_path / "wheels"
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", wheels, source, cwd=tmp_path)
    [wheel] = wheels.glob("parley_client-0.1.0-*.whl")

    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", venv, cwd=tmp_path)  # no system site packages
    python = venv / "bin" / "python"
    floors = _floors() if oldest else []
    assert len(floors) == (2 if oldest else 0)  # httpx and pydantic both have a lower bound
    _run(python, "-m", "pip", "install", "--quiet", wheel, *floors, cwd=tmp_path)
    listed = json.loads(_run(python, "-m", "pip", "list", "--format=json", cwd=tmp_path))
    installed = {p["name"].lower(): p["version"] for p in listed}
    assert {"parley-client", "httpx", "pydantic"} <= installed.keys()
    assert not installed.keys() & {"parley", "faster-whisper", "spacy", "numpy", "fastapi"}
    for pin in floors:
        name, version = pin.split("==")
        assert Version(installed[name]) == Version(version)

    out = _run(python, "-I", "-c", SCRIPT, api.base_url, APP_ID, APP_SECRET, cwd=tmp_path)
    result = json.loads(out)
    assert result["module"].startswith(str(venv))  # the wheel's copy, not the source tree
    assert result["status"] == "completed"
    assert result["texts"] == ["John will send the report by Friday."]
    assert result["speakers"] == ["Omar"] and result["assignees"] == ["John"]
    assert result["absent"] == ["parley", "faster_whisper", "spacy", "numpy", "fastapi"]
