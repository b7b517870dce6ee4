"""The audio store's interface, and the local directory store.

Stored audio: uploads land here, keyed ``<conversationId>/<jobId>``.

Two stores with one small interface (``AudioStore``): files under a local
directory (the default, and the test store), or objects in S3 or any
S3-compatible server (``PARLEY_STORAGE_URL=s3://bucket/prefix``, see
``parley.storage.s3``). An upload is written to a staging place first and moved
under its key when its job is created, so a half-received upload is never
visible under a key.

What callers get:

* ``new_upload()`` → ``(Staged, writer)``: stream bytes into ``writer``; on the
  S3 store it uploads in parts as it goes (multipart), never the whole body.
* ``commit(staged, conversation_id, job_id)`` → the key; ``staged.unlink()``
  throws an upload away.
* ``open(key)`` → a seekable binary file (ranged reads on S3), ``size(key)``,
  ``exists(key)``, ``url(key)`` (a pre-signed URL on S3, None locally: serve
  ``open`` + ``size`` with ranges instead), ``delete(key)``,
  ``delete_conversation(id)``, ``keys()``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import IO, BinaryIO

__all__ = ["STAGING", "AudioStore", "LocalAudioStore", "Staged", "conversation_key"]

STAGING = ".incoming"


def conversation_key(conversation_id: str, job_id: str) -> str:
    return f"{conversation_id}/{job_id}"


class Staged:
    """An upload received but not yet under its key. ``unlink`` throws it away
    (named like ``Path.unlink`` so callers treat both stores alike)."""

    def __init__(self, store: AudioStore, key: str) -> None:
        self.store = store
        self.key = key

    def unlink(self, missing_ok: bool = True) -> None:
        self.store.delete(self.key)

    def open(self) -> BinaryIO:
        return self.store.open(self.key)

    def __repr__(self) -> str:
        return f"Staged({self.key!r})"


class AudioStore(ABC):
    """Where audio bytes live; keys are ``/``-separated relative names."""

    @abstractmethod
    def new_upload(self) -> tuple[Staged, IO[bytes]]:
        """A staging place and a writer to stream an upload into."""

    @abstractmethod
    def commit(self, staged: Staged, conversation_id: str, job_id: str) -> str:
        """Move a finished upload under its key and return the key."""

    @abstractmethod
    def open(self, key: str) -> BinaryIO:
        """The stored bytes as a seekable binary file (``FileNotFoundError`` if absent)."""

    @abstractmethod
    def size(self, key: str) -> int:
        """Bytes stored under ``key`` (``FileNotFoundError`` if absent)."""

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove one object; absent is fine."""

    @abstractmethod
    def delete_conversation(self, conversation_id: str) -> None:
        """Remove every object of a conversation."""

    @abstractmethod
    def keys(self) -> Iterator[str]:
        """Every stored key, staging included (for retention and tests)."""

    def url(self, key: str, *, expires: int = 3600) -> str | None:
        """A URL a browser can fetch the audio from directly, if the store has one."""
        return None

    def source(self, key: str) -> Path | BinaryIO:
        """What the decoder reads: a path when there is one, else a seekable file."""
        return self.open(key)


class LocalAudioStore(AudioStore):
    """Files under ``root/<conversationId>/<jobId>``; staging in ``root/.incoming``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)  # owner-only when new
        (root / STAGING).mkdir(mode=0o700, exist_ok=True)

    def new_upload(self) -> tuple[Staged, IO[bytes]]:
        fd, name = tempfile.mkstemp(dir=self.root / STAGING, suffix=".part")
        return Staged(self, f"{STAGING}/{Path(name).name}"), os.fdopen(fd, "wb")

    def commit(self, staged: Staged, conversation_id: str, job_id: str) -> str:
        key = conversation_key(conversation_id, job_id)
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.path(staged.key), target)
        return key

    def path(self, key: str) -> Path:
        return self.root / key

    def open(self, key: str) -> BinaryIO:
        return self.path(key).open("rb")

    def size(self, key: str) -> int:
        return self.path(key).stat().st_size

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def source(self, key: str) -> Path:
        return self.path(key)

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def delete_conversation(self, conversation_id: str) -> None:
        shutil.rmtree(self.root / conversation_id, ignore_errors=True)

    def keys(self) -> Iterator[str]:
        for path in sorted(self.root.rglob("*")):
            if path.is_file():
                yield path.relative_to(self.root).as_posix()
