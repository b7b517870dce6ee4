"""Action items and follow-ups from the dependency parse.

An action item is a future task someone takes on or is asked to do:
* a commitment: first-person subject with will/'ll/going to/need to/have to/should/let me
  ("I'll send the deck by Friday", "we need to update the help articles", "let's keep one");
* a request: "can/could/would you ...", "you need to ...", or an imperative ("please book
  the room", "Carlos please write the rollback steps");
* a third party's commitment: "a manager will call you back".

Hypotheticals (would/'d), negations, offers with "I can", suggestions with "you can",
conditionals ("if this isn't fixed I'm going to cancel") and in-call steps ("let me pull that
up, one moment") score below the default threshold instead of being dropped, so callers who
lower ``confidenceThreshold`` still see them. A follow-up is an action item whose task is a
future interaction: a call, meeting, check-in, getting back to someone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from parley.insights import dates, llm
from parley.insights.context import Context
from parley.insights.people import person_json
from parley.insights.schema import Item, Member
from parley.insights.stable_ids import insight_id

if TYPE_CHECKING:
    from spacy.tokens import Doc, Token

__all__ = ["ActionCandidate", "analyse", "detect"]

FUTURE_MODALS = frozenset({"will", "'ll", "shall", "wo"})
WEAK_MODALS = frozenset({"can", "could", "might", "may", "ca"})
OBLIGATION = frozenset({"need", "have", "got", "plan", "gon", "going"})
STATIVE = frozenset(
    [
        "be",
        "seem",
        "know",
        "think",
        "believe",
        "guess",
        "hope",
        "like",
        "love",
        "want",
        "wish",
        "mean",
        "understand",
        "appreciate",
        "feel",
        "agree",
        "remember",
        "bet",
        "suppose",
        "assume",
        "imagine",
        "wonder",
        "stay",
        "remain",
        "happen",
        "matter",
        "sound",
        "need",
        "say",
        "hear",
        "see",
        "care",
        "mind",
        "exist",
        "prefer",
        "include",
        "cost",
        "depend",
        "deserve",
    ]
)
#: Requests for information during the call ("can you tell me ...") are questions, not tasks.
INFO_VERBS = frozenset(
    [
        "tell",
        "confirm",
        "explain",
        "describe",
        "clarify",
        "repeat",
        "spell",
        "walk",
        "give",
        "hold",
        "speak",
    ]
)
#: "let's get started", "let's plan the campaign": meeting procedure, not a task.
PROCEDURAL_LETS = frozenset(
    [
        "start",
        "begin",
        "kick",
        "dive",
        "jump",
        "move",
        "wrap",
        "go",
        "continue",
        "recap",
        "plan",
        "discuss",
        "talk",
        "get",
        "hear",
    ]
)
#: "let me pull that up, one moment": a step taken during the call, not a task.
IMMEDIATE = re.compile(
    r"\b(?:(?:just\s+)?(?:one|a)\s+(?:moment|sec|second|minute)(?:\s+please)?\s*(?:[.,!?]|$)"
    r"|hold on|bear with me)",
    re.IGNORECASE,
)
#: Formulaic replies that look like imperatives ("Got it.", "Take care.").
ACKNOWLEDGEMENTS = re.compile(
    r"^(?:(?:ok|okay|yeah|yes|sure|great|alright|perfect)[,\s]+)?(?:got it|gotcha|take care|"
    r"never mind|see you(?: soon| later)?|talk soon|sounds good|makes sense|fair enough|"
    r"no worries|go ahead|hang on|will do|thank you|thanks)\W*$",
    re.IGNORECASE,
)
PROCEDURAL_OBJECTS = frozenset("round intro introduction introductions recap overview".split())
HEDGES = frozenset({"maybe", "probably", "perhaps", "possibly", "hopefully"})
PERSON_NOUNS = frozenset(
    [
        "manager",
        "supervisor",
        "someone",
        "somebody",
        "team",
        "engineer",
        "agent",
        "rep",
        "representative",
        "person",
        "colleague",
        "department",
        "technician",
        "specialist",
        "lead",
        "owner",
        "assistant",
    ]
)
#: Verbs whose action is itself the next interaction.
FOLLOW_UP_VERBS = frozenset(
    [
        "call",
        "meet",
        "regroup",
        "reconnect",
        "ping",
        "sync",
        "touch",
        "circle",
        "catch",
        "follow",
        "reach",
        "update",
    ]
)
FOLLOW_UP_PARTICLES = {
    "get": {"back"}, "check": {"back", "in"}, "circle": {"back"}, "touch": {"base"},
    "catch": {"up"}, "follow": {"up"}, "reach": {"out"}, "call": {"back"}, "hear": {"back"},
}  # fmt: skip
MEETING_NOUNS = frozenset(
    [
        "meeting",
        "call",
        "demo",
        "invite",
        "invitation",
        "session",
        "sync",
        "check-in",
        "checkin",
        "follow-up",
        "followup",
        "catch-up",
        "appointment",
        "touchpoint",
        "standup",
        "review-meeting",
    ]
)
SCHEDULE_VERBS = frozenset(
    ["schedule", "set", "book", "arrange", "organize", "send", "plan", "put", "find"]
)
CONTACT_VERBS = frozenset(
    ["email", "mail", "text", "message", "write", "ping", "call", "ring", "phone"]
)
SECOND_PERSON = frozenset({"you", "your", "y'all"})
LEADS = frozenset("so and but okay ok oh well alright also then now yeah yes".split())


@dataclass
class ActionCandidate:
    """One detected task, before it is turned into Symbl's JSON."""

    index: int
    verb: Token
    kind: str  # "commitment" | "request" | "third_party"
    score: float
    definitive: bool
    follow_up: bool
    assignee: dict[str, str | None] = field(default_factory=dict)
    assignee_name: str | None = None


