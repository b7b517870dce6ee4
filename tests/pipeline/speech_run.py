"""Run the speech stage on joined test recordings in a fresh process; print JSON.

CTranslate2 reads ``CT2_FORCE_CPU_ISA`` once, when it loads, so each kernel family
needs its own process: ``tests/pipeline/test_speech.py`` starts this script once per
family. Usage: ``python speech_run.py TESTDATA MODEL_CACHE`` → one JSON object with
one entry per scenario (words with times, each part's span, the untranscribed figure).
``hear`` is the same work with a model already loaded (the fast suite's run, in-process).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from parley.pipeline.decode import decode  # noqa: E402
from parley.pipeline.models import Models, WhisperRuntime  # noqa: E402
from parley.pipeline.schema import SAMPLE_RATE  # noqa: E402
from parley.pipeline.speech import recognize  # noqa: E402

# Read and phone files that, joined with 0.5 s gaps, made VAD chunks of ~27 s in which the
# batched decoder stopped after the first sentence (58 of 143 words lost, four whole
# recordings), and in which it later put words of the next recording into this one's span.
JOINED = [
    "read/ljspeech/LJ001-0001.flac",
    "read/ljspeech/LJ001-0012.flac",
    "read/ljspeech/LJ001-0023.flac",
    "LJ002-0035.wav",
    "sense_and_sensibility_01_austen_64kb-0890.wav",
    "vm-forwardoptions.wav",
    "vm-newuser.wav",
    "dictate_record_help.wav",
    "vm-tempgreeting2.wav",
]
# Speech, 2 min of digital silence, speech, 2 min of noise, speech (issue 8, item 7).
QUIET = ["LJ001-0001.flac", None, "vm-newuser.wav", "noise", "cmu_arctic_us_aew_a0001.wav"]
FILLER_S = 120.0


def _find(manifest: list[dict], name: str) -> dict:
    return next(e for e in manifest if e["audio"] == name or e["audio"].endswith("/" + name))


def _filler(kind: str | None) -> np.ndarray:
    n = int(FILLER_S * SAMPLE_RATE)
    if kind is None:
        return np.zeros(n, dtype=np.float32)
    # Pink-ish noise at a speech-like level (-26 dBFS RMS): white noise through a
    # one-pole low-pass, seeded so every run hears the same.
    white = np.random.default_rng(8).standard_normal(n).astype(np.float32)
    from scipy.signal import lfilter

    noise = lfilter([1.0], [1.0, -0.95], white).astype(np.float32)
    return noise * (0.05 / float(np.sqrt(np.mean(noise**2))))


def _build(testdata: Path, manifest: list[dict], parts: list, gap_s: float) -> tuple:
    gap = np.zeros(int(gap_s * SAMPLE_RATE), dtype=np.float32)
    pieces, spans, cursor = [], [], 0
    for part in parts:
        if part in (None, "noise"):
            audio, info = _filler(part), {"audio": part or "silence", "reference_text": ""}
        else:
            info = _find(manifest, part)
            audio = np.array(decode(testdata / info["audio"]).mono)
        spans.append(
            {
                "audio": info["audio"],
                "reference": info["reference_text"],
                "start": cursor / SAMPLE_RATE,
                "end": (cursor + len(audio)) / SAMPLE_RATE,
            }
        )
        pieces += [audio, gap]
        cursor += len(audio) + len(gap)
    return np.concatenate(pieces), spans


def hear(testdata: Path, runtime: WhisperRuntime) -> dict:
    """Both scenarios transcribed by ``runtime``: what ``main`` prints."""
    manifest = json.loads((testdata / "manifest.json").read_text())
    out = {}
    for name, parts, gap in (("joined", JOINED, 0.5), ("quiet", QUIET, 0.5)):
        samples, spans = _build(testdata, manifest, parts, gap)
        result = recognize(samples, runtime=runtime)
        out[name] = {
            "spans": spans,
            "words": [[w.text, w.start, w.end] for w in result.words],
            "untranscribed_seconds": result.untranscribed_seconds,
            "language": result.language,
        }
    return out


def main() -> None:
    testdata, cache = Path(sys.argv[1]), Path(sys.argv[2])
    print(json.dumps(hear(testdata, Models(cache_dir=cache).whisper)))


if __name__ == "__main__":
    main()
