"""Is the golden venv what xtask/golden/requirements.txt pins?

Usage: python check_env.py REQUIREMENTS [--smoke]

Exit status 0 when every `name==version` line of REQUIREMENTS is installed at exactly that
version, 1 otherwise (the differences are printed on stderr). With --smoke it also imports
torch and torchvision and runs a convolution and a torchvision model on the CPU, which is
what proves that the trimmed CUDA dependency set (see requirements.txt) is enough.
"""

import re
import sys
from importlib import metadata


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: str) -> dict[str, str]:
    out = {}
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            name, sep, version = line.partition("==")
            if not sep:
                raise SystemExit(f"{path}: only exact pins (name==version) are allowed, got {line!r}")
            out[canonical(name.strip())] = version.strip()
    return out


def installed() -> dict[str, str]:
    return {canonical(d.metadata["Name"]): d.version for d in metadata.distributions()}


def smoke() -> None:
    import torch
    import torchvision

    torch.manual_seed(0)
    y = torch.nn.Conv2d(3, 8, 3)(torch.randn(1, 3, 16, 16))
    if y.shape != (1, 8, 14, 14) or not torch.isfinite(y).all():
        raise SystemExit("smoke test: torch conv2d gave a wrong result")
    with torch.no_grad():
        z = torchvision.models.squeezenet1_1().eval()(torch.randn(1, 3, 64, 64))
    if z.shape != (1, 1000):
        raise SystemExit("smoke test: torchvision squeezenet1_1 gave a wrong shape")
    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}: CPU smoke test passed")


def main() -> int:
    args = sys.argv[1:]
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    have = installed()
    problems = []
    for name, version in pins(args[0]).items():
        got = have.get(name)
        if got is None:
            problems.append(f"{name}=={version} is not installed")
        elif got != version:
            problems.append(f"{name}=={version} wanted, {got} installed")
    if problems:
        for p in problems:
            print(p, file=sys.stderr)
        return 1
    if "--smoke" in args[1:]:
        smoke()
    return 0


if __name__ == "__main__":
    sys.exit(main())
