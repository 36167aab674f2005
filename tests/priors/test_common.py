"""Contract tests run for every registered prior: shape, dtype, determinism, prefix property, counts add up."""

import numpy as np
import pytest

from biasprobe.domains import parse_domain
from biasprobe.errors import UserError
from biasprobe.priors import PRIORS, make_prior
from biasprobe.sampling import sample_counts, sample_outputs

DOMAINS = ["bool:3", "pm1:4", "grid:2:5", "gauss:2:20"]


@pytest.mark.parametrize("name", sorted(PRIORS))
@pytest.mark.parametrize("spec", DOMAINS)
def test_prior_contract(name, spec):
    prior, domain = make_prior(name), parse_domain(spec)
    if domain.family not in prior.domains:
        # a prior asked for a domain it does not declare: one clear line, from either entry point
        for call in (sample_outputs, sample_counts):
            with pytest.raises(UserError, match=f"prior {name} does not apply to {domain.family}") as err:
                call(prior, domain, samples=5, seed=1)
            assert "\n" not in str(err.value)
        return
    y = sample_outputs(prior, domain, samples=50, seed=1)
    assert y.shape == (50, domain.n_points) and y.dtype == np.float32
    assert np.array_equal(sample_outputs(prior, domain, samples=50, seed=1), y, equal_nan=True)
    assert np.array_equal(sample_outputs(prior, domain, samples=7, seed=1), y[:7], equal_nan=True)
    assert not np.array_equal(sample_outputs(prior, domain, samples=50, seed=2), y, equal_nan=True)
    c = sample_counts(prior, domain, samples=50, seed=1)
    assert c.counts.sum() + c.nonfinite == 50 and c.words.dtype == np.uint64
    assert c.nonfinite == int((~np.isfinite(y)).any(axis=1).sum())


@pytest.mark.parametrize("name", sorted(PRIORS))
def test_prior_params_are_json_ready(name):
    import json

    prior = make_prior(name)
    assert json.loads(json.dumps(prior.params())) == prior.params()
    assert prior.describe().strip().startswith(name)
