"""The one place a participant becomes Symbl's JSON: ``from``, ``assignee``, a member.

Symbl spells the e-mail differently by role: an insight's ``from`` is
``{"id", "name", "userId"}`` (the spec's three keys; ``userId`` is null when the member
has no e-mail), an ``assignee`` and a member (the members list, a message's ``from``) are
``{"id", "name", "email"?}``. The insight stage stores these and the API refreshes them
from the current members on every read, both through ``person_json``.
"""

from __future__ import annotations

from typing import Literal, Protocol

__all__ = ["Person", "Role", "person_json"]

Role = Literal["from", "assignee", "member"]


class Person(Protocol):
    """Anything that names a participant (the insight stage's member, a stored row)."""

    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def email(self) -> str | None: ...


def person_json(
    person: Person | None, role: Role, *, name: str | None = None
) -> dict[str, str | None]:
    """Symbl's object for ``person`` in ``role``.

    Without a known participant an ``assignee`` can still name someone (``name``:
    "Carlos" addressed in the sentence); otherwise the object is ``{}``.
    """
    if person is None:
        return {"name": name} if role == "assignee" and name else {}
    body: dict[str, str | None] = {"id": person.id, "name": person.name}
    if role == "from":
        body["userId"] = person.email or None
    elif person.email:
        body["email"] = person.email
    return body
