"""The client is light: ``parley_client`` runs without the server or any of its models.

A script that talks to a Parley server installs ``parley-client`` alone (httpx, pydantic).
Here a fresh interpreter refuses to import the server and its heavy dependencies and still
imports the client, builds requests, talks to a real server and reads the wire models.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib

from packaging.requirements import Requirement

from tests.conftest import APP_ID, APP_SECRET, REPO, Api

CLIENT = REPO / "client"
#: What a client process must never load: the server and what only the server needs.
HEAVY = (
    "parley",
    "faster_whisper",
    "ctranslate2",
    "spacy",
    "onnxruntime",
    "av",
    "numpy",
    "sqlalchemy",
    "fastapi",
    "celery",
)

SCRIPT = """
import importlib.abc, sys

HEAVY = set(sys.argv[3].split(","))

class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in HEAVY:
            raise ImportError(f"refused: {name}")
        return None

sys.meta_path.insert(0, Refuse())
sys.path.insert(0, sys.argv[1])  # the source tree, whatever is installed
try:
    import parley
except ImportError:
    pass
else:
    raise SystemExit("the finder let the server through")

import parley_client
from parley_client import ActionItem, Parley, Unreachable, wire

assert parley_client.__file__.startswith(sys.argv[1]), parley_client.__file__
body = wire.TextJob.model_validate({"messages": [{"payload": {"content": "Hi."}}], "name": "x"})
assert body.model_dump(by_alias=True, exclude_unset=True)["name"] == "x"
item = ActionItem.model_validate({
    "id": "1", "text": "Ann will call.", "type": "action_item", "score": 1,
    "messageIds": ["m"], "entities": [], "phrases": [], "definitive": True,
    "from": {"id": "p", "name": "Bob", "userId": None}, "assignee": {"name": "Ann"},
    "dueBy": "2024-03-08T00:00:00.000Z",
})
assert item.assignee.name == "Ann" and item.due_by.year == 2024 and item.speaker.name == "Bob"

server, app_id, app_secret = sys.argv[2], sys.argv[4], sys.argv[5]
with Parley(server, app_id=app_id, app_secret=app_secret) as client:
    token = client.token()
    jobs = client.jobs(limit=1)
assert token and isinstance(jobs, list)
try:
    with Parley("http://127.0.0.1:9", token="t") as nowhere:
        nowhere.jobs()
except Unreachable:
    pass
else:
    raise SystemExit("no Unreachable")
loaded = sorted(m for m in sys.modules if m.partition(".")[0] in HEAVY)
assert not loaded, loaded
print("light")
"""


def test_the_client_runs_without_the_server_or_its_models(api: Api) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-I",  # no PYTHONPATH, no current directory: the repo's parley is not on the path
            "-c",
            SCRIPT,
            str(CLIENT),
            api.base_url,
            ",".join(HEAVY),
            APP_ID,
            APP_SECRET,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=CLIENT,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "light"


def test_the_distribution_depends_on_httpx_and_pydantic_only() -> None:
    project = tomllib.loads((CLIENT / "pyproject.toml").read_text())["project"]
    assert project["name"] == "parley-client"
    assert sorted(Requirement(d).name for d in project["dependencies"]) == ["httpx", "pydantic"]


def test_the_server_depends_on_this_version_of_the_client() -> None:
    client = tomllib.loads((CLIENT / "pyproject.toml").read_text())["project"]
    server = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    [pin] = [Requirement(d) for d in server["dependencies"] if d.startswith("parley-client")]
    assert pin.specifier.contains(client["version"])


def test_no_client_module_imports_beyond_its_dependencies() -> None:
    """Read from the source, lazy imports included: a stray ``import parley`` fails here
    even where no test happens to run that line."""
    allowed = set(sys.stdlib_module_names) | {"httpx", "pydantic", "parley_client"}
    for path in sorted((CLIENT / "parley_client").rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            outside = {n.partition(".")[0] for n in names} - allowed
            assert not outside, f"{path.relative_to(REPO)} imports {sorted(outside)}"
