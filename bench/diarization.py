"""Benchmark the speakers stage: DER per recording, word attribution, long-audio memory.

Usage (from the repo root)::

    .venv/bin/python bench/diarization.py            # DER tables, count given and estimated
    .venv/bin/python bench/diarization.py --long     # + ~1 h synthetic recording: time, RSS
    .venv/bin/python bench/diarization.py --set step=0.5 --set cluster_threshold=0.55
    .venv/bin/python bench/diarization.py --activity-floor   # what no clustering can fix
    .venv/bin/python bench/diarization.py --repeat ../shared/testdata/diarization/\
        pyannote_sample/sample.rttm --lengths 10,60,120,240     # count stable? time linear?

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
    hdr = (
        f"| {'recording':<28} | spk ref/hyp | DER | DER ±0.25 | missed | false al. "
        f"| confusion | RTF (median of {repeats}) | CPU s per audio s |"
    )
    print(hdr)
    print("|" + "|".join("---" for _ in range(9)) + "|")
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
        times, cpu = [], []
        for _ in range(repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            turns = diarize(audio, models=models, options=opts)
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        hyp = [(t.start, t.end, t.speaker) for t in turns]
        r0 = diarization_error(ref, hyp, uem, collar=0.0)
        r1 = diarization_error(ref, hyp, uem, collar=0.25)
        rtf = statistics.median(times) / (len(audio) / SAMPLE_RATE)
        cpu_rtf = statistics.median(cpu) / (len(audio) / SAMPLE_RATE)
        n_hyp = len({t.speaker for t in turns})
        name = f"{rttm.parent.name.split('_')[0]}/{rttm.stem}"[:28]
        print(
            f"| {name:<28} | {n_ref} / {n_hyp} | {100 * r0.der:5.1f}% | {100 * r1.der:5.1f}% "
            f"| {100 * r0.missed_rate:5.1f}% | {100 * r0.false_alarm_rate:5.1f}% "
            f"| {100 * r0.confusion_rate:5.1f}% | {rtf:.3f} | {cpu_rtf:.3f} |"
        )
        if rttm.parent.name == "ami_pyannote_debug":
            ami.append((r0, r1, rtf, n_ref == n_hyp, _split(rttm), cpu_rtf))
        if rttm.stem == "sample":
            extra["sample"] = (turns, r0)
    if ami:
        mean = lambda xs: 100 * statistics.fmean(xs)  # noqa: E731
        pooled = lambda rs, a: 100 * sum(getattr(r, a) for r in rs) / sum(r.total for r in rs)  # noqa: E731
        r0s, r1s = [a[0] for a in ami], [a[1] for a in ami]
        print(
            f"| **AMI mean of {len(ami)} files** | {sum(a[3] for a in ami)}/{len(ami)} right "
            f"| **{mean([r.der for r in r0s]):.1f}%** | {mean([r.der for r in r1s]):.1f}% "
            f"| {mean([r.missed_rate for r in r0s]):.1f}% "
            f"| {mean([r.false_alarm_rate for r in r0s]):.1f}% "
            f"| {mean([r.confusion_rate for r in r0s]):.1f}% "
            f"| {statistics.median(a[2] for a in ami):.3f} "
            f"| {statistics.median(a[5] for a in ami):.3f} |"
        )
        tot0 = sum(r.missed + r.false_alarm + r.confusion for r in r0s) / sum(r.total for r in r0s)
        tot1 = sum(r.missed + r.false_alarm + r.confusion for r in r1s) / sum(r.total for r in r1s)
        print(
            f"| AMI pooled (total time) | | {100 * tot0:.1f}% | {100 * tot1:.1f}% "
            f"| {pooled(r0s, 'missed'):.1f}% | {pooled(r0s, 'false_alarm'):.1f}% "
            f"| {pooled(r0s, 'confusion'):.1f}% | | |"
        )
        for half, files in (("tune: dev+trn", "tune"), ("test: tst", "test")):
            part = [a for a in ami if a[4] == files]
            if part:
                print(
                    f"| AMI {half} mean ({len(part)}) | {sum(a[3] for a in part)}/{len(part)} "
                    f"right | {mean([a[0].der for a in part]):.1f}% "
                    f"| {mean([a[1].der for a in part]):.1f}% "
                    f"| {mean([a[0].missed_rate for a in part]):.1f}% "
                    f"| {mean([a[0].false_alarm_rate for a in part]):.1f}% "
                    f"| {mean([a[0].confusion_rate for a in part]):.1f}% | | |"
                )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"\nspk ref/hyp: speakers in the RTTM / speakers found. Peak RSS so far (whole "
        f"process): {rss:.0f} MB"
    )
    return extra


def word_accuracy(extra: dict, label: str) -> None:
    stm = TESTDATA / "diarization" / "pyannote_sample" / "sample.stm"
    if "sample" not in extra or not stm.exists():
        return
    turns, r0 = extra["sample"]
    ref_words = stm_words(stm)
    labelled = assign_speakers([w for w, _ in ref_words], turns)
    right = sum(
        r0.mapping.get(w.speaker or "") == spk_name(spk)
        for w, (_, spk) in zip(labelled, ref_words, strict=True)
    )
    print(
        f"\nWord-level speaker attribution, pyannote sample ({label}): "
        f"{right}/{len(ref_words)} = {100 * right / len(ref_words):.1f}% "
        f"(STM utterance spans split by characters; DER mapping)"
    )


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
    t0, c0 = time.perf_counter(), time.process_time()
    done = []
    turns = diarize(buf, models=models, options=base, progress=done.append)
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"\n## Long audio: {minutes:.0f} min synthetic concatenation of {len(files)} test files "
        f"({i} pieces)\n"
    )
    print(
        f"diarization time {dt:.1f} s, RTF {dt / (target / SAMPLE_RATE):.3f}, "
        f"CPU time {cpu:.1f} s ({cpu / (target / SAMPLE_RATE):.3f} CPU s per audio s), "
        f"{len({t.speaker for t in turns})} speakers, {len(turns)} turns; "
        f"peak RSS (ru_maxrss, whole process incl. audio) {rss:.0f} MB "
        f"(before diarize: {rss0:.0f} MB); progress calls {len(done)}, "
        f"monotonic {all(a <= b for a, b in itertools.pairwise(done))}"
    )


def repeat_run(base: DiarizationOptions, rttm: Path, minutes: list[float], threads: int) -> None:
    """One conversation repeated to each length, the count estimated: is the count stable,
    and does the time grow linearly? Each length runs in its own process, so the peak RSS
    is that length's alone."""
    import multiprocessing

    print(
        f"\n## One conversation repeated: {rttm.parent.name}/{rttm.stem}, count estimated "
        f"({len({s for *_, s in load_rttm(rttm)})} speakers in the RTTM)\n"
    )
    print(
        "| length | speakers found | DER (no collar) | missed | false al. | confusion "
        "| wall s | RTF | CPU s per audio s | peak RSS MB (process) |"
    )
    print("|" + "|".join("---" for _ in range(10)) + "|")
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1, maxtasksperchild=1) as pool:
        for m in minutes:
            row = pool.apply(_repeat_one, (base, rttm, m, threads))
            print(
                f"| {m:g} min | {row['speakers']} | {100 * row['der']:.1f}% "
                f"| {100 * row['missed']:.1f}% | {100 * row['fa']:.1f}% "
                f"| {100 * row['conf']:.1f}% | {row['wall']:.1f} | {row['rtf']:.3f} "
                f"| {row['cpu_rtf']:.3f} | {row['rss']:.0f} |",
                flush=True,
            )


