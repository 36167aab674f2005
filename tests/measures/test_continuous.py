"""Oracles for the grid measures: cosines and sines with known frequencies, linear functions, hand-counted sign changes."""

from __future__ import annotations

import numpy as np
import pytest

from biasprobe.domains import parse_domain
from biasprobe.measures import compute


def grid(m, d=2):
    return parse_domain(f"grid:{d}:{m}")


# ---- Teney et al.'s FFT mean frequency (kept under its own name for comparison) ---------------

def test_teney_mean_frequency_of_a_single_frequency():
    """cos(2 pi 3 i / 32) along the first axis: all |FFT| at k = (+-3, 0), so r = 3; r_max = round(16 sqrt 2) = 23."""
    m = 32
    i = np.arange(m)
    image = np.cos(2 * np.pi * 3 * i / m)[:, None] * np.ones(m)[None, :]
    out = compute("mean_frequency_teney", image.reshape(1, -1), grid(m))["mean_frequency_teney"][0]
    assert out == pytest.approx(3 / 23, rel=1e-9)


def test_teney_mean_frequency_of_two_frequencies_with_weights():
    """Magnitudes 1 at r = 1 and 2 at r = 4 (along the second axis): p = (1/3, 2/3), mean = (1/3 + 8/3) / 23."""
    m = 32
    i = np.arange(m)
    line = np.cos(2 * np.pi * i / m) + 2 * np.cos(2 * np.pi * 4 * i / m)
    image = np.ones(m)[:, None] * line[None, :]
    out = compute("mean_frequency_teney", image.reshape(1, -1), grid(m))["mean_frequency_teney"][0]
    assert out == pytest.approx((1 / 3 * 1 + 2 / 3 * 4) / 23, rel=1e-9)


@pytest.mark.parametrize("name", ["mean_frequency", "mean_frequency_teney"])
def test_mean_frequency_ignores_the_mean_and_scale_and_is_zero_for_constants(name):
    rng = np.random.default_rng(0)
    y = rng.standard_normal((3, 64))
    domain = grid(8)
    a = compute(name, y, domain)[name]
    b = compute(name, 5 * y + 3, domain)[name]
    np.testing.assert_allclose(a, b, rtol=1e-10)
    assert compute(name, np.full((1, 64), 2.5), domain)[name][0] == 0.0


def test_teney_mean_frequency_has_an_edge_floor():
    """Why it is not the default: on grid:2:64 a linear ramp (0.191) scores above a three-cycle sine (0.110)."""
    domain = grid(64)
    x = domain.points[:, 0]
    out = compute("mean_frequency_teney", np.stack([x, np.sin(3 * np.pi * (x + 1))]), domain)["mean_frequency_teney"]
    assert out[0] == pytest.approx(0.191, abs=5e-4) and out[1] == pytest.approx(0.110, abs=5e-4)
    assert out[0] > out[1]


# ---- mean_frequency: the cosine-series (DCT-I) power spectrum ---------------------------------

def cosine(domain, k, axis=0):
    """cos(pi k (x + 1) / 2) along one axis: exactly k half-cycles across [-1, 1]."""
    return np.cos(np.pi * k * (domain.points[:, axis] + 1) / 2)


def test_cosine_amplitudes_match_an_explicit_least_squares_fit():
    """Independent oracle: solve for the coefficients of the m x m cosine basis directly (m = 7, 2-D)."""
    from biasprobe.measures.continuous import cosine_amplitudes

    m = 7
    t = np.linspace(-1, 1, m)
    basis_1d = np.cos(np.pi * np.arange(m)[None, :] * (t[:, None] + 1) / 2)  # (points, k)
    basis = np.kron(basis_1d, basis_1d)  # x_1 most significant, as the canonical order
    rng = np.random.default_rng(3)
    y = rng.standard_normal((4, m * m))
    direct = np.linalg.solve(basis, y.T).T
    fast = cosine_amplitudes(y.reshape(4, m, m)).reshape(4, -1)
    np.testing.assert_allclose(fast, direct, atol=1e-12)


def test_cosine_power_is_parseval_for_the_trapezoid_rule():
    """sum_k c_k a_k^2 ((m - 1) / 2)^d equals the trapezoid-weighted sum of squares, in 1-D, 2-D and 3-D.

    cosine_power divides each image by its largest |value| first (shares do not depend on scale).
    """
    from biasprobe.measures.continuous import cosine_power

    rng = np.random.default_rng(4)
    for d, m in ((1, 11), (2, 6), (3, 5)):
        y = rng.standard_normal((3,) + (m,) * d)
        w1 = np.ones(m)
        w1[[0, -1]] = 0.5
        w = np.ones((m,) * d)
        for axis in range(d):
            w = w * w1.reshape([m if i == axis else 1 for i in range(d)])
        energy = (y**2 * w).reshape(3, -1).sum(axis=1)
        peak = np.abs(y).reshape(3, -1).max(axis=1)
        np.testing.assert_allclose(cosine_power(y).sum(axis=1) * peak**2 * ((m - 1) / 2) ** d, energy, rtol=1e-12)


