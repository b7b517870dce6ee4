"""Call score on the scripted calls (issue 20 item 4's proof): the scores Parley gives them,
and whether each intended ordering holds.

Starts a Parley server on a fresh data directory, submits every call of
``tests/insights/callscore_calls.py`` through ``POST /v1/process/text`` with
``features.featureList = ["callScore"]``, reads ``GET …/callscore`` and prints a table
(call score and each managed criterion), then each ``ORDERING`` pair with OK or FAIL.
Exits 1 if an ordering fails.

    .venv/bin/python bench/callscore.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path[:0] = [
    str(Path(__file__).resolve().parents[1]),
    str(Path(__file__).resolve().parents[1] / "client"),
]

from tests.conftest import running_server  # noqa: E402
from tests.insights.callscore_calls import CALLS, ORDERING, messages  # noqa: E402

COLUMNS = ("Communication and Engagement", "Question Handling", "Forward Motion")


def scores() -> dict[str, dict[str, Any]]:
    """Each scripted call's call score, as the API answers it."""
    out = {}
    with (
        tempfile.TemporaryDirectory(prefix="parley-callscore-") as data,
        running_server(Path(data), workers=1) as api,
    ):
        jobs = {}
        for name in CALLS:
            body = {"messages": messages(name), "features": {"featureList": ["callScore"]}}
            response = api.request("POST", "/v1/process/text", json=body)
            response.raise_for_status()
            jobs[name] = response.json()
        for name, job in jobs.items():
            api.wait(job["jobId"])
            answer = api.get(f"/v1/conversations/{job['conversationId']}/callscore")
            answer.raise_for_status()
            out[name] = answer.json()
    return out


def _value(result: dict[str, Any], criterion: str | None) -> int:
    if criterion is None:
        return int(result["score"])
    return int(next(c["score"] for c in result["criteria"] if c["name"] == criterion))


def main() -> int:
    results = scores()
    header = f"{'call':<20} {'words':>5} {'score':>5}  " + "  ".join(
        f"{c.split()[0]:>13}" for c in COLUMNS
    )
    print(header)
    print("-" * len(header))
    for name, result in results.items():
        cells = "  ".join(f"{_value(result, c):>13}" for c in COLUMNS)
        print(f"{name:<20} {result['wordCount']:>5} {result['score']:>5}  {cells}")
    print()
    failed = 0
    for better, worse, criterion in ORDERING:
        a, b = _value(results[better], criterion), _value(results[worse], criterion)
        ok = a > b
        failed += not ok
        what = criterion or "call score"
        print(f"{'OK  ' if ok else 'FAIL'} {better} ({a}) > {worse} ({b}) on {what}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
