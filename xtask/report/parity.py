"""Turns the `parity ...` lines that the parity tests print into docs/parity.md tables.

    HUB_REQUIRE_GOLDEN=1 cargo test --workspace -- --nocapture 2>&1 | python3 xtask/report/parity.py > docs/parity.md
    (add the wgpu run: cargo test -p hub-models --features wgpu --test parity_backends -- --nocapture)
"""
import re
import sys

rows = {"vision": [], "gan": [], "text": [], "backend": [], "other": []}
for line in sys.stdin:
    line = line.strip()
    m = re.match(r"parity (\S+) \((\S+)\): max\|burn-torch\| = (\S+), max\|torch\| = (\S+), relative = (\S+)", line)
    if m:
        rows["vision"].append((m[1], m[2], m[3], m[4], m[5]))
        continue
    m = re.match(r"parity\[(\w+)\] (\S+): max\|burn-torch\| = (\S+), relative = (\S+)", line)
    if m:
        rows["backend"].append((m[1], m[2], m[3], m[4]))
        continue
    m = re.match(r"parity (\S+) (?:(\S+\.pth) )?(\S+): max\|err\| = (\S+), max\|torch\| = (\S+), relative = (\S+)", line)
    if m:
        rows["gan"].append((m[1], (m[2] or "") + " " + m[3], m[4], m[5], m[6]))
        continue
    m = re.match(r"parity_text (.+?): max\|diff\| = (\S+), max\|torch\| = (\S+), relative (\S+)", line)
    if m:
        rows["text"].append((m[1], m[2], m[3], m[4]))
        continue
    if line.startswith(("parity_text", "lite0", "parity ")) and "above 1e-4" in line or line.startswith(("lite0 ", "parity_text minilm ranking", "parity_text gpt2 greedy", "parity_text fill-mask")):
        rows["other"].append(line)

out = ["# Parity with PyTorch", "",
       "Every entry is checked against real PyTorch (torch 2.15.0, torchvision 0.29.2, transformers 5.24.0)",
       "through the real import path (`.pth` zip and legacy pickles, safetensors) by the tests in",
       "`crates/hub-models/tests/`. Tolerance: max|burn − torch| ≤ 1e-4 × max|torch| (exceptions below).",
       "Regenerate this page: see `xtask/report/parity.py`.", ""]
out += ["## Vision classifiers (CPU, flex backend, batch 2, full size)", "",
        "| entry | checkpoint | max abs error | max abs torch | relative |", "|---|---|---:|---:|---:|"]
for e, f, err, scale, rel in sorted(set(rows["vision"])):
    out.append(f"| {e} | {f} | {err} | {scale} | {rel} |")
out += ["", "## GAN generators (CPU)", "", "| entry | output | max abs error | max abs torch | relative |", "|---|---|---:|---:|---:|"]
for e, o, err, scale, rel in rows["gan"]:
    out.append(f"| {e} | {o.strip()} | {err} | {scale} | {rel} |")
out += ["", "## Text models (CPU)", "", "| check | max abs error | max abs torch | relative |", "|---|---:|---:|---:|"]
for c, err, scale, rel in rows["text"]:
    out.append(f"| {c} | {err} | {scale} | {rel} |")
if rows["backend"]:
    out += ["", "## GPU backends", "", "| backend | entry | max abs error | relative |", "|---|---|---:|---:|"]
    for b, e, err, rel in rows["backend"]:
        out.append(f"| {b} | {e} | {err} | {rel} |")
out += ["", "## Other checks", ""] + [f"- `{l}`" for l in rows["other"]]
print("\n".join(out))
