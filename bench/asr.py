"""Benchmark speech recognition: Parley's pipeline against plain faster-whisper, same model files.

Usage (from the repo root)::

    .venv/bin/python bench/asr.py                     # read, long, joined and phone sets
    .venv/bin/python bench/asr.py --sets joined --engines parley --max-chunk 30
    .venv/bin/python bench/asr.py --sets hours --hours 4 --engines parley   # RTF, peak RSS
    .venv/bin/python bench/asr.py --quick             # a few files per set: a smoke test
    .venv/bin/python bench/asr.py --sets read --repeats 5 --save /tmp/asr.json
    .venv/bin/python bench/asr.py --engine parley --set read --json   # one run, JSON out

Engines, all on the bundled Whisper base (CTranslate2 int8, 2 threads, beam 5, word times):

- ``parley``: ``decode()`` + ``recognize()`` from parley/pipeline with the settings in the code
  (Parley's own chunks of at most MAX_CHUNK_SECONDS cut at pauses by a streamed Silero VAD
  pass, batched faster-whisper, batch 8, temperature 0, no conditioning on previous text,
  language detected, every chunk checked and failed chunks decoded again sequentially).
- ``parley-pipeline``: ``process_audio()`` with diarization on (decode, speech, speakers,
  sentences): the whole pipeline's RTF and peak RSS, for the hours set.
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
- ``joined``: the same 86 recordings, read and phone alternating (so chunks mix both kinds),
  scored as a whole and part by part, each part only on the words timed inside its span.
- ``phone``: the 8 kHz Asterisk prompts (30 files, 8 min): Parley default vs mode=phone vs plain.
- ``hours``: the long recording repeated to ``--hours`` (default 1), for RTF and peak RSS.

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
SETS = ("read", "long", "joined", "phone", "hours")
JOINED_SETS = ("long", "joined", "hours")  # one recording built from many, scored per part
CATEGORY = {"read": "read", "phone": "phone_8k"}
ENGINES = {
    "read": ("parley", "plain"),
    "long": ("parley", "plain"),
    "joined": ("parley", "plain"),
    "phone": ("parley", "parley-phone", "plain"),
    "hours": ("parley", "parley-pipeline"),
}
LABEL = {
    "parley": "Parley (batched + VAD)",
    "parley-phone": "Parley mode=phone",
    "parley-pipeline": "Parley whole pipeline, diarization on",
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


def joined_parts(entries: list[dict], quick: bool) -> list[Item]:
    """Read and phone recordings alternating, so chunks mix both kinds of audio."""
    read, phone = select(entries, "read", quick), select(entries, "phone", quick)
    mixed = [x for pair in zip(read, phone, strict=False) for x in pair]
    return mixed + read[len(phone) :] + phone[len(read) :]


def parts_for(set_name: str, entries: list[dict], quick: bool, hours: float) -> list[Item]:
    if set_name == "joined":
        return joined_parts(entries, quick)
    parts = long_parts(entries, quick)
    if set_name == "hours":  # the long set again and again, to ``hours`` of audio
        seconds = sum(p.duration + GAP_S for p in parts)
        parts = parts * max(1, round(hours * 3600 / seconds))
    return parts


def build_long(parts: list[Item], out: Path) -> list[tuple[float, float]]:
    """Concatenate ``parts`` at 16 kHz with GAP_S silence between them into a 16-bit WAV.

    Returns each part's (start, end) in seconds. Written part by part, so a 4-hour
    recording costs no more memory than a short one.
    """
    from faster_whisper import decode_audio

    gap = np.zeros(int(GAP_S * SAMPLE_RATE), dtype=np.float32)
    total = 0
    spans = []
    cache: dict[str, bytes] = {}
    with wave.open(str(out), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        for i, part in enumerate(parts):
            if part.path not in cache:
                audio = decode_audio(part.path, sampling_rate=SAMPLE_RATE)
                pcm = np.round(np.clip(audio, -1.0, 1.0) * 32767).astype("<i2")
                cache[part.path] = pcm.tobytes()
            if i:
                w.writeframes(np.zeros(len(gap), dtype="<i2").tobytes())
                total += len(gap)
            data = cache[part.path]
            w.writeframes(data)
            spans.append((total / SAMPLE_RATE, (total + len(data) // 2) / SAMPLE_RATE))
            total += len(data) // 2
    return spans


def span_list(parts: list[Item]) -> list[tuple[float, float]]:
    """Each part's (start, end) in a recording built by build_long."""
    spans, cursor = [], 0
    for i, part in enumerate(parts):
        if i:
            cursor += int(GAP_S * SAMPLE_RATE)
        n = part_samples(part)
        spans.append((cursor / SAMPLE_RATE, (cursor + n) / SAMPLE_RATE))
        cursor += n
    return spans


