"""Insight-stage benchmark: accuracy on the hand-labelled set and time per hour of speech.

    .venv/bin/python bench/insights.py            # table
    .venv/bin/python bench/insights.py -v         # also list every miss and false alarm

Scoring: questions, action items and follow-ups are compared by message index; custom
entities and trackers by (type or tracker name, message index); entities as a set of
(type, text) per conversation, where a prediction matches a label of the same type if
either text contains the other as whole words, and predictions equal to a span listed
under ``ignore`` (ambiguous: durations, product names, counts) count neither way. Only the
types that are labelled (person, organization, location, date, money, email,
phone_number) are scored.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from parley.insights import (
    CustomEntity,
    InsightOptions,
    Member,
    Message,
    TrackerSpec,
    compute_insights,
    trackers,
)
from parley.insights.context import Context, get_nlp
from parley.insights.embeddings import get_encoder
from parley.insights.trackers import validate_vocabulary

DATA = Path(__file__).resolve().parent / "insights_data"
WORDS_PER_SECOND = 150 / 60
SCORED_ENTITY_TYPES = {
    "person",
    "organization",
    "location",
    "date",
    "money",
    "email",
    "phone_number",
}


@dataclass
class Tally:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    misses: list[str] = field(default_factory=list)
    false_alarms: list[str] = field(default_factory=list)

    def add(self, gold: set, pred: set, label: str, describe) -> None:
        self.tp += len(gold & pred)
        for item in sorted(pred - gold, key=str):
            self.fp += 1
            self.false_alarms.append(f"{label}: {describe(item)}")
        for item in sorted(gold - pred, key=str):
            self.fn += 1
            self.misses.append(f"{label}: {describe(item)}")

    def prf(self) -> tuple[float, float, float]:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return p, r, f


def to_messages(conv: dict, prefix: str) -> list[Message]:
    """Messages with speech times estimated at 150 words per minute."""
    members: dict[str, Member] = {}
    out: list[Message] = []
    clock = 0.0
    for i, raw in enumerate(conv["messages"]):
        name = raw["speaker"]
        member = members.setdefault(
            name, Member(f"{prefix}-m{len(members)}", name, f"{name.lower()}@example.com")
        )
        duration = max(0.6, len(raw["text"].split()) / WORDS_PER_SECOND)
        out.append(Message(f"{prefix}-{i}", raw["text"], clock, clock + duration, member))
        clock += duration + 0.3
    return out


def options_for(conv: dict) -> InsightOptions:
    labels = conv["labels"]
    ref = conv.get("reference_time")
    return InsightOptions(
        detect_entities=True,
        detect_phrases=True,
        enable_summary=True,
        custom_entities=tuple(
            CustomEntity(c["customType"], c["text"])
            for c in labels["custom_entities"]["definitions"]
        ),
        trackers=tuple(
            TrackerSpec(f"t{i}", t["name"], validate_vocabulary(t["vocabulary"]))
            for i, t in enumerate(labels["trackers"]["definitions"])
        ),
        reference_time=datetime.fromisoformat(ref.replace("Z", "+00:00")) if ref else None,
    )


def _norm(text: str) -> str:
    text = text.lower().replace("\u2019", "'")
    text = re.sub(r"'s\b", "", text)
    text = re.sub(r"^(the|a|an)\s+", "", text.strip(" .,!?"))
    return " ".join(text.split())


def _contains(a: str, b: str) -> bool:
    return (
        a == b
        or re.search(rf"(?<!\w){re.escape(b)}(?!\w)", a) is not None
        or re.search(rf"(?<!\w){re.escape(a)}(?!\w)", b) is not None
    )


def score_entities(conv: dict, entities: Iterable[dict], tally: Tally, name: str) -> None:
    gold = {(e["type"], _norm(e["text"])) for e in conv["labels"]["entities"]}
    ignore = {_norm(t) for t in conv["labels"]["ignore_entities"]}
    pred: set[tuple[str, str]] = set()
    for ent in entities:
        etype = "date" if ent["type"] in {"daterange", "datetime"} else ent["type"]
        if etype not in SCORED_ENTITY_TYPES:
            continue
        for match in ent["matches"]:
            pred.add((etype, _norm(match["detectedValue"])))
    matched_gold: set[tuple[str, str]] = set()
    for p in pred:
        hits = [g for g in gold if g[0] == p[0] and _contains(g[1], p[1])]
        if hits:
            tally.tp += 1
            matched_gold.update(hits)
        elif p[1] in ignore or any(p[1] == i for i in ignore):
            continue
        else:
            tally.fp += 1
            tally.false_alarms.append(f"{name}: {p}")
    for g in sorted(gold - matched_gold):
        tally.fn += 1
        tally.misses.append(f"{name}: {g}")
    # recall is over labels, precision over predictions: keep tp on the gold side
    tally.tp -= len([p for p in pred if any(g[0] == p[0] and _contains(g[1], p[1]) for g in gold)])
    tally.tp += len(matched_gold)


def indices(items: Iterable[dict], ids: dict[str, int]) -> set[int]:
    return {ids[mid] for item in items for mid in item["messageIds"]}


def one_hour_transcript(convs: list[dict]) -> list[Message]:
    """Conversations repeated (with fresh ids) until about an hour of speech at 150 wpm."""
    out: list[Message] = []
    offset, rep = 0.0, 0
    while not out or out[-1].end < 3600:
        for conv in convs:
            for m in to_messages(conv, f"r{rep}-{conv['name'][:8]}"):
                out.append(
                    Message(
                        f"{m.id}-{len(out)}", m.text, m.start + offset, m.end + offset, m.member
                    )
                )
            offset = out[-1].end + 0.3
        rep += 1
    return out


def time_trackers(hour: list[Message], convs: list[dict]) -> tuple[float, float, int]:
    """Seconds for tracker detection alone, without and with the embedding level, using
    every conversation's trackers at once."""
    specs = [spec for conv in convs for spec in options_for(conv).trackers]
    ctx = Context.build(hour, InsightOptions())
    t = time.perf_counter()
    trackers.detect(ctx, specs, [], semantic_threshold=None)
    lexical_s = time.perf_counter() - t
    t = time.perf_counter()
    trackers.detect(ctx, specs, [])
    return lexical_s, time.perf_counter() - t, len(specs)


