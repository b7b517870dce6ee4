"""A stream's audio frames → 16 kHz mono float32, as the recogniser wants them.

Every encoding goes through PyAV (FFmpeg's decoders and its resampler), as recorded files
do: LINEAR16 (16-bit little-endian PCM, 8-48 kHz), MULAW (8 kHz telephone audio, Twilio's
media streams) and OPUS (raw Opus packets, one per frame, as the Web SDK's encoder sends
them). The resampler keeps its filter state between frames, so a stream cut into frames
of any size decodes to the same samples as the whole (within the filter's tail).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from parley.errors import BadRequest
from parley.pipeline.schema import SAMPLE_RATE
from parley_client.wire import LIMITS

__all__ = ["ENCODINGS", "AudioFormat", "StreamDecoder", "check_format"]

#: encoding → (FFmpeg decoder, the sample rates it is accepted at)
ENCODINGS: dict[str, tuple[str, frozenset[int] | None]] = {
    "LINEAR16": ("pcm_s16le", None),  # any rate in LIMITS' range
    "MULAW": ("pcm_mulaw", frozenset({8000})),
    "OPUS": ("libopus", frozenset({8000, 12000, 16000, 24000, 48000})),
}


@dataclass(frozen=True)
class AudioFormat:
    """What ``start_request`` (or ``modify_request``) said the frames are."""

    encoding: str
    sample_rate: int


def check_format(encoding: str, sample_rate: int) -> AudioFormat:
    """The format, or BadRequest naming what is not supported."""
    name = encoding.upper()
    if name not in ENCODINGS:
        raise BadRequest(
            f'Unsupported encoding "{encoding}": use one of {", ".join(sorted(ENCODINGS))}.'
        )
    rates = ENCODINGS[name][1]
    if rates is not None and sample_rate not in rates:
        allowed = ", ".join(str(r) for r in sorted(rates))
        raise BadRequest(f"{name} audio must be sampled at {allowed} Hz, not {sample_rate}.")
    low, high = LIMITS["stream_min_rate"], LIMITS["stream_max_rate"]
    if not low <= sample_rate <= high:
        raise BadRequest(f"sampleRateHertz must be between {low} and {high}, not {sample_rate}.")
    return AudioFormat(name, sample_rate)


class StreamDecoder:
    """Decodes one stream's frames in order; ``decode`` returns what each frame adds."""

    def __init__(self, fmt: AudioFormat) -> None:
        import av

        self.format = fmt
        codec = av.CodecContext.create(ENCODINGS[fmt.encoding][0], "r")
        assert isinstance(codec, av.AudioCodecContext)
        self._codec = codec
        self._codec.sample_rate = fmt.sample_rate
        self._codec.layout = "mono"
        self._resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        self._carry = b""  # an odd byte of a 16-bit sample split across frames

    def decode(self, data: bytes) -> np.ndarray:
        import av

        if self.format.encoding == "LINEAR16":
            data = self._carry + data
            cut = len(data) - len(data) % 2
            data, self._carry = data[:cut], data[cut:]
        if not data:
            return np.zeros(0, dtype=np.float32)
        try:
            frames = self._codec.decode(av.Packet(data))
        except av.FFmpegError as exc:  # a corrupt Opus packet: skip it, keep the stream
            raise BadRequest(f"An audio frame could not be decoded: {exc}") from None
        return self._resample(frames)

    def flush(self) -> np.ndarray:
        """The resampler's tail, at the end of the stream."""
        return self._resample([None])

    def _resample(self, frames: Sequence[Any]) -> np.ndarray:
        out = []
        for frame in frames:
            for piece in self._resampler.resample(frame):
                out.append(piece.to_ndarray().reshape(-1))
        if not out:
            return np.zeros(0, dtype=np.float32)
        return np.concatenate(out).astype(np.float32, copy=False)
