"""Sentence embeddings (all-MiniLM-L6-v2, int8 ONNX) for paraphrase matching.

The bundled model is the sentence-transformers all-MiniLM-L6-v2 encoder converted by
``tools/convert_sentence_model.py`` (see ``assets/MODELS.md``): WordPiece tokens in, token
vectors out; a sentence's embedding is the mean of its token vectors over the attention
mask, L2-normalised, so the dot product of two embeddings is their cosine similarity.

The model loads lazily, once per process (about 0.3 s), and its sha256 is checked so a
corrupted or swapped asset fails loudly. The ``path`` argument of :func:`get_encoder` (the
``sentence_model`` setting, ``PARLEY_SENTENCE_MODEL``, passed down as
``InsightOptions.sentence_model``) points at other weights instead: a directory holding
``model.onnx`` (or exactly one ``*.onnx``) and ``tokenizer.json``, or an ``.onnx`` file with
``tokenizer.json`` beside it. Such models are trusted as they are; they may output token
vectors (``[batch, tokens, dim]``, mean-pooled here) or sentence vectors (``[batch, dim]``).
Nothing here reads the environment: the caller decides.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from parley.checksums import ModelChecksumError, check_bundled

if TYPE_CHECKING:
    import onnxruntime as ort

__all__ = [
    "BUNDLED_SHA256",
    "MessageIndex",
    "ModelChecksumError",
    "SentenceEncoder",
    "get_encoder",
]

ASSETS = Path(__file__).resolve().parent / "assets"
MODEL_FILE = "all-MiniLM-L6-v2-int8.onnx"
TOKENIZER_FILE = "tokenizer.json"
#: sha256 of the bundled files, as written to assets/MODELS.md by
#: tools/convert_sentence_model.py.
BUNDLED_SHA256 = {
    MODEL_FILE: "ae681d1c476d47ef5a842d3a3cd4421722ddbe0492a116c12a548edaeac5e4d6",
    TOKENIZER_FILE: "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
}
#: all-MiniLM-L6-v2 was trained on at most 256 word pieces; longer input is truncated.
MAX_TOKENS = 256
BATCH_SIZE = 32
#: A message is also compared clause by clause (split at , ; : and dashes) so that a
#: phrase meant inside a long sentence is not diluted; clauses shorter than this are skipped.
MIN_CLAUSE_WORDS = 3
#: At most this many clauses of one message are embedded (a pasted document with thousands
#: of commas would otherwise cost thousands of encoder runs).
MAX_CLAUSES = 32
CLAUSE_SPLIT = re.compile(r"[,;:\u2014\u2013]|\s-\s")


def _check_bundled(path: Path) -> None:
    check_bundled(
        path,
        BUNDLED_SHA256[path.name],
        what="sentence model",
        remedy="re-create it with tools/convert_sentence_model.py, or set "
        "PARLEY_SENTENCE_MODEL to use other weights",
    )


def _resolve(path: Path) -> tuple[Path, Path]:
    """The (model, tokenizer) files for a user-given directory or ``.onnx`` file."""
    if path.is_dir():
        model = path / "model.onnx"
        if not model.is_file():
            candidates = sorted(path.glob("*.onnx"))
            if len(candidates) != 1:
                raise FileNotFoundError(
                    f"sentence model directory {path} must hold model.onnx or exactly one "
                    f"*.onnx file (found {len(candidates)})"
                )
            model = candidates[0]
        tokenizer = path / TOKENIZER_FILE
    elif path.is_file():
        model, tokenizer = path, path.parent / TOKENIZER_FILE
    else:
        raise FileNotFoundError(f"sentence model not found: {path}")
    if not tokenizer.is_file():
        raise FileNotFoundError(f"sentence model tokenizer not found: {tokenizer}")
    return model, tokenizer


class SentenceEncoder:
    """An ONNX sentence-embedding model and its tokenizer. ``encode`` is thread-safe."""

    def __init__(self, model_path: Path, tokenizer_path: Path, *, threads: int = 2) -> None:
        import onnxruntime as ort  # lazy: importing this module stays cheap
        from tokenizers import Tokenizer

        self.model_path = model_path
        self.tokenizer_path = tokenizer_path
        self._tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self._tokenizer.no_padding()  # tokenizer.json pads to 128; we pad per batch
        self._tokenizer.enable_truncation(MAX_TOKENS)
        so = ort.SessionOptions()
        so.intra_op_num_threads = max(1, threads)
        so.inter_op_num_threads = 1
        so.log_severity_level = 3
        # Busy-waiting worker threads cost 1.5x wall time when the box is shared with the
        # ASR/diarization stages (measured on 2 cores); the encoder runs in short bursts.
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self._session: ort.InferenceSession = ort.InferenceSession(
                str(model_path), so, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # e.g. an onnxruntime too old for 8-bit MatMulNBits
            raise RuntimeError(
                f"cannot load sentence model {model_path} with onnxruntime {ort.__version__} "
                f"(the bundled model needs onnxruntime >= 1.22): {exc}"
            ) from exc
        self._inputs = {i.name for i in self._session.get_inputs()}
        missing = {"input_ids", "attention_mask"} - self._inputs
        if missing:
            raise ValueError(f"sentence model {model_path} lacks inputs {sorted(missing)}")

    @property
    def dim(self) -> int:
        """Length of one embedding."""
        return int(self._session.get_outputs()[0].shape[-1])

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised embeddings, one row per text (float32, ``[len(texts), dim]``)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        distinct = list(dict.fromkeys(texts))
        if len(distinct) < len(texts):  # a repeated text is encoded once (issue 23)
            row = {text: i for i, text in enumerate(distinct)}
            return self.encode(distinct)[[row[t] for t in texts]]
        ids = [e.ids for e in self._tokenizer.encode_batch(list(texts))]
        # Batches of similar length waste little compute on padding.
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        out: np.ndarray | None = None
        for start in range(0, len(order), BATCH_SIZE):
            chunk = order[start : start + BATCH_SIZE]
            vectors = self._run([ids[i] for i in chunk])
            if out is None:
                out = np.empty((len(texts), vectors.shape[1]), dtype=np.float32)
            out[chunk] = vectors
        assert out is not None
        return out

    def _run(self, batch: list[list[int]]) -> np.ndarray:
        width = max(len(x) for x in batch)
        input_ids = np.zeros((len(batch), width), dtype=np.int64)
        mask = np.zeros_like(input_ids)
        for row, x in enumerate(batch):
            input_ids[row, : len(x)] = x
            mask[row, : len(x)] = 1
        feeds = {"input_ids": input_ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(input_ids)
        hidden = np.asarray(self._session.run(None, feeds)[0], dtype=np.float32)
        if hidden.ndim == 3:  # token vectors: mean over the real tokens
            weights = mask[..., None].astype(np.float32)
            hidden = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(hidden, axis=1, keepdims=True)
        normalised: np.ndarray = hidden / np.maximum(norms, 1e-12)
        return normalised


def get_encoder(path: str | os.PathLike[str] | None = None) -> SentenceEncoder:
    """The process-wide encoder for ``path``, or for the bundled all-MiniLM-L6-v2
    (sha256-checked) when ``path`` is None."""
    return _load(str(Path(path).expanduser().resolve()) if path is not None else None)


@functools.lru_cache(maxsize=4)
def _load(path: str | None) -> SentenceEncoder:
    if path is None:
        model, tokenizer = ASSETS / MODEL_FILE, ASSETS / TOKENIZER_FILE
        _check_bundled(model)
        _check_bundled(tokenizer)
    else:
        model, tokenizer = _resolve(Path(path))
    return SentenceEncoder(model, tokenizer)


def _units(text: str) -> list[str]:
    """The message itself and, if it has several, its clauses."""
    clauses = [c.strip() for c in CLAUSE_SPLIT.split(text)]
    clauses = [c for c in clauses if len(c.split()) >= MIN_CLAUSE_WORDS][:MAX_CLAUSES]
    return [text, *clauses] if len(clauses) > 1 else [text]


class MessageIndex:
    """Sentence embeddings of every message and clause, computed once per conversation,
    to compare with phrases (tracker vocabularies, abstract-topic themes)."""

    def __init__(self, texts: Sequence[str], sentence_model: Path | None = None) -> None:
        self._encoder = get_encoder(sentence_model)
        units: list[str] = []
        starts: list[int] = []
        for text in texts:
            starts.append(len(units))
            units.extend(_units(text))
        self._starts = np.asarray(starts, dtype=np.intp)
        self._vectors = self._encoder.encode(units)

    def embed(self, phrases: Sequence[str]) -> np.ndarray:
        """Embeddings of phrases, comparable with the messages'."""
        return self._encoder.encode(phrases)

    def similarity(self, phrase_vectors: np.ndarray) -> np.ndarray:
        """``[phrases, messages]``: best cosine over each message and its clauses."""
        if not len(self._starts):
            return np.zeros((len(phrase_vectors), 0), dtype=np.float32)
        sims = phrase_vectors @ self._vectors.T
        return np.maximum.reduceat(sims, self._starts, axis=1)
