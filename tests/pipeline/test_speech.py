"""The speech stage on real recordings: nothing that was said is dropped, on every kernel family.

The fast suite hears the scenarios of ``speech_run.py`` in this process, with the session's
model, on the kernel family CTranslate2 picks for this CPU. The slow suite also forces each
family (``CT2_FORCE_CPU_ISA``), each in a process of its own, because CTranslate2 reads
the variable once, at load.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import MODEL_CACHE

RUNNER = Path(__file__).with_name("speech_run.py")


def _cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    line = next((ln for ln in text.splitlines() if ln.startswith("flags")), "")
    return set(line.split(":", 1)[-1].split())


def _families() -> list[Any]:
    """The default family in the fast suite: what this machine runs in production (AVX512
    where there is one), from the model already loaded. Forcing AVX2 and AVX512 means a
    process and a model load each, and repeats the same check on this CPU: the slow suite's.
    """
    flags = _cpu_flags()
    return [
        pytest.param(None, id="default"),
        *(
            pytest.param(
                isa,
                marks=[
                    pytest.mark.skipif(flag not in flags, reason=f"this CPU has no {flag}"),
                    pytest.mark.slow,
                ],
            )
            for isa, flag in (("AVX2", "avx2"), ("AVX512", "avx512f"))
        ),
    ]


def _runner() -> Any:
    """speech_run.py, loaded by path (tests run with --import-mode=importlib)."""
    spec = importlib.util.spec_from_file_location("parley_speech_run", RUNNER)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module", params=_families())
def heard(request: pytest.FixtureRequest, testdata: Path) -> dict[str, Any]:
    """Both scenarios of speech_run.py, transcribed under one kernel family."""
    if request.param is None:
        hear: dict[str, Any] = _runner().hear(testdata, request.getfixturevalue("models").whisper)
        return json.loads(json.dumps(hear))  # as the script hands it over
    env = {**os.environ, "CT2_FORCE_CPU_ISA": request.param}
    proc = subprocess.run(
        [sys.executable, str(RUNNER), str(testdata), str(MODEL_CACHE)],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def words_of(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.lower())


def _inside(words: list[list], start: float, end: float, slack: float = 0.5) -> list[str]:
    return [w[0] for w in words if w[1] >= start - slack and w[2] <= end + slack]


def test_every_joined_recording_is_heard_inside_its_own_span(heard: dict[str, Any]) -> None:
    joined = heard["joined"]
    words = joined["words"]
    for span in joined["spans"]:
        said = [w for w in words_of(span["reference"]) if len(w) > 3]
        inside = set(words_of(" ".join(_inside(words, span["start"], span["end"]))))
        found = sum(w in inside for w in said)
        # 60 %, not 100 %: Whisper writes "eight" as "8" and may mishear a word; a dropped
        # or misplaced recording scores 0 here even when its words appear elsewhere.
        assert found >= 0.6 * len(said), (span["audio"], said, sorted(inside))
    assert [w[1] for w in words] == sorted(w[1] for w in words)
    assert joined["untranscribed_seconds"] == 0


def test_long_chunks_keep_every_recording(heard: dict[str, Any]) -> None:
    """The original, weaker check: each recording's words are heard somewhere."""
    joined = heard["joined"]
    everywhere = set(words_of(" ".join(w[0] for w in joined["words"])))
    for span in joined["spans"]:
        said = [w for w in words_of(span["reference"]) if len(w) > 3]
        assert sum(w in everywhere for w in said) >= 0.6 * len(said), span["audio"]


def test_silence_and_noise_get_no_text(heard: dict[str, Any]) -> None:
    quiet = heard["quiet"]
    words = quiet["words"]
    for span in quiet["spans"]:
        inside = _inside(words, span["start"] + 1.0, span["end"] - 1.0, slack=0.0)
        if span["audio"] in ("silence", "noise"):
            assert inside == [], (span["audio"], inside)
        else:
            said = [w for w in words_of(span["reference"]) if len(w) > 3]
            got = set(words_of(" ".join(_inside(words, span["start"], span["end"]))))
            assert sum(w in got for w in said) >= 0.6 * len(said), (span["audio"], got)
    texts = [w[0].lower() for w in words]
    assert len(texts) < 80, texts  # the three recordings hold 42 words
    assert quiet["language"] == "en"
