"""The API process's insight computations, run in a child process (issue 23).

A summary refresh, a tracker refresh, the recompute after a member rename or speaker
events, the abstract topics of a conversation first read, and the detection of a
redaction row that an older version did not store all run spaCy and the sentence encoder.
In the API process they held its GIL, so ``/health`` and every other request waited
behind them. (The re-detection of custom entities after an
app's list changed runs no model, but walks every message of a conversation: it runs
here too, for the same reason.) ``InsightPool`` runs that pure compute step in one
spawned child process (started on first use, models loaded once there) while the request's
thread waits, with a bound; gather and apply stay in the API.

A child that dies (killed, out of memory) fails the waiting request with a 503 that says
so, and the next request starts a fresh child; a computation past ``timeout`` kills the
child likewise. Nothing waits on a process that is gone.

Memory: the child holds spaCy's small English pipeline, the sentence encoder and VADER:
about 230 MB resident after warm-up and a first computation (VmRSS, measured here), plus
what one computation needs while it runs.
"""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import multiprocessing.connection
import os
import pickle
import signal
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from parley.errors import ParleyError
from parley.insights.schema import (
    ConversationInsights,
    EntitySpec,
    InsightOptions,
    Item,
    Message,
    SummaryWindow,
)

__all__ = ["InsightPool", "InsightsUnavailable"]

log = logging.getLogger("parley.insights")

T = TypeVar("T")

#: Longest a request waits for one computation. The largest conversation a job accepts
#: costs well under this (linear, seconds per MB); past it the child is stuck, not busy.
DEFAULT_TIMEOUT = 600.0


class InsightsUnavailable(ParleyError):
    """The insight process died or hung; the request may be retried."""

    status = 503


def _watch_parent() -> None:
    """Exit at once if the server dies, so no orphan is left holding the models."""
    parent = multiprocessing.parent_process()
    if parent is None or parent.sentinel is None:
        return
    sentinel = parent.sentinel

    def watch() -> None:
        multiprocessing.connection.wait([sentinel])
        os._exit(3)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _warm(sentence_model: Path | None, log_format: str, log_level: str) -> None:
    """The child's start: the server's log format, Ctrl-C left to the server (which stops
    the child itself), and the models loaded once, before its first task."""
    from parley import logs
    from parley.insights.compute import warm

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logs.setup(log_format, log_level)
    _watch_parent()
    try:
        warm(sentence_model)
    except Exception:  # the task itself raises the real error, to the request
        log.warning("could not load the insight models in the insight process", exc_info=True)


# -- transport in chunks ------------------------------------------------------------------
# Arguments and results cross the process boundary pickled, and one pickle.dumps/loads is
# one C call that holds the API's GIL: 30,000 messages and their per-message results held
# /health for a quarter of a second. They travel as pickles of at most ``CHUNK`` items, each
# made or read in its own call, so the API's other threads run in between.

#: Items per pickle.
CHUNK = 500


def _pack_list(items: Sequence[Any]) -> list[bytes]:
    return [pickle.dumps(list(items[i : i + CHUNK])) for i in range(0, len(items), CHUNK)]


def _unpack_list(blobs: Sequence[bytes]) -> list[Any]:
    out: list[Any] = []
    for blob in blobs:
        out.extend(pickle.loads(blob))
    return out


def _pack_result(result: ConversationInsights) -> dict[str, list[bytes]]:
    packed: dict[str, list[bytes]] = {}
    for f in dataclasses.fields(result):
        value = getattr(result, f.name)
        packed[f.name] = _pack_list(list(value.items()) if isinstance(value, dict) else value)
    return packed


def _unpack_result(packed: dict[str, list[bytes]]) -> ConversationInsights:
    result = ConversationInsights()
    for f in dataclasses.fields(result):
        items = _unpack_list(packed[f.name])
        setattr(result, f.name, dict(items) if isinstance(getattr(result, f.name), dict) else items)
    return result


def _traced(fn: Callable[..., T], *args: Any) -> tuple[int, T]:
    return os.getpid(), fn(*args)


def _compute(messages: list[bytes], options: InsightOptions) -> dict[str, list[bytes]]:
    from parley.insights.compute import compute_insights

    return _pack_result(compute_insights(_unpack_list(messages), options))


def _summaries(windows: list[bytes], options: InsightOptions) -> list[bytes]:
    from parley.insights.compute import summarize_windows

    return _pack_list(summarize_windows(_unpack_list(windows), options))


