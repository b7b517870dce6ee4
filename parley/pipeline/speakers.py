"""Speaker diarization: who spoke when, and which speaker said each word.

The approach follows pyannote.audio 3.x, without torch:

1. **Local segmentation.** pyannote segmentation-3.0 (ONNX) runs on 10 s windows sliding by
   ``DiarizationOptions.step``. Each window yields, every ~17 ms, which of up to 3 *local*
   speakers talk (at most 2 at once: this is where overlap and speaker changes come from).
2. **Embeddings.** For every (window, local speaker) a CAM++ embedding (ONNX) is computed from
   the Kaldi fbank frames where that speaker talks alone (falling back to all its frames).
3. **Global clustering.** The embeddings (a bounded, evenly spread sample of them on long
   audio) are clustered into speakers: agglomerative, cut at the
   known count (centroid linkage + k-means refinement), or average linkage cut at a cosine
   distance threshold when the count is to be estimated.
4. **Reconstruction.** Each window's local speakers are matched one-to-one to the global
   speakers (Hungarian on cosine similarity to the centroids). Per output frame, the number of
   simultaneous speakers (0, 1 or 2) comes from the window-averaged speech and overlap
   probabilities, and that many of the most active global speakers are kept, so turns of
   different speakers may overlap.

Everything is streamed window by window, so memory grows only with the (small) per-window
results: one hour of audio stays well under 2 GB.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.optimize import linear_sum_assignment

from parley.checksums import ModelChecksumError, sha256_file
from parley.pipeline.schema import SAMPLE_RATE, ProgressCallback, SpeakerTurn, Word

__all__ = [
    "DiarizationOptions",
    "ModelChecksumError",
    "SpeakerEvidence",
    "SpeakerModels",
    "assign_speakers",
    "diarize",
    "gather_evidence",
    "load_speaker_models",
    "resolve_turns",
]

log = logging.getLogger(__name__)

ASSETS = Path(__file__).resolve().parent / "assets"
EMBEDDING_FILE = "campplus.onnx"
SEGMENTATION_FILE = "segmentation-3.0.onnx"
#: sha256 of the bundled files, as written to assets/MODELS.md by tools/convert_speaker_models.py.
BUNDLED_SHA256 = {
    EMBEDDING_FILE: "ebdabfbd7a735337e42104a840853b922b1bddf2122926a5647e65724fced167",
    SEGMENTATION_FILE: "88ef4f559b113028d38f4c98d4a34265fd342de02870a922e23c1276ade0e359",
}

# segmentation-3.0 geometry (from its checkpoint: SincNet stride 10, three /3 poolings).
_SEG_WINDOW = 10 * SAMPLE_RATE  # samples per window the model was trained on
_SEG_FRAME_STEP = 270 / SAMPLE_RATE  # 0.016875 s between output frames
_SEG_FRAME_DURATION = 991 / SAMPLE_RATE  # receptive field of one output frame
_SEG_LOCAL_SPEAKERS = 3
# Powerset classes in pyannote's order: {}, {0}, {1}, {2}, {0,1}, {0,2}, {1,2}.
_POWERSET = np.array(
    [[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [1, 0, 1], [0, 1, 1]],
    dtype=np.float32,
)

# Kaldi fbank as used to train CAM++ (3D-Speaker: torchaudio kaldi.fbank, 80 mel, dither 0).
_FB_WIN = 400  # 25 ms
_FB_HOP = 160  # 10 ms
_FB_NFFT = 512
_FB_MELS = 80


@dataclass(frozen=True)
class DiarizationOptions:
    """Knobs for :func:`diarize`. Defaults were chosen on the AMI excerpts and the pyannote
    sample (bench/diarization.py); change them only with a benchmark run to back it.

    Attributes:
        num_speakers: known speaker count (Symbl's diarizationSpeakerCount); None = estimate.
        max_speakers: upper bound when estimating (and a cap on ``num_speakers``).
        step: seconds between successive 10 s segmentation windows. Smaller is a little more
            accurate (more windows vote on every frame) and proportionally slower.
        long_audio_step: step used instead when the audio is longer than
            ``long_audio_seconds``, to keep RTF bounded on hour-long recordings (2.5 s costs
            a few DER points on the AMI excerpts against 1 s, at 40 % of the compute).
        long_audio_seconds: see ``long_audio_step``.
        min_embedding_speech: seconds of (preferably non-overlapped) speech a local speaker
            needs in a window for its embedding to help *build* the clusters; shorter ones are
            only assigned to the clusters afterwards.
        min_assign_speech: below this many seconds a local speaker is ignored altogether
            (too short for a meaningful embedding).
        cluster_threshold: cosine-distance cut of the average-linkage tree when the count is
            estimated (lower = more speakers; 0.7 already merged the two callers of the
            pyannote sample, 0.5-0.6 scored best on the AMI excerpts).
        min_cluster_fraction: when estimating, clusters holding less than this fraction of the
            embeddings are folded into their nearest big cluster (stray/noisy windows).
        max_cluster_embeddings: at most this many embeddings are clustered (whole windows,
            evenly spread over the recording); the rest are only assigned to the centroids.
            Bounds clustering memory/time (O(N²)) on long audio.
        speech_threshold: a frame is speech when the window-averaged probability of "someone
            talks" exceeds this. Averaging probabilities rather than hard decisions keeps
            quiet speech that only some windows are sure about.
        overlap_threshold: likewise for "two speakers at once" (adds a second speaker).
        min_gap: gaps shorter than this between two turns of one speaker are closed.
        min_turn: turns shorter than this are dropped.
        batch_size: windows per segmentation-model call.
    """

    num_speakers: int | None = None
    max_speakers: int = 8
    step: float = 1.0
    long_audio_step: float = 2.5
    long_audio_seconds: float = 900.0
    min_embedding_speech: float = 1.0
    min_assign_speech: float = 0.2
    cluster_threshold: float = 0.55
    speech_threshold: float = 0.4
    overlap_threshold: float = 0.4
    min_cluster_fraction: float = 0.05
    max_cluster_embeddings: int = 1500
    min_gap: float = 0.0
    min_turn: float = 0.0
    batch_size: int = 8


@dataclass
class SpeakerModels:
    """Loaded ONNX sessions. Load once per process (0.3 s) and reuse for many jobs; sessions
    are thread-safe for ``run``."""

    embedding: Any
    segmentation: Any
    embedding_path: Path
    segmentation_path: Path
    threads: int = 2
    _mel: np.ndarray = field(default_factory=lambda: _mel_banks(), repr=False)


def load_speaker_models(
    embedding_path: Path | None = None,
    segmentation_path: Path | None = None,
    *,
    threads: int = 2,
) -> SpeakerModels:
    """Load the CAM++ and segmentation ONNX models.

    With no paths, the bundled files are used and their sha256 is checked, so a corrupted or
    swapped asset fails loudly here instead of silently degrading diarization. Paths given by
    the caller are trusted as they are (other weights of the same architecture).
    """
    import onnxruntime as ort  # lazy: keeps importing this module cheap

    paths = []
    for given, name in ((embedding_path, EMBEDDING_FILE), (segmentation_path, SEGMENTATION_FILE)):
        if given is None:
            path = ASSETS / name
            if not path.is_file():
                raise FileNotFoundError(f"bundled speaker model missing: {path}")
            digest = sha256_file(path)
            if digest != BUNDLED_SHA256[name]:
                raise ModelChecksumError(
                    f"speaker model {path} has sha256 {digest}, expected "
                    f"{BUNDLED_SHA256[name]} (re-create it with tools/convert_speaker_models.py)"
                )
        else:
            path = Path(given)
            if not path.is_file():
                raise FileNotFoundError(f"speaker model not found: {path}")
        paths.append(path)

    def session(path: Path):
        so = ort.SessionOptions()
        so.intra_op_num_threads = max(1, threads)
        so.inter_op_num_threads = 1
        so.log_severity_level = 3
        return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])

    return SpeakerModels(
        embedding=session(paths[0]),
        segmentation=session(paths[1]),
        embedding_path=paths[0],
        segmentation_path=paths[1],
        threads=threads,
    )


# --------------------------------------------------------------------------- features


def _mel_banks() -> np.ndarray:
    """Kaldi's triangular mel filters (low 20 Hz, high Nyquist), shape (80, 256)."""

    def mel(f: np.ndarray | float) -> np.ndarray:
        return 1127.0 * np.log(1.0 + np.asarray(f, dtype=np.float64) / 700.0)

    lo, hi = mel(20.0), mel(SAMPLE_RATE / 2)
    delta = (hi - lo) / (_FB_MELS + 1)
    bins = mel(np.arange(_FB_NFFT // 2) * SAMPLE_RATE / _FB_NFFT)
    left = lo + np.arange(_FB_MELS)[:, None] * delta
    center, right = left + delta, left + 2 * delta
    up = (bins[None, :] - left) / (center - left)
    down = (right - bins[None, :]) / (right - center)
    return np.maximum(0.0, np.minimum(up, down)).astype(np.float32)


_POVEY = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(_FB_WIN) / (_FB_WIN - 1))) ** 0.85


def _fbank(samples: np.ndarray, mel: np.ndarray) -> np.ndarray:
    """80-d log-mel Kaldi fbank (povey window, pre-emphasis 0.97, DC removal, snip edges,
    dither 0), as 3D-Speaker computes it for CAM++. Returns (frames, 80) float32."""
    n = len(samples)
    if n < _FB_WIN:
        return np.zeros((0, _FB_MELS), dtype=np.float32)
    count = 1 + (n - _FB_WIN) // _FB_HOP
    frames = np.lib.stride_tricks.sliding_window_view(samples, _FB_WIN)[:: _FB_HOP][:count]
    frames = frames.astype(np.float64)
    frames = frames - frames.mean(axis=1, keepdims=True)
    frames[:, 1:] = frames[:, 1:] - 0.97 * frames[:, :-1]
    frames[:, 0] *= 1.0 - 0.97
    frames *= _POVEY
    spec = np.fft.rfft(frames, n=_FB_NFFT)[:, : _FB_NFFT // 2]
    power = (spec.real**2 + spec.imag**2).astype(np.float32)
    energies = power @ mel.T
    return np.log(np.maximum(energies, np.finfo(np.float32).eps))


# --------------------------------------------------------------------------- diarization


def _window_starts(num_samples: int, step: int) -> list[int]:
    """Start sample of each 10 s window; the last one is aligned to the end of the audio."""
    if num_samples <= _SEG_WINDOW:
        return [0]
    starts = list(range(0, num_samples - _SEG_WINDOW + 1, step))
    if starts[-1] + _SEG_WINDOW < num_samples:
        starts.append(num_samples - _SEG_WINDOW)
    return starts


def _embed(models: SpeakerModels, feats: np.ndarray) -> np.ndarray:
    """L2-normalised CAM++ embedding of mean-normalised fbank frames."""
    feats = feats - feats.mean(axis=0, keepdims=True)
    emb = models.embedding.run(None, {"feats": feats[None].astype(np.float32)})[0][0]
    return emb / max(float(np.linalg.norm(emb)), 1e-8)


def _centroids(emb: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    cents = np.stack([emb[labels == i].mean(axis=0) for i in range(k)])
    return cents / np.maximum(np.linalg.norm(cents, axis=1, keepdims=True), 1e-8)


def _relabel(labels: np.ndarray) -> tuple[np.ndarray, int]:
    uniq, inv = np.unique(labels, return_inverse=True)
    return inv.astype(np.int64), len(uniq)


def _cluster(emb: np.ndarray, num_speakers: int | None, opts: DiarizationOptions) -> np.ndarray:
    """Cluster L2-normalised embeddings; returns unit centroids (K, D).

    Known count: centroid-linkage tree cut at K (as pyannote), refined by a few spherical
    k-means steps. Unknown count: average-linkage tree cut at ``cluster_threshold`` cosine
    distance, which was the stable choice on short recordings (a few dozen embeddings) where
    spectral eigengap estimates wobbled; clusters too small to be a speaker are folded into
    their nearest big one.
    """
    n = len(emb)
    if n == 1 or num_speakers == 1:
        return _centroids(emb, np.zeros(n, dtype=np.int64), 1)
    if num_speakers is not None:
        z = linkage(emb.astype(np.float64), method="centroid", metric="euclidean")
        labels, k = _relabel(fcluster(z, min(num_speakers, n), criterion="maxclust"))
        cents = _centroids(emb, labels, k)
        for _ in range(10):
            labels, k = _relabel(np.argmax(emb @ cents.T, axis=1))
            new = _centroids(emb, labels, k)
            if new.shape == cents.shape and np.allclose(new, cents, atol=1e-6):
                break
            cents = new
        return cents
    z = linkage(emb.astype(np.float64), method="average", metric="cosine")
    labels, k = _relabel(fcluster(z, opts.cluster_threshold, criterion="distance"))
    sizes = np.bincount(labels, minlength=k)
    big = np.flatnonzero(sizes >= max(2.0, opts.min_cluster_fraction * n))
    if len(big) == 0:
        big = np.array([int(np.argmax(sizes))])
    cents = _centroids(emb, labels, k)[big]
    labels, k = _relabel(np.argmax(emb @ cents.T, axis=1))
    if k > opts.max_speakers:
        cents = _centroids(emb, labels, k)
        z2 = linkage(cents.astype(np.float64), method="average", metric="cosine")
        merge = fcluster(z2, opts.max_speakers, criterion="maxclust") - 1
        labels, k = _relabel(merge[labels])
    return _centroids(emb, labels, k)


@dataclass
class SpeakerEvidence:
    """What the models say about a recording (:func:`gather_evidence`); turning it into turns
    (:func:`resolve_turns`) is cheap arithmetic, so one model pass can be resolved many times
    (other speaker counts, other thresholds: bench/diarization.py --activity-floor)."""

    duration: float
    starts: list[int]  # window start samples
    total_frames: int
    speech: np.ndarray  # (G,) summed P(any speech) over windows
    overlap: np.ndarray  # (G,) summed P(two speakers)
    cover: np.ndarray  # (G,) windows covering each output frame
    local: list[np.ndarray] = field(default_factory=list)  # per window (589, 3) P(speaker)
    emb: list[np.ndarray] = field(default_factory=list)
    owner: list[tuple[int, int]] = field(default_factory=list)  # (window, local speaker)
    trainable: list[bool] = field(default_factory=list)


_FRAMES_PER_WINDOW = 1 + (_SEG_WINDOW - 991) // 270  # 589
_FB_PER_WINDOW = 1 + (_SEG_WINDOW - _FB_WIN) // _FB_HOP  # 998
# fbank frame j (centre j*160+200 samples) -> nearest segmentation frame (centre k*270+495).
_FB_TO_SEG = np.clip(
    np.rint((np.arange(_FB_PER_WINDOW) * _FB_HOP + _FB_WIN / 2 - 991 / 2) / 270).astype(int),
    0,
    _FRAMES_PER_WINDOW - 1,
)
# P(local speaker i) = sum of the powerset classes that contain i.
_MARGINAL = _POWERSET  # (7, 3)
_OVERLAP_CLASSES = _POWERSET.sum(axis=1) == 2


def gather_evidence(
    samples: np.ndarray,
    models: SpeakerModels,
    options: DiarizationOptions,
    report: ProgressCallback | None = None,
) -> SpeakerEvidence:
    """Run segmentation on every window and CAM++ on every local speaker, window by window.

    This is the expensive half of :func:`diarize` (all model calls); ``options`` matter here
    only for the window step and the embedding speech minimums.
    """
    report = report or (lambda _f: None)
    n = len(samples)
    duration = n / SAMPLE_RATE
    step_s = options.step if duration <= options.long_audio_seconds else options.long_audio_step
    starts = _window_starts(n, max(_FB_HOP, round(step_s * SAMPLE_RATE)))
    total = math.ceil(n / 270) + _FRAMES_PER_WINDOW + 1
    ev = SpeakerEvidence(
        duration=duration,
        starts=starts,
        total_frames=total,
        speech=np.zeros(total, dtype=np.float32),
        overlap=np.zeros(total, dtype=np.float32),
        cover=np.zeros(total, dtype=np.float32),
    )
    min_embed = options.min_embedding_speech / 0.01
    min_assign = options.min_assign_speech / 0.01
    seg_input = models.segmentation.get_inputs()[0].name
    for b0 in range(0, len(starts), options.batch_size):
        batch = starts[b0 : b0 + options.batch_size]
        chunks = np.zeros((len(batch), 1, _SEG_WINDOW), dtype=np.float32)
        for i, s in enumerate(batch):
            piece = samples[s : s + _SEG_WINDOW]
            chunks[i, 0, : len(piece)] = piece
        logits = models.segmentation.run(None, {seg_input: chunks})[0]
        for i, s in enumerate(batch):
            w = b0 + i
            prob = np.exp(logits[i].astype(np.float64))  # (589, 7)
            f0 = round(s / 270)
            sl = slice(f0, f0 + _FRAMES_PER_WINDOW)
            ev.speech[sl] += 1.0 - prob[:, 0]
            ev.overlap[sl] += prob[:, _OVERLAP_CLASSES].sum(axis=1)
            ev.cover[sl] += 1.0
            ev.local.append((prob @ _MARGINAL).astype(np.float32))
            hard = _POWERSET[np.argmax(prob, axis=-1)]  # (589, 3) binary
            if not np.any(hard.sum(axis=0) * 270 / SAMPLE_RATE >= options.min_assign_speech):
                continue
            fb = _fbank(chunks[i, 0], models._mel)
            seg_map = _FB_TO_SEG[: len(fb)]
            alone = hard.sum(axis=1) == 1
            for spk in range(_SEG_LOCAL_SPEAKERS):
                mask_all = hard[seg_map, spk] > 0
                mask_alone = mask_all & alone[seg_map]
                clean = int(mask_alone.sum())
                mask = mask_alone if clean >= min_embed else mask_all
                if mask.sum() < min_assign:
                    continue
                ev.emb.append(_embed(models, fb[mask]))
                ev.owner.append((w, spk))
                ev.trainable.append(clean >= min_embed)
        report(0.9 * min(1.0, (b0 + len(batch)) / len(starts)))
    return ev


def resolve_turns(
    ev: SpeakerEvidence, num_speakers: int | None, options: DiarizationOptions
) -> list[SpeakerTurn]:
    """Cluster the embeddings and turn window-local activity into global speaker turns."""
    if not ev.emb:
        return []
    emb = np.stack(ev.emb).astype(np.float32)
    train_idx = np.flatnonzero(ev.trainable)
    if len(train_idx) == 0:
        train_idx = np.arange(len(emb))
    if len(train_idx) > options.max_cluster_embeddings:
        # Keep whole windows, evenly spread: sampling single embeddings with a fixed stride
        # would alias with the local-speaker order and miss speakers.
        windows = np.array([ev.owner[i][0] for i in train_idx])
        uniq = np.unique(windows)
        per_window = len(train_idx) / len(uniq)
        keep_n = max(1, int(options.max_cluster_embeddings / per_window))
        while True:
            pick = uniq[np.unique(np.rint(np.linspace(0, len(uniq) - 1, keep_n)).astype(int))]
            chosen = train_idx[np.isin(windows, pick)]
            if len(chosen) <= options.max_cluster_embeddings or keep_n == 1:
                break
            keep_n -= 1
        train_idx = chosen[: options.max_cluster_embeddings]
    centroids = _cluster(emb[train_idx], num_speakers, options)
    k = len(centroids)
    log.debug("diarize: %d windows, %d embeddings, %d speakers", len(ev.starts), len(emb), k)

    # Constrained assignment: within a window, distinct local speakers -> distinct speakers.
    sims = emb @ centroids.T
    by_window: dict[int, list[int]] = {}
    for idx, (w, _spk) in enumerate(ev.owner):
        by_window.setdefault(w, []).append(idx)
    activation = np.zeros((ev.total_frames, k), dtype=np.float32)
    for w, idxs in by_window.items():
        rows, cols = linear_sum_assignment(sims[idxs], maximize=True)
        f0 = round(ev.starts[w] / 270)
        for r, c in zip(rows, cols, strict=True):
            spk = ev.owner[idxs[r]][1]
            activation[f0 : f0 + _FRAMES_PER_WINDOW, c] += ev.local[w][:, spk]

    # How many speakers talk in each frame: window-averaged speech / overlap probabilities.
    cover = np.maximum(ev.cover, 1.0)
    count = (ev.speech / cover > options.speech_threshold).astype(np.int64)
    count += (ev.overlap / cover > options.overlap_threshold) & (count > 0)
    count = np.minimum(count, k)
    # ... and keep that many of the most active speakers.
    order = np.argsort(-activation, axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.broadcast_to(np.arange(k), order.shape), axis=1)
    binary = (ranks < count[:, None]) & (activation > 1e-3)
    return _binary_to_turns(binary, ev.duration, options)


def diarize(
    samples: np.ndarray,
    *,
    models: SpeakerModels,
    options: DiarizationOptions = DiarizationOptions(),
    progress: ProgressCallback | None = None,
) -> list[SpeakerTurn]:
    """Find who spoke when in mono 16 kHz float32 ``samples``.

    Returns turns sorted by start, labelled SPEAKER_00, SPEAKER_01, ... in order of first
    appearance; turns of different speakers overlap where they talk at once.
    """
    samples = np.asarray(samples, dtype=np.float32).reshape(-1)
    report = progress or (lambda _f: None)
    if len(samples) < _FB_WIN or not np.any(np.abs(samples) > 1e-4):
        report(1.0)
        return []
    num_speakers = options.num_speakers
    if num_speakers is not None:
        num_speakers = max(1, min(int(num_speakers), options.max_speakers))
    ev = gather_evidence(samples, models, options, report)
    turns = resolve_turns(ev, num_speakers, options)
    report(1.0)
    return turns


def _binary_to_turns(
    binary: np.ndarray, duration: float, opts: DiarizationOptions
) -> list[SpeakerTurn]:
    """Frame-level speaker activity -> turns, labelled in order of first appearance."""
    half = _SEG_FRAME_DURATION / 2
    raw: list[tuple[float, float, int]] = []
    for spk in range(binary.shape[1]):
        col = np.concatenate([[False], binary[:, spk], [False]]).astype(np.int8)
        edges = np.flatnonzero(np.diff(col))
        spans: list[list[float]] = []
        for a, b in zip(edges[::2], edges[1::2], strict=True):
            # frame f covers the ~17 ms around its centre f*step + duration/2
            start = a * _SEG_FRAME_STEP + half - _SEG_FRAME_STEP / 2
            end = (b - 1) * _SEG_FRAME_STEP + half + _SEG_FRAME_STEP / 2
            start, end = max(0.0, start), min(duration, end)
            if end <= start:
                continue
            if spans and start - spans[-1][1] < opts.min_gap:
                spans[-1][1] = end
            else:
                spans.append([start, end])
        raw.extend((s, e, spk) for s, e in spans if e - s >= opts.min_turn)
    raw.sort(key=lambda t: (t[0], t[1], t[2]))
    names: dict[int, str] = {}
    turns = []
    for s, e, spk in raw:
        if spk not in names:
            names[spk] = f"SPEAKER_{len(names):02d}"
        turns.append(
            SpeakerTurn(start=round(float(s), 3), end=round(float(e), 3), speaker=names[spk])
        )
    return turns


# --------------------------------------------------------------------------- words


def assign_speakers(words: Sequence[Word], turns: Sequence[SpeakerTurn]) -> list[Word]:
    """Give each word the speaker whose turns overlap the word's own span the most.

    Decided per word, never per ASR segment, so a segment that straddles a speaker change is
    split correctly. In overlapped speech the word goes to the speaker covering more of it
    (an exact tie goes to the label that sorts first, so results are deterministic). A word
    in a gap between turns, or of zero length, takes the nearest turn's speaker. No word is
    dropped; with no turns at all the words come back with their speaker unchanged. The
    input is not modified.
    """
    if not turns:
        return [replace(w) for w in words]
    starts = np.array([t.start for t in turns], dtype=np.float64)
    ends = np.array([t.end for t in turns], dtype=np.float64)
    labels = [t.speaker for t in turns]
    speakers = sorted(set(labels))
    spk_index = np.array([speakers.index(lab) for lab in labels])
    out = []
    for w in words:
        ws, we = float(w.start), float(max(w.end, w.start))
        ov = np.clip(np.minimum(ends, we) - np.maximum(starts, ws), 0.0, None)
        if we > ws and ov.max() > 0:
            per_spk = np.bincount(spk_index, weights=ov, minlength=len(speakers))
            best = speakers[int(np.argmax(per_spk))]
        else:
            # zero-length word or in a gap: nearest turn (distance 0 if inside one)
            mid = (ws + we) / 2
            dist = np.maximum(0.0, np.maximum(starts - mid, mid - ends))
            best = labels[int(np.argmin(dist))]
        out.append(replace(w, speaker=best))
    return out
