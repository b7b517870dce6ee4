"""Both audio stores behave alike: staged uploads, keys, ranged reads, deletes."""

from __future__ import annotations

import io
import os
from pathlib import Path

import httpx
import pytest

from parley.pipeline.decode import probe
from parley.storage.audio import AudioStore, build_audio_store
from parley.storage.s3 import PART_SIZE, S3AudioStore
from tests.helpers import silent_wav
from tests.s3 import S3Server


def _upload(store: AudioStore, data: bytes, chunk: int = 1 << 20) -> object:
    staged, out = store.new_upload()
    with out:
        for start in range(0, len(data), chunk):
            out.write(data[start : start + chunk])
    return staged


def test_a_committed_upload_reads_back_with_seeks_and_ranges(store: AudioStore) -> None:
    data = os.urandom(PART_SIZE * 2 + 12345)  # three parts on S3
    staged = _upload(store, data)
    key = store.commit(staged, "conv1", "job1")  # type: ignore[arg-type]
    assert key == "conv1/job1"
    assert list(store.keys()) == ["conv1/job1"], "the staging copy is gone"
    assert store.size(key) == len(data)
    with store.open(key) as f:
        assert f.seekable()
        f.seek(PART_SIZE - 10)
        assert f.read(20) == data[PART_SIZE - 10 : PART_SIZE + 10]
        f.seek(-5, io.SEEK_END)
        assert f.read() == data[-5:]
        f.seek(0)
        # read(n) as the media route and the decoder read: a bare read() is io's readall,
        # which asks S3 for 8 KiB at a time (2,000 ranged GETs here, 13 s on moto)
        assert f.read(len(data)) == data
        assert f.read() == b""
    store.delete(key)
    assert not store.exists(key)
    with pytest.raises(FileNotFoundError):
        store.size(key)


def test_a_failed_upload_leaves_nothing(store: AudioStore) -> None:
    staged, out = store.new_upload()
    with pytest.raises(RuntimeError), out:
        out.write(os.urandom(PART_SIZE + 1))  # one part already sent on S3
        raise RuntimeError("client went away")
    staged.unlink()
    assert list(store.keys()) == []
    if isinstance(store, S3AudioStore):
        assert store.client.list_multipart_uploads(Bucket=store.bucket).get("Uploads", []) == []


def test_delete_conversation_removes_all_its_objects(store: AudioStore) -> None:
    for conversation, job in [("c1", "j1"), ("c1", "j2"), ("c2", "j3")]:
        store.commit(_upload(store, b"x" * 100), conversation, job)  # type: ignore[arg-type]
    store.delete_conversation("c1")
    assert list(store.keys()) == ["c2/j3"]


def test_the_decoder_reads_audio_straight_from_the_store(store: AudioStore, tmp_path: Path) -> None:
    wav = silent_wav(tmp_path / "a.wav", 2.0)
    key = store.commit(_upload(store, wav.read_bytes()), "c", "j")  # type: ignore[arg-type]
    source = store.source(key)
    info = probe(source)  # type: ignore[arg-type]
    assert info.duration == pytest.approx(2.0, abs=0.01)


def test_s3_objects_live_under_the_prefix_and_have_a_presigned_url(s3: S3Server) -> None:
    bucket = s3.new_bucket()
    store = build_audio_store(f"s3://{bucket}/tenant-a", Path("unused"))
    key = store.commit(_upload(store, b"hello audio"), "c", "j")  # type: ignore[arg-type]
    assert s3.objects(bucket) == ["tenant-a/c/j"]
    url = store.url(key, expires=60)
    assert url and "Signature" in url
    assert httpx.get(url, timeout=60).content == b"hello audio"


def test_the_local_store_has_no_url_and_uses_a_directory(tmp_path: Path) -> None:
    store = build_audio_store(str(tmp_path / "elsewhere"), tmp_path / "default")
    key = store.commit(_upload(store, b"abc"), "c", "j")  # type: ignore[arg-type]
    assert (tmp_path / "elsewhere" / "c" / "j").read_bytes() == b"abc"
    assert store.url(key) is None
