"""The SGLD LLC estimator: exact finite-temperature oracles, determinism, chain independence, diagnostics, bad input."""

import json
import math
import warnings

import numpy as np
import pytest
import torch
from scipy import integrate

from biasprobe.errors import UserError
from biasprobe.slt.potentials import ModelPotential, estimate_llc
from biasprobe.slt.sgld import LLCWarning, SGLDConfig, chain_seeds, diagnose, run_chains, sample_llc
from biasprobe.slt.toys import make_toy


def _quiet(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sample_llc(*args, **kwargs)


def test_regular_model_matches_the_exact_localised_posterior():
    # The localised tempered posterior of a quadratic loss is Gaussian, so E[nβ(L − L*)] is exact:
    # ½ Σ_i tμ_i/(tμ_i + γ) with μ_i the eigenvalues of Σ̂/σ², t = nβ. Unadjusted Langevin inflates
    # each variance by 1/(1 − εP/4) ≤ 1 + 0.5% here (P = tμ_max + γ ≈ 160, ε = 1e-4).
    toy = make_toy("regular", seed=3, n=1000, d=5)
    t = 1000 / math.log(1000)
    mu = np.linalg.eigvalsh(toy.potential.sxx.numpy()) * 2 * toy.potential.scale
    gamma = 10.0
    exact = 0.5 * np.sum(t * mu / (t * mu + gamma))
    res = _quiet(toy.potential, toy.w_star, SGLDConfig(step=1e-4, gamma=gamma, chains=16, draws=3000, burn_in=300))
    assert abs(res.llc - exact) < 4 * res.llc_se + 0.01 * exact, (res.llc, res.llc_se, exact)
    assert abs(res.llc - 2.5) < 0.1 * 2.5  # and near d/2
    assert abs(float(res.virial.mean()) - 1) < 0.05 and res.acceptance.mean() > 0.95


def test_singular_quartic_matches_quadrature():
    # y = x·w² at w = 0: K(w) = c·w⁴, λ = 1/4; the finite-(t, γ) expectation by quadrature
    toy = make_toy("monomial", seed=3, n=1000, k="2")
    c = float(toy.potential.sxx) * toy.potential.scale
    t, gamma = 1000 / math.log(1000), 0.5
    dens = lambda w: math.exp(-t * c * w**4 - gamma * w * w / 2)  # noqa: E731
    exact = integrate.quad(lambda w: dens(w) * t * c * w**4, -np.inf, np.inf)[0] / integrate.quad(dens, -np.inf, np.inf)[0]
    res = _quiet(toy.potential, toy.w_star, SGLDConfig(step=1e-3, gamma=gamma, chains=16, draws=3000, burn_in=300))
    assert abs(res.llc - exact) < 4 * res.llc_se + 0.02 * exact, (res.llc, res.llc_se, exact)
    assert 0.2 < exact < 0.25


def test_same_seed_identical_and_chains_independent_of_their_number():
    toy = make_toy("rrr", seed=0, n=2000, M=3, H=2, N=3, r=1)
    cfg = SGLDConfig(step=2e-4, gamma=20, chains=6, draws=60, burn_in=10, seed=9)
    a, b = _quiet(toy.potential, toy.w_star, cfg), _quiet(toy.potential, toy.w_star, cfg)
    assert np.array_equal(a.trace, b.trace) and a.llc == b.llc
    two = _quiet(toy.potential, toy.w_star, SGLDConfig(step=2e-4, gamma=20, chains=2, draws=60, burn_in=10, seed=9))
    assert np.array_equal(two.trace, a.trace[:2])
    other = _quiet(toy.potential, toy.w_star, SGLDConfig(step=2e-4, gamma=20, chains=6, draws=60, burn_in=10, seed=10))
    assert not np.array_equal(other.trace, a.trace)


def test_minibatch_control_variate_on_a_torch_module():
    # the generic path (functional_call + vmap) with minibatches of 100 out of 2000 samples
    toy = make_toy("regular", seed=5, n=2000, d=3)
    model = toy.module()
    cfg = SGLDConfig(step=1e-4, gamma=10, chains=8, draws=1500, burn_in=200, batch_size=100)
    res = estimate_llc(model, toy.x, toy.y, "gaussian", 1.0, cfg, warn=False)
    t = 2000 / math.log(2000)
    mu = np.linalg.eigvalsh(toy.potential.sxx.numpy())
    exact = 0.5 * np.sum(t * mu / (t * mu + 10))
    # minibatch gradients add variance, so the tolerance is looser than the full-batch oracle's
    assert abs(res.llc - exact) < 4 * res.llc_se + 0.1 * exact, (res.llc, res.llc_se, exact)
    assert np.isfinite(res.acceptance).all()


def test_warns_when_w_star_is_not_a_minimum_and_on_divergence():
    toy = make_toy("regular", seed=1, n=1000, d=4)
    off = toy.w_star + 0.5  # far from the minimum: the chains slide down
    with pytest.warns(LLCWarning) as rec:
        res = sample_llc(toy.potential, off, SGLDConfig(step=1e-4, gamma=1.0, chains=4, draws=400, burn_in=50))
    messages = " ".join(str(w.message) for w in rec)
    assert "not a local minimum" in messages and "not stationary" in messages and res.llc < 0
    with pytest.warns(LLCWarning) as rec:
        res = sample_llc(toy.potential, toy.w_star, SGLDConfig(step=0.05, gamma=1.0, chains=4, draws=200, burn_in=0))
    messages = " ".join(str(w.message) for w in rec)
    assert "diverged" in messages and res.diverged.all() and math.isnan(res.llc)
    with pytest.warns(LLCWarning, match="exceeds d/2"):  # a step at 70% of the stability limit 2/(nβμ_max)
        sample_llc(toy.potential, toy.w_star, SGLDConfig(step=0.01, gamma=1.0, chains=4, draws=200, burn_in=20))
    notes = diagnose(np.zeros((2, 10)), np.zeros(2, bool), 0.0, 0.0, np.array([0.3, 0.4]),
                     SGLDConfig(step=1.0, gamma=1.0), 4)
    assert any("MALA acceptance 0.35" in n for n in notes)


def test_result_summary_is_json_and_trace_is_tidy():
    toy = make_toy("rrr", seed=0, n=500, M=2, H=1, N=2)
    res = _quiet(toy.potential, toy.w_star, SGLDConfig(step=1e-3, gamma=10, chains=3, draws=50, burn_in=5))
    doc = json.loads(json.dumps(res.summary()))
    assert doc["hyperparameters"]["chains"] == 3 and len(doc["chain_llc"]) == 3 and doc["n"] == 500
    frame = res.trace_frame()
    assert len(frame) == 3 * 55 and set(frame.phase) == {"burn_in", "draw"}
    assert np.allclose(frame.query("phase == 'draw'").groupby("chain").energy.mean(), res.chain_llc)
    fig = res.plot_trace()
    assert fig.axes


@pytest.mark.parametrize("kwargs,fragment", [
    ({"step": 0, "gamma": 1}, "step must be"), ({"step": -1e-3, "gamma": 1}, "step must be"),
    ({"step": 1e-3, "gamma": 0}, "gamma must be"), ({"step": 1e-3, "gamma": float("nan")}, "gamma must be"),
    ({"step": 1e-3, "gamma": 1, "chains": 0}, "chains must be"), ({"step": 1e-3, "gamma": 1, "draws": 0}, "draws"),
    ({"step": 1e-3, "gamma": 1, "batch_size": 0}, "batch_size"), ({"step": 1e-3, "gamma": 1, "beta": -1}, "beta"),
])
def test_bad_config_is_user_error(kwargs, fragment):
    with pytest.raises(UserError, match=fragment):
        SGLDConfig(**kwargs)


def test_w_star_shape_checked():
    toy = make_toy("regular", seed=0, n=100, d=3)
    with pytest.raises(UserError, match="w\\* has shape"):
        run_chains(toy.potential, torch.zeros(4, dtype=torch.float64), [1e-3], [1.0], 10.0, 1, 1, chain_seeds(0, 1))


def test_per_chain_w_star_runs_each_network_at_its_own_point():
    toy = make_toy("regular", seed=0, n=200, d=2)
    stars = torch.stack([toy.w_star, toy.w_star + 1.0])
    raw = run_chains(toy.potential, stars, [1e-4, 1e-4], [5.0, 5.0], 20.0, 0, 5, chain_seeds(0, 2))
    assert raw["loss_star"][1] > raw["loss_star"][0]


def test_module_potential_rejects_mismatched_data():
    with pytest.raises(UserError, match="same positive number of samples"):
        ModelPotential(torch.nn.Linear(2, 1), torch.zeros(5, 2), torch.zeros(4))