_PART_SAMPLES: dict[str, int] = {}


def part_samples(part: Item) -> int:
    if part.path not in _PART_SAMPLES:
        from faster_whisper import decode_audio

        _PART_SAMPLES[part.path] = len(decode_audio(part.path, sampling_rate=SAMPLE_RATE))
    return _PART_SAMPLES[part.path]


def wav_duration(path: Path) -> float:
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / w.getframerate()


def items_for(
    set_name: str, entries: list[dict], quick: bool, long_wav: Path, hours: float
) -> tuple[list[Item], list[Item]]:
    """The set's items, and for a joined set the parts it is built from."""
    if set_name not in JOINED_SETS:
        return select(entries, set_name, quick), []
    parts = parts_for(set_name, entries, quick, hours)
    if not long_wav.exists():
        build_long(parts, long_wav)
    item = Item(
        name=long_wav.name,
        path=str(long_wav),
        ref=" ".join(p.ref for p in parts),
        duration=wav_duration(long_wav),
    )
    return [item], parts


# -- one engine, one set (the child process) ---------------------------------------------------

TimedWords = list[tuple[str, float, float]]
Transcribe = Callable[[str], tuple[TimedWords, dict]]
WarmUp = Callable[[np.ndarray], None]


def load_engine(engine: str, cache_dir: Path) -> tuple[Transcribe, WarmUp, float]:
    """Load the model; return transcribe(path) -> (timed words, stats), warm_up, load s."""
    if engine in ("parley", "parley-phone"):
        from parley.pipeline.decode import decode
        from parley.pipeline.models import Models
        from parley.pipeline.speech import SpeechOptions, recognize

        t0 = time.perf_counter()
        runtime = Models(cache_dir=cache_dir).whisper
        load_s = time.perf_counter() - t0
        options = SpeechOptions(phone=engine == "parley-phone")

        def parley_run(path: str) -> tuple[TimedWords, dict]:
            samples = decode(Path(path), scratch_dir=Path(path).parent).mono
            result = recognize(samples, runtime=runtime, options=options)
            stats = {
                "chunks": result.chunks,
                "fallback_chunks": result.fallback_chunks,
                "untranscribed_s": result.untranscribed_seconds,
            }
            return [(w.text, w.start, w.end) for w in result.words], stats

        def parley_warm(samples: np.ndarray) -> None:
            recognize(samples, runtime=runtime, options=options)

        return parley_run, parley_warm, load_s

    if engine == "parley-pipeline":
        from parley.pipeline.models import Models
        from parley.pipeline.process import AudioOptions, process_audio

        t0 = time.perf_counter()
        models = Models(cache_dir=cache_dir)
        models.warm()
        load_s = time.perf_counter() - t0
        audio_options = AudioOptions(diarize=True)

        def pipeline_run(path: str) -> tuple[TimedWords, dict]:
            transcript = process_audio(Path(path), audio_options, models=models)
            words = [(w.text, w.start, w.end) for s in transcript.sentences for w in s.words]
            speakers = {s.speaker for s in transcript.sentences}
            return words, {
                "untranscribed_s": transcript.untranscribed_seconds,
                "speakers": len(speakers),
            }

        def pipeline_warm(samples: np.ndarray) -> None:
            return None

        return pipeline_run, pipeline_warm, load_s

    if engine == "plain":
        from faster_whisper import WhisperModel

        from parley.pipeline.models import bundled_whisper_dir

        model_dir = bundled_whisper_dir(cache_dir)  # the same files; not timed
        t0 = time.perf_counter()
        model = WhisperModel(str(model_dir), device="cpu", compute_type="int8", cpu_threads=2)
        load_s = time.perf_counter() - t0

        def plain_run(path: str | np.ndarray) -> tuple[TimedWords, dict]:
            segments, _info = model.transcribe(path, beam_size=5, word_timestamps=True)
            words = [(w.word.strip(), w.start, w.end) for s in segments for w in s.words or ()]
            return words, {}

        def plain_warm(samples: np.ndarray) -> None:
            plain_run(samples)

        return plain_run, plain_warm, load_s

    raise SystemExit(f"unknown engine {engine!r}; choose from {sorted(LABEL)}")


