"""Large-sample checks (`make test-all`): the perceptron theorem at n = 7 and determinism at 10^6 draws."""

import numpy as np
import pytest
from scipy import stats

from biasprobe.domains import parse_domain
from biasprobe.priors import make_prior
from biasprobe.sampling import sample_counts

pytestmark = pytest.mark.slow


def test_perceptron_theorem_n7():
    n, samples = 7, 10**6
    c = sample_counts(make_prior("perceptron", bias=False), parse_domain(f"bool:{n}"), samples=samples, seed=0)
    t = c.bits().sum(axis=1)
    hist = np.bincount(t, weights=c.counts, minlength=2**n + 1)
    assert hist[2**n] == 0 and hist.sum() == samples
    assert stats.chisquare(hist[: 2**n]).pvalue > 1e-4


def test_million_draws_identical_across_workers_and_batches():
    prior, domain = make_prior("mlp"), parse_domain("bool:7")
    a = sample_counts(prior, domain, samples=10**6, seed=3, workers=1)
    b = sample_counts(prior, domain, samples=10**6, seed=3, workers=2, batch_size=1000)
    assert np.array_equal(a.words, b.words) and np.array_equal(a.counts, b.counts)
    # Valle-Perez et al. 2019 (convention a): the two constant functions are the commonest
    assert set(a.hex()[:2]) == {"0" * 32, "f" * 32}
