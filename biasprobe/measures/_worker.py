"""Child process for slow per-row measures: reads an .npy batch on stdin and writes the .npy result on stdout."""

from __future__ import annotations

import importlib
import io
import sys

import numpy as np


def main() -> int:
    module, _, name = sys.argv[1].partition(":")
    func = getattr(importlib.import_module(module), name)
    rows = np.load(io.BytesIO(sys.stdin.buffer.read()), allow_pickle=False)
    out = io.BytesIO()
    np.save(out, np.asarray(func(rows), dtype=np.float64), allow_pickle=False)
    sys.stdout.buffer.write(out.getvalue())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
