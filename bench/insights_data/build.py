"""Turn the hand-annotated transcripts in ``src/*.txt`` into the JSON evaluation files.

Annotating inline (tags at the end of each sentence) keeps labels next to the text they
describe, so message indices cannot drift when a line is added. Run after editing a source:

    .venv/bin/python bench/insights_data/build.py

Source format (one message per line, ``Speaker: text  [Q A F] {T:Tracker} {C:Custom type}``):

* ``Q`` question, ``A`` action item, ``F`` follow-up (an action item that schedules a future
  interaction: a call, meeting, check-in, "I'll get back to you").
* ``{T:name}`` the message should be detected by tracker ``name``;
  ``{C:type}`` the message mentions custom entity ``type``.
* Header lines: ``# name:``, ``# kind:``, ``# reference_time:``,
  ``# entity: <type>: a, b, c`` (expected entities, scored as a set per conversation),
  ``# ignore: a, b`` (ambiguous spans that count neither way),
  ``# custom: <type> = <text>``, ``# tracker: <name> = term | term``.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
_TAGS = re.compile(r"\s*(\[[QAF ]*\])?\s*((?:\{[TC]:[^}]+\}\s*)*)$")


def parse(path: Path) -> dict:
    """Parse one annotated source file into the evaluation JSON shape."""
    conv: dict = {
        "name": path.stem,
        "kind": "meeting",
        "reference_time": None,
        "messages": [],
        "labels": {
            "questions": [],
            "action_items": [],
            "follow_ups": [],
            "entities": [],
            "ignore_entities": [],
            "custom_entities": {"definitions": [], "expected": []},
            "trackers": {"definitions": [], "expected": []},
        },
    }
    labels = conv["labels"]
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            key, _, value = line[1:].partition(":")
            key, value = key.strip(), value.strip()
            if key in ("name", "kind", "reference_time"):
                conv[key] = value
            elif key == "entity":
                etype, _, texts = value.partition(":")
                for text in re.split(r",\s+", texts):
                    if text.strip():
                        labels["entities"].append({"text": text.strip(), "type": etype.strip()})
            elif key == "ignore":
                labels["ignore_entities"] += [
                    t.strip() for t in re.split(r",\s+", value) if t.strip()
                ]
            elif key == "custom":
                ctype, _, text = value.partition("=")
                labels["custom_entities"]["definitions"].append(
                    {"customType": ctype.strip(), "text": text.strip()}
                )
            elif key == "tracker":
                name, _, vocab = value.partition("=")
                labels["trackers"]["definitions"].append(
                    {"name": name.strip(), "vocabulary": [v.strip() for v in vocab.split("|")]}
                )
            continue
        speaker, _, rest = line.partition(":")
        match = _TAGS.search(rest)
        assert match is not None
        text = rest[: match.start()].strip()
        index = len(conv["messages"])
        conv["messages"].append({"speaker": speaker.strip(), "text": text})
        for flag in (match.group(1) or "").strip("[]").split():
            key = {"Q": "questions", "A": "action_items", "F": "follow_ups"}[flag]
            labels[key].append(index)
        for kind, value in re.findall(r"\{([TC]):([^}]+)\}", match.group(2) or ""):
            if kind == "T":
                labels["trackers"]["expected"].append({"name": value.strip(), "message": index})
            else:
                labels["custom_entities"]["expected"].append(
                    {"customType": value.strip(), "message": index}
                )
    return conv


def main() -> int:
    for src in sorted((HERE / "src").glob("*.txt")):
        conv = parse(src)
        out = HERE / f"{src.stem}.json"
        out.write_text(json.dumps(conv, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"{out.name}: {len(conv['messages'])} messages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
