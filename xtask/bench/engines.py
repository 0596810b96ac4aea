"""hub, PyTorch eager and ONNX Runtime on the same model, weights and input, in one run.

For each model: seeded random weights in PyTorch, saved as the checkpoint hub loads through its
real import path (`crates/hub-bench/examples/worker.rs`) and exported to ONNX for ONNX Runtime;
then warm-ups, and rounds interleaved engine by engine (hub, torch, ORT, hub, ...), every engine
with the same thread count; medians per engine and the largest difference of hub's and ORT's
outputs from PyTorch's, from the same run.

    cargo build --release -p hub-bench --example worker
    target/golden-venv/bin/python xtask/bench/engines.py resnet50 mobilenet_v2 bert-base \\
        [--batch 1,8] [--threads 2] [--rounds 10] [--out table.md]

Needs `onnx` and `onnxruntime` in the venv (xtask/bench/requirements.txt; `cargo xtask bench`
installs them). Ratios > 1 mean hub is slower.
"""
import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torchvision

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
WORKER = os.path.join(ROOT, "target", "release", "examples", "worker")
# Pause before each engine's turn (seconds).
GAP_S = 0.2


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            info = f.read()
    except OSError:
        return platform.processor() or "unknown CPU", ""
    name = next((l.split(":", 1)[1].strip() for l in info.splitlines() if l.startswith("model name")), "unknown CPU")
    flags = next((l.split(":", 1)[1].split() for l in info.splitlines() if l.startswith("flags")), [])
    simd = [f for f in ("avx2", "fma", "avx512f", "avx512bw", "avx512_vnni", "avx512_bf16") if f in flags]
    return name, " ".join(simd)


