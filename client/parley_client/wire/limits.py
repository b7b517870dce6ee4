"""The bounds every option and body field is checked against, in one table.

The request bodies here, and on the server the option parsers (``parley.options``), bounded
JSON loading, the conversation-list filter, the routes and the OpenAPI document all read
these numbers, so a bound changes in one place. It lives in the client's distribution
because the bodies a client builds carry the same bounds as the server's checks.
"""

from __future__ import annotations

__all__ = ["LIMITS"]

#: The bounds every option and body field is checked against.
LIMITS = {
    "name": 255,  # characters (the column's size)
    "string": 1024,  # any other free-text option
    "vocabulary_items": 1000,
    "vocabulary_chars": 200,
    "entities": 1000,
    "trackers": 500,
    "groups": 1000,  # per app (Parley's bound; Symbl documented none)
    "group_name": 128,  # Symbl's group rules
    "group_description": 512,
    "custom_entities": 500,  # stored through the Management API, per app
    "entity_values": 1000,  # values of one custom entity
    "entity_value_chars": 200,  # one value (as a tracker phrase)
    "entity_values_total": 100_000,  # all custom-entity values of one app
    "channels": 32,
    "metadata_keys": 100,
    "metadata_value": 128,  # Symbl's metadata rule
    "metadata_key": 255,  # characters (the column's size)
    "json_depth": 32,
    "int_digits": 100,
    "timezone_offset": 24 * 60,  # minutes either side of UTC
    "message_chars": 100_000,
    "messages_chars": 900_000,  # all messages of one text job (spaCy stops at 1,000,000)
    "messages": 20_000,
    "filter_chars": 1024,
    "bookmarks": 1000,  # per conversation (Parley's bound; Symbl documented none)
    "bookmark_seconds": 86_400,  # a bookmark's (and the default bookmark's) longest duration
    "bookmark_offset": 366 * 86_400,  # seconds: a bookmark may begin a year in
    "bookmark_refs": 1000,  # messageRefs of one bookmark
    "callscore_items": 500,  # criteria, and scorecards, per app (Parley's bound)
    "checklist": 50,  # questions of one call-score criterion
    "scorecard_criteria": 50,  # criteria of one scorecard
    "tags": 50,  # tags of one criterion or scorecard
    # Streaming API. Symbl documented 8,192 B per audio frame, but clients send more
    # (Node's mic streams arbitrary Buffer sizes): symbl-streaming.md §5.2 recommends a
    # generous bound, so only frames past 64 KiB are refused.
    "stream_frame_bytes": 64 * 1024,
    "stream_json_bytes": 256 * 1024,  # one JSON text frame (a start_request's vocabulary)
    "stream_min_rate": 8000,  # Hz, LINEAR16's documented range
    "stream_max_rate": 48000,
}