def score_parts(parts: list[Item], spans: list[tuple[float, float]], words: TimedWords) -> dict:
    """Score a joined recording part by part, using only the words timed inside each part.

    A part whose words went missing, or landed in another part's span, scores as
    deletions here even when the whole-file WER hides it. ``lost`` counts parts with
    fewer than a fifth of their reference words heard in their own span.
    """
    refs, hyps = [], []
    lost = 0
    for part, (start, end) in zip(parts, spans, strict=True):
        inside = [w for w, a, b in words if a >= start - GAP_S and b <= end + GAP_S]
        ref_n, hyp_n = normalize(part.ref), normalize(" ".join(inside))
        refs.append(ref_n)
        hyps.append(hyp_n)
        score = corpus_wer([ref_n], [hyp_n])
        if score["ref_words"] and score["deletions"] > 0.8 * score["ref_words"]:
            lost += 1
    return {"in_span": corpus_wer(refs, hyps), "parts": len(parts), "parts_lost": lost}


def run_child(args: argparse.Namespace) -> dict:
    from faster_whisper import decode_audio

    if args.max_chunk:
        from parley.pipeline import speech

        speech.MAX_CHUNK_SECONDS = args.max_chunk
    entries = load_manifest(testdata_dir())
    tmp = None
    long_wav = args.long_wav
    if args.set in JOINED_SETS and long_wav is None:
        tmp = tempfile.TemporaryDirectory(prefix="parley-bench-")
        long_wav = Path(tmp.name) / f"{args.set}.wav"
    items, parts = items_for(
        args.set, entries, args.quick, long_wav or Path("/nonexistent"), args.hours
    )
    spans = span_list(parts)

    load_avg = os.getloadavg()[0]
    transcribe, warm_up, load_s = load_engine(args.engine, args.cache_dir)
    warm_source = select(entries, "read", args.quick)[0] if parts else items[0]
    warm_up(decode_audio(warm_source.path, sampling_rate=SAMPLE_RATE)[: 5 * SAMPLE_RATE].copy())

    totals: list[float] = []
    timed: list[TimedWords] = []
    stats: list[dict] = []
    seconds: list[float] = []
    stable = True
    for repeat in range(args.repeats):
        these, these_stats, times = [], [], []
        for item in items:
            t0 = time.perf_counter()
            words, stat = transcribe(item.path)
            times.append(time.perf_counter() - t0)
            these.append(words)
            these_stats.append(stat)
        totals.append(sum(times))
        if repeat == 0:
            timed, stats, seconds = these, these_stats, times
        elif [[w for w, _, _ in t] for t in these] != [[w for w, _, _ in t] for t in timed]:
            stable = False
    if tmp is not None:
        tmp.cleanup()

    hyps = [" ".join(w for w, _, _ in t) for t in timed]
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
    totals_stats: dict[str, float] = {}
    for stat in stats:
        for key, value in stat.items():
            totals_stats[key] = totals_stats.get(key, 0) + value
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
        "parts": score_parts(parts, spans, timed[0]) if parts else None,
        "stats": totals_stats,
        "max_chunk": args.max_chunk,
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
    if args.max_chunk:
        cmd += ["--max-chunk", str(args.max_chunk)]
    cmd += ["--hours", str(args.hours)]
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
    joined = [(key, row) for key, row in rows.items() if row.get("parts") and key[0] in sets]
    if joined:
        print(
            "\nJoined recordings scored part by part, each part only on the words timed "
            "inside its own span (a part is lost when over 80 % of its words are deleted):\n"
        )
        print(
            "| set | engine | parts | parts lost | in-span WER % | sub / del / ins "
            "| chunks | decoded again | untranscribed s |"
        )
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
        for (set_name, engine), row in joined:
            p, st = row["parts"], row.get("stats") or {}
            sc = p["in_span"]
            print(
                f"| {set_name} | {LABEL[engine]} | {p['parts']} | {p['parts_lost']} "
                f"| {100 * sc['wer']:.1f} | {sc['substitutions']} / {sc['deletions']} / "
                f"{sc['insertions']} | {st.get('chunks', '—')} | "
                f"{st.get('fallback_chunks', '—')} | {st.get('untranscribed_s', '—')} |"
            )


