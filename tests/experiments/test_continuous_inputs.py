"""continuous-inputs: the grid resolves what it claims to, aliasing is recognised, and the verdicts follow the numbers."""

import inspect

import numpy as np
import pandas as pd
import pytest

from biasprobe import pipeline as ex
from biasprobe.domains import parse_domain
from biasprobe.measures import compute
from biasprobe.measures.continuous import max_radius
from biasprobe.sweep import build_prior
from biasprobe.sampling import sample_outputs


@pytest.fixture(scope="module")
def mod():
    return inspect.getmodule(ex.get_experiment("continuous-inputs").compute)


def half_cycles(y, side):
    domain = parse_domain(f"grid:2:{side}")
    return compute("mean_frequency", y, domain)["mean_frequency"] * max_radius(domain)


def test_the_coarse_grid_is_every_other_point(mod):
    fine, coarse = parse_domain("grid:2:9"), parse_domain("grid:2:5")
    np.testing.assert_array_equal(mod._coarse(fine.points[:, 0][None, :], 9)[0], coarse.points[:, 0])
    np.testing.assert_array_equal(mod._coarse(fine.points[:, 1][None, :], 9)[0], coarse.points[:, 1])


def test_sin_depth_4_sigma_4_is_resolved_on_the_default_grid_and_deeper_sin_aliases(mod):
    """The numbers behind the default grid (129 points per axis), on the same networks at 129 and 257 points.

    sin, depth 4, sigma_w = sigma_b = 4: the mean half-cycle count moves by under 5% from 129 to 257 points and
    the value stays well below white noise (measured: about 52 half-cycles, value 0.27 against 0.54). Depth 8:
    the value sits at white noise on both grids and the half-cycle count doubles with the grid (98 -> 196): the
    networks vary faster than any grid we can afford, which the experiment reports as aliased.
    """
    config = {"width": 40}
    fine = parse_domain("grid:2:257")
    noise = compute("mean_frequency", np.random.default_rng(0).standard_normal((4, fine.n_points)),
                    fine)["mean_frequency"].mean()
    shallow = build_prior(mod._spec(config, "sin", 4, 4.0))
    y = sample_outputs(shallow, fine, 3, seed=11).astype(float)
    on_129, on_257 = half_cycles(mod._coarse(y, 257), 129), half_cycles(y, 257)
    assert np.all(np.abs(on_257 / on_129 - 1) < mod.RESOLVED_TOL)
    assert np.all(on_129 / max_radius(parse_domain("grid:2:129")) < 0.6 * noise)
    deep = build_prior(mod._spec(config, "sin", 8, 4.0))
    y = sample_outputs(deep, fine, 2, seed=11).astype(float)
    on_129, on_257 = half_cycles(mod._coarse(y, 257), 129), half_cycles(y, 257)
    assert np.all(on_257 / max_radius(fine) > mod.ALIASED_SHARE * noise)
    assert np.all(on_257 / on_129 > 1.8)


def _table(values: dict) -> pd.DataFrame:
    rows = []
    for (act, depth, scale), (v, lo, hi) in values.items():
        rows.append({"activation": act, "depth": depth, "sigma_w": scale, "mean_frequency": v,
                     "mean_frequency_lo": lo, "mean_frequency_hi": hi,
                     "half_cycles": v * 100, "half_cycles_coarse": v * 100})
    return pd.DataFrame(rows)


def test_resolution_verdicts_and_the_claim_against_teney(mod):
    config = {"domain": "grid:2:101", "depths": [1, 8], "sigma_w": [1.0, 8.0], "activations": ["relu", "sin"],
              "check_samples": 2}
    values = {("relu", 1, 1.0): (0.010, 0.009, 0.011), ("relu", 1, 8.0): (0.011, 0.010, 0.012),
              ("relu", 8, 1.0): (0.012, 0.011, 0.013), ("relu", 8, 8.0): (0.015, 0.013, 0.017),
              ("sin", 1, 1.0): (0.010, 0.009, 0.011), ("sin", 1, 8.0): (0.050, 0.045, 0.055),
              ("sin", 8, 1.0): (0.011, 0.010, 0.012), ("sin", 8, 8.0): (0.54, 0.53, 0.55)}
    table = _table(values)
    table.loc[table.index[-1], "half_cycles_coarse"] = 27.0  # doubled when the grid doubled: aliased
    refinement = pd.DataFrame({"activation": ["sin"] * 2, "depth": [8] * 2, "sigma_w": [8.0] * 2,
                               "half_cycles": [54.0, 54.0], "half_cycles_fine": [108.0, 108.0]})
    res = mod.resolution(table, refinement, noise_value=0.54, config=config)
    verdict = res.set_index(["activation", "depth", "sigma_w"])["verdict"]
    assert verdict[("sin", 8, 8.0)] == "aliased"
    assert (verdict.drop(("sin", 8, 8.0)) == "resolved").all()
    text = mod._verdict(table, res, config)
    assert "agree for relu (stays low), sin (rises)" in text and "disagree" not in text
    # a rise of 1.5x with overlapping intervals is not "becoming high-frequency"
    values[("relu", 8, 8.0)] = (0.025, 0.008, 0.030)
    table = _table(values)
    table.loc[table.index[-1], "half_cycles_coarse"] = 27.0
    res = mod.resolution(table, refinement, noise_value=0.54, config=config)
    assert "relu (stays low)" in mod._verdict(table, res, config)


def test_oracle_sentence_reports_the_ordering_it_finds(mod):
    oracles = mod._oracles(65, seed=0)
    text = mod._oracle_sentence(oracles)
    assert "the cosine-series mean frequency puts ramp" in text
    assert text.split(";")[0].count("not") == 0  # cosine series: ramp and bump below the sine, noise highest
    assert "not both below" in text.split(";")[1]  # FFT: the ramp's edge floor puts it above the sine
