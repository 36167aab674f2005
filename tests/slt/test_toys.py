"""Oracle toys: the sufficient-statistics potential against a torch module on the same data, w* a minimum, key checks."""

import numpy as np
import pytest
import torch

from biasprobe.errors import UserError
from biasprobe.slt.potentials import ModelPotential
from biasprobe.slt.toys import make_toy

CASES = [("regular", {"d": 4}), ("monomial", {"k": "3,1"}), ("rrr", {"M": 3, "H": 2, "N": 4, "r": 1}),
         ("dln", {"widths": "2,3,3,2", "r": 1}), ("rrr", {"noise": "gaussian"})]


@pytest.mark.parametrize("name,fields", CASES)
def test_statistics_potential_equals_module_on_the_data(name, fields):
    # an independent implementation: functional_call + vmap + autograd over the raw n samples
    toy = make_toy(name, seed=2, n=500, **fields)
    module = ModelPotential(toy.module(), toy.x, toy.y, "gaussian", 1.0)
    gen = torch.Generator().manual_seed(0)
    theta = toy.w_star[None] + 0.4 * torch.randn(5, toy.dim, dtype=torch.float64, generator=gen)
    a, ga = toy.potential.evaluate(theta, None, True)
    b, gb = module.evaluate(theta, None, True)
    torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(ga, gb, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name,fields", CASES[:4])
def test_orthogonal_noise_makes_the_truth_a_minimum(name, fields):
    toy = make_toy(name, seed=1, n=300, **fields)
    loss, grad = toy.potential.evaluate(toy.w_star[None], None, True)
    assert float(grad.abs().max()) < 1e-10
    gen = torch.Generator().manual_seed(1)
    nearby = toy.w_star[None] + 1e-3 * torch.randn(64, toy.dim, dtype=torch.float64, generator=gen)
    assert bool((toy.potential.evaluate(nearby)[0] >= loss - 1e-15).all())


def test_gaussian_noise_truth_is_not_the_empirical_minimum():
    toy = make_toy("regular", seed=1, n=300, d=3, noise="gaussian")
    _, grad = toy.potential.evaluate(toy.w_star[None], None, True)
    assert float(grad.abs().max()) > 1e-4


def test_same_seed_same_data_and_rrr_truth_has_rank_r():
    a, b = make_toy("rrr", seed=4, n=50, r=2), make_toy("rrr", seed=4, n=50, r=2)
    assert torch.equal(a.x, b.x) and torch.equal(a.w_star, b.w_star)
    assert not torch.equal(a.x, make_toy("rrr", seed=5, n=50, r=2).x)
    f0 = a.potential.f0.numpy()
    assert np.linalg.matrix_rank(f0) == 2 and np.allclose(np.linalg.svd(f0)[1][:2], 1.0)


@pytest.mark.parametrize("name,fields,fragment", [
    ("rrx", {}, "unknown toy model 'rrx' (did you mean: rrr?)"),
    ("rrr", {"Q": 3}, "unknown parameter of toy rrr 'Q'"),
    ("rrr", {"M": "two"}, "M='two' is not an integer"),
    ("dln", {"widths": "3,x"}, "widths='3,x'"),
    ("regular", {"n": 1}, "n=1 must be >= 2"),
    ("regular", {"noise": "pink"}, "noise='pink'"),
    ("regular", {"sigma": 0}, "sigma=0"),
])
def test_bad_keys_are_user_errors(name, fields, fragment):
    with pytest.raises(UserError) as err:
        make_toy(name, **fields)
    assert fragment in str(err.value)


def test_model_without_parameters_is_user_error():
    with pytest.raises(UserError, match="has no parameters"):
        ModelPotential(torch.nn.ReLU(), torch.zeros(4, 2), torch.zeros(4))
    with pytest.raises(UserError, match="d must be an integer >= 1"):
        make_toy("regular", d=0)