def print_notable(rows: dict[tuple[str, str], dict], sets: list[str], show_text: bool) -> None:
    """Files where some engine does badly, or where the engines disagree a lot."""
    printed = False
    for set_name in sets:
        engines = [e for e in ENGINES[set_name] if (set_name, e) in rows]
        if set_name in JOINED_SETS or not engines:
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
        f"{meta['load_end']:.1f} at end); CT2_FORCE_CPU_ISA={meta.get('isa', 'auto')}; "
        f"Parley's maximum chunk {meta.get('max_chunk') or 'MAX_CHUNK_SECONDS (default)'} s.\n"
    )
    print_table(rows, sets)
    counts = ", ".join(
        f"{max(len(v) for (s2, _), v in runs.items() if s2 == s)} for {s}"
        for s in sets
        if any(s2 == s for s2, _ in runs)
    )
    print(
        f"\nRTF = processing s (decode included) / audio s, median over runs ({counts}); "
        "speed-up = plain RTF / engine RTF; load s (model load, not in RTF) and peak RSS "
        "(ru_maxrss) come from each engine's own subprocess. WER is corpus-level on "
        "normalised text (lower case, no punctuation, numbers as words)."
    )
    print(
        "Parley: own chunks (streamed Silero VAD, cut at pauses), batched faster-whisper "
        "(batch 8), temperature 0, checked per chunk with a sequential fallback. plain: "
        "faster-whisper defaults otherwise, i.e. temperature fallback (0.0–1.0), "
        "condition_on_previous_text=True, no VAD."
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
    # On disk next to the repo, not in a RAM-backed /tmp: the hours set is 0.46 GB per hour.
    with tempfile.TemporaryDirectory(prefix="parley-bench-", dir=args.scratch) as tmp:
        wavs: dict[str, Path] = {}
        for set_name in sets:
            if set_name in JOINED_SETS:
                wavs[set_name] = Path(tmp) / f"{set_name}.wav"
                parts = parts_for(set_name, entries, args.quick, args.hours)
                spans = build_long(parts, wavs[set_name])
                print(
                    f"built {set_name}.wav: {len(parts)} files, {spans[-1][1] / 60:.2f} min",
                    file=sys.stderr,
                )
        for set_name in sets:
            repeats = args.long_repeats if set_name in JOINED_SETS else args.repeats
            engines = args.engines.split(",") if args.engines else ENGINES[set_name]
            for repeat in range(repeats):
                for engine in engines:
                    result = spawn(engine, set_name, args, wavs.get(set_name))
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
        "max_chunk": args.max_chunk,
        "isa": os.environ.get("CT2_FORCE_CPU_ISA", "auto"),
    }
    if args.save:
        saved = {"meta": meta, "runs": {f"{s}/{e}": value for (s, e), value in runs.items()}}
        args.save.write_text(json.dumps(saved, indent=1))
    report(runs, meta, args.show_text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sets", default="read,long,joined,phone", help=f"comma list of {','.join(SETS)}"
    )
    parser.add_argument("--engines", help="comma list; default: every engine of the set")
    parser.add_argument("--hours", type=float, default=1.0, help="length of the hours set")
    parser.add_argument(
        "--max-chunk", type=float, help="override MAX_CHUNK_SECONDS (to measure it)"
    )
    parser.add_argument(
        "--scratch", type=Path, default=REPO, help="where the joined recordings are written"
    )
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
    child.add_argument("--long-wav", type=Path, help="the joined recording, if already built")
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
