"""runtime: cores from the affinity mask, thread limits set for a block and restored even on error."""

import os

import pytest

from biasprobe import runtime
from biasprobe.errors import UserError


def test_cores_follow_the_affinity_mask():
    assert runtime.cores() == len(os.sched_getaffinity(0))


def test_thread_limits_are_restored_even_after_an_error():
    import numba
    import torch

    t0, n0 = torch.get_num_threads(), numba.get_num_threads()
    with pytest.raises(RuntimeError):
        with runtime.thread_limits(torch_threads=1, numba_threads=1):
            assert torch.get_num_threads() == 1 and numba.get_num_threads() == 1
            raise RuntimeError("inside")
    assert (torch.get_num_threads(), numba.get_num_threads()) == (t0, n0)
    with runtime.thread_limits(numba_threads=10**6):  # capped at numba's pool, not an error
        assert numba.get_num_threads() == numba.config.NUMBA_NUM_THREADS


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_workers_must_be_positive_integers(bad):
    with pytest.raises(UserError):
        runtime.resolve_workers(bad)
    assert runtime.resolve_workers(None) == runtime.cores() and runtime.resolve_workers(3) == 3
