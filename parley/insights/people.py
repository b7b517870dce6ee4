"""The person objects of insights: ``from`` (who said it) and ``assignee`` (who does it).

Symbl spells the e-mail differently in the two (``userId`` in ``from``, ``email`` in
``assignee``); this is the one place that builds either, for any record with ``id``,
``name`` and ``email`` (the insight ``Member`` here, the stored member in the API).
"""

from __future__ import annotations

from typing import Literal, Protocol

__all__ = ["Person", "person_json"]


class Person(Protocol):
    """Anything that names a participant."""

    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def email(self) -> str | None: ...


def person_json(
    person: Person | None, role: Literal["from", "assignee"], *, name: str | None = None
) -> dict[str, str | None]:
    """Symbl's ``from`` or ``assignee`` object for ``person``.

    ``from`` always carries ``userId`` (null without an e-mail); ``assignee`` carries
    ``email`` only when known. Without a known participant, an ``assignee`` can still name
    someone (``name``: "Carlos" addressed in the sentence); otherwise the object is ``{}``.
    """
    if person is None:
        return {"name": name} if role == "assignee" and name else {}
    body: dict[str, str | None] = {"id": person.id, "name": person.name}
    if role == "from":
        body["userId"] = person.email
    elif person.email:
        body["email"] = person.email
    return body
