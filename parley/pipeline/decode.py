"""Decode: any file FFmpeg reads → 16 kHz float32, mono mix or one array per channel.

PyAV bundles FFmpeg, so nothing needs to be installed on the system. Audio and
video containers go through the same path; for video the first audio track is
used. Corrupt packets in the middle of a file are skipped (a truncated upload
still yields what was received); a file with no decodable audio raises
``InvalidAudio`` with a reason a user can act on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from parley.errors import InvalidAudio
from parley.pipeline.schema import SAMPLE_RATE, DecodedAudio

__all__ = ["AudioInfo", "decode", "probe"]

log = logging.getLogger(__name__)

_MAX_CHANNELS = 8


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


def _open(path: Path) -> av.container.InputContainer:
    try:
        return av.open(str(path), mode="r", metadata_errors="ignore")
    except (av.FFmpegError, UnicodeDecodeError) as exc:
        raise InvalidAudio(
            f"The file is not audio or video that can be decoded: {_reason(exc)}."
        ) from exc


def _audio_stream(container: av.container.InputContainer) -> av.AudioStream:
    if not container.streams.audio:
        raise InvalidAudio("The file has no audio track.")
    return container.streams.audio[0]


def probe(path: Path) -> AudioInfo:
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
        duration = None
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration:
            duration = container.duration / 1_000_000
        return AudioInfo(
            format=container.format.name,
            channels=stream.codec_context.channels or 1,
            sample_rate=stream.codec_context.sample_rate or 0,
            duration=duration,
        )


def decode(
    path: Path, *, per_channel: bool = False, max_duration: float | None = None
) -> DecodedAudio:
    """Decode a whole file to 16 kHz float32.

    Args:
        per_channel: keep each channel (for per-channel recognition) instead of
            mixing down to mono.
        max_duration: raise ``InvalidAudio`` as soon as the audio runs longer.
    """
    with _open(path) as container:
        stream = _audio_stream(container)
        source_channels = min(stream.codec_context.channels or 1, _MAX_CHANNELS)
        source_rate = stream.codec_context.sample_rate or SAMPLE_RATE
        layout = "mono" if not per_channel or source_channels == 1 else stream.layout.name
        resampler = av.AudioResampler(format="fltp", layout=layout, rate=SAMPLE_RATE)
        chunks: list[np.ndarray] = []
        total = 0
        bad_packets = packets = 0
        limit = int(max_duration * SAMPLE_RATE) if max_duration else None
        for packet in container.demux(stream):
            packets += 1
            try:
                frames = packet.decode()
            except (av.InvalidDataError, av.error.PermissionError, ValueError) as exc:
                bad_packets += 1
                log.debug("skipping corrupt packet in %s: %s", path, exc)
                continue
            for frame in frames:
                frame.pts = None  # let the resampler ignore gaps in timestamps
                for out in resampler.resample(frame):
                    array = out.to_ndarray()
                    chunks.append(array)
                    total += array.shape[1]
            if limit is not None and total > limit:
                raise InvalidAudio(
                    f"The audio is longer than the maximum of {max_duration / 3600:g} hours."
                )
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray())
    if packets and bad_packets > packets // 2:
        raise InvalidAudio(f"The audio is corrupt: {bad_packets} of {packets} packets failed.")
    if not chunks or sum(c.shape[1] for c in chunks) == 0:
        raise InvalidAudio("The file contains no audio samples (0 seconds).")
    samples = np.concatenate(chunks, axis=1).astype(np.float32, copy=False)
    del chunks
    channels = tuple(np.ascontiguousarray(samples[i]) for i in range(samples.shape[0]))
    return DecodedAudio(
        channels=channels,
        duration=samples.shape[1] / SAMPLE_RATE,
        source_channels=source_channels,
        source_sample_rate=source_rate,
    )
