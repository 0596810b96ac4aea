"""Re-check golden references already on disk, in a fresh process.

Usage (from the workspace root):
    target/golden-venv/bin/python xtask/golden/verify.py [--golden target/golden] [ENTRY ...]

For each vision entry (default: all in index.json) it rebuilds the model named by meta.json
(builder + kwargs), loads model.pth and model_legacy.pth (when present) strictly, recomputes
the output for io.safetensors' input and compares; it also checks that every BatchNorm in the
file carries non-trivial statistics. For target/golden/real it reloads the Lite0 weights,
recomputes the logits and the top-5 from the stored input, and redoes the preprocessing.
"""

import json
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file

import common
import vision


def check_vision(folder: Path, entry: str) -> str:
    meta = json.loads((folder / entry / "meta.json").read_text(encoding="utf-8"))
    io = load_file(str(folder / entry / "io.safetensors"))
    x, expected = io["input"], io["output"]
    if list(x.shape) != meta["input_shape"]:
        raise SystemExit(f"{entry}: input shape {list(x.shape)} != meta {meta['input_shape']}")
    files = ["model.pth"] + (["model_legacy.pth"] if meta["legacy"] else [])
    worst = 0.0
    for name in files:
        state = torch.load(str(folder / entry / name), map_location="cpu", weights_only=True)
        for key, value in state.items():
            if key.endswith("running_var") and torch.allclose(value, torch.ones_like(value)):
                raise SystemExit(f"{entry}/{name}: {key} is still all ones")
        model = vision.build(meta["builder"], meta["kwargs"], meta["source"]).eval()
        model.load_state_dict(state, strict=True)
        with torch.no_grad():
            y = model(x)
        err = (y - expected).abs().max().item() / expected.abs().max().item()
        if err > 1e-5:
            raise SystemExit(f"{entry}/{name}: recomputed output differs, relative error {err:.3g}")
        worst = max(worst, err)
    return f"{entry}: {', '.join(files)} reproduce io.safetensors (relative error {worst:.2g})"


def check_real(folder: Path) -> str:
    import lite0
    import real

    report = json.loads((folder / "lite0_chelsea.json").read_text(encoding="utf-8"))
    ref = load_file(str(folder / "lite0_chelsea.safetensors"))
    model = lite0.efficientnet_lite0().eval()
    model.load_state_dict(
        torch.load(str(folder / "efficientnet-lite0-57934424.pth"), map_location="cpu", weights_only=True), strict=True
    )
    with torch.no_grad():
        logits = model(ref["input"])
    if not torch.allclose(logits, ref["logits"], rtol=0, atol=1e-5 * ref["logits"].abs().max().item()):
        raise SystemExit("real: recomputed Lite0 logits differ")
    top = logits.softmax(1)[0].topk(5)
    if top.indices.tolist() != report["top5"]["indices"]:
        raise SystemExit("real: recomputed top-5 differs from lite0_chelsea.json")
    img = real.load_image(folder / "chelsea.png")
    from torchvision.transforms.v2 import functional as F2

    resized = F2.resize(img, [256], interpolation=F2.InterpolationMode.BICUBIC, antialias=True)
    x = ((F2.center_crop(resized, [224, 224]).float() - 127) / 128).unsqueeze(0)
    if not torch.equal(x, ref["input"]):
        raise SystemExit("real: recomputed Lite0 input differs")
    pre = load_file(str(folder / "preprocess_chelsea.safetensors"))
    from torchvision.transforms._presets import ImageClassification

    if not torch.equal(ImageClassification(crop_size=224)(img), pre["input"]):
        raise SystemExit("real: recomputed ImageClassification input differs")
    categories = (folder / "imagenet_categories.txt").read_text(encoding="utf-8").splitlines()
    if len(categories) != 1000:
        raise SystemExit("real: imagenet_categories.txt does not have 1000 lines")
    return f"real: Lite0 logits, top-5 {top.indices.tolist()}, inputs and preprocessing reproduce"


def main() -> int:
    parser = common.parser(__doc__)
    parser.add_argument("--golden", type=Path, default=Path("target/golden"))
    parser.add_argument("entries", nargs="*")
    args = parser.parse_args()
    vision_dir = args.golden / "vision"
    entries = args.entries or json.loads((vision_dir / "index.json").read_text(encoding="utf-8"))
    for entry in entries:
        print(check_vision(vision_dir, entry), flush=True)
    if (args.golden / "real").is_dir():
        print(check_real(args.golden / "real"), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
