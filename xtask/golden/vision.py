"""Golden references for the vision families: torchvision models with seeded random weights.

Run by `cargo xtask golden` inside target/golden-venv. For every entry E it writes
(see the data contract in the project docs):

    OUT/E/model.pth          torch.save(model.state_dict()), zip format
    OUT/E/model_legacy.pth   the same state dict in the pre-1.6 pickle format (LEGACY entries)
    OUT/E/io.safetensors     f32 `input` [2, 3, S, S] and eval-mode `output` [2, num_classes]
    OUT/E/meta.json          entry, builder, kwargs, input_shape, legacy, ...
    OUT/index.json           the entries present, in table order

An entry whose files exist (and were written by this GENERATOR_VERSION) is skipped unless
--force. meta.json is written last, so an interrupted run leaves the entry to redo.

How the weights are made meaningful for a 1e-4 relative tolerance:
  * every BatchNorm gets random affine parameters and running statistics, so an
    implementation that ignores any of the four tensors fails;
  * every LayerNorm gets a random affine, and ConvNeXt's per-channel `layer_scale` (1e-6 at
    init, which would hide each block's residual branch entirely) random values in [0.1, 1];
  * one calibration pass (eval mode, over the two test images plus two more) walks the
    layers in execution order: each Conv2d/Linear is rescaled so that its output has unit
    standard deviation (data-dependent init, as in LSUV), and each BatchNorm's running
    mean/var are set from the statistics of its actual input, then perturbed
    (mean += 0.1 sd * N(0,1), var *= exp(U(-0.3, 0.3))). Activations stay O(1) through
    200-layer networks instead of vanishing or exploding, and BN still really normalises;
  * the inputs are image-like (smooth structure, pixel noise, per-image colour offset);
  * the output is checked: finite, O(1), varying across classes and across the batch, and
    model.pth (and model_legacy.pth) are loaded back into a fresh model, strict, and must
    reproduce it.
"""

import math
import sys
from pathlib import Path

import torch
import torchvision
from torch import nn

import common
import lite0

# Bump when the way references are generated changes: older entries are then regenerated.
GENERATOR_VERSION = 1

TORCHVISION = "torchvision"
LITE0 = "xtask/golden/lite0.py"
# `torchvision.models.RegNet(BlockParams.from_init_params(**kwargs))`: a RegNet design of our own.
REGNET_PARAMS = "torchvision.models.regnet.BlockParams"

# `torchvision.models.VisionTransformer(**kwargs)`: a ViT of the given widths and depth.
VIT_PARAMS = "torchvision.models.VisionTransformer"

# The widths of torchvision's larger ViTs (num_layers 24, 24 and 32 at full size).
VIT_LARGE = {
    "vit_l_16": {"patch_size": 16, "num_heads": 16, "hidden_dim": 1024, "mlp_dim": 4096},
    "vit_l_32": {"patch_size": 32, "num_heads": 16, "hidden_dim": 1024, "mlp_dim": 4096},
    "vit_h_14": {"patch_size": 14, "num_heads": 16, "hidden_dim": 1280, "mlp_dim": 5120},
}

# The design parameters of torchvision's regnet_y_128gf.
REGNET_Y_128GF = {"depth": 27, "w_0": 456, "w_a": 160.83, "w_m": 2.52, "group_width": 264, "se_ratio": 0.25}

