"""Helpers shared by the golden scripts: atomic writes, seeds, hashes."""

import hashlib
import json
import os
import zlib
from pathlib import Path

import torch
from safetensors.torch import save_file


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


def write_json(path: Path, value) -> None:
    def write(tmp: Path) -> None:
        tmp.write_text(json.dumps(value, indent=2) + "\n", encoding="utf-8")

    write_atomic(path, write)


def write_text(path: Path, text: str) -> None:
    write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_bytes(path: Path, data: bytes) -> None:
    write_atomic(path, lambda tmp: tmp.write_bytes(data))


def save_tensors(path: Path, tensors: dict, metadata: dict | None = None) -> None:
    tensors = {k: v.detach().contiguous().cpu() for k, v in tensors.items()}
    write_atomic(path, lambda tmp: save_file(tensors, str(tmp), metadata=metadata))


def save_state_dict(path: Path, state_dict: dict, legacy: bool = False) -> None:
    """torch.save of a state dict: zip format, or the pre-1.6 legacy pickle format when legacy."""

    def write(tmp: Path) -> None:
        torch.save(state_dict, str(tmp), _use_new_zipfile_serialization=not legacy)

    write_atomic(path, write)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_output(name: str, out: torch.Tensor) -> dict:
    """Refuse references that would make a relative tolerance meaningless.

    Returns a few statistics for meta.json. The thresholds are loose on purpose: they catch
    NaN/inf, all-zero or exploded logits, logits that no longer depend on the input, and
    logits that are all nearly equal (where max|torch| * 1e-4 would hide real errors).
    """
    out = out.detach().double()
    if not torch.isfinite(out).all():
        raise SystemExit(f"{name}: output has NaN or inf")
    amax = out.abs().max().item()
    if not (1e-2 < amax < 1e3):
        raise SystemExit(f"{name}: output max |x| = {amax:.3g} is not well scaled")
    spread = out.std(dim=1).min().item()
    if spread < 0.02 * amax:
        raise SystemExit(f"{name}: logits are nearly constant over classes (std {spread:.3g}, max {amax:.3g})")
    diff = (out[0] - out[-1]).abs().max().item()
    if out.shape[0] > 1 and diff < 0.05 * amax:
        raise SystemExit(f"{name}: the batch items give nearly the same logits (max diff {diff:.3g})")
    return {"max_abs": amax, "min_class_std": spread, "batch_diff": diff}
