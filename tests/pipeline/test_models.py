"""Models: warm() loads everything up front; the remembered encoding never mixes inputs."""

from __future__ import annotations

from typing import Any

import numpy as np


def test_warm_loads_whisper_vad_and_speaker_models(models: Any) -> None:
    models.warm()
    assert models._whisper is not None and models._speakers is not None
    assert models.whisper.vad is not None


def test_remembered_encoding_is_reused_only_for_the_same_features(models: Any) -> None:
    model = models.whisper.model
    rng = np.random.default_rng(0)
    a = rng.standard_normal((1, 80, 3000)).astype(np.float32)
    b = a.copy()
    b[0, 0, 0] += 1.0
    first = model.encode(a)
    assert model.encode(a.copy()) is first  # same values: the stored output
    other = model.encode(b)
    assert other is not first
    assert not np.array_equal(np.array(other), np.array(first))
