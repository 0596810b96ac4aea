"""Real-time factor (seconds of audio per second of compute) of Tacotron2 + WaveGlow, hub against
the PyTorch reference of NVIDIA's code (xtask/golden/tts.py), full-size NVIDIA configs, random
weights, the same number of mel frames, CPU, in one run:

    target/golden-venv/bin/python xtask/bench/tts_rtf.py --hub target/release/hub [--frames 80]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "golden"))
import tts as reference  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hub", default="target/release/hub")
    ap.add_argument("--frames", type=int, default=80)
    args = ap.parse_args()
    text = "Hello world, this is Rust speaking."
    work = tempfile.mkdtemp(prefix="hub-rtf-")
    env = dict(os.environ, HUB_HOME=os.path.join(work, "home"))
    out = subprocess.run(
        [args.hub, "--offline", "run", "NVIDIA/DeepLearningExamples:torchhub", "nvidia_tacotron2", "--random-init",
         "--text", text, "--max-decoder-steps", str(args.frames), "--out", os.path.join(work, "x.wav"), "--json"],
        env=env, check=True, capture_output=True, text=True)
    hub = json.loads(out.stdout)

    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    c = dict(reference.TACOTRON2_CONFIG)
    t2 = reference.Tacotron2(c).eval()
    t2.decoder.prenet.generator = torch.Generator().manual_seed(1)
    wg = reference.WaveGlow(80, 12, 8, 4, 2, {"n_layers": 8, "kernel_size": 3, "n_channels": 512}, gen=gen).eval()
    seq = torch.randint(1, 64, (1, len(text)), generator=gen)
    with torch.no_grad():
        start = time.perf_counter()
        memory = t2.encoder(t2.embedding(seq).transpose(1, 2))
        mel, _, _, _ = t2.decoder.infer(memory, args.frames, 2.0)  # threshold 2: never stops early
        mel = mel + t2.postnet(mel)
        audio = wg.infer(mel, 1.0, torch.Generator().manual_seed(2), [])
        compute = time.perf_counter() - start
    seconds = audio.size(1) / 22050
    torch_rtf = seconds / compute
    print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads; {args.frames} mel frames requested\n")
    print("| | audio (s) | compute (s) | real-time factor | hub / PyTorch (speed) |")
    print("|---|---:|---:|---:|---:|")
    print(f"| hub ({args.hub}) | {hub['seconds']:.2f} | {hub['seconds'] / hub['real_time_factor']:.2f} | {hub['real_time_factor']:.3f} | {hub['real_time_factor'] / torch_rtf:.2f} |")
    print(f"| PyTorch reference | {seconds:.2f} | {compute:.2f} | {torch_rtf:.3f} | 1.00 |")


if __name__ == "__main__":
    main()
