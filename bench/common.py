"""Shared helpers for the bench scripts: test data lookup, a text normaliser, WER, peak RSS.

The normaliser is Whisper-style (after openai/whisper's EnglishTextNormalizer) but goes the
other way for numbers: digits become words ("press 1" -> "press one", "42" -> "forty two",
"1455" -> "fourteen fifty five"), because the references mix styles (LJ Speech spells numbers
out, the Asterisk scripts write digits). It is applied to reference and hypothesis alike.
"""

from __future__ import annotations

import json
import os
import re
import resource
import sys
import unicodedata
from pathlib import Path

__all__ = [
    "REPO",
    "corpus_wer",
    "load_manifest",
    "normalize",
    "number_words",
    "peak_rss_mb",
    "testdata_dir",
]

REPO = Path(__file__).resolve().parents[1]


# -- test data ---------------------------------------------------------------------------------


def testdata_dir() -> Path:
    """$PARLEY_TESTDATA, else ../shared/testdata next to the repo; exit if it is missing."""
    path = Path(os.environ.get("PARLEY_TESTDATA", REPO.parent / "shared" / "testdata"))
    if not (path / "manifest.json").is_file():
        sys.exit(
            f"Test data not found: {path}/manifest.json does not exist.\n"
            "Set PARLEY_TESTDATA to the folder that holds manifest.json "
            "(the shared speech test data; it is never copied into the repo)."
        )
    return path


def load_manifest(root: Path | None = None) -> list[dict]:
    """manifest.json entries, with ``path`` (absolute) added to each."""
    root = root or testdata_dir()
    entries = json.loads((root / "manifest.json").read_text())
    for entry in entries:
        entry["path"] = str(root / entry["audio"])
    return entries


# -- numbers to words --------------------------------------------------------------------------

_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand"))
_ORDINAL_IRREGULAR = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}