#: Words that may precede an imperative's verb ("so please book ...", "Carlos, write ...").
_IMPERATIVE_LEAD_WORDS = frozenset(
    ["please", "so", "and", "also", "then", "just", "now", "okay", "ok", "yes", "yeah"]
)


@dataclass(frozen=True)
class _DocFacts:
    """Per-message facts every verb of the message needs, computed once per message (not
    once per verb, which made a long message quadratic)."""

    text_low: str
    hedge: bool
    #: index of the first token that rules out an imperative after it
    first_content: int

    @classmethod
    def of(cls, doc: Doc) -> _DocFacts:
        text_low = doc.text.lower()
        hedge = (
            any(t.lower_ in HEDGES for t in doc) or "i think" in text_low or "i guess" in text_low
        )
        first_content = next(
            (
                t.i
                for t in doc
                if not t.is_punct
                and t.pos_ not in {"INTJ", "PROPN", "ADV", "CCONJ"}
                and t.lower_ not in _IMPERATIVE_LEAD_WORDS
            ),
            len(doc),
        )
        return cls(text_low, hedge, first_content)


def _subject(verb: Token) -> Token | None:
    """The verb's subject, looking through xcomp chains ("need to update" -> need's subject).

    With two candidates ("Marcus, can your team fix ...") the one nearest the verb wins;
    the other is a vocative.
    """
    tok: Token | None = verb
    for _ in range(4):
        if tok is None:
            return None
        subjects = [c for c in tok.children if c.dep_ in {"nsubj", "nsubjpass", "expl"}]
        if subjects:
            before = [c for c in subjects if c.i < tok.i]
            return max(before, key=lambda c: c.i) if before else subjects[0]
        if tok.dep_ in {"xcomp", "conj", "ccomp"} and tok.head is not tok:
            tok = tok.head
        else:
            return None
    return None


def _chain(verb: Token) -> list[Token]:
    """The verb and the verbs governing it through xcomp/conj (where modals may sit)."""
    out = [verb]
    tok = verb
    while tok.dep_ in {"xcomp", "conj"} and tok.head is not tok and len(out) < 4:
        tok = tok.head
        out.append(tok)
    return out


