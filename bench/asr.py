"""Benchmark speech recognition: Parley's pipeline against plain faster-whisper, same model files.

Usage (from the repo root)::

    .venv/bin/python bench/asr.py                     # read, long and phone sets (~30 min)
    .venv/bin/python bench/asr.py --quick             # a few files per set: a smoke test
    .venv/bin/python bench/asr.py --sets read --repeats 5 --save /tmp/asr.json
    .venv/bin/python bench/asr.py --engine parley --set read --json   # one run, JSON out

Engines, all on the bundled Whisper base (CTranslate2 int8, 2 threads, beam 5, word times):

- ``parley``: ``decode()`` + ``recognize()`` from parley/pipeline with the settings in the code
  (batched faster-whisper, batch 8, Silero VAD, temperature 0, no conditioning on previous
  text, language detected).
- ``parley-phone``: the same with ``SpeechOptions(phone=True)`` (Symbl ``mode=phone``).
- ``plain``: ``WhisperModel(dir, device="cpu", compute_type="int8", cpu_threads=2)
  .transcribe(path, beam_size=5, word_timestamps=True)``, every other option at
  faster-whisper's default: what a user of plain faster-whisper gets. The defaults include
  the temperature fallback (0.0 to 1.0 in steps of 0.2) and condition_on_previous_text=True,
  and no VAD.

Sets (test data: $PARLEY_TESTDATA or ../shared/testdata; see its MANIFEST.md):

- ``read``: every ``category == "read"`` file (56 files, 5.7 min), one call per file.
- ``long``: one recording built from all read files then all phone files, resampled to
  16 kHz with 0.5 s of silence between them (about 14.4 min), written to a temporary WAV;
  its reference is the references joined in the same order.
- ``phone``: the 8 kHz Asterisk prompts (30 files, 8 min): Parley default vs mode=phone vs plain.

WER is corpus-level (sum of edits / sum of reference words) after normalising both sides
(bench/common.py: Whisper-style, numbers to words). RTF is processing seconds (decoding the
file included) / audio seconds, the median over repeats. Every (set, engine, repeat) runs in
its own subprocess, so peak RSS (ru_maxrss at the end of the run) is per engine, and the
repeats alternate between engines so that load from other work on a shared machine falls on
both alike. Model load is timed separately (Parley's includes its sha256 check of model.bin),
and one untimed 5 s warm-up clip precedes the timed files.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from common import (  # noqa: E402
    corpus_wer,
    load_manifest,
    normalize,
    peak_rss_mb,
    testdata_dir,
)

SAMPLE_RATE = 16000
GAP_S = 0.5
SETS = ("read", "long", "phone")
CATEGORY = {"read": "read", "phone": "phone_8k"}
ENGINES = {
    "read": ("parley", "plain"),
    "long": ("parley", "plain"),
    "phone": ("parley", "parley-phone", "plain"),
}
LABEL = {
    "parley": "Parley (batched + VAD)",
    "parley-phone": "Parley mode=phone",
    "plain": "plain faster-whisper",
}
DEFAULT_CACHE = REPO / "parley-data" / "models"


@dataclass
class Item:
    name: str
    path: str
    ref: str
    duration: float


# -- test sets ---------------------------------------------------------------------------------


def select(entries: list[dict], set_name: str, quick: bool) -> list[Item]:
    chosen = [e for e in entries if e["category"] == CATEGORY[set_name]]
    if quick:  # a spread of read files; the shortest phone prompts
        chosen = (
            chosen[::11][:5]
            if set_name == "read"
            else sorted(chosen, key=lambda e: e["duration_s"])[:4]
        )
    return [
        Item(
            name=Path(e["audio"]).name,
            path=e["path"],
            ref=e["reference_text"],
            duration=float(e["duration_s"]),
        )
        for e in chosen
    ]


def long_parts(entries: list[dict], quick: bool) -> list[Item]:
    return select(entries, "read", quick) + select(entries, "phone", quick)


def build_long(parts: list[Item], out: Path) -> float:
    """Concatenate ``parts`` at 16 kHz with GAP_S silence between them into a 16-bit WAV."""
    from faster_whisper import decode_audio

    gap = np.zeros(int(GAP_S * SAMPLE_RATE), dtype=np.float32)
    total = 0
    with wave.open(str(out), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        for i, part in enumerate(parts):
            audio = decode_audio(part.path, sampling_rate=SAMPLE_RATE)
            chunk = np.concatenate([gap, audio]) if i else audio
            pcm = np.round(np.clip(chunk, -1.0, 1.0) * 32767).astype("<i2")
            w.writeframes(pcm.tobytes())
            total += len(chunk)
    return total / SAMPLE_RATE


def wav_duration(path: Path) -> float:
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / w.getframerate()


def items_for(set_name: str, entries: list[dict], quick: bool, long_wav: Path) -> list[Item]:
    if set_name != "long":
        return select(entries, set_name, quick)
    parts = long_parts(entries, quick)
    if not long_wav.exists():
        build_long(parts, long_wav)
    return [
        Item(
            name=long_wav.name,
            path=str(long_wav),
            ref=" ".join(p.ref for p in parts),
            duration=wav_duration(long_wav),
        )
    ]


# -- one engine, one set (the child process) ---------------------------------------------------

Transcribe = Callable[[str], str]
WarmUp = Callable[[np.ndarray], None]


def load_engine(engine: str, cache_dir: Path) -> tuple[Transcribe, WarmUp, float]:
    """Load the model; return transcribe(path) -> text, warm_up(samples), load seconds."""
    if engine in ("parley", "parley-phone"):
        from parley.pipeline.decode import decode
        from parley.pipeline.models import Models
        from parley.pipeline.speech import SpeechOptions, recognize

        t0 = time.perf_counter()
        runtime = Models(cache_dir=cache_dir).whisper
        load_s = time.perf_counter() - t0
        options = SpeechOptions(phone=engine == "parley-phone")

        def parley_run(path: str) -> str:
            samples = decode(Path(path)).mono
            result = recognize(samples, runtime=runtime, options=options)
            return " ".join(w.text for w in result.words)

        def parley_warm(samples: np.ndarray) -> None:
            recognize(samples, runtime=runtime, options=options)

        return parley_run, parley_warm, load_s

    if engine == "plain":
        from faster_whisper import WhisperModel

        from parley.pipeline.models import bundled_whisper_dir

        model_dir = bundled_whisper_dir(cache_dir)  # the same files; not timed
        t0 = time.perf_counter()
        model = WhisperModel(str(model_dir), device="cpu", compute_type="int8", cpu_threads=2)
        load_s = time.perf_counter() - t0

        def plain_run(path: str | np.ndarray) -> str:
            segments, _info = model.transcribe(path, beam_size=5, word_timestamps=True)
            return " ".join(w.word.strip() for s in segments for w in s.words or ())

        def plain_warm(samples: np.ndarray) -> None:
            plain_run(samples)

        return plain_run, plain_warm, load_s

    raise SystemExit(f"unknown engine {engine!r}; choose from {sorted(LABEL)}")


def run_child(args: argparse.Namespace) -> dict:
    from faster_whisper import decode_audio

    entries = load_manifest(testdata_dir())
    tmp = None
    long_wav = args.long_wav
    if args.set == "long" and long_wav is None:
        tmp = tempfile.TemporaryDirectory(prefix="parley-bench-")
        long_wav = Path(tmp.name) / "long.wav"
    items = items_for(args.set, entries, args.quick, long_wav or Path("/nonexistent"))

    load_avg = os.getloadavg()[0]
    transcribe, warm_up, load_s = load_engine(args.engine, args.cache_dir)
    warm_source = select(entries, "read", args.quick)[0] if args.set == "long" else items[0]
    warm_up(decode_audio(warm_source.path, sampling_rate=SAMPLE_RATE)[: 5 * SAMPLE_RATE].copy())

    totals: list[float] = []
    hyps: list[str] = []
    seconds: list[float] = []
    stable = True
    for repeat in range(args.repeats):
        these, times = [], []
        for item in items:
            t0 = time.perf_counter()
            these.append(transcribe(item.path))
            times.append(time.perf_counter() - t0)
        totals.append(sum(times))
        if repeat == 0:
            hyps, seconds = these, times
        elif these != hyps:
            stable = False
    if tmp is not None:
        tmp.cleanup()

    refs_n = [normalize(i.ref) for i in items]
    hyps_n = [normalize(h) for h in hyps]
    files = []
    for item, ref_n, hyp_n, hyp, sec in zip(items, refs_n, hyps_n, hyps, seconds, strict=True):
        score = corpus_wer([ref_n], [hyp_n])
        files.append(
            {
                "name": item.name,
                "duration": item.duration,
                "seconds": sec,
                "ref_words": score["ref_words"],
                "hyp_words": len(hyp_n.split()),
                "wer": score["wer"],
                "ref": item.ref,
                "hyp": hyp,
                "ref_norm": ref_n,
                "hyp_norm": hyp_n,
            }
        )
    audio_s = sum(i.duration for i in items)
    return {
        "set": args.set,
        "engine": args.engine,
        "files": len(items),
        "audio_s": audio_s,
        "load_s": load_s,
        "process_s": totals,
        "rtf": [t / audio_s for t in totals],
        "score": corpus_wer(refs_n, hyps_n),
        "stable_across_repeats": stable,
        "peak_rss_mb": peak_rss_mb(),
        "load_avg_1m": load_avg,
        "per_file": files,
    }


# -- the parent: run the children, print the tables ---------------------------------------------


def spawn(engine: str, set_name: str, args: argparse.Namespace, long_wav: Path | None) -> dict:
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--engine",
        engine,
        "--set",
        set_name,
        "--json",
        "--repeats",
        "1",
        "--cache-dir",
        str(args.cache_dir),
    ]
    if args.quick:
        cmd.append("--quick")
    if long_wav is not None:
        cmd += ["--long-wav", str(long_wav)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=False)
    if proc.returncode != 0 or not proc.stdout.strip():
        raise SystemExit(f"bench child failed ({proc.returncode}): {' '.join(cmd)}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["wall_s"] = time.perf_counter() - t0
    return result


def median(values: list[float]) -> float:
    return statistics.median(values)


def fmt_rtf(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{median(values):.3f} ({min(values):.3f}–{max(values):.3f})"


def merge(runs: list[dict]) -> dict:
    """One row from the repeats of one (set, engine): median RTF, max RSS, first transcript."""
    row = dict(runs[0])
    row["rtf"] = [r for run in runs for r in run["rtf"]]
    row["process_s"] = [p for run in runs for p in run["process_s"]]
    row["load_s"] = median([run["load_s"] for run in runs])
    row["peak_rss_mb"] = max(run["peak_rss_mb"] for run in runs)
    row["stable_across_repeats"] = all(run["stable_across_repeats"] for run in runs) and all(
        [f["hyp"] for f in run["per_file"]] == [f["hyp"] for f in runs[0]["per_file"]]
        for run in runs
    )
    row["load_avg_1m"] = [run["load_avg_1m"] for run in runs]
    return row


def print_table(rows: dict[tuple[str, str], dict], sets: list[str]) -> None:
    print(
        "| set | engine | files | audio min | WER % | sub / del / ins | RTF (median, range) "
        "| speed-up vs plain | load s | peak RSS MB |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for set_name in sets:
        plain = rows.get((set_name, "plain"))
        plain_rtf = median(plain["rtf"]) if plain else None
        for engine in ENGINES[set_name]:
            row = rows.get((set_name, engine))
            if row is None:
                continue
            score = row["score"]
            rtf = median(row["rtf"])
            speedup = f"{plain_rtf / rtf:.2f}×" if plain_rtf else "—"
            print(
                f"| {set_name} | {LABEL[engine]} | {row['files']} | {row['audio_s'] / 60:.2f} "
                f"| {100 * score['wer']:.1f} | {score['substitutions']} / {score['deletions']}"
                f" / {score['insertions']} | {fmt_rtf(row['rtf'])} | {speedup} "
                f"| {row['load_s']:.2f} | {row['peak_rss_mb']:.0f} |"
            )


def print_notable(rows: dict[tuple[str, str], dict], sets: list[str], show_text: bool) -> None:
    """Files where some engine does badly, or where the engines disagree a lot."""
    printed = False
    for set_name in sets:
        engines = [e for e in ENGINES[set_name] if (set_name, e) in rows]
        if set_name == "long" or not engines:
            continue
        files = {e: rows[(set_name, e)]["per_file"] for e in engines}
        notable = []
        for i in range(len(files[engines[0]])):
            wers = [files[e][i]["wer"] for e in engines]
            if max(wers) >= 0.3 or max(wers) - min(wers) >= 0.2:
                notable.append(i)
        if not notable:
            continue
        if not printed:
            print("\nFiles with WER ≥ 30 % for some engine, or ≥ 20 points apart between engines")
            print("(cells: WER % (hypothesis words after normalising)):")
            printed = True
        print(f"\n| {set_name} file | ref words | " + " | ".join(LABEL[e] for e in engines) + " |")
        print("|---|---:|" + "---:|" * len(engines))
        for i in notable:
            base = files[engines[0]][i]
            cells = " | ".join(
                f"{100 * files[e][i]['wer']:.0f} ({files[e][i]['hyp_words']} w)" for e in engines
            )
            print(f"| {base['name']} | {base['ref_words']} | {cells} |")
        if show_text:
            for i in notable:
                base = files[engines[0]][i]
                print(f"\n{set_name}/{base['name']}\n  {'ref:':<13} {base['ref_norm']}")
                for e in engines:
                    print(f"  {e + ':':<13} {files[e][i]['hyp_norm']}")


def rescore(runs: dict[tuple[str, str], list[dict]]) -> None:
    """Score saved transcripts again with the current normaliser (in place)."""
    for results in runs.values():
        for result in results:
            for f in result["per_file"]:
                f["ref_norm"], f["hyp_norm"] = normalize(f["ref"]), normalize(f["hyp"])
                f["wer"] = corpus_wer([f["ref_norm"]], [f["hyp_norm"]])["wer"]
                f["hyp_words"] = len(f["hyp_norm"].split())
            result["score"] = corpus_wer(
                [f["ref_norm"] for f in result["per_file"]],
                [f["hyp_norm"] for f in result["per_file"]],
            )


def report(runs: dict[tuple[str, str], list[dict]], meta: dict, show_text: bool) -> None:
    sets = [s for s in SETS if any(key[0] == s for key in runs)]
    rows = {key: merge(value) for key, value in runs.items()}
    print("## ASR benchmark: Parley pipeline vs plain faster-whisper\n")
    print(
        "Whisper base (bundled, CTranslate2 int8), cpu_threads=2, beam 5, word timestamps; "
        f"faster-whisper {meta['faster_whisper']}, ctranslate2 {meta['ctranslate2']}, "
        f"{meta['cpus']} CPUs (shared; 1-min load average {meta['load_start']:.1f} at start, "
        f"{meta['load_end']:.1f} at end).\n"
    )
    print_table(rows, sets)
    counts = ", ".join(f"{len(runs[(s, ENGINES[s][0])])} for {s}" for s in sets)
    print(
        f"\nRTF = processing s (decode included) / audio s, median over runs ({counts}); "
        "speed-up = plain RTF / engine RTF; load s (model load, not in RTF) and peak RSS "
        "(ru_maxrss) come from each engine's own subprocess. WER is corpus-level on "
        "normalised text (lower case, no punctuation, numbers as words)."
    )
    print(
        "Parley: batched faster-whisper (batch 8) + Silero VAD, temperature 0, "
        "condition_on_previous_text=False. plain: faster-whisper defaults otherwise, i.e. "
        "temperature fallback (0.0–1.0), condition_on_previous_text=True, no VAD."
    )
    unstable = [f"{s}/{e}" for (s, e), row in rows.items() if not row["stable_across_repeats"]]
    if unstable:
        print(
            f"Transcripts differed between repeats for: {', '.join(unstable)} (first run scored)."
        )
    if meta.get("quick"):
        print("--quick: a few files per set; the long recording is only their concatenation.")
    if meta.get("rescored"):
        print(f"Rescored from {meta['rescored']} with the current normaliser.")
    print_notable(rows, sets, show_text)
    print(f"\nwall time {meta['wall_s'] / 60:.1f} min")


def run_parent(args: argparse.Namespace) -> None:
    import ctranslate2
    import faster_whisper

    if args.rescore:
        saved = json.loads(args.rescore.read_text())
        runs = {tuple(key.split("/")): value for key, value in saved["runs"].items()}
        rescore(runs)
        report(runs, {**saved["meta"], "rescored": str(args.rescore)}, args.show_text)
        return

    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    unknown = set(sets) - set(SETS)
    if unknown:
        raise SystemExit(f"unknown set(s) {sorted(unknown)}; choose from {', '.join(SETS)}")
    entries = load_manifest(testdata_dir())
    started = time.perf_counter()
    load_start = os.getloadavg()[0]
    runs: dict[tuple[str, str], list[dict]] = {}
    with tempfile.TemporaryDirectory(prefix="parley-bench-") as tmp:
        long_wav = None
        if "long" in sets:
            long_wav = Path(tmp) / "long.wav"
            parts = long_parts(entries, args.quick)
            seconds = build_long(parts, long_wav)
            print(
                f"built {long_wav.name}: {len(parts)} files, {seconds / 60:.2f} min",
                file=sys.stderr,
            )
        for set_name in sets:
            repeats = args.long_repeats if set_name == "long" else args.repeats
            for repeat in range(repeats):
                for engine in ENGINES[set_name]:
                    result = spawn(engine, set_name, args, long_wav)
                    runs.setdefault((set_name, engine), []).append(result)
                    print(
                        f"{set_name:<5} {engine:<12} run {repeat + 1}/{repeats}: "
                        f"RTF {result['rtf'][0]:.3f}, WER {100 * result['score']['wer']:.1f} %, "
                        f"{result['wall_s']:.0f} s wall",
                        file=sys.stderr,
                    )
    meta = {
        "faster_whisper": faster_whisper.__version__,
        "ctranslate2": ctranslate2.__version__,
        "cpus": os.cpu_count(),
        "load_start": load_start,
        "load_end": os.getloadavg()[0],
        "wall_s": time.perf_counter() - started,
        "quick": args.quick,
    }
    if args.save:
        saved = {"meta": meta, "runs": {f"{s}/{e}": value for (s, e), value in runs.items()}}
        args.save.write_text(json.dumps(saved, indent=1))
    report(runs, meta, args.show_text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", default=",".join(SETS), help="comma list of read,long,phone")
    parser.add_argument("--repeats", type=int, default=3, help="runs of read/phone per engine")
    parser.add_argument("--long-repeats", type=int, default=1, help="runs of the long file")
    parser.add_argument("--quick", action="store_true", help="a few files per set")
    parser.add_argument("--show-text", action="store_true", help="print notable transcripts")
    parser.add_argument("--save", type=Path, help="write every run's results (JSON) here")
    parser.add_argument(
        "--rescore", type=Path, help="print the tables of a --save file, scored again"
    )
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE, help="model cache")
    child = parser.add_argument_group("one run (what the parent starts per engine)")
    child.add_argument("--engine", choices=sorted(LABEL))
    child.add_argument("--set", choices=SETS)
    child.add_argument("--json", action="store_true", help="print the run's result as JSON")
    child.add_argument("--long-wav", type=Path, help="the long recording, if already built")
    args = parser.parse_args()
    if args.repeats < 1 or args.long_repeats < 1:
        parser.error("--repeats and --long-repeats must be at least 1")

    if args.engine or args.set:
        if not (args.engine and args.set):
            parser.error("--engine and --set go together")
        result = run_child(args)
        if args.json:
            print(json.dumps(result))
        else:
            print(json.dumps({k: v for k, v in result.items() if k != "per_file"}, indent=1))
        return
    run_parent(args)


if __name__ == "__main__":
    main()
