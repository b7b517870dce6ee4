"""Stored audio: uploads land here, keyed by job, until the job has run.

Uploads stream to a temporary file in the same directory and are renamed into
place, so a half-received upload is never visible under its key.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import IO

__all__ = ["AudioStore"]


class AudioStore:
    """Files under ``root/<conversationId>/<jobId>``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)
        self._incoming = root / ".incoming"
        self._incoming.mkdir(exist_ok=True)

    def new_upload(self) -> tuple[Path, IO[bytes]]:
        """A fresh temporary file to stream an upload into."""
        fd, name = tempfile.mkstemp(dir=self._incoming, suffix=".part")
        return Path(name), os.fdopen(fd, "wb")

    def commit(self, temp: Path, conversation_id: str, job_id: str) -> str:
        """Move a finished upload under its key and return the key."""
        key = f"{conversation_id}/{job_id}"
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(temp, target)
        return key

    def path(self, key: str) -> Path:
        return self.root / key

    def open(self, key: str) -> IO[bytes]:
        """The stored file, seekable, for reading (the media endpoint serves ranges of it)."""
        return self.path(key).open("rb")

    def size(self, key: str) -> int:
        """The stored file's length in bytes; FileNotFoundError when it is gone."""
        return self.path(key).stat().st_size

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def delete_conversation(self, conversation_id: str) -> None:
        shutil.rmtree(self.root / conversation_id, ignore_errors=True)