@pytest.mark.parametrize("m", [16, 33, 64])
def test_a_cosine_with_k_half_cycles_scores_k_over_r_max(m):
    """The oracle of docs/definitions.md §3: exactly one term, radius k; r_max = round(sqrt 2 (m - 1)); monotone in k."""
    domain = grid(m)
    r_max = round(np.sqrt(2) * (m - 1))
    ks = np.arange(1, 9)
    for axis in (0, 1):
        y = np.stack([cosine(domain, k, axis) for k in ks])
        out = compute("mean_frequency", y, domain)["mean_frequency"]
        np.testing.assert_allclose(out, ks / r_max, rtol=1e-9)
        assert np.all(np.diff(out) > 0)


def test_mean_frequency_weights_terms_by_energy():
    """Amplitude 1 at k = 1 and 2 at k = 4: energies 1 and 4, p = (1/5, 4/5), mean = (1 + 16) / 5 / r_max."""
    domain = grid(32)
    y = cosine(domain, 1, 1) + 2 * cosine(domain, 4, 1)
    out = compute("mean_frequency", y[None, :], domain)["mean_frequency"][0]
    assert out == pytest.approx((1 * 1 + 4 * 4) / 5 / 44, rel=1e-9)


def test_a_product_of_cosines_sits_at_its_radius():
    """cos along x_1 with 3 half-cycles times cos along x_2 with 4: radius round(5) = 5, and 1-D and 3-D grids too."""
    domain = grid(20)
    y = cosine(domain, 3, 0) * cosine(domain, 4, 1)
    assert compute("mean_frequency", y[None, :], domain)["mean_frequency"][0] == pytest.approx(5 / 27, rel=1e-9)
    d1 = grid(12, 1)
    assert compute("mean_frequency", cosine(d1, 5)[None, :], d1)["mean_frequency"][0] == pytest.approx(5 / 11)
    d3 = grid(6, 3)
    y3 = cosine(d3, 2, 2)[None, :]  # r_max = round(sqrt 3 * 5) = 9
    assert compute("mean_frequency", y3, d3)["mean_frequency"][0] == pytest.approx(2 / 9, rel=1e-9)


def oracle_functions(domain, rng):
    x1, x2 = domain.points[:, 0], domain.points[:, 1]
    return {"ramp": x1, "bump": np.exp(-(x1**2 + x2**2) / (2 * 0.3**2)), "sine3": np.sin(3 * np.pi * (x1 + 1)),
            **{f"cos{k}": cosine(domain, k) for k in range(1, 9)},
            "noise": rng.standard_normal(domain.n_points)}


@pytest.mark.parametrize("m", [32, 64, 129])
def test_ramp_and_bump_score_below_a_three_cycle_sine_and_noise_scores_highest(m):
    domain = grid(m)
    f = oracle_functions(domain, np.random.default_rng(5))
    names = list(f)
    out = dict(zip(names, compute("mean_frequency", np.stack(list(f.values())), domain)["mean_frequency"]))
    assert out["ramp"] < out["sine3"] and out["bump"] < out["sine3"]
    assert out["noise"] == max(out.values())
    # a three-cycle sine is six half-cycles: it sits between the cosines with 5 and 6 half-cycles (5.6 half-cycles)
    assert out["cos5"] < out["sine3"] < out["cos6"]


def test_white_noise_scores_near_the_expected_value_at_every_grid():
    """Independent check: with equal expected energy per term, E value ~ mean radius of the m x m index square / r_max.

    For i.i.d. noise every cosine term has nearly the same expected energy c_k E a_k^2 (exactly so up to the
    trapezoid end weights), so p_r is proportional to the number of lattice points at radius r; 16 images
    average the ratio estimator's noise well below the 1% tolerance.
    """
    rng = np.random.default_rng(6)
    for m in (32, 65):
        domain = grid(m)
        k = np.indices((m, m)).reshape(2, -1)
        r = np.rint(np.sqrt((k**2).sum(axis=0)))
        expected = r[r > 0].mean() / round(np.sqrt(2) * (m - 1))
        out = compute("mean_frequency", rng.standard_normal((16, m * m)), domain)["mean_frequency"]
        assert out.mean() == pytest.approx(expected, rel=0.01)


