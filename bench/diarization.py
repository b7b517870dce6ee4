"""Benchmark the speakers stage: DER per recording, word attribution, long-audio memory.

Usage (from the repo root)::

    .venv/bin/python bench/diarization.py            # DER tables, count given and estimated
    .venv/bin/python bench/diarization.py --long     # + ~1 h synthetic recording: time, RSS
    .venv/bin/python bench/diarization.py --set step=0.5 --set cluster_threshold=0.55
    .venv/bin/python bench/diarization.py --activity-floor   # what no clustering can fix

Test data: $PARLEY_TESTDATA or ../shared/testdata (never copied into the repo). Every file of
diarization/ that has an RTTM is scored; the AMI excerpts are averaged (mean of per-file DER,
and DER pooled over all their speech). DER is pyannote.metrics-equivalent (bench/der.py), with
no collar and with a ±0.25 s collar (pyannote.metrics collar=0.5), UEM respected.

Word attribution: the pyannote sample's STM has timed *utterances*; each utterance's words
get time spans in proportion to their length in characters, `assign_speakers` labels them
from our turns, and a word is right when its speaker maps (via the DER mapping) to the STM
speaker of its utterance.

Activity floor (``--activity-floor``): missed speech and false alarm do not depend on which
speaker a turn is given to, only on how many speakers are active in each frame, and that
count comes from the segmentation model. So missed + false alarm is a floor that no
clustering or embedding can lower. The models run once per recording; the speech and overlap
thresholds are then swept over that one pass and the lowest AMI mean floor is reported.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import os
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from der import diarization_error, load_rttm, load_uem  # noqa: E402

from parley.pipeline.schema import SAMPLE_RATE, Word  # noqa: E402
from parley.pipeline.speakers import (  # noqa: E402
    DiarizationOptions,
    assign_speakers,
    diarize,
    gather_evidence,
    load_speaker_models,
    resolve_turns,
)

TESTDATA = Path(os.environ.get("PARLEY_TESTDATA", REPO.parent / "shared" / "testdata"))


def load_audio(path: Path) -> np.ndarray:
    """The mono 16 kHz samples the server's own decode stage gives the speakers stage."""
    from parley.pipeline.decode import decode

    return decode(path).mono


def recordings() -> list[Path]:
    return sorted((TESTDATA / "diarization").glob("*/*.rttm"))


def stm_words(path: Path) -> list[tuple[Word, str]]:
    """Reference words with spans spread over their utterance by character count."""
    out = []
    for line in path.read_text().splitlines():
        parts = line.split(maxsplit=5)
        if len(parts) < 6:
            continue
        spk, start, end, text = parts[2], float(parts[3]), float(parts[4]), parts[5]
        tokens = text.split()
        weights = np.array([len(t) + 1 for t in tokens], dtype=float)
        edges = start + (end - start) * np.concatenate([[0], np.cumsum(weights)]) / weights.sum()
        for tok, a, b in zip(tokens, edges[:-1], edges[1:], strict=True):
            out.append((Word(text=tok, start=float(a), end=float(b)), spk))
    return out


