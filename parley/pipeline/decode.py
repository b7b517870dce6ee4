"""Decode: any file FFmpeg reads → 16 kHz float32, mono mix or one signal per channel.

PyAV bundles FFmpeg, so nothing needs to be installed on the system. Audio and
video containers go through the same path; for video the first audio track is
used. Corrupt packets in the middle of a file are skipped (a truncated upload
still yields what was received); a file with no decodable audio raises
``InvalidAudio`` with a reason a user can act on.

Memory stays flat in the length of the file: frames are decoded and resampled
one at a time and written to an unlinked scratch file, which is then mapped
read-only (``np.memmap``-like arrays, one per channel kept). The whole recording
exists as float32 exactly once, on disk; stages read windows of it and call
``release`` when they are done with a window, so the pages they touched leave
the process's resident set again. A 4-hour mono file is 0.92 GB of float32:
held in RAM (twice, as ``np.concatenate`` used to) it alone broke the memory goal.
"""

from __future__ import annotations

import contextlib
import logging
import mmap
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO

import av
import numpy as np

from parley.errors import InvalidAudio
from parley.pipeline.schema import SAMPLE_RATE, DecodedAudio

__all__ = ["MAX_CHANNELS", "AudioInfo", "decode", "frames", "probe", "release"]

log = logging.getLogger(__name__)

_FLOAT32 = np.dtype(np.float32)
#: The most channels libswresample converts (its SWR_CH_MAX): a 65-channel frame makes the
#: resampler fail with EINVAL mid-job. WAV allows 65535 and Opus 255, so ``probe`` refuses
#: more at the edge; tests/pipeline/test_decode.py decodes 64 and refuses 65 and 255.
MAX_CHANNELS = 64


@dataclass(frozen=True)
class AudioInfo:
    """What a quick look at a file tells, without decoding all of it."""

    format: str
    channels: int
    sample_rate: int
    duration: float | None  # from the container, when it says


def _reason(exc: Exception) -> str:
    """FFmpeg's own words, without the server-side file path."""
    return getattr(exc, "strerror", None) or type(exc).__name__


def _open(path: Path | BinaryIO) -> av.container.InputContainer:
    """A path, or a seekable file (audio read from an object store), from its start."""
    try:
        if not isinstance(path, Path):
            path.seek(0)
        source = str(path) if isinstance(path, Path) else path
        return av.open(source, mode="r", metadata_errors="ignore")
    except (av.FFmpegError, UnicodeDecodeError) as exc:
        raise InvalidAudio(
            f"The file is not audio or video that can be decoded: {_reason(exc)}."
        ) from exc


def _audio_stream(container: av.container.InputContainer) -> av.AudioStream:
    if not container.streams.audio:
        raise InvalidAudio("The file has no audio track.")
    return container.streams.audio[0]


def probe(path: Path | BinaryIO) -> AudioInfo:
    """Check that a file holds decodable audio; read its basic facts.

    Decodes only until the first non-empty audio frame, so uploads are checked
    at submission time in milliseconds.
    """
    with _open(path) as container:
        stream = _audio_stream(container)
        try:
            for frame in container.decode(stream):
                if frame.samples > 0:
                    break
            else:
                raise InvalidAudio("The file contains no audio samples (0 seconds).")
        except av.FFmpegError as exc:
            raise InvalidAudio(f"The audio could not be decoded: {_reason(exc)}.") from exc
        channels = stream.codec_context.channels or 1
        if channels > MAX_CHANNELS:
            raise InvalidAudio(
                f"The audio has {channels} channels; at most {MAX_CHANNELS} are supported."
            )
        duration = None
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration:
            duration = container.duration / 1_000_000
        return AudioInfo(
            format=container.format.name,
            channels=channels,
            sample_rate=stream.codec_context.sample_rate or 0,
            duration=duration,
        )


