"""Golden references for the semantic segmentation models (hub_models::segmentation).

    python xtask/golden/seg.py --out target/golden/seg [--force] [--entries fcn_resnet50,...]

Run inside target/golden-venv (torch 2.15.0, torchvision 0.29.2, safetensors, numpy, pillow);
no extra package. For every entry E (a torchvision segmentation builder) it writes:

    OUT/E/model.pth         torch.save(model.state_dict()), zip format (torchvision key names:
                            backbone.layer1.0.conv1.weight, classifier.0.convs.0.0.weight, ...)
    OUT/E/io.safetensors    f32 `input` [2, 3, 160, 200] (non-square: the final bilinear
                            upsampling is tested in both directions), eval-mode `out`
                            [2, 21, 160, 200] and, for models built with aux_loss=True, `aux`
    OUT/E/meta.json         entry, builder, kwargs, input_shape, outputs, ...
    OUT/index.json          the entries present, in table order

the bilinear resampling reference (what every model does to its output)

    OUT/_interpolate/io.safetensors     `x` [2, 3, 7, 9] and F.interpolate(x, size, "bilinear",
                            align_corners=False) for size (160, 200) `up`, (4, 5) `down` and
                            (13, 6) `mixed`

and the preprocessing reference

    OUT/_preprocess/image.png           a synthetic 8-bit RGB image (193×131, portrait)
    OUT/_preprocess/expected.safetensors  `output`: torchvision's
                            SemanticSegmentation(resize_size=520) applied to
                            torchvision.io.decode_image(image.png), [3, 766, 520]

The weights are seeded random, made meaningful for a 1e-4 relative tolerance exactly as in
vision.py (random BatchNorm affine parameters and statistics, then one calibration pass that
rescales every Conv2d to unit output std and sets BatchNorm statistics from its actual input,
perturbed). Outputs are checked to be finite, O(1) and different across the batch, and
model.pth is loaded back (strict) into a fresh model and must reproduce them.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

import torch
import torchvision
from PIL import Image
from safetensors.torch import load_file
from torch import nn

import common
from vision import calibrate, randomise_batchnorm

# Bump when the way references are generated changes: older entries are then regenerated.
GENERATOR_VERSION = 1

# (entry, builder kwargs). num_classes 21 (VOC) as the published weights; aux_loss as the
# published weights (True for FCN and DeepLabV3; LR-ASPP has no auxiliary head).
ENTRIES = [
    ("fcn_resnet50", {"num_classes": 21, "aux_loss": True}),
    ("fcn_resnet101", {"num_classes": 21, "aux_loss": True}),
    ("deeplabv3_resnet50", {"num_classes": 21, "aux_loss": True}),
    ("deeplabv3_resnet101", {"num_classes": 21, "aux_loss": True}),
    ("deeplabv3_mobilenet_v3_large", {"num_classes": 21, "aux_loss": True}),
    ("lraspp_mobilenet_v3_large", {"num_classes": 21}),
]

BATCH = 2
CALIBRATION_BATCH = 4
HEIGHT, WIDTH = 160, 200


def make_input(gen: torch.Generator, batch: int) -> torch.Tensor:
    """Image-like random input: smooth structure + pixel noise + a per-image colour offset."""
    coarse = torch.randn(batch, 3, 8, 10, generator=gen)
    smooth = nn.functional.interpolate(coarse, size=(HEIGHT, WIDTH), mode="bicubic", align_corners=False)
    noise = torch.randn(batch, 3, HEIGHT, WIDTH, generator=gen)
    offset = torch.randn(batch, 3, 1, 1, generator=gen) * 0.5
    return smooth + 0.5 * noise + offset


def build(entry: str, kwargs: dict) -> nn.Module:
    # weights_backbone=None: no download, random initialisation everywhere.
    return torchvision.models.get_model(entry, weights=None, weights_backbone=None, **kwargs)


def check_output(name: str, out: torch.Tensor) -> dict:
    out = out.detach().double()
    if not torch.isfinite(out).all():
        raise SystemExit(f"{name}: output has NaN or inf")
    amax = out.abs().max().item()
    if not (1e-2 < amax < 1e3):
        raise SystemExit(f"{name}: output max |x| = {amax:.3g} is not well scaled")
    spread = out.std(dim=1).mean().item()
    if spread < 0.02 * amax:
        raise SystemExit(f"{name}: scores are nearly constant over classes (std {spread:.3g}, max {amax:.3g})")
    diff = (out[0] - out[-1]).abs().max().item()
    if diff < 0.05 * amax:
        raise SystemExit(f"{name}: the batch items give nearly the same scores (max diff {diff:.3g})")
    return {"max_abs": amax, "mean_class_std": spread, "batch_diff": diff}


def is_complete(out_dir: Path, entry: str) -> bool:
    d = out_dir / entry
    if not all((d / f).is_file() for f in ["model.pth", "io.safetensors", "meta.json"]):
        return False
    try:
        meta = json.loads((d / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return meta.get("generator_version") == GENERATOR_VERSION


def reload_and_check(path: Path, entry: str, kwargs: dict, x: torch.Tensor, expected: dict) -> None:
    with torch.device("meta"):
        model = build(entry, kwargs).eval()
    state = torch.load(str(path), map_location="cpu", weights_only=True)
    model.load_state_dict(state, strict=True, assign=True)
    with torch.no_grad():
        y = model(x)
    for key, value in expected.items():
        err = (y[key] - value).abs().max().item()
        if err > 1e-6 * value.abs().max().item():
            raise SystemExit(f"{path}: reloading and recomputing `{key}` differs by {err:.3g}")


def generate(out_dir: Path, entry: str, kwargs: dict) -> dict:
    seed = common.seed_for(entry)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        model = build(entry, kwargs).eval()
        randomise_batchnorm(model, gen)
        x = make_input(gen, BATCH)
        calibrate(model, torch.cat([x, make_input(gen, CALIBRATION_BATCH - BATCH)]), gen)
        y = model(x)
    outputs = {k: v.float() for k, v in y.items()}
    stats = {k: check_output(f"{entry}[{k}]", v) for k, v in outputs.items()}

    d = out_dir / entry
    common.save_state_dict(d / "model.pth", model.state_dict())
    reload_and_check(d / "model.pth", entry, kwargs, x, outputs)
    common.save_tensors(d / "io.safetensors", {"input": x.float(), **outputs})
    back = load_file(str(d / "io.safetensors"))
    if not all(torch.equal(back[k], v) for k, v in outputs.items()):
        raise SystemExit(f"{entry}: io.safetensors does not read back")
    meta = {
        "entry": entry,
        "builder": entry,
        "kwargs": kwargs,
        "input_shape": list(x.shape),
        "outputs": {k: list(v.shape) for k, v in outputs.items()},
        "seed": seed,
        "num_parameters": sum(p.numel() for p in model.parameters()),
        "output_max_abs": {k: s["max_abs"] for k, s in stats.items()},
        "output_batch_diff": {k: s["batch_diff"] for k, s in stats.items()},
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "generator_version": GENERATOR_VERSION,
    }
    common.write_json(d / "meta.json", meta)
    return meta


def generate_preprocess(out_dir: Path) -> None:
    """torchvision's SemanticSegmentation(resize_size=520) on a decoded 8-bit PNG."""
    from torchvision.io import decode_image
    from torchvision.transforms._presets import SemanticSegmentation

    d = out_dir / "_preprocess"
    gen = torch.Generator().manual_seed(common.seed_for("seg_preprocess"))
    h, w = 193, 131  # portrait, odd sizes: the width becomes 520, the height int(520 * 193 / 131)
    coarse = torch.rand(1, 3, 6, 5, generator=gen)
    smooth = nn.functional.interpolate(coarse, size=(h, w), mode="bilinear", align_corners=False)
    img = (smooth[0] * 200 + torch.rand(3, h, w, generator=gen) * 55).clamp(0, 255).to(torch.uint8)
    png = d / "image.png"
    common.write_atomic(png, lambda tmp: Image.fromarray(img.permute(1, 2, 0).numpy()).save(tmp, format="PNG"))
    decoded = decode_image(str(png))
    if not torch.equal(decoded, img):
        raise SystemExit("preprocess: the PNG does not decode to the image written")
    out = SemanticSegmentation(resize_size=520)(decoded)
    common.save_tensors(d / "expected.safetensors", {"output": out.float()})
    print(f"seg: _preprocess  image {w}x{h} -> {list(out.shape)}", flush=True)