def _below_thousand(n: int) -> list[str]:
    words: list[str] = []
    if n >= 100:
        words += [_ONES[n // 100], "hundred"]
        n %= 100
    if n >= 20:
        words.append(_TENS[n // 10])
        n %= 10
        if n:
            words.append(_ONES[n])
    elif n or not words:
        words.append(_ONES[n])
    return words


def number_words(n: int) -> str:
    """Cardinal in words, American style without "and": 1234 -> "one thousand two hundred
    thirty four". Four-digit numbers from 1100 to 1999 are read as years ("fourteen fifty
    five", "eighteen hundred"), the way LJ Speech and most speakers say them."""
    if 1100 <= n <= 1999:
        head, tail = divmod(n, 100)
        if tail == 0:
            return f"{number_words(head)} hundred"
        tail_words = f"oh {_ONES[tail]}" if tail < 10 else number_words(tail)
        return f"{number_words(head)} {tail_words}"
    if n < 1000:
        return " ".join(_below_thousand(n))
    words: list[str] = []
    for value, name in _SCALES:
        if n >= value:
            words += [number_words(n // value), name]
            n %= value
    if n:
        words += _below_thousand(n)
    return " ".join(words)


def _ordinal_words(n: int) -> str:
    words = number_words(n).split()
    last = words[-1]
    if last in _ORDINAL_IRREGULAR:
        words[-1] = _ORDINAL_IRREGULAR[last]
    elif last.endswith("y"):
        words[-1] = last[:-1] + "ieth"
    else:
        words[-1] = last + "th"
    return " ".join(words)


def _digits_to_words(text: str) -> str:
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # 1,000 -> 1000
    text = re.sub(r"\$(\d+)", r"\1 dollars", text)
    text = re.sub(r"(\d)\s*%", r"\1 percent", text)
    text = re.sub(
        r"\b(\d+)\.(\d+)\b",
        lambda m: f"{number_words(int(m[1]))} point " + " ".join(_ONES[int(d)] for d in m[2]),
        text,
    )
    text = re.sub(r"\b(\d+)(st|nd|rd|th)\b", lambda m: f" {_ordinal_words(int(m[1]))} ", text)
    return re.sub(r"\d+", lambda m: f" {number_words(int(m[0]))} ", text)


# -- the normaliser ----------------------------------------------------------------------------

# Contractions and abbreviations, as in Whisper's EnglishTextNormalizer (applied in order).
_REPLACE = [
    (r"\bwon't\b", "will not"),
    (r"\bcan't\b", "can not"),
    (r"\bcannot\b", "can not"),
    (r"\blet's\b", "let us"),
    (r"\bain't\b", "aint"),
    (r"\by'all\b", "you all"),
    (r"\bwanna\b", "want to"),
    (r"\bgotta\b", "got to"),
    (r"\bgonna\b", "going to"),
    (r"\bma'am\b", "madam"),
    (r"'em\b", "them"),
    (r"\bmr\b\.?", "mister "),
    (r"\bmrs\b\.?", "missus "),
    (r"\bdr\b\.?", "doctor "),
    (r"\bst\b\.", "saint "),
    (r"\bprof\b\.?", "professor "),
    (r"\bjr\b\.?", "junior "),
    (r"\bsr\b\.?", "senior "),
    (r"\betc\b\.?", "et cetera "),
    (r"'d been\b", " had been"),
    (r"'s been\b", " has been"),
    (r"'d gone\b", " had gone"),
    (r"'s gone\b", " has gone"),
    (r"'d done\b", " had done"),
    (r"'s got\b", " has got"),
    (r"n't\b", " not"),
    (r"'re\b", " are"),
    (r"'d\b", " would"),
    (r"'ll\b", " will"),
    (r"'ve\b", " have"),
    (r"'m\b", " am"),
]
_REPLACE_RE = [(re.compile(p), r) for p, r in _REPLACE]

# A few British spellings and variants (Whisper's normaliser has a long list; these are the
# ones that matter for the shared test data and everyday speech).
_SPELLING = {
    "counselled": "counseled",
    "counselling": "counseling",
    "travelled": "traveled",
    "travelling": "traveling",
    "cancelled": "canceled",
    "labelled": "labeled",
    "modelled": "modeled",
    "colour": "color",
    "colours": "colors",
    "favour": "favor",
    "favourite": "favorite",
    "honour": "honor",
    "labour": "labor",
    "neighbour": "neighbor",
    "behaviour": "behavior",
    "centre": "center",
    "theatre": "theater",
    "organise": "organize",
    "organisation": "organization",
    "realise": "realize",
    "realised": "realized",
    "recognise": "recognize",
    "recognised": "recognized",
    "apologise": "apologize",
    "apologised": "apologized",
    "grey": "gray",
    "thru": "through",
    "ok": "okay",
}
# Words written closed or open ("voice mail" / "voicemail"): one form on both sides.
_COMPOUNDS = re.compile(
    r"\b(voice) (mail|over)\b|\b(touch) (tone)\b|\b(lower|upper) (case)\b"
    r"|\b(forever) (more)\b"
)
_FILLERS = {"hmm", "mm", "mhm", "mmm", "uh", "um", "ah", "er", "erm"}


def normalize(text: str) -> str:
    """Lower-case words without punctuation; numbers, contractions and titles spelled out."""
    text = text.lower().replace("’", "'").replace("‘", "'")
    text = re.sub(r"[<\[][^>\]]*[>\]]", " ", text)  # [BLANK_AUDIO], <unk>
    for pattern, repl in _REPLACE_RE:
        text = pattern.sub(repl, text)
    text = re.sub(r"(\d) \.(\d)", r"\1.\2", text)  # "28 .8": word tokens joined with spaces
    text = _digits_to_words(text)
    text = text.replace("#", " pound ").replace("*", " star ")  # IVR keys, as the scripts say
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.replace("'", "")  # possessives: "party's" -> "partys" on both sides
    text = re.sub(r"[^a-z0-9]+", " ", text)  # punctuation, hyphens, dots in URLs -> space
    words = [_SPELLING.get(w, w) for w in text.split() if w not in _FILLERS]
    return _COMPOUNDS.sub(lambda m: "".join(g for g in m.groups() if g), " ".join(words))


# -- scoring -----------------------------------------------------------------------------------


def corpus_wer(refs: list[str], hyps: list[str]) -> dict[str, float | int]:
    """Corpus WER over normalised pairs: sum of edits / sum of reference words.

    Returns ref_words, substitutions, deletions, insertions and wer (a fraction).
    """
    import jiwer

    pairs = [(r, h) for r, h in zip(refs, hyps, strict=True) if r.strip()]
    if not pairs:
        return {"ref_words": 0, "substitutions": 0, "deletions": 0, "insertions": 0, "wer": 0.0}
    out = jiwer.process_words([r for r, _ in pairs], [h for _, h in pairs])
    n = sum(len(r.split()) for r, _ in pairs)
    edits = out.substitutions + out.deletions + out.insertions
    return {
        "ref_words": n,
        "substitutions": out.substitutions,
        "deletions": out.deletions,
        "insertions": out.insertions,
        "wer": edits / n,
    }


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (ru_maxrss; kB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
