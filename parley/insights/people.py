"""The person objects of insights: ``from`` (who said it) and ``assignee`` (who does it).

They are built by the one function of the wire format, ``parley_client.wire.people``, which
the API uses too, so a stored item and a served one have the same shape.
"""

from __future__ import annotations

from parley_client.wire.people import Person, person_json

__all__ = ["Person", "person_json"]
