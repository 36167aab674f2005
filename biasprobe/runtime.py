"""Cores and thread limits: the one place that asks how many CPUs this process may use and sets torch's and numba's threads.

Every parallel path takes an explicit ``workers`` count; ``None`` means ``cores()``.
Thread limits are set in a context and restored on exit, so a library call never
leaves a notebook's torch or numba with another thread count than it had.
"""

from __future__ import annotations

import contextlib
import os
import sys

from biasprobe.errors import UserError


def cores() -> int:
    """CPUs this process may run on: the scheduler affinity mask where the OS has one (containers, taskset)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def resolve_workers(workers, what: str = "workers") -> int:
    """None -> cores(); a positive integer stays; anything else is a UserError (never silently 1)."""
    if workers is None:
        return cores()
    if isinstance(workers, bool) or not isinstance(workers, int) and not _is_np_integer(workers):
        raise UserError(f"{what} must be a positive integer, got {workers!r}")
    if int(workers) < 1:
        raise UserError(f"{what} must be a positive integer, got {workers!r}")
    return int(workers)


def _is_np_integer(x) -> bool:
    np = sys.modules.get("numpy")
    return np is not None and isinstance(x, np.integer)


@contextlib.contextmanager
def thread_limits(torch_threads: int | None = None, numba_threads: int | None = None):
    """Set torch's intra-op and numba's thread counts for a block, then restore them.

    None leaves that library alone. Libraries not yet imported are imported only when a
    limit is asked of them. numba's count is capped at its pool size (NUMBA_NUM_THREADS).
    """
    saved_torch = saved_numba = None
    try:
        if torch_threads is not None:
            import torch

            saved_torch = torch.get_num_threads()
            torch.set_num_threads(max(1, int(torch_threads)))
        if numba_threads is not None:
            import numba

            saved_numba = numba.get_num_threads()
            numba.set_num_threads(max(1, min(int(numba_threads), numba.config.NUMBA_NUM_THREADS)))
        yield
    finally:
        if saved_numba is not None:
            import numba

            numba.set_num_threads(saved_numba)
        if saved_torch is not None:
            import torch

            torch.set_num_threads(saved_torch)


def memory_budget(fraction: float = 0.75) -> int:
    """Bytes a computation lets itself use: a fraction of physical memory."""
    try:
        return int(fraction * os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover
        return 8 << 30
