"""Oracles for the grid measures: single-frequency images, linear functions, hand-counted sign changes."""

from __future__ import annotations

import numpy as np
import pytest

from biasprobe.domains import parse_domain
from biasprobe.measures import compute


def grid(m, d=2):
    return parse_domain(f"grid:{d}:{m}")


def test_mean_frequency_of_a_single_frequency():
    """cos(2 pi 3 i / 32) along the first axis: all |FFT| at k = (+-3, 0), so r = 3; r_max = round(16 sqrt 2) = 23."""
    m = 32
    i = np.arange(m)
    image = np.cos(2 * np.pi * 3 * i / m)[:, None] * np.ones(m)[None, :]
    out = compute("mean_frequency", image.reshape(1, -1), grid(m))["mean_frequency"][0]
    assert out == pytest.approx(3 / 23, rel=1e-9)


def test_mean_frequency_of_two_frequencies_with_weights():
    """Magnitudes 1 at r = 1 and 2 at r = 4 (along the second axis): p = (1/3, 2/3), mean = (1/3 + 8/3) / 23."""
    m = 32
    i = np.arange(m)
    line = np.cos(2 * np.pi * i / m) + 2 * np.cos(2 * np.pi * 4 * i / m)
    image = np.ones(m)[:, None] * line[None, :]
    out = compute("mean_frequency", image.reshape(1, -1), grid(m))["mean_frequency"][0]
    assert out == pytest.approx((1 / 3 * 1 + 2 / 3 * 4) / 23, rel=1e-9)


def test_mean_frequency_ignores_the_mean_and_scale_and_is_zero_for_constants():
    rng = np.random.default_rng(0)
    y = rng.standard_normal((3, 64))
    domain = grid(8)
    a = compute("mean_frequency", y, domain)["mean_frequency"]
    b = compute("mean_frequency", 5 * y + 3, domain)["mean_frequency"]
    np.testing.assert_allclose(a, b, rtol=1e-10)
    assert compute("mean_frequency", np.full((1, 64), 2.5), domain)["mean_frequency"][0] == 0.0


def test_white_noise_is_higher_frequency_than_a_smooth_function():
    domain = grid(32)
    x = domain.points
    rng = np.random.default_rng(1)
    smooth = np.sin(x[:, 0] + 0.5 * x[:, 1])[None, :]
    noise = rng.standard_normal((1, 32 * 32))
    out = compute("mean_frequency", np.concatenate([smooth, noise]), domain)["mean_frequency"]
    assert out[0] < 0.25 and out[1] > 0.5  # leakage from the non-periodic edges keeps smooth functions above 0


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
    names = ["mean_frequency", "sign_changes", "total_variation", "lz", "ones", "entropy", "zlib"]
    out = compute(names, y, domain)
    for name in names:
        assert np.isnan(out[name][:2]).all(), name
        assert np.isfinite(out[name][2]), name


def test_grid_lz_reads_the_raster_scan():
    """x_1 > 0 on grid:2:32 rasterises to 0^512 1^512: N_w 3 each way, K_LZ = log2(1024) * 3 = 30."""
    domain = grid(32)
    assert compute("lz", domain.points[:, 0][None, :], domain)["lz"][0] == 30.0
