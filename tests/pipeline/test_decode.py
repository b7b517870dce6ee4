"""Decode: every channel count, flat memory, the errors a user sees.

Native crashes (issue 13: an 8-channel WAV decoded per channel segfaulted) must fail a
test, not the test run, so the channel sweep runs in a child process.
"""

from __future__ import annotations

import json
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from parley.errors import InvalidAudio
from parley.pipeline.decode import MAX_CHANNELS, decode, probe, release
from parley.pipeline.schema import SAMPLE_RATE

SWEEP = r"""
import json, sys, wave
from pathlib import Path
import numpy as np
from parley.pipeline.decode import decode

folder, seconds = Path(sys.argv[1]), float(sys.argv[2])
for n in range(1, 33):
    path = folder / f"{n}ch.wav"
    t = np.arange(int(seconds * 8000)) / 8000
    tones = [0.3 * np.sin(2 * np.pi * (200 + 50 * c) * t) for c in range(n)]
    with wave.open(str(path), "wb") as w:  # 8 kHz, so the resampler runs too
        w.setnchannels(n); w.setsampwidth(2); w.setframerate(8000)
        w.writeframes((np.stack(tones, axis=1) * 32767).astype("<i2").tobytes())
    print(json.dumps({"channels": n, "started": True}), flush=True)
    split = decode(path, per_channel=True)
    mono = decode(path)
    peaks = [
        int(np.argmax(np.abs(np.fft.rfft(np.asarray(ch)))) * 16000 / len(ch))
        for ch in split.channels
    ]
    print(json.dumps({
        "channels": n, "kept": len(split.channels), "source": split.source_channels,
        "duration": split.duration, "peaks_hz": peaks, "mono": len(mono.channels),
        "mono_rms": float(np.sqrt(np.mean(np.square(mono.mono)))),
    }), flush=True)
"""


#: Long enough for many packets, frames and resampler calls per file, and a 1 Hz FFT bin; a
#: packed frame's layout (issue 13) does not depend on the length. 5 s took twice as long.
SWEEP_SECONDS = 1.0


def test_every_channel_count_from_1_to_32_decodes(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", SWEEP, str(tmp_path), str(SWEEP_SECONDS)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    last = lines[-1] if lines else {}
    assert proc.returncode == 0, (
        f"decoding {last.get('channels')} channels ended the process "
        f"(exit {proc.returncode}): {proc.stderr[-2000:]}"
    )
    results = [r for r in lines if "kept" in r]
    assert [r["channels"] for r in results] == list(range(1, 33))
    for r in results:
        n = r["channels"]
        assert r["kept"] == n and r["source"] == n and r["mono"] == 1
        assert abs(r["duration"] - SWEEP_SECONDS) < 0.01
        # each channel holds its own tone (200 Hz + 50 Hz per channel), in order
        assert r["peaks_hz"] == [200 + 50 * c for c in range(n)], r
        assert 0.0 < r["mono_rms"] < 0.3


def _silent_wav(path: Path, channels: int, seconds: float = 0.1) -> Path:
    with wave.open(str(path), "wb") as w:  # 8 kHz, so the resampler runs too
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(np.zeros((int(seconds * 8000), channels), dtype="<i2").tobytes())
    return path


def test_the_most_channels_the_resampler_takes_decode(tmp_path: Path) -> None:
    path = _silent_wav(tmp_path / "max.wav", MAX_CHANNELS)
    assert probe(path).channels == MAX_CHANNELS == 64
    split = decode(path, per_channel=True)
    assert len(split.channels) == MAX_CHANNELS and abs(split.duration - 0.1) < 0.01
    assert len(decode(path).channels) == 1


@pytest.mark.parametrize("channels", [MAX_CHANNELS + 1, 255])
def test_more_channels_are_refused_when_probed(tmp_path: Path, channels: int) -> None:
    """Refused at the edge with a reason, not failed late as an internal error."""
    path = _silent_wav(tmp_path / "wide.wav", channels)
    with pytest.raises(InvalidAudio, match=f"{channels} channels; at most 64"):
        probe(path)
    with pytest.raises(InvalidAudio, match="at most 64"):
        decode(path)


def _long_wav(path: Path, seconds: int) -> Path:
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    second = (0.2 * np.sin(2 * np.pi * 300 * t) * 32767).astype("<i2").tobytes()
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        for _ in range(seconds):
            w.writeframes(second)
    return path


MEMORY = r"""
import json, resource, sys
from pathlib import Path
import numpy as np
from parley.pipeline.decode import decode, release

before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
audio = decode(Path(sys.argv[1]), scratch_dir=Path(sys.argv[2]))
after_decode = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
x = audio.mono
total = 0.0
step = 30 * 16000
for a in range(0, len(x), step):  # what a stage does: read a window, release it
    total += float(np.abs(x[a:a + step]).sum())
    release(x, a, a + step)
after_read = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"decode_kb": after_decode - before, "read_kb": after_read - before,
                  "samples": len(x), "mean_abs": total / len(x)}))
"""


def test_decode_and_windowed_reads_keep_memory_flat(tmp_path: Path) -> None:
    seconds = 20 * 60  # 77 MB as float32
    path = _long_wav(tmp_path / "long.wav", seconds)
    proc = subprocess.run(
        [sys.executable, "-c", MEMORY, str(path), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    out = json.loads(proc.stdout)
    float32_mb = seconds * SAMPLE_RATE * 4 / 2**20
    assert out["samples"] == seconds * SAMPLE_RATE
    assert abs(out["mean_abs"] - 0.2 * 2 / np.pi) < 0.01  # the tone's mean |sin|, read back
    # Holding the signal in RAM even once would add ~77 MB; decode + reading it all adds
    # little more than one window.
    assert out["decode_kb"] / 1024 < 0.25 * float32_mb, out
    assert out["read_kb"] / 1024 < 0.25 * float32_mb, out


def test_decoded_signal_is_read_only_and_release_keeps_the_data(tmp_path: Path) -> None:
    audio = decode(_long_wav(tmp_path / "tone.wav", 3))
    x = audio.mono
    head = np.array(x[:1000])
    release(x, 0, len(x))
    np.testing.assert_array_equal(x[:1000], head)
    with pytest.raises(ValueError):
        x[0] = 1.0
    release(np.zeros(10, dtype=np.float32), 0, 10)  # an in-memory array: a no-op


def test_max_duration_is_enforced_while_decoding(tmp_path: Path) -> None:
    path = _long_wav(tmp_path / "long.wav", 30)
    with pytest.raises(InvalidAudio, match="longer than the maximum"):
        decode(path, max_duration=10)


def test_stereo_file_mixes_to_one_channel_or_keeps_two(testdata: Path) -> None:
    path = testdata / "stereo/faster_whisper_stereo/stereo_diarization.wav"
    mono, split = decode(path), decode(path, per_channel=True)
    assert len(mono.channels) == 1 and len(split.channels) == 2
    np.testing.assert_allclose(mono.mono, (split.channels[0] + split.channels[1]) / 2, atol=1e-6)
