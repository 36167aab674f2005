"""The engine's input features equal the domain's canonical points, built without the float64 detour on cubes."""

import numpy as np
import pytest

from biasprobe.domains import parse_domain
from biasprobe.priors.base import input_features


@pytest.mark.parametrize("spec", ["bool:1", "bool:7", "pm1:5", "bool:7@gray", "pm1:6@perm:3", "grid:2:5", "gauss:3:9"])
def test_features_are_the_canonical_points_transposed(spec):
    domain = parse_domain(spec)
    feats = input_features(domain)
    assert feats.dtype == np.float32 and feats.flags.c_contiguous and feats.shape == (domain.dim, domain.n_points)
    np.testing.assert_array_equal(feats, domain.points.T.astype(np.float32))


def test_cube_features_do_not_touch_the_points():
    domain = parse_domain("bool:10")
    input_features(domain)
    assert "points" not in vars(domain) and "digits" not in vars(domain)  # cached_property never filled