def _aux_words(chain: Sequence[Token]) -> set[str]:
    """Auxiliaries of the verb and of its governors ("need" in "need to update")."""
    words: set[str] = set()
    for n, tok in enumerate(chain):
        for child in tok.children:
            if child.dep_ in {"aux", "auxpass", "neg"}:
                words.add(child.lower_)
        if n:
            words.add(tok.lower_)
    return words


def _is_negated(verb: Token) -> bool:
    """Negated here or anywhere above ("I don't want you to have to switch")."""
    tok = verb
    for _ in range(6):
        if any(c.dep_ == "neg" for c in tok.children):
            return True
        if tok.head is tok:
            return False
        tok = tok.head
    return False


def _is_conditional(verb: Token, doc: Doc) -> bool:
    """An 'if' clause attached to the task or its governor makes it conditional."""
    for tok in _chain(verb):
        for child in tok.children:
            if child.dep_ == "advcl" and any(g.lower_ in {"if", "unless"} for g in child.children):
                return True
    root = verb.sent.root if doc.has_annotation("DEP") else verb
    return root is not verb and any(
        child.dep_ == "advcl" and any(g.lower_ == "if" for g in child.children)
        for child in root.children
    )


def _has_complement(verb: Token) -> bool:
    return any(
        c.dep_
        in {
            "dobj",
            "prep",
            "prt",
            "xcomp",
            "ccomp",
            "dative",
            "attr",
            "acomp",
            "advmod",
            "npadvmod",
            "oprd",
            "advcl",
        }
        for c in verb.children
    )


def _particles(verb: Token) -> set[str]:
    """Particle-like children; "in" of "check in next Monday" parses as a preposition."""
    return {
        c.lower_
        for c in verb.children
        if c.dep_ in {"prt", "advmod", "dobj", "npadvmod", "prep"} and c.i > verb.i
    }


def _objects(verb: Token) -> list[Token]:
    objs = [c for c in verb.children if c.dep_ in {"dobj", "dative", "oprd"}]
    for prep in (c for c in verb.children if c.dep_ == "prep"):
        objs += [g for g in prep.children if g.dep_ == "pobj"]
    return objs


def _is_follow_up(verb: Token) -> bool:
    """Is the task itself a future interaction (call, meeting, check-in, getting back)?"""
    lemma = verb.lemma_.lower()
    parts = _particles(verb)
    if lemma in FOLLOW_UP_PARTICLES and parts & FOLLOW_UP_PARTICLES[lemma]:
        return True
    objects = _objects(verb)
    obj_lemmas = {o.lemma_.lower() for o in objects}
    direct = [c for c in verb.children if c.dep_ == "dobj"]
    if lemma in {"call", "meet", "regroup", "reconnect", "ping", "sync", "catch", "reach"}:
        return lemma != "call" or not direct or direct[0].pos_ in {"PRON", "PROPN"}
    if lemma in {"follow", "touch", "circle"}:
        return True
    if lemma in SCHEDULE_VERBS and any(
        o.lemma_.lower() in MEETING_NOUNS or o.text.lower() in MEETING_NOUNS for o in objects
    ):
        return True
    if lemma in CONTACT_VERBS:
        # "email you when it's fixed" is a follow-up; "email you the quote" delivers something.
        things = [o for o in direct if o.pos_ not in {"PRON", "PROPN"} or o.lower_ == "it"]
        return not things and not (obj_lemmas - {"you", "me", "him", "her", "them", "us"})
    return bool(lemma == "keep" and "posted" in {c.lower_ for c in verb.children})


def _vocative(doc: Doc, names: dict[str, Member]) -> str | None:
    """A name the speaker addresses: "Marcus, can your team ...", "Ben can you ..."."""
    for tok in doc[:6]:
        if tok.pos_ == "PROPN" or tok.lower_ in names:
            nxt = doc[tok.i + 1] if tok.i + 1 < len(doc) else None
            if nxt is None:
                continue
            prev_ok = tok.i == 0 or doc[tok.i - 1].is_punct or doc[tok.i - 1].pos_ == "INTJ"
            if prev_ok and (
                nxt.text == ","
                or nxt.lower_ in {"can", "could", "would", "please", "will", "you", "do"}
            ):
                return tok.text
    return None


