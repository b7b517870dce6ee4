"""The insight stage's entry point: run every detector over one conversation.

The order matters: questions and action items exist before trackers (which point at
them through ``insightRefs``), topics and action items before the summary (which is
built from them), and the action analysis runs once for both action items and phrases.
Importing this module is cheap: spaCy, the sentence encoder and VADER load on first use,
or up front through :func:`warm`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path

from parley.insights import (
    action_items,
    callscore,
    custom_entities,
    embeddings,
    entities,
    phrases,
    questions,
    redaction,
    sentiment,
    summary,
    topics,
    trackers,
)
from parley.insights.context import Context, get_nlp
from parley.insights.schema import (
    ConversationInsights,
    InsightOptions,
    Item,
    Message,
    SummaryWindow,
)
from parley.insights.stable_ids import make_unique

__all__ = ["compute_insights", "summarize_windows", "warm"]

log = logging.getLogger("parley.insights")


def warm(sentence_model: Path | None = None) -> None:
    """Load spaCy, the sentence encoder and VADER now, so the first job does not pay for
    them (a worker process calls this once when it starts)."""
    started = time.perf_counter()
    get_nlp()("Warm up the parser.")
    embeddings.get_encoder(sentence_model).encode(["warm up"])
    sentiment.score_text("warm up")
    topics.warm()
    log.info("insight models loaded in %.2fs", time.perf_counter() - started)


def compute_insights(messages: Sequence[Message], options: InsightOptions) -> ConversationInsights:
    """Every insight of one conversation, in Symbl's shapes, with stable ids."""
    started = time.perf_counter()
    result = ConversationInsights()
    messages = [m for m in messages if m.text and m.text.strip()]
    result.sentiments = sentiment.detect(messages)
    if not messages:
        if options.call_score is not None:
            result.callscore = [callscore.score(messages, options.call_score)]
        return result
    ctx = Context.build(messages, options, result.sentiments)
    result.redaction = {
        m.id: redaction.candidates(m.text, doc) for m, doc in zip(messages, ctx.docs, strict=True)
    }
    threshold = options.confidence_threshold

    result.questions = [q for q in make_unique(questions.detect(ctx)) if q["score"] >= threshold]
    # The LLM, when it answers, replaces the rules for action items but not for phrases.
    candidates = (
        action_items.analyse(ctx) if options.llm is None or options.detect_phrases else None
    )
    items, follow_ups = action_items.detect(ctx, candidates)
    result.action_items = [a for a in make_unique(items) if a["score"] >= threshold]
    result.follow_ups = [f for f in make_unique(follow_ups) if f["score"] >= threshold]
    all_topics = topics.detect(ctx)
    result.topics = [t for t in all_topics if t["score"] >= threshold]
    result.entities = entities.detect(ctx, builtin=options.detect_entities)
    if options.detect_entities:
        result.entities += custom_entities.detect(
            ctx.messages, options.entity_specs, options.reference_time
        )
    if options.trackers:
        insight_items = result.questions + result.action_items + result.follow_ups
        result.trackers = trackers.detect(ctx, options.trackers, insight_items)
    if options.detect_phrases:
        result.phrases = phrases.detect(ctx, candidates or [])
    if options.enable_summary:
        actions = result.action_items + result.follow_ups
        result.summary = list(make_unique(summary.detect(ctx, all_topics, actions)))
    if options.call_score is not None:
        result.callscore = [
            callscore.score(
                messages,
                options.call_score,
                questions=result.questions,
                action_items=result.action_items,
                follow_ups=result.follow_ups,
                sentence_model=options.sentence_model,
                llm_settings=options.llm,
            )
        ]
    log.debug("insights for %d messages in %.2fs", len(messages), time.perf_counter() - started)
    return result


def summarize_windows(
    windows: Sequence[SummaryWindow], options: InsightOptions
) -> list[list[Item]]:
    """The summary of each window alone, as ``summary.detect`` makes a conversation's.

    Cheap next to ``compute_insights``: only the window's messages are parsed, and the
    topics and action items that weigh its sentences are the conversation's stored ones
    (handed in), not detected again.
    """
    out: list[list[Item]] = []
    for messages, window_topics, actions in windows:
        kept = [m for m in messages if m.text and m.text.strip()]
        if not kept:
            out.append([])
            continue
        ctx = Context.build(kept, options)
        out.append(list(make_unique(summary.detect(ctx, window_topics, actions))))
    return out