def test_the_mean_number_of_half_cycles_converges_as_the_grid_is_refined():
    """value x r_max is a property of a resolved function: grids 65, 129 and 257 agree within 0.5%.

    Teney et al.'s FFT version does not converge (the ramp's edge floor decays only like 1/log m).
    """
    from biasprobe.measures.continuous import max_radius

    values = {}
    for m in (65, 129, 257):
        domain = grid(m)
        f = oracle_functions(domain, np.random.default_rng(7))
        names = [n for n in f if n != "noise"]
        out = compute("mean_frequency", np.stack([f[n] for n in names]), domain)["mean_frequency"]
        values[m] = dict(zip(names, out * max_radius(domain)))
    for name in values[65]:
        assert values[257][name] == pytest.approx(values[129][name], rel=0.005), name
        assert values[257][name] == pytest.approx(values[65][name], rel=0.01), name
    assert values[257]["ramp"] == pytest.approx(1.037, abs=0.001)  # a ramp is nearly its first cosine
    assert values[257]["bump"] == pytest.approx(2.44, abs=0.01)
    assert values[257]["cos8"] == pytest.approx(8.0, rel=1e-9)


def test_a_cosine_beyond_the_grid_aliases():
    """On m points a cosine with 2(m-1) - j half-cycles takes the same values as one with j: the grid cannot tell."""
    domain = grid(17)
    j = 3
    y = np.stack([cosine(domain, j), cosine(domain, 2 * 16 - j)])
    out = compute("mean_frequency", y, domain)["mean_frequency"]
    assert out[0] == pytest.approx(out[1], rel=1e-9)


def test_mean_frequency_survives_extreme_scales_and_tiny_variations():
    domain = grid(9)
    x = domain.points[:, 0]
    y = np.stack([x, 1e300 * x, 1e6 + 1e-3 * x, np.full(81, 1e300)])
    out = compute("mean_frequency", y, domain)["mean_frequency"]
    assert out[0] == pytest.approx(out[1], rel=1e-9) and out[0] == pytest.approx(out[2], rel=1e-6)
    assert out[3] == 0.0


@pytest.mark.parametrize("m", [4, 9, 33])
def test_total_variation_of_linear_functions(m):
    """integral over [-1,1]^2 of |d(a x_1 + b x_2)/dx_1| + |.../dx_2| = 4 (|a| + |b|) at any resolution."""
    domain = grid(m)
    x = domain.points
    y = np.stack([x[:, 0], -3 * x[:, 1], 2 * x[:, 0] + 0.5 * x[:, 1]])
    out = compute("total_variation", y, domain)["total_variation"]
    np.testing.assert_allclose(out, [4.0, 12.0, 10.0], rtol=1e-12)


def test_total_variation_in_one_and_three_dimensions():
    d1 = grid(11, 1)
    assert compute("total_variation", d1.points[:, 0] ** 2, d1)["total_variation"][0] == pytest.approx(2.0)
    d3 = grid(5, 3)
    y = d3.points[:, 2] * 1.0  # df/dx_3 = 1 over the volume 8 of [-1, 1]^3
    assert compute("total_variation", y, d3)["total_variation"][0] == pytest.approx(8.0)


def test_sign_changes_hand_counts():
    m = 6  # even: no grid point has x = 0
    domain = grid(m)
    x = domain.points
    y = np.stack([x[:, 0], x[:, 0] * x[:, 1], np.ones(m * m)])
    out = compute("sign_changes", y, domain)["sign_changes"]
    # x_1: one change on each of the m lines along axis 0. x_1 x_2: one change per line on both axes.
    assert out.tolist() == [m, 2 * m, 0]


def test_zero_counts_as_not_positive():
    domain = grid(3, 1)  # points -1, 0, 1
    y = np.array([[-1.0, 0.0, 1.0], [1.0, 0.0, 1.0]])
    assert compute("sign_changes", y, domain)["sign_changes"].tolist() == [1, 2]


def test_non_finite_rows_give_nan_not_a_value():
    domain = grid(4)
    y = np.zeros((3, 16))
    y[0, 0] = np.nan
    y[1, 5] = np.inf
    y[2] = np.arange(16) - 7.5
    names = ["mean_frequency", "mean_frequency_teney", "sign_changes", "total_variation", "lz", "ones", "entropy", "zlib"]
    out = compute(names, y, domain)
    for name in names:
        assert np.isnan(out[name][:2]).all(), name
        assert np.isfinite(out[name][2]), name


def test_grid_lz_reads_the_raster_scan():
    """x_1 > 0 on grid:2:32 rasterises to 0^512 1^512: N_w 3 each way, K_LZ = log2(1024) * 3 = 30."""
    domain = grid(32)
    assert compute("lz", domain.points[:, 0][None, :], domain)["lz"][0] == 30.0