def frames(
    path: Path | BinaryIO, *, per_channel: bool = False, max_duration: float | None = None
) -> Iterator[np.ndarray]:
    """Yield the audio as blocks of 16 kHz float32 samples, shape (samples, channels).

    Without ``per_channel`` the block has one column, the mean of the channels (FFmpeg's
    own downmix refuses layouts of more than 8 unnamed channels, and weighs the rest by
    layout). Raises ``InvalidAudio`` as soon as the audio runs longer than
    ``max_duration`` seconds, or at the end when more than half of the packets were corrupt.
    """
    with _open(path) as container:
        stream = _audio_stream(container)
        width = stream.codec_context.channels or 1
        # Packed float ("flt"), not planar ("fltp"): PyAV 18 lists one plane too many for a
        # planar frame of 8 or more channels and reading it segfaults (issue 13: an 8-channel
        # WAV with per-channel recognition crashed the server). A packed frame is one plane
        # for any channel count; tests/pipeline/test_decode_channels.py decodes 1 to 32.
        resampler = av.AudioResampler(
            format="flt", layout=stream.layout if width > 1 else "mono", rate=SAMPLE_RATE
        )
        mix = not per_channel and width > 1

        def shaped(out: av.AudioFrame) -> np.ndarray:
            block = out.to_ndarray().reshape(-1, width)
            return block.mean(axis=1, keepdims=True, dtype=np.float32) if mix else block

        total = 0
        bad_packets = packets = 0
        limit = int(max_duration * SAMPLE_RATE) if max_duration else None
        hours = (max_duration or 0) / 3600
        for packet in container.demux(stream):
            packets += 1
            try:
                decoded = packet.decode()
            except (av.InvalidDataError, av.error.PermissionError, ValueError) as exc:
                bad_packets += 1
                log.debug("skipping corrupt packet in %s: %s", path, exc)
                continue
            for frame in decoded:
                frame.pts = None  # let the resampler ignore gaps in timestamps
                for out in resampler.resample(frame):
                    block = shaped(out)
                    total += len(block)
                    yield block
            if limit is not None and total > limit:
                raise InvalidAudio(f"The audio is longer than the maximum of {hours:g} hours.")
        for out in resampler.resample(None):
            yield shaped(out)
    if packets and bad_packets > packets // 2:
        raise InvalidAudio(f"The audio is corrupt: {bad_packets} of {packets} packets failed.")


def _scratch(directory: Path | None) -> IO[bytes]:
    """An unlinked temporary file: gone as soon as nothing maps it any more."""
    if directory is not None:
        with contextlib.suppress(OSError):
            return tempfile.TemporaryFile(dir=directory)
    return tempfile.TemporaryFile()


def _map(file: IO[bytes], count: int) -> np.ndarray:
    """``count`` float32 samples of ``file`` as a read-only array backed by the file."""
    file.flush()
    if count == 0:
        return np.zeros(0, dtype=np.float32)
    mapped = mmap.mmap(file.fileno(), count * _FLOAT32.itemsize, access=mmap.ACCESS_READ)
    return np.frombuffer(mapped, dtype=np.float32)


def decode(
    path: Path | BinaryIO,
    *,
    per_channel: bool = False,
    max_duration: float | None = None,
    scratch_dir: Path | None = None,
) -> DecodedAudio:
    """Decode a whole file to 16 kHz float32, one file-backed array per channel kept.

    Args:
        per_channel: keep each channel (for per-channel recognition) instead of
            mixing down to mono.
        max_duration: raise ``InvalidAudio`` as soon as the audio runs longer.
        scratch_dir: where the decoded samples are written (an unlinked file; the
            system's temporary directory when None or not writable). Use a disk, not
            a RAM-backed tmpfs, or the memory saving is lost.
    """
    files: list[IO[bytes]] = []
    count = 0
    source_channels, source_rate = 1, SAMPLE_RATE
    try:
        info = probe(path)
        source_channels, source_rate = info.channels, info.sample_rate or SAMPLE_RATE
        for block in frames(path, per_channel=per_channel, max_duration=max_duration):
            if not files:
                files = [_scratch(scratch_dir) for _ in range(block.shape[1])]
            if block.shape[1] == 1:
                files[0].write(block.tobytes())
            else:
                for index, file in enumerate(files):
                    file.write(np.ascontiguousarray(block[:, index]).tobytes())
            count += len(block)
        if count == 0:
            raise InvalidAudio("The file contains no audio samples (0 seconds).")
        channels = tuple(_map(file, count) for file in files)
    finally:
        for file in files:
            file.close()  # the mappings keep the data; the file is unlinked already
    return DecodedAudio(
        channels=channels,
        duration=count / SAMPLE_RATE,
        source_channels=source_channels,
        source_sample_rate=source_rate,
    )


def _mapping(samples: np.ndarray) -> mmap.mmap | None:
    """The mmap an array's memory belongs to, following views back to it."""
    base: object = samples
    while isinstance(base, np.ndarray | memoryview):
        base = base.base if isinstance(base, np.ndarray) else base.obj
    return base if isinstance(base, mmap.mmap) else None


def release(samples: np.ndarray, start: int, stop: int) -> None:
    """Drop samples[start:stop] of a file-backed array from this process's memory.

    The data stays in the file (it is read again from disk or page cache if touched
    again); only the resident set shrinks. A no-op for in-memory arrays, so stages can
    call it on whatever array they were given.
    """
    mapped = _mapping(samples)
    if mapped is None or not hasattr(mapped, "madvise"):
        return
    offset = samples.__array_interface__["data"][0] - _address(mapped)
    page = mmap.PAGESIZE
    first = (offset + start * _FLOAT32.itemsize + page - 1) // page * page
    last = (offset + stop * _FLOAT32.itemsize) // page * page
    if last > first:
        with contextlib.suppress(OSError, ValueError):
            mapped.madvise(mmap.MADV_DONTNEED, first, last - first)


def _address(mapped: mmap.mmap) -> int:
    return int(np.frombuffer(mapped, dtype=np.uint8).__array_interface__["data"][0])
