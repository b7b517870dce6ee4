"""Speakers stage: word attribution (pure logic), model integrity, and real diarization."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from parley.pipeline import speakers
from parley.pipeline.schema import SAMPLE_RATE, SpeakerTurn, Word
from parley.pipeline.speakers import (
    DiarizationOptions,
    ModelChecksumError,
    SpeakerEvidence,
    assign_speakers,
    diarize,
    load_speaker_models,
)

REPO = Path(__file__).resolve().parents[2]


def _der_module():
    """bench/der.py, loaded by path (tests run with --import-mode=importlib)."""
    spec = importlib.util.spec_from_file_location("parley_bench_der", REPO / "bench" / "der.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up while being created
    spec.loader.exec_module(mod)
    return mod


def _w(text: str, start: float, end: float) -> Word:
    return Word(text=text, start=start, end=end)


TURNS = [
    SpeakerTurn(0.0, 2.0, "SPEAKER_00"),
    SpeakerTurn(2.0, 4.0, "SPEAKER_01"),
    SpeakerTurn(3.5, 3.9, "SPEAKER_00"),  # overlapping interjection
    SpeakerTurn(6.0, 8.0, "SPEAKER_00"),
]


# ------------------------------------------------------------------ assign_speakers


def test_assign_by_max_overlap_per_word_not_per_segment():
    words = [_w("a", 0.5, 0.9), _w("b", 1.8, 2.4), _w("c", 1.9, 2.05), _w("d", 2.5, 2.9)]
    out = assign_speakers(words, TURNS)
    # "b" straddles the change but lies mostly in SPEAKER_01's turn; "c" mostly in 00's.
    assert [w.speaker for w in out] == ["SPEAKER_00", "SPEAKER_01", "SPEAKER_00", "SPEAKER_01"]


def test_overlapped_speech_keeps_a_speaker_and_sums_turns_per_speaker():
    # 3.4-3.9: SPEAKER_01 covers 0.5 s, SPEAKER_00 (interjection) covers 0.4 s.
    out = assign_speakers([_w("x", 3.4, 3.9), _w("y", 3.55, 3.85)], TURNS)
    assert out[0].speaker == "SPEAKER_01"
    # fully inside both: a tie on overlap resolves deterministically to one of them
    assert out[1].speaker in {"SPEAKER_00", "SPEAKER_01"}


def test_words_in_gaps_take_nearest_turn_and_none_are_dropped():
    words = [_w("g1", 4.2, 4.5), _w("g2", 5.6, 5.8), _w("late", 9.0, 9.5), _w("z", 7.0, 7.0)]
    out = assign_speakers(words, TURNS)
    assert len(out) == len(words)
    assert [w.speaker for w in out] == ["SPEAKER_01", "SPEAKER_00", "SPEAKER_00", "SPEAKER_00"]


def test_assign_is_pure_and_handles_no_turns():
    words = [_w("a", 0.1, 0.2), Word("b", 0.3, 0.4, 0.5, speaker="old")]
    out = assign_speakers(words, TURNS)
    assert words[0].speaker is None and words[1].speaker == "old"  # input untouched
    assert out[1].probability == 0.5 and out[1].text == "b"
    assert out[0] is not words[0]
    assert [w.speaker for w in assign_speakers(words, [])] == [None, "old"]
    assert assign_speakers([], TURNS) == []


# ------------------------------------------------------------------ DER helper sanity


def test_der_helper_on_crafted_case():
    der = _der_module()
    ref = [(0.0, 10.0, "A"), (10.0, 20.0, "B")]
    hyp = [(0.0, 10.0, "x"), (10.0, 15.0, "y"), (15.0, 20.0, "x")]
    r = der.diarization_error(ref, hyp, [(0.0, 20.0)])
    assert r.mapping == {"x": "A", "y": "B"}
    assert r.der == pytest.approx(0.25)
    assert r.confusion == pytest.approx(5.0) and r.missed == 0 and r.false_alarm == 0
    # collar of ±0.5 s around every reference boundary removes 3 s of scored time
    r2 = der.diarization_error(ref, hyp, [(0.0, 20.0)], collar=0.5)
    assert r2.total == pytest.approx(18.0)


# ------------------------------------------------------------------ models


def test_bundled_checksum_mismatch_raises_naming_the_file(tmp_path, monkeypatch):
    fake = tmp_path / "assets"
    fake.mkdir()
    for name in (speakers.EMBEDDING_FILE, speakers.SEGMENTATION_FILE):
        (fake / name).write_bytes(b"not a model")
    monkeypatch.setattr(speakers, "ASSETS", fake)
    with pytest.raises(ModelChecksumError, match=speakers.EMBEDDING_FILE):
        load_speaker_models()


def test_explicit_paths_skip_checksum(tmp_path, monkeypatch):
    # A user's own weights load without the bundled-sha check (here: the same files copied,
    # with the recorded checksums made wrong so that a check would fail).
    emb = tmp_path / "emb.onnx"
    seg = tmp_path / "seg.onnx"
    shutil.copy(speakers.ASSETS / speakers.EMBEDDING_FILE, emb)
    shutil.copy(speakers.ASSETS / speakers.SEGMENTATION_FILE, seg)
    ov = tmp_path / "v2.onnx"
    shutil.copy(speakers.ASSETS / speakers.OVERLAP_FILE, ov)
    monkeypatch.setattr(speakers, "BUNDLED_SHA256", dict.fromkeys(speakers.BUNDLED_SHA256, "0"))
    models = load_speaker_models(emb, seg, overlap_model=ov, threads=1)
    assert models.embedding_path == emb and models.overlap_path == ov
    assert load_speaker_models(emb, seg, overlap_model="off").overlap is None
    with pytest.raises(ModelChecksumError, match=speakers.SEGMENTATION_FILE):
        load_speaker_models(emb, None, overlap_model=None)
    with pytest.raises(ModelChecksumError, match=speakers.OVERLAP_FILE):
        load_speaker_models(emb, seg)  # bundled segmentation v2, checked
    with pytest.raises(FileNotFoundError):
        load_speaker_models(tmp_path / "missing.onnx", seg)


@pytest.fixture(scope="module")
def models():
    return load_speaker_models()


def test_fbank_shape_and_mean_normalisation_input(models):
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    tone = (0.1 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    fb = speakers._fbank(tone, models._mel)
    assert fb.shape == (98, 80)
    # energy concentrates in the mel bin holding 440 Hz
    assert 10 <= int(np.argmax(fb.mean(axis=0))) <= 20


def test_silence_and_tiny_input_give_no_turns(models):
    progress: list[float] = []
    assert (
        diarize(np.zeros(5 * SAMPLE_RATE, np.float32), models=models, progress=progress.append)
        == []
    )
    assert progress[-1] == 1.0
    assert diarize(np.zeros(10, np.float32), models=models) == []
    assert diarize(np.zeros(0, np.float32), models=models) == []


def test_low_level_noise_is_not_speech(models):
    rng = np.random.default_rng(0)
    noise = (0.001 * rng.standard_normal(12 * SAMPLE_RATE)).astype(np.float32)
    assert diarize(noise, models=models) == []


# ------------------------------------------------------------------ real recordings


def _load(path: Path) -> np.ndarray:
    from faster_whisper import decode_audio

    return decode_audio(str(path), sampling_rate=SAMPLE_RATE).astype(np.float32)


def _resident_bytes(address: int) -> int:
    """Rss of the mapping that starts at ``address``, from /proc/self/smaps."""
    lines = Path("/proc/self/smaps").read_text().splitlines()
    for i, line in enumerate(lines):
        if line.split("-", 1)[0] == f"{address:x}":
            for detail in lines[i + 1 :]:
                if detail.startswith("Rss:"):
                    return int(detail.split()[1]) * 1024
    raise AssertionError("mapping not found")


@dataclass
class Diarized:
    """One ``diarize`` of the pyannote sample, two speakers given, and what it left."""

    audio: np.ndarray  # as ``decode`` gives it: backed by a mapped scratch file
    nbytes: int
    evidence: SpeakerEvidence  # the gathering ``diarize`` made (the default options')
    turns: list[SpeakerTurn]
    progress: list[float]
    resident_before: int  # of the audio's mapping, all pages touched
    resident_after: int


@pytest.fixture(scope="module")
def sample(testdata, models) -> Diarized:
    """The pyannote sample diarized once: gathering is most of a diarization's time, and
    four tests read its turns, its evidence, or the audio pages it left resident.

    ``gather_evidence`` is wrapped only to keep what the real one returned: its options
    matter for the window step and the embedding stride, which ``num_speakers`` is not, so
    this is the default options' gathering, which ``resolve_turns`` resolves again.
    """
    from parley.pipeline.decode import _address, _mapping, decode

    samples = decode(testdata / "diarization" / "pyannote_sample" / "sample.wav").mono
    mapping = _mapping(samples)
    assert mapping is not None, "decode gives a file-backed array"
    np.asarray(samples).sum()  # touch every page, as a whole-file read would
    before = _resident_bytes(_address(mapping))
    gathered: list[SpeakerEvidence] = []
    real = speakers.gather_evidence

    def keep(*args: Any, **kwargs: Any) -> SpeakerEvidence:
        gathered.append(real(*args, **kwargs))
        return gathered[-1]

    progress: list[float] = []
    with pytest.MonkeyPatch.context() as m:
        m.setattr(speakers, "gather_evidence", keep)
        turns = diarize(
            samples,
            models=models,
            options=DiarizationOptions(num_speakers=2),
            progress=progress.append,
        )
    after = _resident_bytes(_address(mapping))
    (evidence,) = gathered
    return Diarized(samples, samples.nbytes, evidence, turns, progress, before, after)


def test_pyannote_sample_two_speakers(testdata, sample):
    der = _der_module()
    folder = testdata / "diarization" / "pyannote_sample"
    ref = der.load_rttm(folder / "sample.rttm")
    turns, progress = sample.turns, sample.progress
    labels = [t.speaker for t in turns]
    assert sorted(set(labels)) == ["SPEAKER_00", "SPEAKER_01"]
    assert labels[0] == "SPEAKER_00"  # numbered by first appearance
    assert [t.start for t in turns] == sorted(t.start for t in turns)
    assert all(0.0 <= t.start < t.end <= 30.0 for t in turns)
    assert progress == sorted(progress) and progress[-1] == 1.0
    r = der.diarization_error(ref, [(t.start, t.end, t.speaker) for t in turns], [(0.0, 30.0)])
    assert r.der < 0.20, r  # measured 6.6 % (bench/diarization.py)
    # speech starts at 6.7 s: nothing should be claimed well before that
    assert turns[0].start > 6.0

    # Count estimated: still two speakers on this clean call. (``diarize`` with the
    # default options is this gathering and this resolution.)
    est = speakers.resolve_turns(sample.evidence, None, DiarizationOptions())
    assert len({t.speaker for t in est}) == 2


def test_ami_overlap_yields_overlapping_turns(testdata, models):
    folder = testdata / "diarization" / "ami_pyannote_debug"
    # EN2002-style meeting, heavy overlap. Its first 15 s (6 windows, not 21) hold all four
    # voices and 8 s of detected overlap; with overlap detection off they give 0 s.
    audio = _load(folder / "tst00.wav")[: 15 * SAMPLE_RATE]
    turns = diarize(audio, models=models, options=DiarizationOptions(num_speakers=4))
    assert len({t.speaker for t in turns}) >= 3
    overlap = 0.0
    for i, a in enumerate(turns):
        for b in turns[i + 1 :]:
            if b.speaker != a.speaker:
                overlap += max(0.0, min(a.end, b.end) - max(a.start, b.start))
    assert overlap > 3.0  # seconds of two-speaker speech detected


def test_clustering_is_bounded_and_rest_assigned(testdata, models, monkeypatch):
    # max_cluster_embeddings caps the clustered set (memory on long audio); every other
    # embedding is assigned to the resulting centroids.
    seen: list[int] = []
    real = speakers._cluster

    def spy(emb, num, opts):
        seen.append(len(emb))
        return real(emb, num, opts)

    monkeypatch.setattr(speakers, "_cluster", spy)
    audio = _load(testdata / "diarization" / "picovoice_falcon" / "falcon_test.wav")
    opts = DiarizationOptions(num_speakers=3, max_cluster_embeddings=10)
    turns = diarize(audio, models=models, options=opts)
    assert len(seen) == 1 and 0 < seen[0] <= 10
    # three clean single-speaker clips separated by silence: still three speakers
    assert len({t.speaker for t in turns}) == 3


# ------------------------------------------------------------------ overlap model, count


def _evidence(levels: np.ndarray, speech: float = 0.0, overlap: float = 0.0):
    frames = len(levels)
    return speakers.SpeakerEvidence(
        duration=frames * 270 / SAMPLE_RATE,
        starts=[0],
        total_frames=frames,
        speech=np.full(frames, speech, np.float32),
        overlap=np.full(frames, overlap, np.float32),
        cover=np.ones(frames, np.float32),
        levels=levels.astype(np.float32),
    )


def test_frame_counts_union_of_both_models_and_a_third_voice():
    levels = np.array([[0.0, 0.0, 0.0], [0.9, 0.1, 0.0], [0.9, 0.8, 0.1], [0.9, 0.8, 0.7]])
    opts = DiarizationOptions(
        v2_speech_threshold=0.5, v2_overlap_threshold=0.5, v2_third_threshold=0.5
    )
    # 3.0 hears nothing: the counts are v2's, up to three at once
    assert speakers.frame_counts(_evidence(levels), opts).tolist() == [0, 1, 2, 3]
    # 3.0 hears two everywhere: the union never counts fewer than it
    both = _evidence(levels, speech=0.9, overlap=0.9)
    assert speakers.frame_counts(both, opts).tolist() == [2, 2, 2, 3]
    # without the overlap model only 3.0's counts remain
    off = DiarizationOptions(use_overlap_model=False)
    assert speakers.frame_counts(_evidence(levels), off).tolist() == [0, 0, 0, 0]


def test_same_voice_clusters_merge_and_distinct_ones_stay():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal(192), rng.standard_normal(192)
    near_a = a + 0.1 * rng.standard_normal(192)
    cents = np.stack([a, near_a, b])
    cents /= np.linalg.norm(cents, axis=1, keepdims=True)
    merged = speakers._merge_same_voice(cents, 0.8)
    assert len(merged) == 2
    assert np.allclose(np.linalg.norm(merged, axis=1), 1.0, atol=1e-6)
    assert len(speakers._merge_same_voice(cents, 0.999)) == 3


def test_word_in_full_overlap_goes_to_the_ongoing_turn():
    turns = [SpeakerTurn(0.0, 5.0, "SPEAKER_01"), SpeakerTurn(2.0, 2.6, "SPEAKER_00")]
    out = assign_speakers([_w("yes", 2.1, 2.5), _w("and", 1.0, 1.3)], turns)
    # both cover "yes" entirely; SPEAKER_01 talks all around it, SPEAKER_00 only interjects
    assert [w.speaker for w in out] == ["SPEAKER_01", "SPEAKER_01"]


def test_overlap_model_outputs_three_independent_speakers(models):
    assert models.overlap is not None
    rng = np.random.default_rng(0)
    chunk = (0.05 * rng.standard_normal((2, 1, 10 * SAMPLE_RATE))).astype(np.float32)
    out = models.overlap.run(None, {models.overlap.get_inputs()[0].name: chunk})[0]
    assert out.shape == (2, 589, 3)
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0


def test_three_voices_with_the_count_given(testdata, models):
    audio = _load(testdata / "diarization" / "ami_pyannote_debug" / "trn06.wav")
    turns = diarize(audio, models=models, options=DiarizationOptions(num_speakers=3))
    assert len({t.speaker for t in turns}) == 3


def test_one_voice_is_not_split_to_fill_a_larger_count(testdata, models):
    audio = _load(testdata / "read" / "librispeech" / "1089-134686-0000.flac")
    turns = diarize(audio, models=models, options=DiarizationOptions(num_speakers=3))
    assert len({t.speaker for t in turns}) == 1


def test_linked_windows_embed_less_and_keep_both_callers(models, sample):
    full = sample.evidence
    linked = speakers.gather_evidence(sample.audio, models, DiarizationOptions(embed_every=3))
    assert not full.links and linked.links
    assert len(linked.emb) < 0.7 * len(full.emb)
    turns = speakers.resolve_turns(linked, 2, DiarizationOptions(embed_every=3))
    assert len({t.speaker for t in turns}) == 2


def test_diarize_leaves_the_audio_pages_released(testdata, sample):
    """The mapped scratch copy of a long recording must not stay resident after the
    speakers stage: for 4 hours that was 0.92 GB of the worker's RSS. (The ``sample``
    fixture reads the mapping's resident size right before and after its ``diarize``.)"""
    from parley.pipeline.decode import decode

    assert sample.resident_before > 0.5 * sample.nbytes
    assert sample.resident_after < 0.1 * sample.nbytes
    assert speakers._audible(
        decode(testdata / "diarization" / "pyannote_sample" / "sample.wav").mono
    )
    assert not speakers._audible(np.zeros(3 * (1 << 20), dtype=np.float32))