def _classify(verb: Token, facts: _DocFacts) -> tuple[str, float, bool] | None:
    """(kind, score, definitive) if ``verb`` heads a task, else None."""
    lemma = verb.lemma_.lower()
    chain = _chain(verb)
    auxes = _aux_words(chain)
    subj = _subject(verb)
    subj_low = subj.lower_ if subj is not None else ""
    text_low = facts.text_low
    if verb.tag_ not in {"VB", "VBP"} and not (verb.tag_ == "VBG" and "going" in auxes):
        return None
    if _is_negated(verb):
        return None
    # "let's keep ...", "let me check ..."
    let = next((t for t in [*chain[1:], verb.head] if t.lemma_.lower() == "let"), None)
    if let is None and verb.dep_ == "ccomp" and verb.head.lemma_.lower() == "let":
        let = verb.head
    if let is not None and subj is not None and subj.lower_ in {"'s", "us", "me"}:
        objects = {o.lemma_.lower() for o in _objects(verb)}
        if lemma == "do" and (not objects or objects & PROCEDURAL_OBJECTS):
            return None
        if lemma in PROCEDURAL_LETS and not (subj.lower_ == "me" and lemma == "talk"):
            return None  # "let's get started"; but "let me talk to him first" is a task
        return "commitment", 0.85, True
    # "have fixes by Thursday", "have it ready", "have someone email you" deliver something.
    has_object = any(c.dep_ in {"dobj", "ccomp", "xcomp", "oprd"} for c in verb.children)
    # "see if I can bundle it" is a task; "see", "want", "think" otherwise describe states.
    checks = lemma == "see" and any(c.lower_ in {"if", "whether"} for c in verb.subtree)
    if lemma in STATIVE and not (lemma == "have" and has_object) and not checks:
        return None
    if lemma == "have" and not has_object:
        return None
    if not _has_complement(verb):
        return None
    would = bool(auxes & {"would", "'d"})
    future = bool(auxes & FUTURE_MODALS) or "going" in auxes or "gonna" in text_low
    obligation = bool(auxes & {"need", "have", "has", "must", "should", "got", "ought"})
    weak = bool(auxes & WEAK_MODALS)
    inverted = subj is not None and any(
        c.dep_ == "aux" and c.i < subj.i for tok in chain for c in tok.children
    )
    hedge = facts.hedge

    first_person = subj_low in {"i", "we"}
    second_person = subj_low in SECOND_PERSON or (
        subj is not None and any(c.lower_ == "your" for c in subj.children)
    )
    if first_person:
        if would and lemma != "like":
            return None
        if inverted:
            # "Can I get your name?" asks permission; "should we set up X?" proposes a task.
            if subj_low == "i":
                return None
            if not auxes & {"should", "shall", "can", "could", "want", "need"}:
                return None  # "do we have a plan?" asks; "should we set one up?" proposes
            return "commitment", 0.7, False
        if future or obligation:
            return "commitment", 0.9 if not hedge else 0.75, not hedge
        if weak:
            return "commitment", 0.4, False  # offers: "I can take it"
        return None
    noun_request = (
        inverted
        and subj is not None
        and subj.pos_ in {"NOUN", "PROPN"}
        and bool(auxes & {"can", "could", "ca"})
    )
    if second_person or noun_request:
        if lemma in INFO_VERBS:
            return None
        if inverted and (weak or would or future):
            return "request", 0.8, False
        if obligation:
            return "request", 0.85, True
        if future and not inverted:
            return "request", 0.7, False
        if weak and not inverted:
            return "request", 0.45, False  # "you can move the file": a suggestion
        return None
    if subj is None or (subj.pos_ == "PROPN" and not auxes - {verb.lower_}):
        # Imperative: sentence-level base verb, nothing but a vocative before it.
        if verb.tag_ != "VB" or verb.lower_ != lemma or any(c.dep_ == "aux" for c in verb.children):
            return None
        if verb.dep_ not in {"ROOT", "conj"} and not (
            verb.dep_ == "ccomp" and verb.head.pos_ != "VERB"
        ):
            return None
        if facts.first_content < verb.i:
            return None
        if lemma in INFO_VERBS or lemma in STATIVE or lemma in {"let", "thank", "have"}:
            return None
        definitive = "please" in text_low
        return "request", 0.85 if definitive else 0.75, definitive
    if (
        (
            subj.ent_type_ == "PERSON"
            or subj.lemma_.lower() in PERSON_NOUNS
            or subj_low in {"he", "she", "they"}
        )
        and (future or obligation)
        and not would
    ):
        return "third_party", 0.8, future
    return None


