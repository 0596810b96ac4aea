"""PyTorch eager forward times (seeded random weights, inference mode) for side-by-side runs with
`cargo run --release -p hub-bench --example paths`: run them alternately on an idle machine.

    target/golden-venv/bin/python xtask/bench/torch_forward.py resnet50 mobilenet_v2 [--batch 1] [--threads 2]
"""
import argparse
import statistics
import time

import torch
import torchvision


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("models", nargs="+")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=10)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    with torch.inference_mode():
        for name in args.models:
            kwargs = {"aux_logits": False, "init_weights": True} if name in ("googlenet", "inception_v3") else {}
            model = torchvision.models.get_model(name, weights=None, **kwargs).eval()
            size = 299 if name == "inception_v3" else 224
            x = torch.randn(args.batch, 3, size, size)
            for _ in range(3):
                model(x)
            times = []
            for _ in range(args.rounds):
                t = time.perf_counter()
                model(x)
                times.append((time.perf_counter() - t) * 1e3)
            print(f"{name:>20} batch {args.batch}: torch {statistics.median(times):8.1f} ms")


if __name__ == "__main__":
    main()