def generate_interpolate(out_dir: Path) -> None:
    gen = torch.Generator().manual_seed(common.seed_for("seg_interpolate"))
    x = torch.randn(2, 3, 7, 9, generator=gen)
    f = nn.functional.interpolate
    tensors = {"x": x}
    for name, size in [("up", (HEIGHT, WIDTH)), ("down", (4, 5)), ("mixed", (13, 6))]:
        tensors[name] = f(x, size=size, mode="bilinear", align_corners=False)
    common.save_tensors(out_dir / "_interpolate" / "io.safetensors", tensors)
    print("seg: _interpolate", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="output folder (target/golden/seg)")
    parser.add_argument("--force", action="store_true", help="regenerate entries that already exist")
    parser.add_argument("--entries", default="", help="comma-separated subset of entries (default: all)")
    parser.add_argument("--list", action="store_true", help="print the entry names and exit")
    args = parser.parse_args()

    names = [e[0] for e in ENTRIES]
    if args.list:
        print("\n".join(names))
        return 0
    wanted = [n for n in args.entries.split(",") if n] or names
    unknown = sorted(set(wanted) - set(names))
    if unknown:
        print(f"unknown seg entries: {', '.join(unknown)}; known: {', '.join(names)}", file=sys.stderr)
        return 2

    torch.set_num_threads(os.cpu_count() or 1)
    args.out.mkdir(parents=True, exist_ok=True)
    made = skipped = 0
    start = time.monotonic()
    for entry, kwargs in ENTRIES:
        if entry not in wanted:
            continue
        if not args.force and is_complete(args.out, entry):
            skipped += 1
            continue
        t = time.monotonic()
        meta = generate(args.out, entry, kwargs)
        made += 1
        amax = ", ".join(f"{k} {v:.3g}" for k, v in meta["output_max_abs"].items())
        print(
            f"seg: {entry:<30} {time.monotonic() - t:6.1f} s  params {meta['num_parameters']:>11,}  max|y| {amax}",
            flush=True,
        )
    if args.force or not (args.out / "_preprocess" / "expected.safetensors").is_file():
        generate_preprocess(args.out)
    if args.force or not (args.out / "_interpolate" / "io.safetensors").is_file():
        generate_interpolate(args.out)
    present = [n for n in names if is_complete(args.out, n)]
    index = args.out / "index.json"
    try:
        unchanged = json.loads(index.read_text(encoding="utf-8")) == present
    except (OSError, ValueError):
        unchanged = False
    if not unchanged:
        common.write_json(index, present)
    print(
        f"seg: {made} generated, {skipped} up to date, {len(present)}/{len(names)} in index.json "
        f"({time.monotonic() - start:.0f} s)",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