KINDS = ("questions", "action items", "follow-ups", "entities", "custom entities", "trackers")


def new_tallies() -> dict[str, Tally]:
    return {k: Tally() for k in KINDS}


def score(conv: dict, name: str, messages: list[Message], result, tallies: dict) -> None:
    """Add one conversation's hits, misses and false alarms to ``tallies``."""
    ids = {m.id: i for i, m in enumerate(messages)}
    text_of = {i: m.text for i, m in enumerate(messages)}
    labels = conv["labels"]

    def show(i: int) -> str:
        return f"[{i}] {text_of[i]}"

    def show_pair(x: tuple) -> str:
        return f"{x[0]} {show(x[1])}"

    tallies["questions"].add(set(labels["questions"]), indices(result.questions, ids), name, show)
    tallies["action items"].add(
        set(labels["action_items"]), indices(result.action_items, ids), name, show
    )
    tallies["follow-ups"].add(
        set(labels["follow_ups"]), indices(result.follow_ups, ids), name, show
    )
    score_entities(conv, result.entities, tallies["entities"], name)
    gold_custom = {(c["customType"], c["message"]) for c in labels["custom_entities"]["expected"]}
    pred_custom = {
        (e["customType"], ids[r["id"]])
        for e in result.entities
        if e["type"] == "custom"
        for r in e["messageRefs"]
    }
    tallies["custom entities"].add(gold_custom, pred_custom, name, show_pair)
    gold_tr = {(t["name"], t["message"]) for t in labels["trackers"]["expected"]}
    pred_tr = {
        (t["name"], ids[r["id"]])
        for t in result.trackers
        for m in t["matches"]
        for r in m["messageRefs"]
    }
    tallies["trackers"].add(gold_tr, pred_tr, name, show_pair)


def print_table(title: str, tallies: dict[str, Tally]) -> None:
    print(title)
    print(f"{'kind':<16} {'P':>6} {'R':>6} {'F1':>6}   {'TP':>4} {'FP':>4} {'FN':>4}")
    for kind, tally in tallies.items():
        p, r, f1 = tally.prf()
        print(f"{kind:<16} {p:6.3f} {r:6.3f} {f1:6.3f}   {tally.tp:4d} {tally.fp:4d} {tally.fn:4d}")
    print()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="list misses")
    args = parser.parse_args()

    files = sorted(DATA.glob("*.json"))
    convs = [json.loads(f.read_text(encoding="utf-8")) for f in files]
    t0 = time.perf_counter()
    get_nlp()
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    get_encoder()
    encoder_load_s = time.perf_counter() - t0

    tallies = new_tallies()
    held_out = new_tallies()
    compute_s = speech_s = 0.0
    n_messages = n_held = 0
    for f, conv in zip(files, convs, strict=True):
        messages = to_messages(conv, f.stem)
        t = time.perf_counter()
        result = compute_insights(messages, options_for(conv))
        compute_s += time.perf_counter() - t
        speech_s += messages[-1].end
        n_messages += len(messages)
        score(conv, f.stem, messages, result, tallies)
        if "held out" in conv["name"]:
            n_held += 1
            score(conv, f.stem, messages, result, held_out)

    hour = one_hour_transcript(convs)
    t = time.perf_counter()
    compute_insights(hour, options_for(convs[0]))
    hour_s = time.perf_counter() - t
    tracker_times = time_trackers(hour, convs)

    print(
        f"{len(files)} conversations, {n_messages} messages, "
        f"{speech_s / 60:.1f} min of speech (150 wpm estimate)"
    )
    print()
    print_table("All conversations", tallies)
    if n_held:
        print_table(f"Held-out subset ({n_held} conversation(s) written after tuning)", held_out)
    print(f"spaCy model load (once per process): {load_s:.2f} s")
    print(f"sentence model load (once per process): {encoder_load_s:.2f} s")
    print(
        f"insight stage on the set: {compute_s:.2f} s for {speech_s / 3600:.3f} h "
        f"= {compute_s / (speech_s / 3600):.1f} s per hour of speech"
    )
    print(
        f"insight stage on a {hour[-1].end / 3600:.2f} h transcript ({len(hour)} messages): "
        f"{hour_s:.2f} s = {hour_s / (hour[-1].end / 3600):.1f} s per hour of speech"
    )
    hours = hour[-1].end / 3600
    lexical_s, semantic_s, n_specs = tracker_times
    print(
        f"trackers alone on that transcript ({n_specs} trackers): lexical {lexical_s:.2f} s, "
        f"with sentence embeddings {semantic_s:.2f} s "
        f"= +{(semantic_s - lexical_s) / hours:.1f} s per hour of speech"
    )
    if args.verbose:
        for kind, tally in tallies.items():
            for line in tally.misses:
                print(f"MISS  {kind:<15} {line}")
            for line in tally.false_alarms:
                print(f"FALSE {kind:<15} {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
