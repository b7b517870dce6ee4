"""The worker's reading of an outage (which errors are a full disk to wait out), and what
it loads when it starts."""

from __future__ import annotations

import errno
from pathlib import Path

from parley.jobs.worker import _disk_full
from tests.conftest import data_dir


def _raised_while_handling(first: OSError, second: OSError) -> OSError:
    try:
        try:
            raise first
        finally:
            raise second
    except OSError as exc:
        return exc


def test_a_full_disk_is_told_apart_from_other_errors() -> None:
    assert _disk_full(OSError(errno.ENOSPC, "No space left on device"))
    assert _disk_full(OSError(errno.EDQUOT, "Disk quota exceeded"))
    assert not _disk_full(OSError(errno.EACCES, "Permission denied"))
    assert not _disk_full(ValueError("not an OS error"))


def test_a_full_disk_behind_a_later_error_counts() -> None:
    """As in decode: the write fails (ENOSPC) and closing the file fails again."""
    chained = _raised_while_handling(
        OSError(errno.ENOSPC, "No space left on device"), OSError(errno.EBADF, "closing")
    )
    assert _disk_full(chained)
    unrelated = _raised_while_handling(OSError(errno.EIO, "I/O"), OSError(errno.EBADF, "x"))
    assert not _disk_full(unrelated)


def test_a_worker_without_warm_models_loads_nothing_until_a_job_needs_it(tmp_path: Path) -> None:
    """``warm_models=false``: a worker that only ever sees text never loads Whisper."""
    from parley.config import Settings
    from parley.services import build_worker_runner

    settings = Settings(data_dir=data_dir(tmp_path), warm_models=False)
    runner = build_worker_runner(settings, "w-lazy")
    try:
        runner.warm()
        assert runner.models.load_seconds == {}
    finally:
        runner.webhooks.close()  # its poll thread must not outlive the test
        runner.storage.dispose()
