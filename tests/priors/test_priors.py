"""Registry behaviour and parameter conventions of the priors, checked against closed-form output variances."""

import dataclasses
import math

import numpy as np
import pytest

from biasprobe.domains import parse_domain
from biasprobe.errors import UserError
from biasprobe.priors import PRIORS, describe_priors, make_prior, parse_sets
from biasprobe.sampling import sample_outputs


def test_registry_names_and_frozen():
    assert {"perceptron", "mlp", "polynomial", "counting"} <= set(PRIORS)
    for name, cls in PRIORS.items():
        prior = make_prior(name)
        assert prior.name == name
        assert dataclasses.is_dataclass(prior)
        fields = dataclasses.fields(prior)
        if fields:
            with pytest.raises(dataclasses.FrozenInstanceError):
                setattr(prior, fields[0].name, getattr(prior, fields[0].name))


def test_describe_lists_every_field_with_default():
    text = describe_priors()
    for cls in PRIORS.values():
        assert cls.name in text
    assert "hidden=40,40" in text and "activation=relu" in text


def test_parse_sets_coerces_through_make_prior():
    prior = make_prior("mlp", **parse_sets(["hidden=10, 20,5", "activation=tanh", "sigma_w=2", "sigma_b=0.5"]))
    assert prior.hidden == (10, 20, 5) and prior.activation == "tanh"
    assert prior.sigma_w == 2.0 and isinstance(prior.sigma_w, float)
    assert make_prior("perceptron", **parse_sets(["bias=false"])).bias is False
    assert make_prior("mlp", hidden="").hidden == ()
    assert make_prior("polynomial", **parse_sets(["degree=3", "family=ptf"])).degree == 3


@pytest.mark.parametrize("name,fields,fragment", [
    ("mpl", {}, "did you mean: mlp"),
    ("mlp", {"hiden": "40"}, "did you mean: hidden"),
    ("mlp", {"sigma_w": "abc"}, "sigma_w='abc' is not a number"),
    ("mlp", {"sigma_w": "-1"}, "sigma_w"),
    ("mlp", {"hidden": "40,x"}, "hidden"),
    ("mlp", {"hidden": "0"}, "hidden"),
    ("mlp", {"activation": "rellu"}, "did you mean: relu"),
    ("mlp", {"weights": "cauchy"}, "gaussian, uniform"),
    ("mlp", {"convention": "z"}, "convention"),
    ("mlp", {"convention": "c", "sigma_w": "1"}, "drop one"),
    ("perceptron", {"bias": "maybe"}, "true|false"),
    ("polynomial", {"family": "spline"}, "network, ptf"),
    ("polynomial", {"degree": "2.5"}, "integer"),
    ("counting", {"x": "1"}, "no parameters"),
])
def test_user_errors_name_the_bad_value(name, fields, fragment):
    with pytest.raises(UserError) as err:
        make_prior(name, **fields)
    assert fragment in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("bad", [["novalue"], ["=3"], ["a=1", "a=2"]])
def test_parse_sets_rejects_malformed(bad):
    with pytest.raises(UserError):
        parse_sets(bad)


def test_conventions_of_references():
    d = parse_domain("bool:7")
    b = make_prior("mlp", convention="b").network(d)
    assert b.distribution == "uniform"
    for fan, ws, bs in zip((7, 40, 40), b.weight_scale, b.bias_scale):
        assert ws == pytest.approx(math.sqrt(2 / fan)) and bs == pytest.approx(math.sqrt(2 / fan))
    c = make_prior("mlp", convention="c").network(d)
    assert c.distribution == "gaussian"
    assert c.weight_scale[1] == pytest.approx(math.sqrt(2 / 40)) and c.bias_scale[1] == pytest.approx(math.sqrt(2))
    a = make_prior("mlp").network(d)
    assert a.weight_scale[0] == pytest.approx(1 / math.sqrt(7)) and a.bias_scale == (1.0, 1.0, 1.0)
    assert a.n_params == 7 * 40 + 40 + 40 * 40 + 40 + 40 + 1 == 2001


def _moments(x):
    x = x.astype(np.float64)
    var = x.var()
    return var, ((x - x.mean()) ** 4).mean() / var**2


@pytest.mark.parametrize("weights,kurtosis", [("gaussian", 3.0), ("uniform", 1.8)])
def test_perceptron_output_variance_and_shape(weights, kurtosis):
    # y(x) = w.x + b with Var w_i = sigma_w^2/n, Var b = sigma_b^2: at the origin Var y = sigma_b^2,
    # at e_1 (canonical input 2^(n-1)) Var y = sigma_w^2/n + sigma_b^2.
    d = parse_domain("bool:4")
    prior = make_prior("perceptron", sigma_w=2.0, sigma_b=1.5, weights=weights)
    y = sample_outputs(prior, d, samples=40000, seed=3)
    var0, kurt0 = _moments(y[:, 0])
    var1, _ = _moments(y[:, 8])
    assert var0 == pytest.approx(1.5**2, rel=0.04)
    assert var1 == pytest.approx(4 / 4 + 1.5**2, rel=0.04)
    assert kurt0 == pytest.approx(kurtosis, abs=0.15)
    if weights == "uniform":
        assert np.abs(y[:, 0]).max() <= 1.5 * math.sqrt(3) + 1e-5


def test_perceptron_without_bias_is_zero_at_origin():
    y = sample_outputs(make_prior("perceptron", bias=False), parse_domain("bool:3"), samples=100, seed=0)
    assert (y[:, 0] == 0).all()


