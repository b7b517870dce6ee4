"""A real S3-compatible server for tests: moto in server mode, in its own process."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from tests.helpers import free_port
from tests.waiting import until


@dataclass
class S3Server:
    endpoint: str
    env: dict[str, str]  # AWS_* variables that point boto3 at it

    def client(self) -> Any:
        """A new boto3 client: its owner closes it (its pooled sockets are a ResourceWarning)."""
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def new_bucket(self) -> str:
        name = f"parley-{secrets.token_hex(4)}"
        with closing(self.client()) as s3:
            s3.create_bucket(Bucket=name)
        return name

    def objects(self, bucket: str) -> list[str]:
        with closing(self.client()) as s3:
            answer = s3.list_objects_v2(Bucket=bucket)
        return [item["Key"] for item in answer.get("Contents", [])]

    def pending_uploads(self, bucket: str) -> list[str]:
        with closing(self.client()) as s3:
            answer = s3.list_multipart_uploads(Bucket=bucket)
        return [item["Key"] for item in answer.get("Uploads", [])]


@contextmanager
def moto_server() -> Iterator[S3Server]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:

        def answers() -> bool:
            if process.poll() is not None:
                raise RuntimeError("moto server did not start")
            return bool(httpx.get(endpoint + "/moto-api/", timeout=1))

        until(answers, timeout=30, what="moto server did not start", ignore=(httpx.HTTPError,))
        env = {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        yield S3Server(endpoint, env)
    finally:
        process.terminate()
        process.wait(10)


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
