"""Audio in S3 or an S3-compatible server (MinIO, moto), through boto3.

``PARLEY_STORAGE_URL=s3://bucket/prefix``; credentials, region and endpoint
come from boto3's usual ``AWS_*`` variables (``AWS_ENDPOINT_URL`` for
S3-compatible servers). Nothing passes through the API host's disk:

* uploads are sent in parts (multipart upload) as they arrive, one part in
  memory at a time, and aborted if the request fails;
* reads are ranged GETs behind a buffered, seekable file, so a worker decodes
  straight from the store and the console can serve byte ranges.
"""

from __future__ import annotations

import io
import os
import secrets
from collections.abc import Iterator
from typing import IO, Any, BinaryIO

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

from parley.storage.objects import STAGING, AudioStore, Staged, conversation_key

__all__ = ["S3AudioStore"]

PART_SIZE = 8 * 1024 * 1024  # S3's minimum is 5 MiB; one part is held in memory at a time
READ_BUFFER = 1024 * 1024


def _client() -> Any:
    options: dict[str, Any] = {"retries": {"max_attempts": 5, "mode": "standard"}}
    if os.environ.get("AWS_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT_URL_S3"):
        options["s3"] = {"addressing_style": "path"}  # S3-compatible servers on a host:port
    return boto3.session.Session().client("s3", config=Config(**options))


def _missing(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound")


class _MultipartWriter(io.RawIOBase):
    """A write-only file that uploads in ``PART_SIZE`` parts; ``close`` completes it,
    leaving the ``with`` block on an exception aborts it."""

    def __init__(self, client: Any, bucket: str, key: str, part_size: int = PART_SIZE) -> None:
        self._client, self._bucket, self._key = client, bucket, key
        self._part_size = part_size
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []
        self._done = False

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._buffer += data
        if len(self._buffer) >= self._part_size:
            self._send_part()
        return len(data)

    def _send_part(self) -> None:
        if self._upload_id is None:
            created = self._client.create_multipart_upload(Bucket=self._bucket, Key=self._key)
            self._upload_id = created["UploadId"]
        number = len(self._parts) + 1
        body, self._buffer = bytes(self._buffer), bytearray()
        answer = self._client.upload_part(
            Bucket=self._bucket,
            Key=self._key,
            UploadId=self._upload_id,
            PartNumber=number,
            Body=body,
        )
        self._parts.append({"PartNumber": number, "ETag": answer["ETag"]})

    def close(self) -> None:
        if self._done:
            return
        self._done = True
        try:
            if self._upload_id is None:  # smaller than one part: a plain PUT
                self._client.put_object(
                    Bucket=self._bucket, Key=self._key, Body=bytes(self._buffer)
                )
            else:
                if self._buffer:
                    self._send_part()
                self._client.complete_multipart_upload(
                    Bucket=self._bucket,
                    Key=self._key,
                    UploadId=self._upload_id,
                    MultipartUpload={"Parts": self._parts},
                )
        except BaseException:
            self.abort()
            raise
        finally:
            self._buffer = bytearray()
            super().close()

    def abort(self) -> None:
        self._done = True
        self._buffer = bytearray()
        if self._upload_id is not None:
            self._client.abort_multipart_upload(
                Bucket=self._bucket, Key=self._key, UploadId=self._upload_id
            )
            self._upload_id = None

    def __exit__(self, exc_type: Any, *rest: Any) -> None:
        if exc_type is not None:
            self.abort()
            super().close()
        else:
            self.close()


class _RangeReader(io.RawIOBase):
    """A seekable read-only view of one object: each read is a ranged GET."""

    def __init__(self, client: Any, bucket: str, key: str, size: int) -> None:
        self._client, self._bucket, self._key = client, bucket, key
        self._size = size
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        self._position = max(base + offset, 0)
        return self._position

    def readinto(self, buffer: Any) -> int:
        if self._position >= self._size or len(buffer) == 0:
            return 0
        end = min(self._position + len(buffer), self._size) - 1
        answer = self._client.get_object(
            Bucket=self._bucket, Key=self._key, Range=f"bytes={self._position}-{end}"
        )
        data = answer["Body"].read()
        buffer[: len(data)] = data
        self._position += len(data)
        return len(data)


class S3AudioStore(AudioStore):
    """Objects ``<prefix>/<conversationId>/<jobId>`` in one bucket."""

    def __init__(self, bucket: str, prefix: str = "", client: Any = None) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client = client or _client()

    @classmethod
    def from_url(cls, url: str) -> S3AudioStore:
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        if not bucket:
            raise ValueError(f"PARLEY_STORAGE_URL={url} names no bucket (s3://bucket/prefix)")
        return cls(bucket, prefix)

    def _name(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def new_upload(self) -> tuple[Staged, IO[bytes]]:
        key = f"{STAGING}/{secrets.token_hex(16)}"
        writer = _MultipartWriter(self.client, self.bucket, self._name(key))
        return Staged(self, key), writer  # type: ignore[return-value]

    def commit(self, staged: Staged, conversation_id: str, job_id: str) -> str:
        """A server-side copy (in parts for big objects), then the staging object goes."""
        key = conversation_key(conversation_id, job_id)
        self.client.copy(
            {"Bucket": self.bucket, "Key": self._name(staged.key)},
            self.bucket,
            self._name(key),
            Config=TransferConfig(multipart_chunksize=64 * 1024 * 1024, use_threads=False),
        )
        self.delete(staged.key)
        return key

    def size(self, key: str) -> int:
        try:
            return int(
                self.client.head_object(Bucket=self.bucket, Key=self._name(key))["ContentLength"]
            )
        except ClientError as exc:
            if _missing(exc):
                raise FileNotFoundError(key) from None
            raise

    def exists(self, key: str) -> bool:
        try:
            self.size(key)
        except FileNotFoundError:
            return False
        return True

    def open(self, key: str) -> BinaryIO:
        raw = _RangeReader(self.client, self.bucket, self._name(key), self.size(key))
        return io.BufferedReader(raw, buffer_size=READ_BUFFER)

    def url(self, key: str, *, expires: int = 3600) -> str | None:
        return str(
            self.client.generate_presigned_url(
                "get_object",
                Params={"Bucket": self.bucket, "Key": self._name(key)},
                ExpiresIn=expires,
            )
        )

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._name(key))

    def _list(self, prefix: str) -> Iterator[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix
        )
        for page in pages:
            for item in page.get("Contents", []):
                yield item["Key"]

    def delete_conversation(self, conversation_id: str) -> None:
        names = list(self._list(self._name(conversation_id) + "/"))
        for start in range(0, len(names), 1000):
            self.client.delete_objects(
                Bucket=self.bucket,
                Delete={
                    "Objects": [{"Key": n} for n in names[start : start + 1000]],
                    "Quiet": True,
                },
            )

    def keys(self) -> Iterator[str]:
        strip = len(self.prefix) + 1 if self.prefix else 0
        for name in self._list(self.prefix + "/" if self.prefix else ""):
            yield name[strip:]
