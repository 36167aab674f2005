"""Stacked MLPs: the prior's networks (checked against the sampler), training, the Gauss-Newton flatness, selection and rank statistics."""

import math

import numpy as np
import pytest
import torch

from biasprobe.domains import parse_domain
from biasprobe.errors import UserError
from biasprobe.priors import make_prior
from biasprobe.slt.mlp import MLPPotential, StackedMLP, flatness, jacobian, train
from biasprobe.slt.volume import select_functions, spearman_ci


def test_forward_reproduces_the_sampler_on_its_own_draws():
    # The sampling engine draws block 0 from SeedSequence(seed, spawn_key=(0,)) as unit-variance raw
    # parameters in this layout; scaled by the prior, our batched forward must give the numba kernel's outputs.
    from biasprobe.sampling import block_size, sample_outputs

    prior, dom = make_prior("mlp", convention="a", hidden=(6, 5)), parse_domain("bool:4")
    net = StackedMLP.from_prior(prior, dom)
    ss = np.random.SeedSequence(5, spawn_key=(0,))
    gen = torch.Generator().manual_seed(int(ss.generate_state(1, np.uint64)[0] >> np.uint64(1)))
    raw = torch.empty(block_size(prior, dom), net.dim).normal_(generator=gen)[:32]
    theta = raw * torch.as_tensor(net.scales(), dtype=torch.float32)
    mine = net.forward(theta, torch.tensor(dom.points, dtype=torch.float32)).numpy()
    ref = sample_outputs(prior, dom, samples=32, seed=5)
    np.testing.assert_allclose(mine, ref, rtol=1e-5, atol=1e-5)


def test_init_follows_the_prior_and_is_independent_of_batch():
    net = StackedMLP.from_prior(make_prior("mlp", convention="a"), parse_domain("bool:7"))
    assert net.widths == (7, 40, 40, 1) and net.dim == 2001
    seeds = np.random.SeedSequence(3).spawn(400)
    theta = net.init(seeds).double()
    assert torch.equal(net.init(seeds[:3]), theta[:3].float())
    # first-layer weights ~ N(0, 1/7), biases ~ N(0, 1): sample variances within 5 SE (4·5 SE for 2800 draws)
    w1 = theta[:, :280].reshape(-1)
    b1 = theta[:, 280:320].reshape(-1)
    for values, var in ((w1, 1 / 7), (b1, 1.0)):
        se = var * math.sqrt(2 / values.numel())
        assert abs(float(values.var()) - var) < 5 * se


def test_training_interpolates_and_potential_counts_samples():
    dom = parse_domain("bool:3")
    net = StackedMLP.from_prior(make_prior("mlp", convention="a", hidden=(8,)), dom)
    x = dom.points.astype(np.float32)
    targets = np.stack([np.where(x[:, 0] > 0, 1.0, -1.0), np.where(x.sum(1) % 2 == 1, 1.0, -1.0)]).astype(np.float32)
    mask = np.ones((2, 8), bool)
    mask[1, :3] = False
    theta, loss, _ = train(net, net.init(np.random.SeedSequence(0).spawn(2)), x, targets, mask, steps=3000,
                           lr=1e-2, final_lr=1e-4)
    assert float(loss.max()) < 1e-4
    out = net.forward(theta, torch.as_tensor(x)).detach().numpy()
    assert np.array_equal(out[0] > 0, x[:, 0] > 0)
    pot = MLPPotential(net, x, targets, mask)
    with pytest.raises(UserError, match="one sample size"):
        pot.n
    assert MLPPotential(net, x, targets[:1]).n == 8


def test_flatness_is_the_gauss_newton_matrix():
    dom = parse_domain("bool:3")
    net = StackedMLP.from_prior(make_prior("mlp", convention="a", hidden=(4,)), dom)
    x = dom.points.astype(np.float64)
    theta = net.init(np.random.SeedSequence(1).spawn(2), dtype=torch.float64)
    J = jacobian(net, theta, x)
    # against central differences of the outputs
    h = 1e-6
    for j in (0, 5, net.dim - 1):
        e = torch.zeros(net.dim, dtype=torch.float64)
        e[j] = h
        fd = (net.forward(theta + e, torch.as_tensor(x)) - net.forward(theta - e, torch.as_tensor(x))) / (2 * h)
        torch.testing.assert_close(J[:, :, j], fd, rtol=1e-6, atol=1e-8)
    fl = flatness(net, theta, x)
    G = torch.einsum("cni,cnj->cij", J, J) / 8
    np.testing.assert_allclose(fl["hessian_trace"], G.diagonal(dim1=1, dim2=2).sum(1).numpy(), rtol=1e-10)
    np.testing.assert_allclose(fl["hessian_top"], torch.linalg.eigvalsh(G)[:, -1].numpy(), rtol=1e-8)
    assert (fl["jacobian_rank"] <= 8).all()


def test_select_functions_spans_levels_and_complexity():
    counts = np.array([1000, 300, 290, 280, 100, 31, 30, 10, 9, 3, 3, 1])
    lz = np.array([7, 21, 35, 28, 42, 49, 56, 63, 70, 77, 84, 91.0])
    idx = select_functions(counts, lz, levels=6, min_count=3, per_level=2)  # levels 1000, 313, 98, 31, 9.6, 3
    assert len(set(idx)) == len(idx) and idx[0] == 0
    assert {1, 2} <= set(idx) and 3 not in set(idx)  # both ends of K_LZ at the level near 313, not the middle
    assert {9, 10} <= set(idx) and 11 not in set(idx)
    assert counts[idx].min() >= 3 / math.sqrt(2)
    with pytest.raises(UserError):
        select_functions(counts, lz, levels=4, min_count=5000)
    # head: the most frequent functions are kept and the levels start below them
    idx = select_functions(counts, lz, levels=3, min_count=3, per_level=1, head=1)  # levels 300, 30, 3
    assert list(idx) == [0, 1, 5, 9]  # the lowest K_LZ near each level


def test_spearman_ci_covers_the_truth():
    x = np.arange(30.0)
    assert spearman_ci(x, 2 * x + 1, reps=200) == pytest.approx((1.0, 1.0, 1.0))
    rng = np.random.default_rng(0)
    rho, lo, hi = spearman_ci(rng.normal(size=60), rng.normal(size=60), reps=500, seed=1)
    assert lo < 0 < hi and lo < rho < hi
    assert all(math.isnan(v) for v in spearman_ci([1, 2], [3, 4]))
