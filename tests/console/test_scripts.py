"""The console's scripts parse as the browser loads them (ES modules), checked without a
browser: a merge once left ``app.js`` one brace short, and the page showed nothing."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO

SCRIPTS = sorted((REPO / "parley" / "console").glob("*.js"))


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_the_script_parses_as_a_module(script: Path, tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the console's scripts were not parsed")
    module = tmp_path / f"{script.stem}.mjs"  # .mjs: parsed as a module, as index.html loads it
    shutil.copyfile(script, module)
    checked = subprocess.run(
        [node, "--check", str(module)], capture_output=True, text=True, timeout=60, check=False
    )
    assert checked.returncode == 0, checked.stderr
