"""The block-range sampler against `sample_counts` (a run is the union of its shards), the condition hook, and sizes."""

import tracemalloc

import numpy as np
import pytest

from biasprobe.domains import parse_domain
from biasprobe.errors import UserError
from biasprobe.priors import Prior, make_prior
from biasprobe.sampling import Counts, block_size, merge_counts, sample_blocks, sample_counts


def _same(a: Counts, b: Counts) -> bool:
    return (np.array_equal(a.words, b.words) and np.array_equal(a.counts, b.counts)
            and a.nonfinite == b.nonfinite and a.rejected == b.rejected)


@pytest.mark.parametrize("prior,domain", [(make_prior("mlp", hidden=(6, 5)), "bool:5"),
                                          (make_prior("counting"), "bool:4"),
                                          (make_prior("polynomial", family="ptf", degree=2), "pm1:4")])
def test_union_of_shards_is_the_run_for_every_shard_size(prior, domain):
    d = parse_domain(domain)
    block = block_size(prior, d)
    samples = 7 * block + 123  # a partial last block
    whole = sample_counts(prior, d, samples=samples, seed=11)
    n_blocks = 8
    for size in (1, 2, 3, 8):
        shards = [sample_blocks(prior, d, 11, b0, min(b0 + size, n_blocks), samples, workers=1 + b0 % 2)
                  for b0 in range(0, n_blocks, size)]
        assert sum(s.samples for s in shards) == samples
        union = merge_counts(shards)
        assert _same(union, whole), size
        assert union.checksum() == whole.checksum()
    assert shards[0].info["blocks"] == [0, 8]


def test_block_range_without_run_length_is_whole_blocks():
    prior, d = make_prior("mlp", hidden=(4,)), parse_domain("bool:3")
    block = block_size(prior, d)
    c = sample_blocks(prior, d, 2, 1, 3)
    assert c.samples == 2 * block
    assert _same(merge_counts([sample_blocks(prior, d, 2, 0, 1), c]), sample_counts(prior, d, 3 * block, 2))


@pytest.mark.parametrize("start,stop", [(2, 2), (-1, 1), (0, 9), (0.5, 2)])
def test_bad_block_ranges(start, stop):
    with pytest.raises(UserError):
        sample_blocks(make_prior("counting"), parse_domain("bool:3"), 0, start, stop, samples=8 * 4096)


class FirstBitZero:
    """Accepts truth tables whose f(0) is 0: the most significant packed bit is clear."""

    def __init__(self):
        self.calls = 0

    def accepts(self, words):
        self.calls += 1
        assert words.dtype == np.uint64 and words.ndim == 2
        # bool:5: 32 bits left-padded into one word, so f(0) is bit 31 of word 0
        return ((words[:, 0] >> np.uint64(31)) & np.uint64(1)) == 0


def test_condition_keeps_accepted_draws_and_counts_the_rest():
    prior, d = make_prior("mlp", hidden=(3,), sigma_b=3.0), parse_domain("bool:5")
    plain = sample_counts(prior, d, samples=20000, seed=4)
    cond = FirstBitZero()
    kept = sample_counts(prior, d, samples=20000, seed=4, condition=cond, workers=2)
    first_bit = plain.bits()[:, 0]
    # oracle: the unconditioned table filtered by f(0) = 0
    assert np.array_equal(kept.words, plain.words[first_bit == 0])
    assert np.array_equal(kept.counts, plain.counts[first_bit == 0])
    assert kept.rejected == int(plain.counts[first_bit == 1].sum()) > 0
    assert kept.counts.sum() + kept.rejected + kept.nonfinite == 20000 and cond.calls > 0
    # and the block-range sampler takes the same hook
    n = -(-20000 // block_size(prior, d))
    assert _same(merge_counts([sample_blocks(prior, d, 4, 0, 2, 20000, condition=cond),
                               sample_blocks(prior, d, 4, 2, n, 20000, condition=cond)]), kept)


class _HalfNaN(Prior):
    name = "half_nan"

    def draw_outputs(self, rng, count, domain):
        out = np.ones((count, domain.n_points), np.float32)
        out[::2, 1] = np.nan
        return out


class RejectAll:
    def accepts(self, words):
        return np.zeros(len(words), bool)


def test_nonfinite_draws_are_nonfinite_whatever_the_condition():
    c = sample_counts(_HalfNaN(), parse_domain("bool:3"), samples=4096 + 11, seed=0, condition=RejectAll())
    assert c.nonfinite == 2048 + 6 and c.rejected == 4096 + 11 - 2048 - 6 and c.distinct == 0


def test_a_condition_must_answer_bool_per_row():
    class Bad:
        def accepts(self, words):
            return np.ones(3)

    with pytest.raises(TypeError, match="accepts"):
        sample_counts(make_prior("counting"), parse_domain("bool:3"), samples=100, seed=0, condition=Bad())


def test_hash_table_initial_size_respects_the_sample_count():
    # bool:20: 16,384 words (128 KiB) per truth table; the old fixed 4,096-slot table took 512 MiB
    tracemalloc.start()
    try:
        c = sample_counts(make_prior("counting"), parse_domain("bool:20"), samples=10, seed=0, workers=1)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert c.distinct == 10
    assert peak < 256 << 20, peak  # the draws themselves take ~100 MiB here


@pytest.mark.parametrize("samples", [1e30, 10**30, 2.0**60, float("nan"), 10**15 + 1])
def test_samples_beyond_the_engine_are_refused(samples):
    with pytest.raises(UserError, match="samples"):
        sample_counts(make_prior("counting"), parse_domain("bool:3"), samples=samples, seed=0)


def test_large_seeds_are_exact():
    prior, d = make_prior("counting"), parse_domain("bool:4")
    a = sample_counts(prior, d, samples=500, seed=10**30)
    b = sample_counts(prior, d, samples=500, seed=int(1e30))  # the float's integer, a different seed
    assert a.seed == 10**30 and not _same(a, b)
    with pytest.raises(UserError, match="seed"):
        sample_counts(prior, d, samples=5, seed=2**128)