def _custom_entities(
    messages: list[bytes], specs: tuple[EntitySpec, ...], reference_time: datetime | None
) -> list[bytes]:
    from parley.insights import custom_entities

    return _pack_list(custom_entities.detect(_unpack_list(messages), specs, reference_time))


def _abstract_topics(messages: list[bytes], sentence_model: Path | None) -> list[bytes]:
    from parley.insights import abstract_topics

    return _pack_list(abstract_topics.detect(_unpack_list(messages), sentence_model))


def _redaction(texts: list[bytes]) -> list[bytes]:
    from parley.insights import redaction
    from parley.insights.context import parse

    unpacked = _unpack_list(texts)
    docs = parse(unpacked, whole=True)
    return _pack_list([redaction.candidates(t, d) for t, d in zip(unpacked, docs, strict=True)])


class InsightPool:
    """One child process for the API's insight computations (see module doc)."""

    def __init__(
        self,
        sentence_model: Path | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        log_format: str = "text",
        log_level: str = "INFO",
    ) -> None:
        self.sentence_model = sentence_model
        self.timeout = timeout
        self._log = (log_format, log_level)
        #: The process that computed the last result (for logs and tests).
        self.last_pid: int | None = None
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None

    def compute(self, messages: Sequence[Message], options: InsightOptions) -> ConversationInsights:
        """``compute_insights`` in the child."""
        return _unpack_result(self._call(_compute, _pack_list(messages), options))

    def summaries(
        self, windows: Sequence[SummaryWindow], options: InsightOptions
    ) -> list[list[Item]]:
        """``compute.summarize_windows`` in the child (bookmark summaries)."""
        return _unpack_list(self._call(_summaries, _pack_list(windows), options))

    def custom_entities(
        self,
        messages: Sequence[Message],
        specs: Sequence[EntitySpec],
        reference_time: datetime | None = None,
    ) -> list[Item]:
        """``custom_entities.detect`` in the child: the re-detection after the app's
        entity list changed, without the rest of the stage."""
        return _unpack_list(
            self._call(_custom_entities, _pack_list(messages), tuple(specs), reference_time)
        )

    def abstract_topics(
        self, messages: Sequence[Message], sentence_model: Path | None = None
    ) -> list[Item]:
        """``abstract_topics.detect`` in the child: themes are matched when first read."""
        return _unpack_list(self._call(_abstract_topics, _pack_list(messages), sentence_model))

    def redaction(self, texts: Sequence[str]) -> list[list[list[int | str]]]:
        """``redaction.candidates`` of each text (parsed whole), in the child."""
        return _unpack_list(self._call(_redaction, _pack_list(texts)))

    def pids(self) -> list[int]:
        """The live child's pid, if one is started."""
        executor = self._executor
        processes = getattr(executor, "_processes", None) or {}
        return [p.pid for p in list(processes.values()) if p.pid is not None]

    def close(self) -> None:
        """Stop the child now, whatever it is doing (server shutdown)."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            self._kill(executor)

    def _call(self, fn: Callable[..., T], *args: Any) -> T:
        executor = self._current()
        try:
            future = executor.submit(_traced, fn, *args)
            pid, result = future.result(timeout=self.timeout)
        except BrokenProcessPool:
            self._replace(executor)
            log.error("the insight process died during a computation; starting a new one")
            raise InsightsUnavailable(
                "The insight process stopped during this computation (it was killed or ran "
                "out of memory). Nothing was changed; try again."
            ) from None
        except FutureTimeout:
            self._replace(executor)
            log.error(
                "an insight computation ran past %.0f s; its process was stopped", self.timeout
            )
            raise InsightsUnavailable(
                f"Computing the insights took longer than {self.timeout:.0f} seconds and was "
                "stopped. Nothing was changed."
            ) from None
        self.last_pid = pid
        return result

    def _current(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ProcessPoolExecutor(
                    max_workers=1,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_warm,
                    initargs=(self.sentence_model, *self._log),
                )
            return self._executor

    def _replace(self, failed: ProcessPoolExecutor) -> None:
        """Drop ``failed`` (once, whichever request noticed first); the next call starts
        a fresh child."""
        with self._lock:
            if self._executor is failed:
                self._executor = None
        self._kill(failed)

    @staticmethod
    def _kill(executor: ProcessPoolExecutor) -> None:
        # ProcessPoolExecutor cannot stop a running task; its processes are killed instead,
        # so a hung or dying child never keeps a request or the shutdown waiting.
        processes = getattr(executor, "_processes", None) or {}
        for process in list(processes.values()):
            if process.is_alive():
                process.kill()
        executor.shutdown(wait=False, cancel_futures=True)