def _repeat_one(base: DiarizationOptions, rttm: Path, minutes: float, threads: int) -> dict:
    models = load_speaker_models(threads=threads)
    piece = load_audio(rttm.with_suffix(".wav"))
    ref_piece = load_rttm(rttm)
    period = len(piece) / SAMPLE_RATE
    copies = max(1, round(minutes * 60 / period))
    audio = np.tile(piece, copies)
    del piece
    ref = [(s + k * period, e + k * period, spk) for k in range(copies) for s, e, spk in ref_piece]
    t0, c0 = time.perf_counter(), time.process_time()
    turns = diarize(audio, models=models, options=base)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    seconds = len(audio) / SAMPLE_RATE
    r = diarization_error(ref, [(t.start, t.end, t.speaker) for t in turns], [(0.0, seconds)])
    return {
        "speakers": len({t.speaker for t in turns}),
        "der": r.der,
        "missed": r.missed_rate,
        "fa": r.false_alarm_rate,
        "conf": r.confusion_rate,
        "wall": wall,
        "rtf": wall / seconds,
        "cpu_rtf": cpu / seconds,
        "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _split(rttm: Path) -> str:
    """Which half of the AMI excerpts a file belongs to: thresholds are chosen on ``tune``
    (dev*, trn*) and reported on ``test`` (tst*) too, so the test figure is not fitted."""
    if rttm.parent.name != "ami_pyannote_debug":
        return "other"
    return "test" if rttm.stem.startswith("tst") else "tune"


#: Threshold grids of --activity-floor, per segmentation model ("off" = model not used).
_OFF = 2.0
_GRIDS = {
    "segmentation-3.0": {
        "speech_threshold": (0.2, 0.3, 0.4, 0.5, 0.6),
        "overlap_threshold": (0.2, 0.3, 0.4, 0.5, 0.6),
        "use_overlap_model": (False,),
    },
    "segmentation v2": {
        "speech_threshold": (_OFF,),
        "v2_speech_threshold": (0.2, 0.3, 0.4, 0.5, 0.6),
        "v2_overlap_threshold": (0.2, 0.3, 0.4, 0.5),
        "v2_third_threshold": (0.2, 0.3, 0.4, _OFF),
    },
    "union (3.0 at its defaults + v2)": {
        "v2_speech_threshold": (0.3, 0.4, 0.5, 0.6, 0.7, _OFF),
        "v2_overlap_threshold": (0.3, 0.4, 0.5, 0.6, _OFF),
        "v2_third_threshold": (0.2, 0.3, 0.4, 0.5, _OFF),
    },
}


def activity_floor(models, base: DiarizationOptions) -> None:
    """Per segmentation model, sweep its activity thresholds over one model pass; choose them
    on the tune half of the AMI excerpts and print missed + false alarm (the floor no
    clustering can lower) and DER on both halves and on the other recordings."""
    evidence = []
    for rttm in recordings():
        audio = load_audio(rttm.with_suffix(".wav"))
        uem_path = rttm.with_suffix(".uem")
        uem = load_uem(uem_path) if uem_path.exists() else [(0.0, len(audio) / SAMPLE_RATE)]
        ref = load_rttm(rttm)
        ev = gather_evidence(audio, models, dataclasses.replace(base, use_overlap_model=True))
        evidence.append((rttm, ref, uem, len({s for *_, s in ref}), ev))
    names = [e[0].stem[:8] for e in evidence if _split(e[0]) == "other"]
    print(
        "\n## Activity floor per segmentation model (count given; thresholds chosen on the "
        "tune half)\n"
    )
    print(
        "tune = dev00-01 + trn00-09 (12 files), test = tst00-01. Floor = missed + false alarm "
        "(mean of per-file rates); 'off' = that output is not used.\n"
    )
    print(
        "| model | thresholds | tune floor | tune missed | tune FA | tune DER | test floor "
        "| test DER | " + " | ".join(f"{n} DER" for n in names) + " |"
    )
    print("|" + "---|" * (8 + len(names)))
    for model, grid in _GRIDS.items():
        keys = list(grid)
        rows = []
        for values in itertools.product(*(grid[k] for k in keys)):
            opts = dataclasses.replace(base, **dict(zip(keys, values, strict=True)))
            res: dict[str, list] = {"tune": [], "test": [], "other": []}
            for rttm, ref, uem, n_ref, ev in evidence:
                turns = resolve_turns(ev, n_ref, opts)
                hyp = [(t.start, t.end, t.speaker) for t in turns]
                res[_split(rttm)].append(diarization_error(ref, hyp, uem))
            floor = {
                h: statistics.fmean(r.missed_rate + r.false_alarm_rate for r in rs)
                for h, rs in res.items()
                if h != "other"
            }
            rows.append((floor["tune"], values, res, floor))
        rows.sort(key=lambda row: row[0])
        for label, row in (
            ("lowest floor", rows[0]),
            ("lowest DER", min(rows, key=lambda r: statistics.fmean(x.der for x in r[2]["tune"]))),
        ):
            _, values, res, floor = row
            shown = ", ".join(
                f"{k}={'off' if v == _OFF else v}"
                for k, v in zip(keys, values, strict=True)
                if k != "use_overlap_model"
            )
            tune = res["tune"]
            print(
                f"| {model} ({label}) | {shown} | **{100 * floor['tune']:.1f}%** "
                f"| {100 * statistics.fmean(r.missed_rate for r in tune):.1f}% "
                f"| {100 * statistics.fmean(r.false_alarm_rate for r in tune):.1f}% "
                f"| {100 * statistics.fmean(r.der for r in tune):.1f}% "
                f"| {100 * floor['test']:.1f}% "
                f"| {100 * statistics.fmean(r.der for r in res['test']):.1f}% | "
                + " | ".join(f"{100 * r.der:.1f}%" for r in res["other"])
                + " |",
                flush=True,
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--long", action="store_true", help="also run a ~1 h synthetic recording")
    ap.add_argument("--long-only", action="store_true", help="only the long run")
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument(
        "--activity-floor",
        action="store_true",
        help="only sweep speech/overlap thresholds for the missed+FA floor",
    )
    ap.add_argument(
        "--repeat",
        metavar="RTTM",
        help="only repeat this reference's recording to each of --lengths minutes, count "
        "estimated (stability of the count, time against length)",
    )
    ap.add_argument("--lengths", default="10,60,120,240", help="minutes, for --repeat")
    ap.add_argument("--repeats", type=int, default=3, help="timing repeats (median)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a DiarizationOptions field",
    )
    args = ap.parse_args()
    if not (TESTDATA / "diarization").is_dir():
        raise SystemExit(f"test data not found at {TESTDATA} (set PARLEY_TESTDATA)")
    overrides = {}
    for kv in args.set:
        key, val = kv.split("=", 1)
        kind = type(getattr(DiarizationOptions(), key))
        overrides[key] = val.lower() in ("1", "true", "yes") if kind is bool else kind(val)
    base = dataclasses.replace(DiarizationOptions(), **overrides)
    if args.repeat:
        lengths = [float(m) for m in args.lengths.split(",")]
        repeat_run(base, Path(args.repeat), lengths, args.threads)
        return
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
