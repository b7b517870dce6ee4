"""Live: Symbl's Streaming API behind a WebSocket (issue 19).

``audio`` decodes a stream's frames, ``engine`` recognises speech in a child process,
``session`` is one socket's state machine, ``conversation`` keeps the conversation as the
stream goes, ``present`` shapes the frames.
"""
