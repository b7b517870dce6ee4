"""A Python client for a Parley server (it speaks Symbl's REST API, plus Parley's extensions).

Five lines process a file and print its action items::

    from parley_client import Parley
    parley = Parley("http://127.0.0.1:8000", app_id="demo", app_secret="demo-secret")
    job = parley.wait(parley.submit("call.wav", enableSpeakerDiarization=True), on_progress=print)
    for item in parley.action_items(job.conversation_id):
        print(item.text, item.assignee.name if item.assignee else "")

Options keep the API's own names (``enableSpeakerDiarization``, ``diarizationSpeakerCount``,
``customVocabulary``...); booleans, lists and objects are encoded for you. Errors raise
``ParleyError`` subclasses that say what a script can act on: ``AuthError``,
``BadRequestError``, ``NotFoundError``, ``Unreachable``, ``JobFailed``. Results are the
typed wire models of ``parley_client.wire`` (pydantic), the classes the server answers
through. This distribution needs httpx and pydantic only, none of the server's models.
"""

from __future__ import annotations

from parley_client.client import (
    ActionItem,
    AuthError,
    BadRequestError,
    Conversation,
    Experience,
    FollowUp,
    Insight,
    Job,
    JobFailed,
    Member,
    Message,
    NotFoundError,
    Parley,
    ParleyError,
    Question,
    SummaryItem,
    Topic,
    Unreachable,
    Word,
    load_config,
)

__all__ = [
    "ActionItem",
    "AuthError",
    "BadRequestError",
    "Conversation",
    "Experience",
    "FollowUp",
    "Insight",
    "Job",
    "JobFailed",
    "Member",
    "Message",
    "NotFoundError",
    "Parley",
    "ParleyError",
    "Question",
    "SummaryItem",
    "Topic",
    "Unreachable",
    "Word",
    "load_config",
]
