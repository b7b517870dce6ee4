"""Storage: the database (SQLAlchemy) and the audio files, behind one small interface.

``Storage`` bundles a session factory and an ``AudioStore``. Repository
functions in ``apps``, ``conversations`` and ``jobs`` take a keyword-only
``session``; callers own the transaction.
"""

from parley.storage.audio import AudioStore
from parley.storage.db import Storage

__all__ = ["AudioStore", "Storage"]
