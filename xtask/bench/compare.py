"""Times PyTorch on the models hub-bench times, reads criterion's results, prints burn/PyTorch ratios.

Run right after `cargo bench -p hub-bench` (so both are measured on the same machine, same load):
    target/golden-venv/bin/python xtask/bench/compare.py [--criterion target/criterion] [--out docs/benchmarks-vision.md]
`cargo xtask bench` does both. Ratios > 1 mean burn is slower.
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch
import torchvision

DEFAULT_MODELS = ["alexnet", "vgg16", "resnet50", "densenet121", "squeezenet1_1", "googlenet", "inception_v3",
                  "shufflenet_v2_x1_0", "mobilenet_v2", "mobilenet_v3_large", "efficientnet_b0",
                  "efficientnet_v2_s", "regnet_y_1_6gf", "vit_b_16"]
BATCHES = [1, 8]


def build(name):
    kwargs = {}
    if name in ("googlenet", "inception_v3"):
        kwargs = {"aux_logits": False, "init_weights": True}
    return torchvision.models.get_model(name, weights=None, **kwargs).eval()


def median_ms(fn, warmup=2, runs=10):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times)


def criterion_ms(root, group, name, param=None):
    parts = [root, group, name] + ([str(param)] if param is not None else []) + ["new", "estimates.json"]
    path = os.path.join(*parts)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)["median"]["point_estimate"] / 1e6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--criterion", default="target/criterion")
    ap.add_argument("--golden", default="target/golden/vision")
    ap.add_argument("--out")
    args = ap.parse_args()
    models = [m for m in os.environ.get("HUB_BENCH_MODELS", ",".join(DEFAULT_MODELS)).split(",") if m]
    torch.manual_seed(0)
    threads = torch.get_num_threads()
    rows = []
    with torch.inference_mode():
        for name in models:
            model = build(name)
            size = 299 if name == "inception_v3" else 224
            for batch in BATCHES:
                x = torch.randn(batch, 3, size, size)
                t = median_ms(lambda: model(x))
                b = criterion_ms(args.criterion, "forward", name, batch)
                rows.append(("forward", f"{name} batch {batch}", b, t))
    # Dense prediction and generation: DeepLabV3-ResNet50 at 520x520, PGAN celebAHQ-256 (one image).
    with torch.inference_mode():
        seg = torchvision.models.segmentation.deeplabv3_resnet50(weights=None, weights_backbone=None, aux_loss=True).eval()
        x = torch.randn(1, 3, 520, 520)
        t = median_ms(lambda: seg(x)["out"], warmup=1, runs=5)
        rows.append(("dense", "deeplabv3_resnet50-520", criterion_ms(args.criterion, "dense", "deeplabv3_resnet50-520"), t))
        sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "golden"))
        import gan as gan_reference  # the golden script's faithful GAN-zoo PGAN
        pg = gan_reference.build_pgan(dict(dimLatentVector=512, depthScales=[512, 512, 512, 512, 256, 128, 64], alpha=0.0)).eval()
        z = torch.randn(1, 512)
        t = median_ms(lambda: pg(z), warmup=1, runs=5)
        rows.append(("dense", "pgan-celebahq256", criterion_ms(args.criterion, "dense", "pgan-celebahq256"), t))
    # Text: BERT-base forward at seq 128, GPT-2 greedy generation of 32 tokens (KV cache).
    try:
        from transformers import BertConfig, BertModel, GPT2Config, GPT2LMHeadModel
        with torch.inference_mode():
            bert = BertModel(BertConfig()).eval()
            ids = torch.randint(1000, 29000, (1, 128))
            t = median_ms(lambda: bert(input_ids=ids))
            rows.append(("text", "bert-base-seq128", criterion_ms(args.criterion, "text", "bert-base-seq128"), t))
            gpt2 = GPT2LMHeadModel(GPT2Config()).eval()
            prompt = torch.tensor([[464, 3139, 286, 4881, 318, 6342, 13, 383]])
            gen = lambda: gpt2.generate(prompt, max_new_tokens=32, min_new_tokens=32, do_sample=False, pad_token_id=50256)
            t = median_ms(gen, warmup=1, runs=5)
            rows.append(("text", "gpt2-generate-32", criterion_ms(args.criterion, "text", "gpt2-generate-32"), t))
            # The same 4 prompts as the Rust bench, left-padded with end-of-text and masked.
            prompts = [[464, 3139, 286, 4881, 318, 6342, 13, 383], [40, 588, 257, 1310, 286, 262, 3290, 11],
                       [15496, 11, 995, 0, 314, 716], [4342, 318, 257, 1332]]
            ids = torch.tensor([[50256] * (8 - len(p)) + p for p in prompts])
            mask = torch.tensor([[0] * (8 - len(p)) + [1] * len(p) for p in prompts])
            gen4 = lambda: gpt2.generate(ids, attention_mask=mask, max_new_tokens=32, min_new_tokens=32, do_sample=False, pad_token_id=50256)
            t = median_ms(gen4, warmup=1, runs=5)
            rows.append(("text", "gpt2-generate-32-batch4", criterion_ms(args.criterion, "text", "gpt2-generate-32-batch4"), t))
    except ImportError as e:
        print(f"transformers not installed ({e}); text rows skipped")
    for name in ["resnet50", "vgg16"]:
        path = os.path.join(args.golden, name, "model.pth")
        if not os.path.exists(path):
            continue
        def load():
            m = build(name)
            m.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        t = median_ms(load, warmup=1, runs=5)
        b = criterion_ms(args.criterion, "import", name)
        rows.append(("import", f"{name} (build + load .pth)", b, t))
    lines = [
        f"PyTorch {torch.__version__} with {threads} threads, torchvision {torchvision.__version__}; burn flex (rayon, all cores).",
        "",
        "| bench | case | burn (ms) | PyTorch (ms) | burn / PyTorch |",
        "|---|---|---:|---:|---:|",
    ]
    for group, case, b, t in rows:
        ratio = f"{b / t:.2f}" if b is not None else "n/a"
        bs = f"{b:.1f}" if b is not None else "not run"
        lines.append(f"| {group} | {case} | {bs} | {t:.1f} | {ratio} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
