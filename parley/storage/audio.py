"""Stored audio: pick the store a deployment is configured for.

The interface and the local store are in ``parley.storage.objects``, the S3 store in
``parley.storage.s3``; callers import both from here.
"""

from __future__ import annotations

from pathlib import Path

from parley.storage.objects import STAGING, AudioStore, LocalAudioStore, Staged, conversation_key

__all__ = [
    "STAGING",
    "AudioStore",
    "LocalAudioStore",
    "Staged",
    "build_audio_store",
    "conversation_key",
]


def build_audio_store(storage_url: str | None, default_root: Path) -> AudioStore:
    """``s3://bucket/prefix`` → the S3 store; a path (or nothing) → local files."""
    if storage_url and storage_url.startswith("s3://"):
        from parley.storage.s3 import S3AudioStore

        return S3AudioStore.from_url(storage_url)
    if storage_url and storage_url.startswith("file://"):
        storage_url = storage_url.removeprefix("file://")
    return LocalAudioStore(Path(storage_url) if storage_url else default_root)
