"""Optional LLM path: an OpenAI-compatible ``/v1/chat/completions`` endpoint writes action
items and the summary. Anything unexpected (network error, timeout, non-JSON reply,
indices out of range) returns None so the caller falls back to the offline rules.
"""

from __future__ import annotations

import json
import logging
from datetime import date
from typing import Any

from parley.insights import dates
from parley.insights.context import Context
from parley.insights.people import person_json
from parley.insights.schema import Item, LlmSettings, Member
from parley.insights.stable_ids import insight_id

__all__ = ["action_items", "chat", "completions_url", "parse_json", "summary"]

log = logging.getLogger("parley.insights.llm")

#: Long transcripts are sent in windows so a request stays well inside small context sizes.
MAX_LINES_PER_CALL = 250
#: A longer message is cut in the prompt (a pasted document must not blow the context).
MAX_LINE_CHARS = 2_000


def completions_url(base_url: str) -> str:
    """The chat-completions URL under ``base_url`` (with or without ``/v1``)."""
    base = base_url.rstrip("/")
    return base + ("/chat/completions" if base.endswith("/v1") else "/v1/chat/completions")


def chat(settings: LlmSettings, system: str, user: str) -> str:
    """One chat completion; raises on any HTTP or protocol problem."""
    from parley import outbound

    headers = {"Content-Type": "application/json"}
    if settings.api_key:
        headers["Authorization"] = f"Bearer {settings.api_key}"
    body: dict[str, Any] = {
        "model": settings.model,
        "temperature": 0,
        "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
    }
    response = outbound.configured_post(
        completions_url(settings.base_url), json=body, headers=headers, timeout=settings.timeout
    )
    response.raise_for_status()
    return str(response.json()["choices"][0]["message"]["content"])


def parse_json(reply: str) -> dict[str, Any]:
    """The JSON object in a reply, tolerating code fences and surrounding prose.

    From the first ``{`` to the last ``}``: found with two scans, not a regex search,
    which is quadratic on a reply full of ``{``.
    """
    start, end = reply.find("{"), reply.rfind("}")
    if start < 0 or end < start:
        raise ValueError("no JSON object in reply")
    data = json.loads(reply[start : end + 1])
    if not isinstance(data, dict):
        raise ValueError("reply is not a JSON object")
    return data


def _transcript(ctx: Context, start: int, stop: int) -> str:
    lines = []
    for i in range(start, stop):
        m = ctx.messages[i]
        who = m.member.name if m.member else "Unknown"
        lines.append(f"[{i}] {who}: {m.text.strip()[:MAX_LINE_CHARS]}")
    return "\n".join(lines)


_ACTION_PROMPT = (
    "You extract tasks from meeting transcripts. Each line is '[index] Speaker: sentence'. "
    'Return only JSON: {"items": [{"message": <index>, "type": "action_item" or '
    '"follow_up", "text": <the task in one sentence>, "assignee": <person name or null>, '
    '"due": <YYYY-MM-DD or null>, "definitive": <true|false>}]}. An action item is a '
    "future task someone commits to or is asked to do. A follow_up is a task whose purpose is "
    "a future interaction (call, meeting, check-in, getting back to someone). Ignore past "
    "actions, hypotheticals and small talk. Today is {today}."
)


def _member_by_name(ctx: Context, name: str | None) -> Member | None:
    if not name:
        return None
    low = name.lower()
    for member in ctx.members():
        if member.name.lower() == low or member.name.split()[0].lower() == low.split()[0]:
            return member
    return None


def action_items(ctx: Context) -> tuple[list[Item], list[Item]] | None:
    """(action items, follow-ups) written by the endpoint, or None to use the rules."""
    settings = ctx.options.llm
    if settings is None:
        return None
    today = ctx.today
    items: list[Item] = []
    follow_ups: list[Item] = []
    try:
        for start in range(0, len(ctx.messages), MAX_LINES_PER_CALL):
            stop = min(len(ctx.messages), start + MAX_LINES_PER_CALL)
            system = _ACTION_PROMPT.replace("{today}", today.isoformat() if today else "unknown")
            data = parse_json(chat(settings, system, _transcript(ctx, start, stop)))
            for raw in data.get("items", []):
                index = int(raw["message"])
                if not start <= index < stop:
                    raise ValueError(f"message index {index} out of range")
                message = ctx.messages[index]
                kind = "follow_up" if raw.get("type") == "follow_up" else "action_item"
                name = raw.get("assignee") or None
                member = _member_by_name(ctx, name)
                assignee = person_json(member, "assignee", name=str(name) if name else None)
                text = str(raw.get("text") or message.text).strip()
                item: Item = {
                    "id": insight_id(kind, text, [message.id]),
                    "text": text,
                    "type": kind,
                    "score": 0.9,
                    "messageIds": [message.id],
                    "entities": _date_tags(ctx, message.text),
                    "phrases": [],
                    "from": person_json(message.member, "from"),
                    "definitive": bool(raw.get("definitive", True)),
                    "assignee": assignee,
                }
                due = raw.get("due")
                if due:
                    day = date.fromisoformat(str(due))
                    item["dueBy"] = dates.due_by_iso(day, ctx.options.timezone_offset_minutes)
                (follow_ups if kind == "follow_up" else items).append(item)
    except Exception as exc:  # any failure means "use the offline rules"
        log.warning("LLM action items failed, using offline rules: %s", exc)
        return None
    return items, follow_ups


def _date_tags(ctx: Context, text: str) -> list[Item]:
    today = ctx.today
    if today is None:
        return []
    return [
        {"type": "date", "text": d.text, "offset": d.offset, "value": d.start.isoformat()}
        for d in dates.find_dates(text, today)
    ]


_SUMMARY_PROMPT = (
    "You summarise conversations. Each line is '[index] Speaker: sentence'. Write 3 to 8 "
    "short third-person sentences covering decisions, key facts and next steps. Return only "
    'JSON: {"summary": [{"text": <sentence>, "messages": [<indices it is based on>]}]}.'
)


def summary(ctx: Context) -> list[Item] | None:
    """Summary items written by the endpoint, or None to use the offline summary."""
    settings = ctx.options.llm
    if settings is None:
        return None
    out: list[Item] = []
    try:
        for start in range(0, len(ctx.messages), MAX_LINES_PER_CALL):
            stop = min(len(ctx.messages), start + MAX_LINES_PER_CALL)
            data = parse_json(chat(settings, _SUMMARY_PROMPT, _transcript(ctx, start, stop)))
            for raw in data.get("summary", []):
                refs = [int(i) for i in raw.get("messages", []) if start <= int(i) < stop]
                text = str(raw["text"]).strip()
                if not text:
                    continue
                ref_ids = [ctx.messages[i].id for i in refs]
                out.append(
                    {
                        "id": insight_id("summary", "llm", ref_ids),
                        "text": text,
                        "messageRefs": [{"id": mid} for mid in ref_ids],
                    }
                )
    except Exception as exc:  # any failure means "use the offline summary"
        log.warning("LLM summary failed, using offline summary: %s", exc)
        return None
    return out or None
