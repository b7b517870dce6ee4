"""The worker's reading of an outage: which errors are a full disk to wait out."""

from __future__ import annotations

import errno

from parley.jobs.worker import _disk_full


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