def run_table(models, base: DiarizationOptions, given: bool, repeats: int) -> dict:
    print(f"\n## Speaker count {'given (from the RTTM)' if given else 'estimated'}\n")
    hdr = (f"| {'recording':<28} | spk ref/hyp | DER | DER ±0.25 | missed | false al. "
           f"| confusion | RTF (median of {repeats}) |")
    print(hdr)
    print("|" + "|".join("---" for _ in range(8)) + "|")
    ami = []
    extra = {}
    for rttm in recordings():
        wav = rttm.with_suffix(".wav")
        uem_path = rttm.with_suffix(".uem")
        ref = load_rttm(rttm)
        audio = load_audio(wav)
        uem = load_uem(uem_path) if uem_path.exists() else [(0.0, len(audio) / SAMPLE_RATE)]
        n_ref = len({s for *_, s in ref})
        opts = dataclasses.replace(base, num_speakers=n_ref if given else None)
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            turns = diarize(audio, models=models, options=opts)
            times.append(time.perf_counter() - t0)
        hyp = [(t.start, t.end, t.speaker) for t in turns]
        r0 = diarization_error(ref, hyp, uem, collar=0.0)
        r1 = diarization_error(ref, hyp, uem, collar=0.25)
        rtf = statistics.median(times) / (len(audio) / SAMPLE_RATE)
        n_hyp = len({t.speaker for t in turns})
        name = f"{rttm.parent.name.split('_')[0]}/{rttm.stem}"[:28]
        print(f"| {name:<28} | {n_ref} / {n_hyp} | {100 * r0.der:5.1f}% | {100 * r1.der:5.1f}% "
              f"| {100 * r0.missed_rate:5.1f}% | {100 * r0.false_alarm_rate:5.1f}% "
              f"| {100 * r0.confusion_rate:5.1f}% | {rtf:.3f} |")
        if rttm.parent.name == "ami_pyannote_debug":
            ami.append((r0, r1, rtf, n_ref == n_hyp))
        if rttm.stem == "sample":
            extra["sample"] = (turns, r0)
    if ami:
        mean = lambda xs: 100 * statistics.fmean(xs)  # noqa: E731
        pooled = lambda rs, a: 100 * sum(getattr(r, a) for r in rs) / sum(r.total for r in rs)  # noqa: E731
        r0s, r1s = [a[0] for a in ami], [a[1] for a in ami]
        print(f"| **AMI mean of {len(ami)} files** | {sum(a[3] for a in ami)}/{len(ami)} right "
              f"| **{mean([r.der for r in r0s]):.1f}%** | {mean([r.der for r in r1s]):.1f}% "
              f"| {mean([r.missed_rate for r in r0s]):.1f}% "
              f"| {mean([r.false_alarm_rate for r in r0s]):.1f}% "
              f"| {mean([r.confusion_rate for r in r0s]):.1f}% "
              f"| {statistics.median(a[2] for a in ami):.3f} |")
        tot0 = sum(r.missed + r.false_alarm + r.confusion for r in r0s) / sum(r.total for r in r0s)
        tot1 = sum(r.missed + r.false_alarm + r.confusion for r in r1s) / sum(r.total for r in r1s)
        print(f"| AMI pooled (total time) | | {100 * tot0:.1f}% | {100 * tot1:.1f}% "
              f"| {pooled(r0s, 'missed'):.1f}% | {pooled(r0s, 'false_alarm'):.1f}% "
              f"| {pooled(r0s, 'confusion'):.1f}% | |")
    return extra


def word_accuracy(extra: dict, label: str) -> None:
    stm = TESTDATA / "diarization" / "pyannote_sample" / "sample.stm"
    if "sample" not in extra or not stm.exists():
        return
    turns, r0 = extra["sample"]
    ref_words = stm_words(stm)
    labelled = assign_speakers([w for w, _ in ref_words], turns)
    right = sum(r0.mapping.get(w.speaker or "") == spk_name(spk) for w, (_, spk) in
                zip(labelled, ref_words, strict=True))
    print(f"\nWord-level speaker attribution, pyannote sample ({label}): "
          f"{right}/{len(ref_words)} = {100 * right / len(ref_words):.1f}% "
          f"(STM utterance spans split by characters; DER mapping)")


def spk_name(stm_speaker: str) -> str:
    # sample.stm names people (Diane, Sheila); sample.rttm uses speaker90/91.
    return {"Diane": "speaker90", "Sheila": "speaker91"}.get(stm_speaker, stm_speaker)


def long_run(models, base: DiarizationOptions, minutes: float) -> None:
    files = [p.with_suffix(".wav") for p in recordings()]
    pieces = [load_audio(p) for p in files]
    target = int(minutes * 60 * SAMPLE_RATE)
    buf = np.empty(target, dtype=np.float32)
    pos, i = 0, 0
    while pos < target:
        p = pieces[i % len(pieces)]
        m = min(len(p), target - pos)
        buf[pos : pos + m] = p[:m]
        pos += m
        i += 1
    del pieces
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    done = []
    turns = diarize(buf, models=models, options=base, progress=done.append)
    dt = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\n## Long audio: {minutes:.0f} min synthetic concatenation of {len(files)} test files "
          f"({i} pieces)\n")
    print(f"diarization time {dt:.1f} s, RTF {dt / (target / SAMPLE_RATE):.3f}, "
          f"{len({t.speaker for t in turns})} speakers, {len(turns)} turns; "
          f"peak RSS (ru_maxrss, whole process incl. audio) {rss:.0f} MB "
          f"(before diarize: {rss0:.0f} MB); progress calls {len(done)}, "
          f"monotonic {all(a <= b for a, b in itertools.pairwise(done))}")


