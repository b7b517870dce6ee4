"""What clients send, checked at the edge: job options, bounded JSON, filters, dates.

One module per concept: ``job`` (``JobOptions`` and the one table of Symbl options, each
with its parser and published schema), ``values`` (the spellings one raw value comes in),
``jsonload`` (bounded JSON), ``filters`` (the conversation list's filter grammar) and
``dates``; the one table of bounds, ``LIMITS``, is ``parley_client.wire.limits`` (the
request bodies carry it too). Import from those; the names below are re-exported only so
that older imports keep working.
"""

from parley.options.dates import parse_datetime
from parley.options.filters import parse_metadata_filter
from parley.options.job import (
    OPTION_FIELDS,
    OPTION_SCHEMAS,
    ChannelSpeaker,
    JobOptions,
    parse_options,
)
from parley.options.jsonload import json_depth, loads_bounded
from parley.options.values import validate_url
from parley_client.wire.limits import LIMITS

__all__ = [
    "LIMITS",
    "OPTION_FIELDS",
    "OPTION_SCHEMAS",
    "ChannelSpeaker",
    "JobOptions",
    "json_depth",
    "loads_bounded",
    "parse_datetime",
    "parse_metadata_filter",
    "parse_options",
    "validate_url",
]
