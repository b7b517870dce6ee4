"""A stream's frames decode to 16 kHz float32 whatever their encoding, rate and cut."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from parley.errors import BadRequest
from parley.live.audio import AudioFormat, StreamDecoder, check_format


def _tone(rate: int, seconds: float = 1.0, hz: float = 440.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (0.5 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def _s16(samples: np.ndarray) -> bytes:
    return (samples * 32767).astype("<i2").tobytes()


def _peak_hz(samples: np.ndarray, rate: int = 16000) -> float:
    spectrum = np.abs(np.fft.rfft(samples))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[int(np.argmax(spectrum))])


def _decode(fmt: AudioFormat, frames: list[bytes]) -> np.ndarray:
    decoder = StreamDecoder(fmt)
    out = [decoder.decode(f) for f in frames]
    return np.concatenate([*out, decoder.flush()])


def _cut(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize("rate", [8000, 16000, 22050, 44100, 48000])
def test_linear16_at_any_rate_becomes_16_khz(rate: int) -> None:
    # frames of an odd size: a 16-bit sample split across two frames is joined again
    samples = _decode(AudioFormat("LINEAR16", rate), _cut(_s16(_tone(rate)), 1001))
    assert samples.dtype == np.float32
    assert abs(len(samples) - 16000) <= 64
    assert abs(_peak_hz(samples) - 440) <= 2
    assert 0.45 <= float(np.max(np.abs(samples[1000:-1000]))) <= 0.55


def test_frames_of_any_size_decode_like_the_whole() -> None:
    data = _s16(_tone(44100, 2.0, 300.0))
    whole = _decode(AudioFormat("LINEAR16", 44100), [data])
    pieces = _decode(AudioFormat("LINEAR16", 44100), _cut(data, 2048))
    assert len(whole) == len(pieces)
    assert np.allclose(whole, pieces, atol=1e-4)


def _encode(codec: str, rate: int, samples: np.ndarray) -> list[bytes]:
    """Packets of ``codec`` (PyAV's encoder) for mono float samples at ``rate``."""
    context = av.CodecContext.create(codec, "w")
    assert isinstance(context, av.AudioCodecContext)
    context.sample_rate = rate
    context.layout = "mono"
    context.format = av.AudioFormat("s16")
    size = context.frame_size or len(samples)  # PCM codecs take any frame
    data = (samples * 32767).astype(np.int16)
    packets: list[bytes] = []
    for i in range(0, len(data) - size + 1, size):
        frame = av.AudioFrame.from_ndarray(data[None, i : i + size], format="s16", layout="mono")
        frame.sample_rate = rate
        packets += [bytes(p) for p in context.encode(frame)]
    packets += [bytes(p) for p in context.encode(None)]
    return packets


def test_mulaw_8_khz() -> None:
    packets = _encode("pcm_mulaw", 8000, _tone(8000, 1.0, 500.0))
    samples = _decode(AudioFormat("MULAW", 8000), _cut(b"".join(packets), 160))  # Twilio: 20 ms
    assert abs(len(samples) - 16000) <= 64
    assert abs(_peak_hz(samples) - 500) <= 2


def test_raw_opus_packets_at_48_khz() -> None:
    packets = _encode("libopus", 48000, _tone(48000, 1.0, 600.0))
    samples = _decode(AudioFormat("OPUS", 48000), packets)  # one packet per frame
    assert abs(len(samples) - 16000) <= 1000  # the encoder's look-ahead and padding
    assert abs(_peak_hz(samples) - 600) <= 4


def test_a_recording_streamed_in_frames_matches_its_file_decoding(testdata: Path) -> None:
    path = testdata / "read" / "jfk" / "jfk.flac"
    with av.open(str(path)) as container:
        to44 = av.AudioResampler(format="s16", layout="mono", rate=44100)
        to16 = av.AudioResampler(format="flt", layout="mono", rate=16000)
        pcm, reference = [], []
        for frame in container.decode(audio=0):
            pcm += [f.to_ndarray().tobytes() for f in to44.resample(frame)]
            reference += [f.to_ndarray().reshape(-1) for f in to16.resample(frame)]
    streamed = _decode(AudioFormat("LINEAR16", 44100), _cut(b"".join(pcm), 8192))
    expected = np.concatenate(reference)
    n = min(len(streamed), len(expected))
    assert abs(len(streamed) - len(expected)) <= 64
    assert np.corrcoef(streamed[:n], expected[:n])[0, 1] > 0.99


@pytest.mark.parametrize(
    ("encoding", "rate", "said"),
    [
        ("FLAC", 16000, "Unsupported encoding"),
        ("AMR", 8000, "Unsupported encoding"),
        ("MULAW", 16000, "8000 Hz"),
        ("LINEAR16", 4000, "between 8000 and 48000"),
        ("LINEAR16", 96000, "between 8000 and 48000"),
        ("OPUS", 44100, "Hz"),
    ],
)
def test_an_unsupported_format_is_named(encoding: str, rate: int, said: str) -> None:
    with pytest.raises(BadRequest, match=said):
        check_format(encoding, rate)


def test_encodings_are_matched_whatever_their_case() -> None:
    assert check_format("linear16", 44100) == AudioFormat("LINEAR16", 44100)
    assert check_format("Opus", 48000) == AudioFormat("OPUS", 48000)
    assert check_format("mulaw", 8000) == AudioFormat("MULAW", 8000)