def activity_floor(models, base: DiarizationOptions) -> None:
    """Sweep the activity thresholds over one model pass; print the missed + FA floor."""
    evidence = []
    for rttm in recordings():
        audio = load_audio(rttm.with_suffix(".wav"))
        uem_path = rttm.with_suffix(".uem")
        uem = load_uem(uem_path) if uem_path.exists() else [(0.0, len(audio) / SAMPLE_RATE)]
        ref = load_rttm(rttm)
        ev = gather_evidence(audio, models, base)
        evidence.append((rttm, ref, uem, len({s for *_, s in ref}), ev))
    speech = (0.1, 0.2, 0.3, 0.35, 0.4, 0.5, 0.6)
    overlap = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6)
    rows = []
    for st, ot in itertools.product(speech, overlap):
        opts = dataclasses.replace(base, speech_threshold=st, overlap_threshold=ot)
        ami, others = [], {}
        for rttm, ref, uem, n_ref, ev in evidence:
            turns = resolve_turns(ev, n_ref, opts)
            r = diarization_error(ref, [(t.start, t.end, t.speaker) for t in turns], uem)
            if rttm.parent.name == "ami_pyannote_debug":
                ami.append(r)
            else:
                others[rttm.stem[:8]] = r.der
        floor = statistics.fmean(r.missed_rate + r.false_alarm_rate for r in ami)
        rows.append((floor, st, ot, statistics.fmean(r.der for r in ami),
                     statistics.fmean(r.missed_rate for r in ami),
                     statistics.fmean(r.false_alarm_rate for r in ami), others))
    rows.sort(key=lambda row: row[0])
    default = next(r for r in rows if (r[1], r[2]) == (base.speech_threshold,
                                                       base.overlap_threshold))
    names = sorted(rows[0][6])
    print(f"\n## Activity floor: missed + false alarm, AMI mean of "
          f"{sum(1 for e in evidence if e[0].parent.name == 'ami_pyannote_debug')} files, "
          f"count given ({len(rows)} threshold pairs over one model pass)\n")
    print("| speech thr | overlap thr | AMI floor (missed+FA) | missed | FA | AMI DER | "
          + " | ".join(f"{n} DER" for n in names) + " |")
    print("|" + "---|" * (6 + len(names)))
    for row in [*rows[:5], default]:
        mark = " (default)" if row is default else ""
        print(f"| {row[1]}{mark} | {row[2]} | **{100 * row[0]:.1f}%** | {100 * row[4]:.1f}% "
              f"| {100 * row[5]:.1f}% | {100 * row[3]:.1f}% | "
              + " | ".join(f"{100 * row[6][n]:.1f}%" for n in names) + " |")
    print(f"\nNo labelling of this segmentation's activity can score below "
          f"{100 * rows[0][0]:.1f}% mean DER on the AMI excerpts with these thresholds.")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--long", action="store_true", help="also run a ~1 h synthetic recording")
    ap.add_argument("--long-only", action="store_true", help="only the long run")
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--activity-floor", action="store_true",
                    help="only sweep speech/overlap thresholds for the missed+FA floor")
    ap.add_argument("--repeats", type=int, default=3, help="timing repeats (median)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="override a DiarizationOptions field")
    args = ap.parse_args()
    if not (TESTDATA / "diarization").is_dir():
        raise SystemExit(f"test data not found at {TESTDATA} (set PARLEY_TESTDATA)")
    overrides = {}
    for kv in args.set:
        key, val = kv.split("=", 1)
        overrides[key] = type(getattr(DiarizationOptions(), key))(val)
    base = dataclasses.replace(DiarizationOptions(), **overrides)
    t0 = time.perf_counter()
    models = load_speaker_models(threads=args.threads)
    print(f"models loaded in {time.perf_counter() - t0:.2f} s; options: {base}")
    if args.activity_floor:
        activity_floor(models, base)
        return
    if not args.long_only:
        for given in (True, False):
            extra = run_table(models, base, given, args.repeats)
            word_accuracy(extra, "count given" if given else "count estimated")
    if args.long or args.long_only:
        long_run(models, base, args.minutes)


if __name__ == "__main__":
    main()
