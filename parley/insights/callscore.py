"""Call score (spec R.4): each criterion scored 0–100 from what Parley already measures,
with the messages that earned or cost points, and the call score their average.

Offline and explainable: every point comes from a counted fact of the conversation, and the
fact's messages are the criterion's ``evidence``; the positive and negative feedback are
written from that evidence, nothing else. The managed criteria:

* Communication and Engagement: balanced talk (the largest speaker's share of the words),
  turn-taking, no monologues (a speaker's turn over ``MONOLOGUE_SECONDS`` or
  ``MONOLOGUE_WORDS``), no interruptions (a turn starting before the other speaker's
  sentence ended), and an agenda set early.
* Question Handling: questions answered by someone else in the next turn (not deflected
  with "I don't know"), and objections ("too expensive", "we already use ...") met with a
  real reply.
* Forward Motion: next steps (action items and follow-ups), their owners and dates, and
  whether the other side agreed to them.
* Sales Process (sales calls in the qualification stage): BANT — budget, authority, need
  and timeline each discussed.

A custom criterion's checklist question is judged by the configured LLM endpoint when there
is one, else by the bundled sentence model: the question against every sentence, yes when
the closest sentence is within ``CHECKLIST_SIMILARITY``. Fewer than ``MIN_WORDS`` words
are not scored at all (``{"status": "insufficient_words"}``), never given a made-up score.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parley.insights.schema import CallScoreSpec, CriterionSpec, Item, LlmSettings, Message

__all__ = [
    "MANAGED",
    "MIN_WORDS",
    "default_criteria",
    "score",
]

log = logging.getLogger("parley.insights")

#: Symbl: "the transcript must have at least 50 words" (call-score-get-started).
MIN_WORDS = 50
COMMUNICATION = "Symbl.Communication_And_Engagement"
QUESTIONS = "Symbl.Question_Handling"
FORWARD = "Symbl.Forward_Motion"
SALES = "Symbl.Sales_Process"
#: The managed criteria: id → name.
MANAGED = {
    COMMUNICATION: "Communication and Engagement",
    QUESTIONS: "Question Handling",
    FORWARD: "Forward Motion",
    SALES: "Sales Process",
}
#: A turn this long, or with this many words, is a monologue.
MONOLOGUE_SECONDS = 60.0
MONOLOGUE_WORDS = 120
#: A sentence starting this much before the other speaker's ended interrupts it.
INTERRUPT_SECONDS = 0.3
#: Cosine similarity (all-MiniLM-L6-v2) at which a sentence answers a checklist question.
#: Set for precision: a question about a topic ("Was pricing discussed?") meets the
#: sentence that discusses it at 0.5–0.8, while unrelated questions stay under 0.4 on the
#: scripted calls; a question about behaviour ("Did they agree on next steps?") rarely
#: reaches it, which is what the LLM endpoint is for.
CHECKLIST_SIMILARITY = 0.45
PRIORITY_WEIGHT = {"high": 3, "medium": 2, "low": 1}
#: Most evidence items per criterion, and distinct reasons per feedback text: a long call
#: stays a readable answer (the counts in the feedback still cover everything).
MAX_EVIDENCE = 50
MAX_REASONS = 8

_WORD = re.compile(r"[A-Za-z0-9']+")
_DEFLECT = re.compile(
    r"\b(i don'?t know|not sure|no idea|can'?t say|no comment|can'?t tell you|pass on that)\b",
    re.I,
)
_OBJECTION = re.compile(
    r"\b(too expensive|too much money|(is|are|seems?) (too )?(pricey|costly)|can'?t afford"
    r"|(over|out of) (our|the) budget|budget is tight|we already (use|have)"
    r"|(not|n'?t) interested|(a|my|our|the) (main |big )?concern|worried (about|that)"
    r"|(don'?t|do not) (see|think) (the|any|much) (value|need|point)"
    r"|(not|n'?t) (a|the) (good |right )?(fit|priority)|no time for)\b",
    re.I,
)
_AGENDA = re.compile(
    r"\b(agenda|(the )?(goal|purpose|plan) (of|for) (this|today'?s|the) (call|meeting)"
    r"|today (we|i) (will|would like to|'?d like to|want to)|let'?s (start|begin) (with|by))\b",
    re.I,
)
_AGREE = re.compile(
    r"\b(yes|yeah|sure|sounds good|agreed|works for me|that works|perfect|great|"
    r"deal|absolutely|of course|okay|ok|let'?s do (it|that))\b",
    re.I,
)
_BANT = {
    "budget": re.compile(
        r"\b(budget|price|pricing|cost|spend|afford|investment|per (seat|user|month|year))\b",
        re.I,
    ),
    "authority": re.compile(
        r"\b(decision[- ]maker|decides|sign[- ]off|approv\w*|who else|stakeholders?"
        r"|procurement|final say|buying committee)\b",
        re.I,
    ),
    "need": re.compile(
        r"\b(need|needs|problem|challenge|pain|struggl\w*|issue|requirement\w*|looking for)\b",
        re.I,
    ),
    "timeline": re.compile(
        r"\b(timeline|timeframe|deadline|by (the )?end of|next (quarter|month|year)"
        r"|(this|next) (quarter|month)|q[1-4]|go[- ]live|launch date|when (do|would) you)\b",
        re.I,
    ),
}


def default_criteria(conversation_type: str, sales_stage: str) -> tuple[str, ...]:
    """The managed criteria a call is scored on without a scorecard: the sales process
    only for a sales call in the qualification stage (Symbl's rule)."""
    ids = [COMMUNICATION, QUESTIONS, FORWARD]
    if conversation_type == "sales" and sales_stage == "qualification":
        ids.append(SALES)
    return tuple(ids)


def words(text: str) -> int:
    return len(_WORD.findall(text))


@dataclass
class _Criterion:
    """One criterion's result while it is built: points and the evidence behind them."""

    id: str
    name: str
    score: float = 0.0
    positive: list[str] = field(default_factory=list)
    negative: list[str] = field(default_factory=list)
    evidence: list[Item] = field(default_factory=list)

    def earned(self, reason: str, message_ids: Sequence[str] = ()) -> None:
        reason = reason[:1].upper() + reason[1:]
        self.positive.append(reason)
        if message_ids and len(self.evidence) < MAX_EVIDENCE:
            self.evidence.append(
                {"effect": "positive", "reason": reason, "messageIds": list(message_ids)}
            )

    def cost(self, reason: str, message_ids: Sequence[str] = ()) -> None:
        reason = reason[:1].upper() + reason[1:]
        self.negative.append(reason)
        if message_ids and len(self.evidence) < MAX_EVIDENCE:
            self.evidence.append(
                {"effect": "negative", "reason": reason, "messageIds": list(message_ids)}
            )

    def to_json(self) -> Item:
        value = round(max(0.0, min(100.0, self.score)))
        positive = _joined(self.positive) or "Nothing in the transcript earned points here"
        negative = _joined(self.negative) or "Nothing in the transcript cost points here"
        first = self.negative if value < 50 and self.negative else self.positive
        lead = (first or self.negative or ["no evidence either way"])[0]
        return {
            "id": self.id,
            "name": self.name,
            "score": value,
            "summary": f"{self.name} scored {value} of 100: {lead[0].lower()}{lead[1:]}.",
            "feedback": {
                "positive": {"summary": positive + "."},
                "negative": {"summary": negative + "."},
            },
            "evidence": self.evidence,
        }


def _joined(reasons: Sequence[str]) -> str:
    """Reasons in order, a repeated one once with its count ("... (3 times)"), at most
    ``MAX_REASONS`` of them (a long call's feedback stays readable)."""
    counts: dict[str, int] = {}
    for reason in reasons:
        counts[reason] = counts.get(reason, 0) + 1
    shown = [r if n == 1 else f"{r} ({n} times)" for r, n in counts.items()]
    more = len(shown) - MAX_REASONS
    return "; ".join(shown[:MAX_REASONS]) + (f"; and {more} more" if more > 0 else "")


@dataclass(frozen=True)
class _Turn:
    """Consecutive sentences of one speaker."""

    speaker: str
    start: float
    end: float
    words: int
    message_ids: tuple[str, ...]


def _speaker(message: Message) -> str:
    return message.member.id if message.member is not None else ""


def _name(message: Message) -> str:
    return message.member.name if message.member is not None else "an unknown speaker"


def _turns(messages: Sequence[Message]) -> list[_Turn]:
    turns: list[_Turn] = []
    for m in messages:
        if turns and turns[-1].speaker == _speaker(m):
            last = turns[-1]
            turns[-1] = _Turn(
                last.speaker,
                last.start,
                max(last.end, m.end),
                last.words + words(m.text),
                (*last.message_ids, m.id),
            )
        else:
            turns.append(_Turn(_speaker(m), m.start, m.end, words(m.text), (m.id,)))
    return turns


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


# -- the managed criteria -------------------------------------------------------------


def _communication(messages: Sequence[Message]) -> _Criterion:
    c = _Criterion(COMMUNICATION, MANAGED[COMMUNICATION])
    per_speaker: dict[str, int] = {}
    names: dict[str, str] = {}
    for m in messages:
        per_speaker[_speaker(m)] = per_speaker.get(_speaker(m), 0) + words(m.text)
        names[_speaker(m)] = _name(m)
    total = sum(per_speaker.values()) or 1
    top = max(per_speaker, key=lambda s: per_speaker[s])
    share = per_speaker[top] / total
    if len(per_speaker) < 2:
        balance = 0.0
        c.cost(f"Only {names[top]} spoke: there was no dialogue")
    else:
        balance = max(0.0, min(1.0, 1 - (share - 0.5) / 0.4))
        if share <= 0.65:
            c.earned(f"Talk was balanced: {names[top]} spoke {share:.0%} of the words")
        else:
            c.cost(f"{names[top]} spoke {share:.0%} of the words; the others mostly listened")
    turns = _turns(messages)
    interactivity = min(1.0, (len(turns) - 1) / 8)
    if len(turns) >= 6:
        c.earned(f"Speakers took turns often ({_plural(len(turns), 'turn')})")
    monologues = [
        t for t in turns if t.end - t.start >= MONOLOGUE_SECONDS or t.words >= MONOLOGUE_WORDS
    ]
    for t in monologues:
        c.cost(
            f"A monologue of {t.end - t.start:.0f} s and {t.words} words",
            t.message_ids,
        )
    interruptions = [
        b
        for a, b in itertools.pairwise(messages)
        if _speaker(a) != _speaker(b) and b.start < a.end - INTERRUPT_SECONDS
    ]
    for m in interruptions:
        c.cost(f"{_name(m)} interrupted", [m.id])
    agenda = next(
        (m for m in messages[: max(4, len(messages) // 5)] if _AGENDA.search(m.text)), None
    )
    if agenda is not None:
        c.earned("An agenda was set at the start", [agenda.id])
    c.score = 100 * (
        0.35 * balance
        + 0.2 * interactivity
        + 0.2 * max(0.0, 1 - 0.35 * len(monologues))
        + 0.15 * max(0.0, 1 - 0.2 * len(interruptions))
        + 0.1 * (agenda is not None)
    )
    return c


def _reply(messages: Sequence[Message], index: int) -> Message | None:
    """The first sentence of another speaker within the next three, if any."""
    asker = _speaker(messages[index])
    for later in messages[index + 1 : index + 4]:
        if _speaker(later) != asker:
            return later
    return None


def _question_handling(messages: Sequence[Message], questions: Sequence[Item]) -> _Criterion:
    c = _Criterion(QUESTIONS, MANAGED[QUESTIONS])
    position = {m.id: i for i, m in enumerate(messages)}
    asked = {mid for q in questions for mid in q.get("messageIds", []) if mid in position}
    answered = 0
    for mid in sorted(asked, key=position.__getitem__):
        reply = _reply(messages, position[mid])
        if reply is None or reply.id in asked or words(reply.text) < 3:
            c.cost(f'"{messages[position[mid]].text.strip()}" was not answered', [mid])
        elif _DEFLECT.search(reply.text):
            c.cost(f"{_name(reply)} did not know the answer", [mid, reply.id])
        else:
            answered += 1
            c.earned(f"{_name(reply)} answered a question", [mid, reply.id])
    objections = [i for i, m in enumerate(messages) if _OBJECTION.search(m.text)]
    met = 0
    for i in objections:
        reply = _reply(messages, i)
        if reply is not None and words(reply.text) >= 6 and not _DEFLECT.search(reply.text):
            met += 1
            c.earned(f"{_name(reply)} met an objection", [messages[i].id, reply.id])
        else:
            c.cost("An objection was left unanswered", [messages[i].id])
    total = len(asked) + len(objections)
    if total == 0:
        c.score = 30
        c.cost("No questions were asked and no objections raised: needs were not explored")
        return c
    if asked:
        c.positive.insert(0, f"{answered} of {_plural(len(asked), 'question')} answered")
    c.score = 100 * (0.85 * (answered + met) / total + 0.15 * min(1.0, len(asked) / 3))
    return c


def _forward_motion(
    messages: Sequence[Message], action_items: Sequence[Item], follow_ups: Sequence[Item]
) -> _Criterion:
    c = _Criterion(FORWARD, MANAGED[FORWARD])
    steps = [*action_items, *follow_ups]
    if not steps:
        c.cost("No next steps were agreed: the call ended without a commitment")
        return c
    position = {m.id: i for i, m in enumerate(messages)}
    owned = dated = confirmed = 0
    for step in steps:
        ids = [i for i in step.get("messageIds", []) if i in position]
        owner = (step.get("assignee") or {}).get("name")
        text = str(step.get("text", "")).strip()
        if owner:
            owned += 1
            c.earned(f'Next step "{text}" owned by {owner}', ids)
        else:
            c.cost(f'Next step "{text}" has no owner', ids)
        if step.get("dueBy"):
            dated += 1
        if ids:
            reply = _reply(messages, position[ids[-1]])
            if reply is not None and _AGREE.search(reply.text):
                confirmed += 1
                c.earned(f"{_name(reply)} agreed to it", [reply.id])
    n = len(steps)
    c.positive.insert(0, f"{_plural(n, 'next step')} agreed")
    if dated:
        c.positive.append(f"{dated} with a date")
    c.score = 100 * (
        0.45 * min(1.0, n / 2) + 0.25 * owned / n + 0.15 * dated / n + 0.15 * min(1, confirmed)
    )
    return c


def _sales_process(messages: Sequence[Message]) -> _Criterion:
    c = _Criterion(SALES, MANAGED[SALES])
    for topic, pattern in _BANT.items():
        found = [m.id for m in messages if pattern.search(m.text)]
        if found:
            c.score += 25
            c.earned(f"{topic.capitalize()} was discussed", found[:3])
        else:
            c.cost(f"{topic.capitalize()} was never discussed")
    return c


# -- custom criteria -------------------------------------------------------------------


def _judge_with_model(
    questions: Sequence[str], messages: Sequence[Message], sentence_model: Path | None
) -> list[tuple[bool, list[str], str]]:
    import numpy as np

    from parley.insights.embeddings import get_encoder

    encoder = get_encoder(sentence_model)
    q = encoder.encode(list(questions))
    s = encoder.encode([m.text for m in messages])
    similarity = q @ s.T
    out = []
    for row in similarity:
        best = int(np.argmax(row))
        value = float(row[best])
        yes = value >= CHECKLIST_SIMILARITY
        out.append((yes, [messages[best].id], f"closest sentence at similarity {value:.2f}"))
    return out


def _judge_with_llm(
    questions: Sequence[str], messages: Sequence[Message], settings: LlmSettings
) -> list[tuple[bool, list[str], str]] | None:
    from parley.insights import llm

    lines = "\n".join(f"[{m.id}] {_name(m)}: {m.text[:500]}" for m in messages)
    asked = "\n".join(f"{i}. {q}" for i, q in enumerate(questions))
    system = (
        "You judge a call transcript against checklist questions. Answer only with JSON: "
        '{"answers":[{"index":0,"answer":"yes"|"no","messageIds":["..."]}]} where '
        "messageIds are the ids in brackets of the lines that show the answer."
    )
    try:
        data = llm.parse_json(llm.chat(settings, system, f"{lines}\n\nQuestions:\n{asked}"))
        known = {m.id for m in messages}
        found: dict[int, tuple[bool, list[str], str]] = {}
        for a in data.get("answers", []):
            ids = [str(i) for i in a.get("messageIds", []) if str(i) in known]
            found[int(a["index"])] = (str(a.get("answer")).lower() == "yes", ids, "judged by LLM")
        return [found[i] for i in range(len(questions))]
    except Exception as exc:  # any failure falls back to the sentence model
        log.warning("call score: the LLM did not judge the checklist (%s)", exc)
        return None


def _custom(
    spec: CriterionSpec,
    messages: Sequence[Message],
    sentence_model: Path | None,
    llm_settings: LlmSettings | None,
) -> _Criterion:
    c = _Criterion(spec.id, spec.name)
    questions = [q.question for q in spec.checklist]
    verdicts = None
    if llm_settings is not None and questions:
        verdicts = _judge_with_llm(questions, messages, llm_settings)
    if verdicts is None:
        verdicts = _judge_with_model(questions, messages, sentence_model) if questions else []
    total = earned = 0
    for item, (yes, ids, how) in zip(spec.checklist, verdicts, strict=True):
        weight = PRIORITY_WEIGHT.get(item.priority, 2)
        total += weight
        if yes:
            earned += weight
            c.earned(f'"{item.question}": yes ({how})', ids)
        else:
            c.cost(f'"{item.question}": not shown in the call ({how})', ids)
    c.score = 100 * earned / total if total else 0
    return c


# -- the call ---------------------------------------------------------------------------


def score(
    messages: Sequence[Message],
    spec: CallScoreSpec,
    *,
    questions: Sequence[Item] = (),
    action_items: Sequence[Item] = (),
    follow_ups: Sequence[Item] = (),
    sentence_model: Path | None = None,
    llm_settings: LlmSettings | None = None,
) -> Item:
    """The call score in Symbl's shape (``score``, ``summary``, ``criteria``), each
    criterion with its ``id`` and ``evidence``; or ``{"status": "insufficient_words",
    "wordCount"}`` when the transcript is shorter than ``MIN_WORDS``."""
    messages = [m for m in messages if m.text and m.text.strip()]
    count = sum(words(m.text) for m in messages)
    if count < MIN_WORDS:
        return {"status": "insufficient_words", "wordCount": count}
    managed = spec.managed
    if managed is None:
        managed = default_criteria(spec.conversation_type, spec.sales_stage)
    built: list[_Criterion] = []
    for criterion_id in managed:
        if criterion_id == COMMUNICATION:
            built.append(_communication(messages))
        elif criterion_id == QUESTIONS:
            built.append(_question_handling(messages, questions))
        elif criterion_id == FORWARD:
            built.append(_forward_motion(messages, action_items, follow_ups))
        elif criterion_id == SALES:
            built.append(_sales_process(messages))
    built += [_custom(c, messages, sentence_model, llm_settings) for c in spec.custom]
    criteria = [c.to_json() for c in built]
    value = round(sum(c["score"] for c in criteria) / len(criteria)) if criteria else 0
    ranked = sorted(criteria, key=lambda c: c["score"])
    summary = f"The call scored {value} of 100."
    if len(ranked) > 1:
        summary += (
            f" Strongest: {ranked[-1]['name']} ({ranked[-1]['score']});"
            f" weakest: {ranked[0]['name']} ({ranked[0]['score']})."
        )
    return {
        "status": "completed",
        "score": value,
        "summary": summary,
        "wordCount": count,
        "criteria": criteria,
    }


def describe(result: Item) -> dict[str, Any]:
    """The stored result as ``GET .../callscore`` shows it (without the internal status)."""
    return {k: v for k, v in result.items() if k != "status"}
