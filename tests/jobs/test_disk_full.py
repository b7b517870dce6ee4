"""A full disk is an outage to ride out, not a reason to lose jobs or workers.

The data dir sits on a small tmpfs that is filled while a job runs: uploads get a clear
507, the job waits for room (whether the disk filled while it decoded the audio or while it
stored its result) instead of failing or killing its worker, and once the disk has room
again the job completes and the next job runs.
"""

from __future__ import annotations

import errno
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import running_server

pytestmark = pytest.mark.slow

CLIP = "phone_8k/asterisk_allison/conf-adminmenu-18.wav"


@pytest.fixture()
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _top_up(filler: Path) -> int:
    """Append to `filler` until the disk refuses; return the bytes it took."""
    block = b"\0" * (1 << 20)
    before = filler.stat().st_size if filler.exists() else 0
    with filler.open("ab") as out:
        try:
            while True:
                out.write(block)
                out.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler.stat().st_size - before


def _fill(path: Path) -> Path:
    """Fill the disk and keep it full until nothing else frees room on it.

    A job that meets the full disk deletes its partial scratch file, which frees what it
    had written: filling once would leave that room for the next upload. So top up until
    a second's wait frees nothing more.
    """
    filler = path / "filler"
    _top_up(filler)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        time.sleep(1.0)
        if _top_up(filler) == 0:
            break
    return filler


@pytest.mark.parametrize("fill", ["before_the_job_starts", "while_it_runs"])
def test_full_disk_mid_job(small_disk: Path, testdata: Path, fill: str) -> None:
    with running_server(small_disk, workers=1) as api:
        audio = (testdata / CLIP).read_bytes()
        api.token()
        submitted = api.submit_file(testdata / CLIP)
        if fill == "while_it_runs":
            deadline = time.monotonic() + 120
            while api.get(f"/v1/job/{submitted['jobId']}").json()["status"] == "scheduled":
                assert time.monotonic() < deadline
                time.sleep(0.05)
        # Else the worker is still loading its models, and cannot claim the job (a write)
        # until the disk has room. While it runs, the job meets the full disk as it decodes
        # the audio to its scratch file or as it stores its result, whichever comes first.
        filler = _fill(small_disk)

        refused = api.request("POST", "/v1/process/audio", content=audio)
        assert refused.status_code == 507, refused.text
        assert "no storage space" in refused.json()["message"]
        assert api.client.get("/health").status_code == 200

        # Far longer than the clip takes. The job waits for room to decode or to store its
        # result or, when SQLite could reuse pages its WAL already holds, has stored it:
        # never failed.
        time.sleep(25)
        status = api.get(f"/v1/job/{submitted['jobId']}").json()["status"]
        assert status in ("scheduled", "in_progress", "completed"), status

        filler.unlink()
        assert api.wait(submitted["jobId"], timeout=120)["status"] == "completed"
        cid = submitted["conversationId"]
        assert api.get(f"/v1/conversations/{cid}/messages").json()["messages"]

        again = api.submit_file(testdata / CLIP)
        assert api.wait(again["jobId"], timeout=120)["status"] == "completed"
        assert api.services.queue.status()["restarts"] == 0, "no worker died"
    shutil.rmtree(small_disk / "audio", ignore_errors=True)
