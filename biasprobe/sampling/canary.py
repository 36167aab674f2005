"""Cross-machine determinism: the settings that decide a draw's bits, a canary of block 0, and the refusal when they differ.

Torch's CPU `normal_` takes a different code path per instruction set
(``ATEN_CPU_CAPABILITY``: default, avx2, avx512) and the numba kernel is compiled
for the host CPU (fused multiply-adds where it has them; ``NUMBA_CPU_NAME``,
``NUMBA_CPU_FEATURES``), so two machine types can draw different bits from the
same seed. Every shard records its worker's settings and a canary: hashes of
block 0's raw parameters and of the outputs of its first draws. A worker whose
canary differs from the run's refuses to contribute, naming the setting to pin.
"""

from __future__ import annotations

import hashlib
import os
import socket

import numpy as np

from biasprobe.errors import UserError

CANARY_DRAWS = 64


def machine() -> dict:
    """The settings of this process that decide the sampled bits (and what to pin on a cluster)."""
    import llvmlite.binding as ll
    import numba
    import torch

    features = numba.config.CPU_FEATURES or ll.get_host_cpu_features().flatten()
    return {
        "host": socket.gethostname(),
        "torch_cpu_capability": str(torch.backends.cpu.get_cpu_capability()),
        "aten_cpu_capability_env": os.environ.get("ATEN_CPU_CAPABILITY"),
        "numba_cpu_name": numba.config.CPU_NAME or ll.get_host_cpu_name(),
        "numba_cpu_features": hashlib.sha256(str(features).encode()).hexdigest()[:12],
        "torch": torch.__version__,
        "numba": numba.__version__,
        "numpy": np.__version__,
    }


def canary(engine) -> dict:
    """Hashes of block 0's raw parameters (or generic outputs) and of the outputs of its first draws."""
    from biasprobe.sampling.engine import single_thread_torch

    count = min(engine.block, CANARY_DRAWS)
    buf = engine.new_buffers(count)
    with single_thread_torch():
        handle = engine.draw(0, count, buf)
        raw = handle.cpu().numpy() if engine.net is not None else np.asarray(handle)
        out = engine.evaluate(handle, 0, count, buf)
    return {"parameters": hashlib.sha256(np.ascontiguousarray(raw).tobytes()).hexdigest()[:16],
            "outputs": hashlib.sha256(np.ascontiguousarray(out).tobytes()).hexdigest()[:16]}


def check(reference: dict, mine: dict, where: str) -> None:
    """Raise a one-line UserError naming the setting to pin when this worker's canary differs from the run's.

    `reference` and `mine` are {"machine": machine(), "canary": canary(...)}.
    """
    ref_m, my_m = reference["machine"], mine["machine"]
    ref_c, my_c = reference["canary"], mine["canary"]
    if ref_c == my_c:
        return
    head = f"{where} on {my_m['host']} draws block 0 differently from the run (begun on {ref_m['host']})"
    if ref_c["parameters"] != my_c["parameters"]:
        if ref_m["torch_cpu_capability"] != my_m["torch_cpu_capability"]:
            raise UserError(f"{head}: torch CPU capability {my_m['torch_cpu_capability']} here,"
                            f" {ref_m['torch_cpu_capability']} in the run; set"
                            f" ATEN_CPU_CAPABILITY={ref_m['torch_cpu_capability'].lower()} on every machine"
                            " before Python starts")
        raise UserError(f"{head}: torch's generator differs (torch {my_m['torch']} here, {ref_m['torch']} in the"
                        " run); install the same torch build everywhere")
    if (ref_m["numba_cpu_name"], ref_m["numba_cpu_features"]) != (my_m["numba_cpu_name"],
                                                                  my_m["numba_cpu_features"]):
        raise UserError(f"{head}: the numba kernel targets {my_m['numba_cpu_name']} here,"
                        f" {ref_m['numba_cpu_name']} in the run; start the run with NUMBA_CPU_NAME=generic"
                        " (or one CPU name all machines support) and NUMBA_CPU_FEATURES set alike everywhere")
    raise UserError(f"{head}: network outputs differ with the same settings (numba {my_m['numba']} here,"
                    f" {ref_m['numba']} in the run); install the same numba and numpy everywhere")
