"""Model file integrity: bundled models are checked against the sha256 they shipped with."""

from __future__ import annotations

import hashlib
from pathlib import Path

__all__ = ["ModelChecksumError", "check_bundled", "sha256_file"]


class ModelChecksumError(RuntimeError):
    """A bundled model file is not the one Parley was released with."""


def sha256_file(path: Path) -> str:
    """The hex sha256 of a file, read in 1 MiB blocks (model files are large)."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_bundled(path: Path, expected: str, *, what: str, remedy: str) -> None:
    """Raise unless the bundled model file ``path`` exists and has sha256 ``expected``.

    ``what`` names the model in the message, ``remedy`` says how to get a good file.
    """
    if not path.is_file():
        raise FileNotFoundError(f"bundled {what} file missing: {path} ({remedy})")
    digest = sha256_file(path)
    if digest != expected:
        raise ModelChecksumError(
            f"{what} file {path} has sha256 {digest}, expected {expected} ({remedy})"
        )
