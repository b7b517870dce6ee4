"""Scripted calls with an intended call-score ordering (issue 20 item 4's proof).

Each call is a text conversation (``POST /v1/process/text`` messages with speakers and
timings). ``ORDERING`` names pairs ``(better, worse, criterion)``: the first call must
score higher than the second, overall (``None``) or on one criterion. Used by
``tests/insights/test_callscore_ordering.py`` and ``bench/callscore.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = ["CALLS", "ORDERING", "messages"]

START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
REP = "Dana Reyes"
PROSPECT = "Sam Patel"

#: A line: (speaker, text) — it lasts 0.4 s per word, and the next starts 0.6 s later —
#: or (speaker, text, overlap): it starts ``overlap`` seconds before the last one ends.
Line = tuple[str, str] | tuple[str, str, float]

CALLS: dict[str, list[Line]] = {
    # agreed next steps with owners, and every question answered
    "next_steps": [
        (REP, "Hi Sam, thanks for making time today."),
        (PROSPECT, "Happy to, Dana. We have about half an hour."),
        (REP, "What is slowing your support team down right now?"),
        (PROSPECT, "Tickets get routed by hand, so urgent ones wait for hours."),
        (PROSPECT, "How long does a typical rollout take for a team of forty?"),
        (REP, "Most teams of that size are live in two weeks, with one admin part time."),
        (PROSPECT, "Does it work with our existing help desk?"),
        (REP, "Yes, it connects to your help desk through the standard integration."),
        (REP, "I will send you the security questionnaire and a draft plan by Friday."),
        (PROSPECT, "Sounds good. I will book a demo with our head of support next week."),
        (REP, "Great, I will send the invite for Tuesday afternoon."),
        (PROSPECT, "Perfect, talk to you then."),
    ],
    # the same topic: questions left unanswered or deflected, and no next step at all
    "no_next_steps": [
        (REP, "Hi Sam, thanks for making time today."),
        (PROSPECT, "Happy to, Dana. We have about half an hour."),
        (PROSPECT, "How long does a typical rollout take for a team of forty?"),
        (REP, "I don't know, it depends on a lot of things really."),
        (PROSPECT, "Does it work with our existing help desk?"),
        (REP, "Not sure, I would have to check on that one."),
        (PROSPECT, "What does it cost per agent?"),
        (REP, "Pricing is something we can talk about some other time."),
        (PROSPECT, "Okay, well, tickets still get routed by hand here."),
        (REP, "Right, lots of teams have that."),
        (PROSPECT, "Alright then, thanks for the overview."),
        (REP, "Thanks, bye."),
    ],
    # a balanced back-and-forth
    "dialogue": [
        (REP, "Thanks for joining, Sam. Today I would like to understand your reporting."),
        (PROSPECT, "Sure. We build the weekly reports by hand in spreadsheets."),
        (REP, "Who reads those reports?"),
        (PROSPECT, "Our regional managers, every Monday morning."),
        (REP, "And how long does it take to put one together?"),
        (PROSPECT, "About a day for one analyst, sometimes more when data is late."),
        (REP, "That sounds painful. What happens when the data is late?"),
        (PROSPECT, "The managers decide on last week's numbers, which costs us."),
        (REP, "Got it. Our dashboards refresh every hour from the source systems."),
        (PROSPECT, "That would remove most of the manual work for us."),
        (REP, "Would your analysts still need to check the numbers?"),
        (PROSPECT, "Only a quick review, maybe fifteen minutes a week."),
    ],
    # the rep talks for minutes in one turn; the prospect barely speaks
    "monologue": [
        (REP, "Thanks for joining, Sam. Let me walk you through everything we do."),
        (
            REP,
            "Our platform started as a reporting tool ten years ago and has grown into a "
            "complete analytics suite with dashboards, alerts, scheduled exports, a query "
            "builder, a semantic layer, role based access, audit logs, single sign on, and "
            "connectors for more than two hundred data sources including every major "
            "warehouse and most of the popular business applications.",
        ),
        (
            REP,
            "Customers in retail, finance, healthcare and logistics use it every day, and "
            "our largest deployments serve tens of thousands of users across many regions "
            "with strict compliance requirements, which is why we invested so heavily in "
            "governance, lineage, certification of metrics and workflow approvals over the "
            "last several releases of the product.",
        ),
        (
            REP,
            "On top of that we have a professional services team, a customer success "
            "program, training courses, a certification track, an active community forum "
            "and a partner network that can help with implementation anywhere in the "
            "world, so whatever your situation is there is a path to get value quickly.",
        ),
        (PROSPECT, "Okay."),
        (REP, "So that is the overview of the platform and the company."),
    ],
    # objections raised and met with real answers
    "objections_met": [
        (REP, "Thanks for the time, Sam. Where did we leave things last week?"),
        (PROSPECT, "Honestly, the price is too expensive for us this year."),
        (
            REP,
            "I understand. Teams your size usually recover the cost within a quarter, "
            "because the routing saves each agent about an hour a day.",
        ),
        (PROSPECT, "We already use a routing plugin in our help desk."),
        (
            REP,
            "That plugin routes by keyword only; ours reads the whole ticket, and we can "
            "run both side by side for a month so you can compare.",
        ),
        (PROSPECT, "My main concern is the migration effort for the team."),
        (
            REP,
            "We handle the migration ourselves, and your agents keep their current views, "
            "so there is no retraining.",
        ),
        (PROSPECT, "That helps a lot, thank you."),
    ],
    # the same objections, left unanswered
    "objections_ignored": [
        (REP, "Thanks for the time, Sam. Where did we leave things last week?"),
        (PROSPECT, "Honestly, the price is too expensive for us this year."),
        (REP, "Okay."),
        (PROSPECT, "We already use a routing plugin in our help desk."),
        (REP, "I don't know that one."),
        (PROSPECT, "My main concern is the migration effort for the team."),
        (REP, "Hmm."),
        (PROSPECT, "So I am not sure this is a fit for us right now, to be honest with you."),
    ],
    # the dialogue again, with the rep talking over the prospect
    "interrupting": [
        (REP, "Thanks for joining, Sam. Today I would like to understand your reporting."),
        (PROSPECT, "Sure. We build the weekly reports by hand in spreadsheets, and then"),
        (REP, "Right, right, everybody does that, our dashboards fix it.", 2.0),
        (PROSPECT, "Our regional managers read them every Monday morning, so the"),
        (REP, "Yes, and with us they would get them every hour instead.", 2.5),
        (PROSPECT, "It takes about a day for one analyst, sometimes more when"),
        (REP, "Sure, sure, that is exactly what we automate.", 2.0),
        (PROSPECT, "The managers decide on last week's numbers, which costs us."),
        (REP, "Got it. Our dashboards refresh every hour from the source systems."),
        (PROSPECT, "That would remove most of the manual work for us."),
        (REP, "Would your analysts still need to check the numbers?"),
        (PROSPECT, "Only a quick review, maybe fifteen minutes a week."),
    ],
}

#: (better, worse, criterion name or None for the call score).
ORDERING: list[tuple[str, str, str | None]] = [
    ("next_steps", "no_next_steps", None),
    ("next_steps", "no_next_steps", "Forward Motion"),
    ("next_steps", "no_next_steps", "Question Handling"),
    ("dialogue", "monologue", None),
    ("dialogue", "monologue", "Communication and Engagement"),
    ("objections_met", "objections_ignored", None),
    ("objections_met", "objections_ignored", "Question Handling"),
    ("dialogue", "interrupting", None),
    ("dialogue", "interrupting", "Communication and Engagement"),
]


def _iso(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def messages(name: str) -> list[dict[str, Any]]:
    """The call as ``POST /v1/process/text`` messages, with speakers and timings."""
    out: list[dict[str, Any]] = []
    at = START
    for line in CALLS[name]:
        speaker, text = line[0], line[1]
        overlap = line[2] if len(line) == 3 else 0.0
        start = at - timedelta(seconds=0.6 + overlap) if overlap else at
        end = start + timedelta(seconds=0.4 * len(text.split()))
        email = speaker.split()[0].lower() + "@example.com"
        out.append(
            {
                "payload": {"content": text},
                "from": {"name": speaker, "userId": email},
                "duration": {"startTime": _iso(start), "endTime": _iso(end)},
            }
        )
        at = end + timedelta(seconds=0.6)
    return out