def analyse(ctx: Context) -> list[ActionCandidate]:
    """Every task candidate, at most one per message (the strongest)."""
    names = {part.lower(): m for m in ctx.members() for part in m.name.split()}
    found: list[ActionCandidate] = []
    for index, doc in enumerate(ctx.docs):
        if not doc.text.strip() or ACKNOWLEDGEMENTS.match(doc.text.strip()):
            continue
        first = next(
            (t for t in doc if not t.is_punct and t.pos_ != "INTJ" and t.lower_ not in LEADS),
            None,
        )
        if first is not None and first.lower_ in {"what", "why", "where", "who", "how", "which"}:
            continue  # wh-questions ask; they do not assign
        best: ActionCandidate | None = None
        facts = _DocFacts.of(doc)
        immediate = IMMEDIATE.search(facts.text_low) is not None
        for tok in doc:
            if tok.pos_ not in {"VERB", "AUX"} or tok.dep_ == "aux":
                continue
            verdict = _classify(tok, facts)
            if verdict is None:
                continue
            kind, score, definitive = verdict
            if _is_conditional(tok, doc):
                score, definitive = min(score, 0.45), False
            if immediate:
                score, definitive = min(score, 0.35), False
            follow = _is_follow_up(tok) or any(
                _is_follow_up(c) for c in tok.children if c.dep_ == "conj"
            )
            cand = ActionCandidate(index, tok, kind, score, definitive, follow)
            if (
                best is None
                or cand.score > best.score
                or (cand.score == best.score and cand.follow_up and not best.follow_up)
            ):
                best = cand
        if best is not None:
            _assign(best, ctx, doc, names)
            found.append(best)
    return found


def _member_named(name: str, names: dict[str, Member]) -> Member | None:
    return names.get(name.split()[0].lower()) if name else None


def _assign(cand: ActionCandidate, ctx: Context, doc: Doc, names: dict[str, Member]) -> None:
    """Fill assignee: the speaker for commitments, the addressee for requests."""
    message = ctx.messages[cand.index]
    if cand.kind == "commitment":
        member = message.member
        cand.assignee_name = member.name if member else None
        cand.assignee = person_json(member, "assignee", name=cand.assignee_name)
        return
    if cand.kind == "third_party":
        subj = _subject(cand.verb)
        if subj is not None and subj.ent_type_ == "PERSON":
            name = " ".join(t.text for t in subj.subtree if t.ent_type_ == "PERSON")
            cand.assignee_name = name
            cand.assignee = person_json(_member_named(name, names), "assignee", name=name)
        return
    vocative = _vocative(doc, names)
    if vocative:
        member = _member_named(vocative, names)
        cand.assignee_name = member.name if member else vocative
        cand.assignee = person_json(member, "assignee", name=cand.assignee_name)
        return
    speaker = message.member
    for later in ctx.messages[cand.index + 1 : cand.index + 3]:
        if later.member is not None and (speaker is None or later.member.id != speaker.id):
            cand.assignee_name = later.member.name
            cand.assignee = person_json(later.member, "assignee")
            return