class Worker:
    """The hub worker process: one command a line, one answer a line."""

    def __init__(self, threads):
        env = dict(os.environ, HUB_NUM_THREADS=str(threads))
        self.p = subprocess.Popen([WORKER, "--threads", str(threads)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        self.hello = self.read()

    def read(self):
        line = self.p.stdout.readline().strip()
        if not line.startswith("ok"):
            raise RuntimeError(f"hub worker: {line or 'exited'}")
        return line[3:]

    def ask(self, command):
        self.p.stdin.write(command + "\n")
        self.p.stdin.flush()
        return self.read()

    def close(self):
        self.p.stdin.close()
        self.p.wait()


def build_vision(name):
    # The auxiliary classifiers stay in the checkpoint (hub's default config has them) but do
    # not run in eval mode, on either side.
    kwargs = {"init_weights": True} if name in ("googlenet", "inception_v3") else {}
    model = torchvision.models.get_model(name, weights=None, **kwargs).eval()
    if name.startswith("vit_"):
        # torchvision initialises ViT's classifier to zero: the outputs would be zeros on every
        # engine and their comparison would prove nothing.
        with torch.no_grad():
            torch.nn.init.normal_(model.heads.head.weight, std=0.02, generator=torch.Generator().manual_seed(2))
    return model


def prepare(name, batch, tmp):
    """The torch model, its inputs, the hub `load` command and the ONNX file for one model."""
    torch.manual_seed(0)
    if name == "bert-base":
        from transformers import BertConfig, BertModel
        model = BertModel(BertConfig(), add_pooling_layer=True).eval()
        ids = torch.randint(0, model.config.vocab_size, (batch, 128), generator=torch.Generator().manual_seed(1))
        ckpt = os.path.join(tmp, "bert")
        model.save_pretrained(ckpt, safe_serialization=True)
        ids.numpy().astype("<i8").tofile(os.path.join(tmp, "ids.i64"))
        load = f"bert {ckpt}/model.safetensors {tmp}/ids.i64 {batch},128"
        inputs = (ids,)

        class LastHidden(torch.nn.Module):
            def __init__(self, bert):
                super().__init__()
                self.bert = bert

            def forward(self, input_ids):
                return self.bert(input_ids=input_ids).last_hidden_state

        model = LastHidden(model).eval()
        run = lambda: model(ids)
        names, feeds = ["input_ids"], {"input_ids": ids.numpy()}
    elif name.startswith(("deeplabv3_", "fcn_", "lraspp_")):
        # Both heads run (torchvision computes `aux` in eval mode too, and so does hub); `out`
        # is compared and exported first, `aux` kept so that ONNX Runtime cannot prune it.
        seg = torchvision.models.get_model(name, weights=None, weights_backbone=None, aux_loss=not name.startswith("lraspp_")).eval()

        class Heads(torch.nn.Module):
            def __init__(self, seg):
                super().__init__()
                self.seg = seg

            def forward(self, x):
                y = self.seg(x)
                return (y["out"], y["aux"]) if "aux" in y else y["out"]

        model = Heads(seg).eval()
        x = torch.randn(batch, 3, 520, 520, generator=torch.Generator().manual_seed(1))
        torch.save(seg.state_dict(), os.path.join(tmp, "model.pth"))
        x.numpy().astype("<f4").tofile(os.path.join(tmp, "x.f32"))
        load = f"seg {name} {tmp}/model.pth {tmp}/x.f32 {batch},3,520,520"
        inputs = (x,)
        first = lambda y: y[0] if isinstance(y, tuple) else y
        run = lambda: first(model(x))
        names, feeds = ["x"], {"x": x.numpy()}
    else:
        model = build_vision(name)
        size = 299 if name == "inception_v3" else 224
        x = torch.randn(batch, 3, size, size, generator=torch.Generator().manual_seed(1))
        torch.save(model.state_dict(), os.path.join(tmp, "model.pth"))
        x.numpy().astype("<f4").tofile(os.path.join(tmp, "x.f32"))
        load = f"vision {name} {tmp}/model.pth {tmp}/x.f32 {batch},3,{size},{size}"
        inputs = (x,)
        run = lambda: model(x)
        names, feeds = ["x"], {"x": x.numpy()}
    onnx_path = os.path.join(tmp, "model.onnx")
    # nn.MultiheadAttention's eval fast path (`_native_multi_head_attention`, ViT) has no ONNX
    # export: export the plain ops (PyTorch's own timing keeps the fast path).
    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with torch.inference_mode(False), torch.no_grad():
            torch.onnx.export(model, inputs, onnx_path, input_names=names, output_names=["y"], opset_version=17, dynamo=False)
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)
    return run, load, onnx_path, feeds


def median_of(times):
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("models", nargs="+")
    ap.add_argument("--batch", default="1")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--out")
    args = ap.parse_args()
    import onnxruntime as ort

    if not os.path.exists(WORKER):
        sys.exit(f"{WORKER} is missing: cargo build --release -p hub-bench --example worker")
    torch.set_num_threads(args.threads)
    cpu, simd = cpu_model()
    worker = Worker(args.threads)
    header = (f"{cpu} ({simd}), {os.cpu_count()} logical CPUs; {args.threads} threads on every engine "
              f"(default thread-pool settings, {GAP_S:.1f} s pause before each engine's turn); "
              f"torch {torch.__version__}, onnxruntime {ort.__version__}; hub worker: {worker.hello}")
    print(header, flush=True)
    rows, failed = [], []
    for name in args.models:
        for batch in [int(b) for b in args.batch.split(",")]:
            with tempfile.TemporaryDirectory() as tmp:
                run_torch, load, onnx_path, feeds = prepare(name, batch, tmp)
                try:
                    print(f"{name} batch {batch}: hub {worker.ask(load)}", flush=True)
                except RuntimeError as e:
                    print(f"{name} batch {batch}: {e}", flush=True)
                    failed.append((name, batch, str(e)))
                    continue
                so = ort.SessionOptions()
                so.intra_op_num_threads = args.threads
                so.inter_op_num_threads = 1
                so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
                so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
                sess = ort.InferenceSession(onnx_path, so, providers=["CPUExecutionProvider"])
                with torch.inference_mode():
                    y_torch = run_torch().numpy()
                    y_ort = sess.run(None, feeds)[0]
                    worker.ask(f"run {args.warmup}")
                    for _ in range(args.warmup):
                        run_torch()
                        sess.run(None, feeds)
                    hub_t, torch_t, ort_t = [], [], []
                    for _ in range(args.rounds):
                        # Each engine keeps its default thread pool (spinning briefly when idle,
                        # then sleeping); the pause lets the previous engine's pool fall asleep
                        # so that it cannot steal the cores of the next one.
                        time.sleep(GAP_S)
                        hub_t += [float(t) for t in worker.ask("run 1").split()]
                        time.sleep(GAP_S)
                        t = time.perf_counter()
                        run_torch()
                        torch_t.append((time.perf_counter() - t) * 1e3)
                        time.sleep(GAP_S)
                        t = time.perf_counter()
                        sess.run(None, feeds)
                        ort_t.append((time.perf_counter() - t) * 1e3)
                worker.ask(f"save {tmp}/y.f32")
                y_hub = np.fromfile(f"{tmp}/y.f32", dtype="<f4").reshape(y_torch.shape)
            scale = float(np.abs(y_torch).max())
            d_hub = float(np.abs(y_hub - y_torch).max())
            d_ort = float(np.abs(y_ort - y_torch).max())
            h, t, o = median_of(hub_t), median_of(torch_t), median_of(ort_t)
            rows.append((name, batch, h, t, o, d_hub, d_ort, scale))
            print(f"  hub {h:8.1f} ms  torch {t:8.1f} ms  ORT {o:8.1f} ms  hub/torch {h / t:.2f}  hub/ORT {h / o:.2f}  "
                  f"max|hub-torch| {d_hub:.1e}  max|ORT-torch| {d_ort:.1e}  (max|y| {scale:.1e})", flush=True)
    worker.close()
    lines = [header, "", "| model | batch | hub ms | PyTorch ms | ONNX Runtime ms | hub/PyTorch | hub/ORT | max diff hub, ORT vs PyTorch (max abs output) |",
             "|---|---:|---:|---:|---:|---:|---:|---|"]
    for name, batch, h, t, o, dh, do, s in rows:
        lines.append(f"| {name} | {batch} | {h:.1f} | {t:.1f} | {o:.1f} | {h / t:.2f}× | {h / o:.2f}× | {dh:.1e}, {do:.1e} ({s:.1e}) |")
    for name, batch, e in failed:
        lines.append(f"| {name} | {batch} | not run: {e} | | | | | |")
    table = "\n".join(lines)
    print(table)
    if args.out:
        with open(args.out, "w") as f:
            f.write(table + "\n")


if __name__ == "__main__":
    main()
