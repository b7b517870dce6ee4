"""The bundled sentence-embedding model: loading, checksum, override, and what it computes."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from parley.insights import embeddings
from parley.insights.embeddings import ModelChecksumError, get_encoder


@pytest.fixture
def fresh_cache():
    """Forget loaded encoders before and after."""
    embeddings._load.cache_clear()
    yield
    embeddings._load.cache_clear()


def test_embeddings_are_normalised_and_order_independent() -> None:
    enc = get_encoder()
    texts = ["I want to end my subscription.", "ok", "The weather is nice today."]
    vectors = enc.encode(texts)
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # Padding inside a batch must not change a sentence's embedding.
    alone = enc.encode([texts[1]])[0]
    assert float(alone @ vectors[1]) > 0.999
    assert enc.encode([]).shape == (0, 384)


def test_similar_sentences_are_closer_than_unrelated_ones() -> None:
    a, b, c = get_encoder().encode(
        ["cancel my subscription", "I want to end my subscription.", "Let's meet on Thursday."]
    )
    assert float(a @ b) > 0.7 > 0.2 > float(a @ c)


def test_checksum_mismatch_raises_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_cache
) -> None:
    shutil.copy(embeddings.ASSETS / embeddings.TOKENIZER_FILE, tmp_path)
    (tmp_path / embeddings.MODEL_FILE).write_bytes(b"not a model")
    monkeypatch.setattr(embeddings, "ASSETS", tmp_path)
    with pytest.raises(ModelChecksumError, match=r"sha256 .* expected .*convert_sentence_model"):
        get_encoder()


def test_missing_bundled_file_raises(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_cache
) -> None:
    monkeypatch.setattr(embeddings, "ASSETS", tmp_path)
    with pytest.raises(FileNotFoundError, match="bundled sentence model file missing"):
        get_encoder()


def test_a_path_points_at_other_weights(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_cache
) -> None:
    (tmp_path / "model.onnx").symlink_to(embeddings.ASSETS / embeddings.MODEL_FILE)
    (tmp_path / "tokenizer.json").symlink_to(embeddings.ASSETS / embeddings.TOKENIZER_FILE)
    # The package takes the path it is given and never reads the environment.
    monkeypatch.setenv("PARLEY_SENTENCE_MODEL", str(tmp_path / "nowhere"))
    assert get_encoder().model_path == embeddings.ASSETS / embeddings.MODEL_FILE
    enc = get_encoder(tmp_path)
    assert enc.model_path == tmp_path / "model.onnx"
    assert enc.encode(["hello"]).shape == (1, 384)
    with pytest.raises(FileNotFoundError, match="sentence model not found"):
        get_encoder(tmp_path / "nowhere")


def test_the_setting_reaches_tracker_matching(tmp_path: Path, fresh_cache) -> None:
    """``InsightOptions.sentence_model`` is the encoder the tracker level 4 uses."""
    from parley.config import Settings
    from parley.insights import InsightOptions, TrackerSpec, compute_insights

    from .conftest import make_messages

    settings = Settings(sentence_model=tmp_path / "missing")
    specs = (TrackerSpec("1", "Cancellation", ("cancel my subscription",)),)
    msgs = make_messages(("A", "I want to end my subscription."))
    options = InsightOptions(trackers=specs, sentence_model=settings.sentence_model)
    with pytest.raises(FileNotFoundError, match="sentence model not found"):
        compute_insights(msgs, options)
