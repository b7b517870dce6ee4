"""Diarization error rate, computed the way pyannote.metrics does (torch-free).

Exact segment arithmetic on the elementary intervals between all boundaries; the scored
region is the UEM (or the extent of reference and hypothesis), minus ``collar`` seconds on
each side of every reference boundary; the reference-to-hypothesis speaker mapping is the
one maximising total co-occurrence (Hungarian, scipy's linear_sum_assignment), as in
pyannote.metrics' DiarizationErrorRate. Overlapped speech is scored (skip_overlap=False).

Note on collars: ``collar`` here is the half-width (±collar around each boundary);
pyannote.metrics' ``collar`` argument is the full width, so collar=0.25 here equals
``DiarizationErrorRate(collar=0.5)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

Segment = tuple[float, float, str]  # start, end, speaker


def load_rttm(path: Path) -> list[Segment]:
    """SPEAKER lines of an RTTM file as (start, end, speaker)."""
    segs = []
    for line in Path(path).read_text().splitlines():
        parts = line.split()
        if len(parts) >= 8 and parts[0] == "SPEAKER":
            start, dur = float(parts[3]), float(parts[4])
            segs.append((start, start + dur, parts[7]))
    return segs


def load_uem(path: Path) -> list[tuple[float, float]]:
    """Scored regions of a UEM file (``uri channel start end``)."""
    regions = []
    for line in Path(path).read_text().splitlines():
        parts = line.split()
        if len(parts) >= 4:
            regions.append((float(parts[2]), float(parts[3])))
    return regions


@dataclass(frozen=True)
class DERResult:
    der: float
    missed: float  # seconds
    false_alarm: float
    confusion: float
    total: float  # seconds of reference speech scored
    mapping: dict[str, str]  # hypothesis speaker -> reference speaker

    @property
    def missed_rate(self) -> float:
        return self.missed / self.total if self.total else 0.0

    @property
    def false_alarm_rate(self) -> float:
        return self.false_alarm / self.total if self.total else 0.0

    @property
    def confusion_rate(self) -> float:
        return self.confusion / self.total if self.total else 0.0


def _union(intervals: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[list[float]] = []
    for s, e in sorted(intervals):
        if e <= s:
            continue
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


def _subtract(a: list[tuple[float, float]], b: list[tuple[float, float]]):
    """Intervals of union ``a`` not covered by union ``b``."""
    out = []
    for s, e in a:
        cur = s
        for bs, be in b:
            if be <= cur or bs >= e:
                continue
            if bs > cur:
                out.append((cur, bs))
            cur = max(cur, be)
        if cur < e:
            out.append((cur, e))
    return out


def diarization_error(
    reference: Sequence[Segment],
    hypothesis: Sequence[Segment],
    uem: Sequence[tuple[float, float]] | None = None,
    collar: float = 0.0,
) -> DERResult:
    """DER of ``hypothesis`` against ``reference`` (see module docstring)."""
    if uem is None:
        ends = [e for _, e, _ in (*reference, *hypothesis)]
        starts = [s for s, _, _ in (*reference, *hypothesis)]
        uem = [(min(starts), max(ends))] if ends else []
    scored = _union(uem)
    if collar > 0:
        bounds = {t for s, e, _ in reference for t in (s, e)}
        scored = _subtract(scored, _union((t - collar, t + collar) for t in bounds))

    ref_spk = sorted({s for _, _, s in reference})
    hyp_spk = sorted({s for _, _, s in hypothesis})
    cuts = {t for s, e in scored for t in (s, e)}
    cuts |= {t for s, e, _ in (*reference, *hypothesis) for t in (s, e)}
    grid = np.array(sorted(cuts))
    if len(grid) < 2:
        return DERResult(0.0, 0.0, 0.0, 0.0, 0.0, {})
    lo, hi = grid[:-1], grid[1:]
    mid = (lo + hi) / 2
    dur = hi - lo
    in_scored = np.zeros(len(mid), dtype=bool)
    for s, e in scored:
        in_scored |= (mid > s) & (mid < e)
    dur = np.where(in_scored, dur, 0.0)

    def activity(segs: Sequence[Segment], names: list[str]) -> np.ndarray:
        act = np.zeros((len(mid), len(names)), dtype=bool)
        idx = {n: i for i, n in enumerate(names)}
        for s, e, spk in segs:
            act[:, idx[spk]] |= (mid > s) & (mid < e)
        return act

    r = activity(reference, ref_spk)
    h = activity(hypothesis, hyp_spk)
    cooc = (r.T.astype(float) * dur) @ h.astype(float)  # (R, H) seconds
    mapping: dict[str, str] = {}
    correct = np.zeros(len(mid))
    if len(ref_spk) and len(hyp_spk):
        rows, cols = linear_sum_assignment(cooc, maximize=True)
        for ri, hi_ in zip(rows, cols, strict=True):
            if cooc[ri, hi_] > 0:
                mapping[hyp_spk[hi_]] = ref_spk[ri]
                correct += r[:, ri] & h[:, hi_]
    n_ref = r.sum(axis=1)
    n_hyp = h.sum(axis=1)
    total = float((dur * n_ref).sum())
    missed = float((dur * np.maximum(0, n_ref - n_hyp)).sum())
    fa = float((dur * np.maximum(0, n_hyp - n_ref)).sum())
    conf = float((dur * (np.minimum(n_ref, n_hyp) - correct)).sum())
    der = (missed + fa + conf) / total if total else 0.0
    return DERResult(der, missed, fa, conf, total, mapping)