def test_linear_mlp_output_variance_closed_form():
    # Linear net n-h-1, W ~ N(0, s_w^2/fan_in), b ~ N(0, s_b^2):
    # Var y(x) = s_w^2 (s_w^2 |x|^2 / n + s_b^2) + s_b^2. At x = all ones |x|^2 = n.
    sw, sb = 1.5, 0.7
    prior = make_prior("mlp", hidden=(6,), activation="linear", sigma_w=sw, sigma_b=sb)
    y = sample_outputs(prior, parse_domain("bool:3"), samples=60000, seed=11)
    assert y[:, 7].var() == pytest.approx(sw**2 * (sw**2 + sb**2) + sb**2, rel=0.05)
    assert y[:, 0].var() == pytest.approx(sw**2 * sb**2 + sb**2, rel=0.05)


def test_sigma_w_fan_out_bias_scales_and_output_variance_closed_form():
    # Mingard et al. 2025's released sampler: b std sigma_b sigma_w / fan_out (width in hidden layers, 1 at the output).
    from biasprobe.sweep import convention

    sw, sb, h = 1.5, 0.7, 2
    prior = make_prior("mlp", hidden=(h, 3), activation="linear", sigma_w=sw, sigma_b=sb,
                       bias_scaling="sigma_w_fan_out")
    net = prior.network(parse_domain("bool:3"))
    assert net.bias_scale == pytest.approx((sb * sw / h, sb * sw / 3, sb * sw))
    assert net.weight_scale == pytest.approx((sw / math.sqrt(3), sw / math.sqrt(h), sw / math.sqrt(3)))
    assert convention(prior) == "W ~ N(0, 1.5^2/fan_in), b ~ N(0, (0.7*1.5/fan_out)^2)"
    # Linear 3-h-1 net: Var y(x) = s_w^2 (s_w^2 |x|^2 / n + s1^2) + s2^2, s1 = s_b s_w / h, s2 = s_b s_w.
    prior = make_prior("mlp", hidden=(h,), activation="linear", sigma_w=sw, sigma_b=sb, bias_scaling="sigma_w_fan_out")
    y = sample_outputs(prior, parse_domain("bool:3"), samples=60000, seed=12)
    s1, s2 = sb * sw / h, sb * sw
    assert y[:, 0].var() == pytest.approx(sw**2 * s1**2 + s2**2, rel=0.04)  # 1.72; b ~ N(0, s_b^2) gives 1.59
    assert y[:, 7].var() == pytest.approx(sw**2 * (sw**2 + s1**2) + s2**2, rel=0.04)
    with pytest.raises(UserError, match="sigma_w_fan_out"):
        make_prior("mlp", bias_scaling="fan_out")


def test_relu_mlp_second_moment_closed_form():
    # One ReLU layer, no biases: E relu(z)^2 = Var z / 2, so E y^2 = s_w^2 * (s_w^2 |x|^2 / n) / 2.
    sw = 1.3
    prior = make_prior("mlp", hidden=(8,), activation="relu", sigma_w=sw, sigma_b=0.0)
    y = sample_outputs(prior, parse_domain("bool:4"), samples=60000, seed=5)
    assert (y[:, 15] ** 2).mean() == pytest.approx(sw**4 / 2, rel=0.05)


def test_ptf_features_are_monomials():
    from biasprobe.priors.polynomial import monomial_features

    feats = monomial_features(parse_domain("bool:3"), 2)
    assert feats.shape == (1 + 3 + 3, 8)  # constant, x_j, x_i x_j
    pm = monomial_features(parse_domain("pm1:3"), 3)
    # parities of every subset of 3 variables are orthogonal on {-1,1}^3
    assert np.allclose(pm @ pm.T, 8 * np.eye(8))
    grid = monomial_features(parse_domain("grid:2:3"), 2)
    assert grid.shape == (6, 9)  # 1, x, y, x^2, xy, y^2


def test_ptf_degree_one_is_linearly_separable_and_degree_n_reaches_parity():
    from biasprobe.sampling import sample_counts

    d = parse_domain("bool:2")
    deg1 = set(sample_counts(make_prior("polynomial", family="ptf", degree=1), d, samples=20000, seed=0,
                             workers=1).hex())
    assert not deg1 & {"6", "9"}
    deg2 = set(sample_counts(make_prior("polynomial", family="ptf", degree=2), d, samples=20000, seed=0,
                             workers=1).hex())
    assert {"6", "9"} <= deg2


def test_register_prior_readme_example(monkeypatch):
    from typing import ClassVar

    from biasprobe.priors import Prior, register_prior
    from biasprobe.sampling import sample_counts

    monkeypatch.setattr(PRIORS, "_entries", dict(PRIORS._entries))

    @register_prior
    @dataclasses.dataclass(frozen=True)
    class Dictator(Prior):
        """f(x) = x_j for a uniformly random coordinate j (or its negation)."""

        negate: bool = False
        name: ClassVar[str] = "dictator"
        summary: ClassVar[str] = "a random single coordinate"

        def draw_outputs(self, rng, count, domain):
            j = rng.integers(0, domain.dim, size=count)  # draw i depends only on the stream prefix
            y = domain.points[:, j].T - 0.5
            return (-y if self.negate else y).astype(np.float32)

    from biasprobe import priors

    prior = priors.make_prior("dictator", negate="true")
    c = sample_counts(prior, parse_domain("bool:3"), samples=3000, seed=0)
    assert sorted(c.hex()) == ["aa", "cc", "f0"]  # not x_3 = 10101010, not x_2, not x_1 = 11110000
    assert abs(c.counts - 1000).max() < 5 * np.sqrt(3000 * (1 / 3) * (2 / 3))