# (entry, builder, builder kwargs, input size, source). Hyper-parameters beyond the builder
# defaults are spelled out so the Rust side can read them from meta.json.
ENTRIES = [
    ("alexnet", "alexnet", {}, 224, TORCHVISION),
    *[(n, n, {}, 224, TORCHVISION) for n in ["vgg11", "vgg13", "vgg16", "vgg19"]],
    *[(n, n, {}, 224, TORCHVISION) for n in ["vgg11_bn", "vgg13_bn", "vgg16_bn", "vgg19_bn"]],
    *[(n, n, {}, 224, TORCHVISION) for n in ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152"]],
    *[(n, n, {}, 224, TORCHVISION) for n in ["resnext50_32x4d", "resnext101_32x8d", "resnext101_64x4d"]],
    *[(n, n, {}, 224, TORCHVISION) for n in ["wide_resnet50_2", "wide_resnet101_2"]],
    *[(n, n, {}, 224, TORCHVISION) for n in ["densenet121", "densenet161", "densenet169", "densenet201"]],
    *[(n, n, {}, 224, TORCHVISION) for n in ["squeezenet1_0", "squeezenet1_1"]],
    ("googlenet", "googlenet", {"aux_logits": False, "transform_input": False, "init_weights": True}, 224, TORCHVISION),
    ("googlenet_aux", "googlenet", {"aux_logits": True, "transform_input": False, "init_weights": True}, 224, TORCHVISION),
    ("inception_v3", "inception_v3", {"aux_logits": True, "transform_input": True, "init_weights": True}, 299, TORCHVISION),
    *[
        (n, n, {}, 224, TORCHVISION)
        for n in ["shufflenet_v2_x0_5", "shufflenet_v2_x1_0", "shufflenet_v2_x1_5", "shufflenet_v2_x2_0"]
    ],
    *[(n, n, {}, 224, TORCHVISION) for n in ["mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large"]],
    *[(f"efficientnet_b{i}", f"efficientnet_b{i}", {}, 224, TORCHVISION) for i in range(8)],
    ("efficientnet_lite0", "efficientnet_lite0", {}, 224, LITE0),
    *[(n, n, {}, 224, TORCHVISION) for n in ["convnext_tiny", "convnext_small", "convnext_base", "convnext_large"]],
    *[
        (f"regnet_x_{s}", f"regnet_x_{s}", {}, 224, TORCHVISION)
        for s in ["400mf", "800mf", "1_6gf", "3_2gf", "8gf", "16gf", "32gf"]
    ],
    *[
        (f"regnet_y_{s}", f"regnet_y_{s}", {}, 224, TORCHVISION)
        for s in ["400mf", "800mf", "1_6gf", "3_2gf", "8gf", "16gf", "32gf"]
    ],
    # regnet_y_128gf's design (w_0, w_a, w_m, group width 264, SE) at depth 4 (two stages, 15M
    # parameters instead of 645M): its blocks, cheaply. The full size is opt-in (OPT_IN).
    ("regnet_y_128gf_depth4", "RegNet", {**REGNET_Y_128GF, "depth": 4}, 224, REGNET_PARAMS),
    *[(n, n, {}, 224, TORCHVISION) for n in ["mnasnet0_5", "mnasnet0_75", "mnasnet1_0", "mnasnet1_3"]],
    *[(n, n, {}, 224, TORCHVISION) for n in ["efficientnet_v2_s", "efficientnet_v2_m", "efficientnet_v2_l"]],
    *[(n, n, {}, 224, TORCHVISION) for n in ["vit_b_16", "vit_b_32"]],
    # vit_b_16 at 384 (the resolution of its SWAG weights: position embeddings for 577 tokens).
    ("vit_b_16_384", "vit_b_16", {"image_size": 384}, 384, TORCHVISION),
    # The larger ViTs' widths at depth 2 (their blocks at 25-40M parameters instead of 300-630M).
    *[
        (f"{n}_depth2", "VisionTransformer", {**w, "num_layers": 2, "image_size": 224}, 224, VIT_PARAMS)
        for n, w in VIT_LARGE.items()
    ],
]

# Entries made only when `--entries` names them (too large for every CI run: regnet_y_128gf's
# checkpoint is 2.6 GB); their parity tests are `#[ignore]`d.
OPT_IN = [
    ("regnet_y_128gf", "regnet_y_128gf", {}, 224, TORCHVISION),
    ("vit_h_14", "vit_h_14", {}, 224, TORCHVISION),
]

# Entries that also get model_legacy.pth (pre-1.6 pickle format, like many published checkpoints).
LEGACY = {"resnet18", "densenet121", "mobilenet_v2", "squeezenet1_0"}

BATCH = 2
CALIBRATION_BATCH = 4


def make_input(gen: torch.Generator, batch: int, height: int, width: int, coarse=(8, 8)) -> torch.Tensor:
    """Image-like random input: smooth structure (bicubic upsampling of `coarse` random values)
    + pixel noise + a per-image colour offset.

    Plain white noise is a poor probe: after global average pooling every image of the batch
    looks the same (squeezenet's logits then barely depend on the input). Low-frequency content
    and per-image offsets keep the images, and so the logits, distinct.
    """
    coarse = torch.randn(batch, 3, *coarse, generator=gen)
    smooth = nn.functional.interpolate(coarse, size=(height, width), mode="bicubic", align_corners=False)
    noise = torch.randn(batch, 3, height, width, generator=gen)
    offset = torch.randn(batch, 3, 1, 1, generator=gen) * 0.5
    return smooth + 0.5 * noise + offset


def build(builder: str, kwargs: dict, source: str) -> nn.Module:
    if source == LITE0:
        return lite0.efficientnet_lite0(**kwargs)
    if source == VIT_PARAMS:
        return torchvision.models.VisionTransformer(**kwargs)
    if source == REGNET_PARAMS or builder.startswith("regnet"):
        # RegNet derives its widths with torch ops, which cannot run on the meta device that
        # common.reload_and_check builds under: these build on the CPU.
        with torch.device("cpu"):
            if source == REGNET_PARAMS:
                return torchvision.models.RegNet(torchvision.models.regnet.BlockParams.from_init_params(**kwargs))
            return torchvision.models.get_model(builder, weights=None, **kwargs)
    return torchvision.models.get_model(builder, weights=None, **kwargs)


def randomise_batchnorm(model: nn.Module, gen: torch.Generator) -> None:
    """Random affine parameters and running statistics for every BatchNorm (also the ones that
    the eval forward never reaches, such as auxiliary heads)."""
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.affine and m.track_running_stats:
            c = m.num_features
            m.weight.copy_(torch.empty(c).uniform_(0.5, 1.5, generator=gen))
            m.bias.copy_(torch.randn(c, generator=gen) * 0.2)
            m.running_mean.copy_(torch.randn(c, generator=gen) * 0.1)
            m.running_var.copy_(torch.empty(c).uniform_(0.5, 1.5, generator=gen))


def randomise_layernorm_and_scales(model: nn.Module, gen: torch.Generator) -> None:
    """Random LayerNorm affines and layer scales. Models without either draw nothing from `gen`,
    so their references are the same as before this step existed."""
    for m in model.modules():
        if isinstance(m, nn.LayerNorm) and m.elementwise_affine:
            shape = m.weight.shape
            m.weight.copy_(torch.empty(shape).uniform_(0.5, 1.5, generator=gen))
            if m.bias is not None:
                m.bias.copy_(torch.randn(shape, generator=gen) * 0.2)
    for name, p in model.named_parameters():
        if name.split(".")[-1] == "layer_scale":
            p.copy_(torch.empty(p.shape).uniform_(0.1, 1.0, generator=gen))


def randomise_zero_inits(model: nn.Module, gen: torch.Generator) -> None:
    """Random values for the parameters that torchvision initialises to zero and that no layer
    hook rescales: ViT's class token and classifier (a zero head makes the output all zeros).
    Models without them draw nothing from `gen`."""
    for name, p in model.named_parameters():
        if name == "class_token":
            p.copy_(torch.randn(p.shape, generator=gen) * 0.5)
        elif name == "heads.head.weight":
            p.copy_(torch.randn(p.shape, generator=gen) / math.sqrt(p.shape[1]))
        elif name == "heads.head.bias":
            p.copy_(torch.randn(p.shape, generator=gen) * 0.1)


def calibrate(model: nn.Module, x: torch.Tensor, gen: torch.Generator) -> None:
    """One eval-mode pass that rescales layers and sets BatchNorm statistics in execution order."""
    seen = set()

    def layer_hook(m, _inputs, out):
        if m in seen:
            return None
        seen.add(m)
        sd = out.std().item()
        if not math.isfinite(sd) or sd < 1e-12:
            return None
        m.weight.mul_(1.0 / sd)
        if m.bias is not None:
            m.bias.mul_(1.0 / sd)
        return out / sd

    def bn_hook(m, inputs):
        if m in seen:
            return None
        seen.add(m)
        x = inputs[0]
        dims = [d for d in range(x.dim()) if d != 1]
        mean = x.mean(dim=dims)
        var = x.var(dim=dims, unbiased=False)
        c = mean.shape[0]
        m.running_mean.copy_(mean + 0.1 * var.sqrt() * torch.randn(c, generator=gen))
        m.running_var.copy_(var * torch.empty(c).uniform_(-0.3, 0.3, generator=gen).exp())
        return None

    handles = []
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            handles.append(m.register_forward_hook(layer_hook))
        elif isinstance(m, nn.modules.batchnorm._BatchNorm):
            handles.append(m.register_forward_pre_hook(bn_hook))
    try:
        model(x)
    finally:
        for h in handles:
            h.remove()


def entry_files(entry: str) -> list[str]:
    files = ["model.pth", "io.safetensors"]
    if entry in LEGACY:
        files.append("model_legacy.pth")
    return files


def is_complete(out_dir: Path, entry: str) -> bool:
    return common.is_complete(out_dir / entry, entry_files(entry), GENERATOR_VERSION)


def generate(out_dir: Path, entry: str, builder: str, kwargs: dict, size: int, source: str) -> dict:
    seed = common.seed_for(entry)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        model = build(builder, kwargs, source).eval()
        randomise_batchnorm(model, gen)
        randomise_layernorm_and_scales(model, gen)
        randomise_zero_inits(model, gen)
        x = make_input(gen, BATCH, size, size)
        # The calibration batch contains the test images: statistics estimated from a few
        # images fit those images, while unseen ones drift layer after layer (x100 by the
        # end of EfficientNet-B0). The weights stay what they are: random, not fitted.
        calibrate(model, torch.cat([x, make_input(gen, CALIBRATION_BATCH - BATCH, size, size)]), gen)
        y = model(x)
    if not isinstance(y, torch.Tensor):
        raise SystemExit(f"{entry}: eval forward returned {type(y).__name__}, expected logits")
    stats = common.check_output(entry, y)

    d = out_dir / entry
    state = model.state_dict()
    rebuild = lambda: build(builder, kwargs, source)  # noqa: E731
    common.save_state_dict(d / "model.pth", state)
    common.reload_and_check(d / "model.pth", rebuild, x, y)
    legacy = entry in LEGACY
    if legacy:
        common.save_state_dict(d / "model_legacy.pth", state, legacy=True)
        common.reload_and_check(d / "model_legacy.pth", rebuild, x, y)
    common.save_tensors(d / "io.safetensors", {"input": x.float(), "output": y.float()}, read_back=True)
    meta = {
        "entry": entry,
        "builder": builder,
        "kwargs": kwargs,
        "input_shape": list(x.shape),
        "output_shape": list(y.shape),
        "legacy": legacy,
        "source": source,
        "seed": seed,
        "num_parameters": sum(p.numel() for p in model.parameters()),
        "output_max_abs": stats["max_abs"],
        "output_batch_diff": stats["batch_diff"],
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "generator_version": GENERATOR_VERSION,
    }
    common.write_json(d / "meta.json", meta)
    return meta


def main() -> int:
    table = {e[0]: e for e in ENTRIES + OPT_IN}
    return common.run_entries(
        __doc__,
        "vision",
        list(table),
        is_complete,
        lambda out, name: generate(out, *table[name]),
        lambda meta: f"params {meta['num_parameters']:>11,}  max|y| {meta['output_max_abs']:.3g}  "
        f"batch diff {meta['output_batch_diff']:.3g}",
        width=20,
        opt_in={e[0] for e in OPT_IN},
    )


if __name__ == "__main__":
    sys.exit(main())
