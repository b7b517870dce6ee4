"""Summary (``enableSummary``): a short extractive digest plus the agreed next steps.

With no generative model offline, the summary picks, for each stretch of the conversation,
the sentence that covers most of the conversation's topics (long statements beat
back-channel and questions), then closes with one item listing the action items. An LLM,
when configured, writes an abstractive summary instead.
"""

from __future__ import annotations

from collections.abc import Sequence

from parley.insights import llm
from parley.insights.context import Context
from parley.insights.schema import Item
from parley.insights.stable_ids import insight_id

__all__ = ["detect"]


def _segments(n: int) -> list[range]:
    count = max(1, min(8, round(n / 15)))
    size = -(-n // count)
    return [range(i, min(n, i + size)) for i in range(0, n, size)]


def detect(ctx: Context, topics: Sequence[Item], actions: Sequence[Item] = ()) -> list[Item]:
    """Summary items ``{id, text, messageRefs:[{id}]}``, in conversation order.

    ``topics`` are all the conversation's topics (before the confidence threshold), and
    ``actions`` its action items and follow-ups, as the other detectors found them.
    An item's id comes from the messages it is drawn from, so renaming a speaker (which
    rewrites the text) keeps it.
    """
    if ctx.options.llm is not None:
        via_llm = llm.summary(ctx)
        if via_llm is not None:
            return via_llm
    if not ctx.messages:
        return []
    topic_weight: dict[str, float] = {}
    for topic in topics:
        for mid in topic["messageIds"]:
            topic_weight[mid] = topic_weight.get(mid, 0.0) + topic["score"]
    action_ids = {mid for item in actions for mid in item["messageIds"]}
    out: list[Item] = []
    for seg in _segments(len(ctx.messages)):
        best, best_score = None, 0.0
        for i in seg:
            message, doc = ctx.messages[i], ctx.docs[i]
            words = [t for t in doc if not t.is_punct]
            if len(words) < 6 or message.text.rstrip().endswith("?") or message.id in action_ids:
                continue
            score = topic_weight.get(message.id, 0.0) + 0.02 * min(len(words), 30)
            score += 0.3 * len([e for e in doc.ents if e.label_ in {"MONEY", "DATE", "ORG"}])
            if score > best_score:
                best, best_score = i, score
        if best is not None:
            message = ctx.messages[best]
            text = message.text.strip()
            if message.member is not None:
                text = f"{message.member.name}: {text}"
            out.append(
                {
                    "id": insight_id("summary", "extract", [message.id]),
                    "text": text,
                    "messageRefs": [{"id": message.id}],
                }
            )
    if actions:
        parts = []
        for item in actions[:8]:
            who = item.get("assignee", {}).get("name")
            phrase = item["phrases"][0]["text"] if item.get("phrases") else item["text"]
            parts.append(f"{who} will {phrase}" if who else phrase)
        refs = [mid for item in actions[:8] for mid in item["messageIds"]]
        out.append(
            {
                "id": insight_id("summary", "next_steps", refs),
                "text": "Next steps: " + "; ".join(parts) + ".",
                "messageRefs": [{"id": mid} for mid in refs],
            }
        )
    return out
