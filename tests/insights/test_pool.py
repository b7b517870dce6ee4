"""The API's insight work runs in its insight process, not on the API's GIL (issue 23).

A summary refresh, a tracker refresh and the recompute after a rename ran spaCy in the API
process's thread pool; ``/health`` waited up to 187 ms behind it at 0.1 MB. The server here
has no job workers (``workers=0``): conversations are written to its database directly.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from parley.insights.pool import CHUNK
from tests.conftest import Api, running_server
from tests.helpers import stored_conversation
from tests.waiting import until


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    with running_server(tmp_path_factory.mktemp("pool"), workers=0) as api:
        yield api


#: Distinct sentences, so no repeat is computed once: seconds of spaCy and encoder work.
LONG = [f"Dana will send the budget review number {i} to Bob by Friday." for i in range(1_000)]


def _in_thread(call: Any) -> tuple[threading.Thread, dict[str, httpx.Response]]:
    out: dict[str, httpx.Response] = {}
    thread = threading.Thread(target=lambda: out.update(response=call()), daemon=True)
    thread.start()
    return thread, out


def test_summary_refresh_and_rename_compute_in_another_process(server: Api) -> None:
    pool = server.services.insight.pool
    assert pool is not None
    cid = stored_conversation(server, ["Dana, please send the budget review to Bob by Friday."])
    pool.last_pid = None
    response = server.get(f"/v1/conversations/{cid}/summary", params={"refresh": "true"})
    assert response.status_code == 200, response.text
    assert pool.last_pid is not None and pool.last_pid != os.getpid()
    pool.last_pid = None
    member = {"id": f"m-{cid}", "name": "Dana Smith", "email": "dana@example.com"}
    renamed = server.request("PUT", f"/v1/conversations/{cid}/members/m-{cid}", json=member)
    assert renamed.status_code == 200, renamed.text
    assert pool.last_pid is not None and pool.last_pid != os.getpid()


def test_health_answers_during_a_long_refresh(server: Api) -> None:
    pool = server.services.insight.pool
    cid = stored_conversation(server, LONG)
    pool.redaction(["warm up"])  # the child's start and model load are not the refresh
    thread, out = _in_thread(
        lambda: server.request("POST", f"/v1/conversations/{cid}/refresh", timeout=300)
    )
    times: list[float] = []
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        while thread.is_alive() or len(times) < 5:
            started = time.perf_counter()
            assert client.get("/health").status_code == 200
            times.append(time.perf_counter() - started)
            thread.join(0.02)  # probe every 20 ms until the refresh has ended
    thread.join()
    assert out["response"].status_code == 200, out["response"].text
    assert pool.last_pid != os.getpid()
    assert len(times) > 20  # the refresh took a while: /health was asked throughout
    assert sorted(times)[len(times) // 2] < 0.25 and max(times) < 0.9, times


def test_a_killed_insight_process_fails_the_refresh_clearly_and_is_replaced(
    server: Api,
) -> None:
    pool = server.services.insight.pool
    pool.close()  # a fresh child, so the kill lands during this refresh (its model load)
    cid = stored_conversation(server, LONG[:100])
    url = f"/v1/conversations/{cid}/summary"
    thread, out = _in_thread(lambda: server.get(url, params={"refresh": "true"}, timeout=300))
    killed = until(pool.pids, timeout=60, what="the insight process never started")[0]
    os.kill(killed, signal.SIGKILL)
    thread.join(60)
    assert not thread.is_alive(), "the request hangs on a dead process"
    failed = out["response"]
    assert failed.status_code == 503, failed.text
    assert "insight process stopped" in failed.json()["message"]
    again = server.get(url, params={"refresh": "true"}, timeout=300)
    assert again.status_code == 200, again.text
    assert again.json()["summary"]
    assert pool.last_pid not in (None, killed, os.getpid())


def test_the_insight_process_is_stopped_with_the_services(tmp_path: Path) -> None:
    with running_server(tmp_path, workers=0) as api:
        pool = api.services.insight.pool
        pool.redaction(["Call John Smith."])
        pids = pool.pids()
        assert pids
    until(lambda: not _alive(pids[0]), timeout=30, what="the insight process outlived the server")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a killed child stays a zombie until reaped; it no longer runs
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_the_insight_process_computes_what_the_thread_would(server: Api) -> None:
    """Messages and results cross in pickled chunks (see ``pool``): nothing is lost."""
    from parley.insights import InsightOptions, Message, TrackerSpec, compute_insights

    # more than one pickle each way, the last one part full (the results per message too)
    long = LONG[: CHUNK + 50]
    messages = [Message(str(i), text, i, i + 1.0, None) for i, text in enumerate(long)]
    messages.append(Message("x", "Call John Smith at 415-555-0132 tomorrow.", 9e3, 9e3, None))
    tracker = TrackerSpec(id="1", name="Budget", vocabulary=("budget",))
    options = InsightOptions(detect_entities=True, enable_summary=True, trackers=(tracker,))
    assert server.services.insight.pool.compute(messages, options) == compute_insights(
        messages, options
    )


def test_the_insight_process_detects_custom_entities_as_the_thread_would(server: Api) -> None:
    """The re-detection after an app's entity list changed runs there too."""
    from datetime import UTC, datetime

    from parley.insights import EntitySpec, Message
    from parley.insights.custom_entities import detect

    messages = [Message(str(i), text, i, i + 1.0, None) for i, text in enumerate(LONG)]
    specs = [
        EntitySpec("1", "Person", "Colleague", ("Bob", "Dana")),
        EntitySpec("2", "D", "W", ("Friday",)),
    ]
    start = datetime(2024, 3, 11, tzinfo=UTC)
    found = server.services.insight.pool.custom_entities(messages, specs, start)
    assert found == detect(messages, specs, start)
    assert [len(item["messageRefs"]) for item in found] == [2 * len(LONG), len(LONG)]


def test_bookmark_summaries_compute_in_the_insight_process_as_the_thread_would(
    server: Api,
) -> None:
    """A bookmark's summary (``summarize_windows``) runs there, and crosses intact."""
    from parley.insights import InsightOptions, Message, summarize_windows

    pool = server.services.insight.pool
    messages = [Message(str(i), text, i, i + 1.0, None) for i, text in enumerate(LONG)]
    topic = {"id": "t", "text": "budget", "score": 0.9, "messageIds": ["12"]}
    windows = [(messages[:10], [], []), (messages[10 : CHUNK + 50], [topic], []), ([], [], [])]
    options = InsightOptions(enable_summary=True)
    found = pool.summaries(windows, options)
    assert found == summarize_windows(windows, options)
    assert found[0] and found[1] and found[2] == []

    cid = stored_conversation(server, LONG[:3])
    ids = [m["id"] for m in server.get(f"/v1/conversations/{cid}/messages").json()["messages"]]
    made = server.request(
        "POST",
        f"/v1/conversations/{cid}/bookmarks",
        json={"label": "l", "description": "d", "user": {}, "messageRefs": [{"id": ids[1]}]},
    )
    assert made.status_code == 200, made.text
    pool.last_pid = None
    response = server.get(f"/v1/conversations/{cid}/bookmarks/{made.json()['id']}/summary")
    assert response.status_code == 200, response.text
    assert [r["id"] for item in response.json()["summary"] for r in item["messageRefs"]] == ids[1:2]
    assert pool.last_pid is not None and pool.last_pid != os.getpid()
