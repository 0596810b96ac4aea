"""Cold start of `hub run` against PyTorch loading the same checkpoint, in one run.

    target/golden-venv/bin/python xtask/bench/cold_start.py --hub target/release/hub [--runs 5]

Both sides classify the same photo with ResNet-50 from the same cached .pth (the golden
checkpoint with seeded weights: the real torchvision file is not reachable here), starting a fresh
process each time. Reports median wall time and peak RSS (ru_maxrss of the child).
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

TORCH_SNIPPET = r"""
import sys, torch, torchvision
from torchvision.io import decode_image
from torchvision.models import ResNet50_Weights
m = torchvision.models.resnet50()
m.load_state_dict(torch.load(sys.argv[1], map_location="cpu", weights_only=True))
m.eval()
x = ResNet50_Weights.IMAGENET1K_V2.transforms()(decode_image(sys.argv[2], mode=torchvision.io.ImageReadMode.RGB)).unsqueeze(0)
with torch.inference_mode():
    p = m(x).softmax(1).topk(5)
print(p.indices.tolist())
"""


def measure(cmd, env, runs):
    walls, rss = [], []
    for _ in range(runs):
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        walls.append(time.perf_counter() - t)
        if status != 0:
            raise SystemExit(f"{cmd} failed: {proc.stderr.read().decode()}")
        rss.append(usage.ru_maxrss / 1024)  # KiB -> MiB
    return statistics.median(walls), statistics.median(rss)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hub", default="target/release/hub")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--checkpoint", default="target/golden/vision/resnet50/model.pth")
    ap.add_argument("--image", default="target/golden/real/chelsea.png")
    args = ap.parse_args()
    ckpt = os.path.abspath(args.checkpoint)
    work = tempfile.mkdtemp(prefix="hub-cold-")
    repo = os.path.join(work, "repo")
    os.makedirs(repo)
    with open(os.path.join(repo, "hubconf.toml"), "w") as f:
        f.write(f"""format = 1
[entrypoints.resnet50]
architecture = "resnet50"
task = "image-classification"
categories = "imagenet-1k"
preprocessing = {{ kind = "image-classification", resize = 232, crop = 224, interpolation = "bilinear" }}
[entrypoints.resnet50.weights.SEEDED]
url = "file://{ckpt}"
""")
    env = dict(os.environ, HUB_HOME=os.path.join(work, "home"), TORCH_HOME=os.path.join(work, "torch"))
    hub = [os.path.abspath(args.hub), "run", repo, "resnet50", "--image", args.image]
    subprocess.run(hub, env=env, check=True, stdout=subprocess.DEVNULL)  # fill the cache
    rows = [("hub run (.pth in cache)",) + measure(hub, env, args.runs)]
    subprocess.run([os.path.abspath(args.hub), "convert", repo, "resnet50"], env=env, check=True, stdout=subprocess.DEVNULL)
    rows.append(("hub run (after hub convert: burnpack)",) + measure(hub, env, args.runs))
    py = [sys.executable, "-c", TORCH_SNIPPET, ckpt, args.image]
    rows.append(("PyTorch: import torch, build, torch.load, forward",) + measure(py, env, args.runs))
    base_wall, base_rss = rows[-1][1], rows[-1][2]
    print(f"ResNet-50, one image, fresh process each run, median of {args.runs}; hub binary {args.hub}\n")
    print("| command | wall (s) | peak RSS (MiB) | PyTorch / this (time) | this / PyTorch (memory) |")
    print("|---|---:|---:|---:|---:|")
    for name, wall, rss in rows:
        print(f"| {name} | {wall:.2f} | {rss:.0f} | {base_wall / wall:.1f}x | {rss / base_rss:.2f} |")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