def _entities(cand: ActionCandidate, ctx: Context, doc: Doc) -> tuple[list[Item], str | None]:
    """Person and date tags for the item, and its ``dueBy`` if a future day is named."""
    tags: list[Item] = []
    seen: set[int] = set()
    for ent in doc.ents:
        if ent.label_ == "PERSON":
            tags.append(
                {
                    "type": "person",
                    "text": ent.text,
                    "offset": ent.start_char,
                    "value": {
                        "name": ent.text,
                        "assignee": ent.text == cand.assignee_name
                        or (cand.assignee_name or "").split(" ")[0] == ent.text,
                    },
                }
            )
            seen.add(ent.start_char)
    if cand.assignee_name and cand.kind == "request":
        first = cand.assignee_name.split()[0]
        pos = doc.text.find(first)
        if pos >= 0 and pos not in seen:
            tags.append(
                {
                    "type": "person",
                    "text": first,
                    "offset": pos,
                    "value": {"name": cand.assignee_name, "assignee": True},
                }
            )
    due: str | None = None
    today = ctx.today
    if today is not None:
        for found in dates.find_dates(doc.text, today):
            tag: Item = {
                "type": "date",
                "text": found.text,
                "offset": found.offset,
                "value": found.start.isoformat(),
            }
            if found.is_range and found.end is not None:
                tag = {
                    "type": "daterange",
                    "text": found.text,
                    "offset": found.offset,
                    "start": found.start.isoformat(),
                    "end": found.end.isoformat(),
                    "value": found.start.isoformat(),
                }
            tags.append(tag)
            if due is None and found.start >= today:
                due = dates.due_by_iso(
                    found.end or found.start, ctx.options.timezone_offset_minutes
                )
    tags.sort(key=lambda t: t["offset"])
    return tags, due


def action_phrase(verb: Token) -> str:
    """The task itself: the verb with its objects, without subject, modals or vocatives."""
    drop: set[int] = set()
    for child in verb.children:
        if (
            child.dep_
            in {
                "nsubj",
                "nsubjpass",
                "aux",
                "auxpass",
                "neg",
                "intj",
                "punct",
                "cc",
                "conj",
                "mark",
                "npadvmod",
            }
            and child.i < verb.i
        ) or child.dep_ in {"conj", "cc", "punct"}:
            drop.update(t.i for t in child.subtree)
    tokens = [t for t in verb.subtree if t.i not in drop and t.i >= verb.i]
    while tokens and (tokens[-1].is_punct or tokens[-1].pos_ in {"CCONJ", "ADP"}):
        tokens.pop()
    if not tokens:
        return verb.text
    return tokens[0].doc[tokens[0].i : tokens[-1].i + 1].text


def to_json(cand: ActionCandidate, ctx: Context) -> Item:
    """Symbl's action-item / follow-up object."""
    message = ctx.messages[cand.index]
    doc = ctx.docs[cand.index]
    tags, due = _entities(cand, ctx, doc)
    kind = "follow_up" if cand.follow_up else "action_item"
    text = message.text.strip()
    item: Item = {
        "id": insight_id(kind, text, [message.id]),
        "text": text,
        "type": kind,
        "score": round(cand.score, 4),
        "messageIds": [message.id],
        "entities": tags,
        "phrases": [{"type": "action_phrase", "text": action_phrase(cand.verb)}],
        "from": person_json(message.member, "from"),
        "definitive": cand.definitive,
        "assignee": cand.assignee,
    }
    if due is not None:
        item["dueBy"] = due
    return item


def detect(
    ctx: Context, candidates: Sequence[ActionCandidate] | None = None
) -> tuple[list[Item], list[Item]]:
    """(action items, follow-ups), unfiltered; tries the LLM first when one is configured.

    ``candidates`` is ``analyse(ctx)`` when the caller already has it (phrases need it too).
    """
    if ctx.options.llm is not None:
        via_llm = llm.action_items(ctx)
        if via_llm is not None:
            return via_llm
    items: list[Item] = []
    follow_ups: list[Item] = []
    for cand in analyse(ctx) if candidates is None else candidates:
        obj = to_json(cand, ctx)
        (follow_ups if cand.follow_up else items).append(obj)
    return items, follow_ups
