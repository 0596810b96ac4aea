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

import sys
from pathlib import Path

import torch
import torchvision
from PIL import Image
from torch import nn

import common
from vision import calibrate, make_input, randomise_batchnorm

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
COARSE = (8, 10)  # the inputs' smooth structure: vision.make_input


def build(entry: str, kwargs: dict) -> nn.Module:
    # weights_backbone=None: no download, random initialisation everywhere.
    return torchvision.models.get_model(entry, weights=None, weights_backbone=None, **kwargs)


def is_complete(out_dir: Path, entry: str) -> bool:
    return common.is_complete(out_dir / entry, ["model.pth", "io.safetensors"], GENERATOR_VERSION)


def generate(out_dir: Path, entry: str, kwargs: dict) -> dict:
    seed = common.seed_for(entry)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        model = build(entry, kwargs).eval()
        randomise_batchnorm(model, gen)
        x = make_input(gen, BATCH, HEIGHT, WIDTH, coarse=COARSE)
        calibrate(model, torch.cat([x, make_input(gen, CALIBRATION_BATCH - BATCH, HEIGHT, WIDTH, coarse=COARSE)]), gen)
        y = model(x)
    outputs = {k: v.float() for k, v in y.items()}
    stats = {k: common.check_output(f"{entry}[{k}]", v, over_classes="mean") for k, v in outputs.items()}

    d = out_dir / entry
    common.save_state_dict(d / "model.pth", model.state_dict())
    common.reload_and_check(d / "model.pth", lambda: build(entry, kwargs), x, outputs)
    common.save_tensors(d / "io.safetensors", {"input": x.float(), **outputs}, read_back=True)
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


def generate_references(out_dir: Path, force: bool) -> None:
    if force or not (out_dir / "_preprocess" / "expected.safetensors").is_file():
        generate_preprocess(out_dir)
    if force or not (out_dir / "_interpolate" / "io.safetensors").is_file():
        generate_interpolate(out_dir)


def main() -> int:
    table = dict(ENTRIES)

    def describe(meta: dict) -> str:
        amax = ", ".join(f"{k} {v:.3g}" for k, v in meta["output_max_abs"].items())
        return f"params {meta['num_parameters']:>11,}  max|y| {amax}"

    return common.run_entries(
        __doc__,
        "seg",
        list(table),
        is_complete,
        lambda out, name: generate(out, name, table[name]),
        describe,
        width=30,
        then=generate_references,
    )


if __name__ == "__main__":
    sys.exit(main())
