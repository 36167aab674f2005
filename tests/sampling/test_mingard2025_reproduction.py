"""Mingard et al. (2025)'s released histograms at a small sample size: the found setup passes, wrong setups fail.

The check: a sample of n networks, measured with the released K_LZ implementation, has mean
K_LZ and P(constant) within 4 standard errors of the published values (standard errors of a
sample of size n from the published distribution), and a KS distance below the 99.9% critical
value at n (conservative for the discrete K_LZ). At these sizes the published setup passes
with a wide margin and the suite's former default (10 hidden layers of 40, b ~ N(0, 0.1^2))
fails at sigma_w = 1 by more than 6 standard errors.
"""

import pytest

from biasprobe.domains import parse_domain
from biasprobe.priors import make_prior
from biasprobe.published import (MINGARD2025_NETWORK, compare_with_mingard2025, ks_critical, mingard2025_sigma_b,
                                 released_lz)
from biasprobe.sampling import sample_counts
from biasprobe.tables import unpack

BOOL7 = parse_domain("bool:7")
SIZES = {1.0: 2000, 8.0: 1000}  # sigma_w -> draws (sigma_w = 1 is the discriminating one)


def check(params: dict, sigma_w: float, sigma_b: float, seed: int) -> dict:
    prior = make_prior("mlp", **params, sigma_w=sigma_w, sigma_b=sigma_b)
    c = sample_counts(prior, BOOL7, SIZES[sigma_w], seed)
    r = compare_with_mingard2025(released_lz(unpack(c.words, BOOL7.n_points)), c.counts, sigma_w)
    r["passes"] = (abs(r["z_mean"]) <= 4 and abs(r["z_p_constant"]) <= 4
                   and r["ks"] <= ks_critical(r["n"], alpha=0.001))
    return r


@pytest.mark.parametrize("sigma_w", sorted(SIZES))
def test_released_sampler_reproduces_the_published_histogram(sigma_w):
    r = check(MINGARD2025_NETWORK, sigma_w, mingard2025_sigma_b(sigma_w), seed=3)
    assert r["passes"], r
    # the published summaries themselves: 60.41 / 0.186 at sigma_w = 1, 144.95 at 8
    assert r["published_mean"] == pytest.approx({1.0: 60.41, 8.0: 144.95}[sigma_w], abs=0.005)


@pytest.mark.parametrize("params, sigma_b, label", [
    ({"hidden": [40] * 10, "activation": "tanh"}, 0.1, "suite 10x40, b ~ N(0, 0.1^2)"),
    (MINGARD2025_NETWORK, 0.1, "released sampler with sigma_b = 0.1, as the file is named"),
])
def test_wrong_setups_fail_at_sigma_w_1(params, sigma_b, label):
    r = check(params, 1.0, sigma_b, seed=3)
    assert not r["passes"], (label, r)
    assert max(abs(r["z_mean"]), abs(r["z_p_constant"])) > 6, (label, r)
