import math

import pytest
from scipy import stats

from multistore.replenishment import normal
from multistore.replenishment.errors import InvalidParameterError, InvalidServiceLevelError


@pytest.mark.parametrize("z", [-6.0, -2.5, -1.0, 0.0, 0.3, 1.2816, 1.645, 3.0, 5.0])
def test_pdf_cdf_sf_match_scipy(z):
    assert math.isclose(stats.norm.pdf(z), normal.pdf(z), rel_tol=1e-12)
    assert math.isclose(stats.norm.cdf(z), normal.cdf(z), rel_tol=1e-12)
    assert math.isclose(stats.norm.sf(z), normal.sf(z), rel_tol=1e-12)


@pytest.mark.parametrize("p", [1e-6, 0.01, 0.5, 0.8, 0.95, 0.99, 0.999999])
def test_ppf_matches_scipy(p):
    assert math.isclose(stats.norm.ppf(p), normal.ppf(p), rel_tol=1e-9, abs_tol=1e-12)


@pytest.mark.parametrize("z", [-3.0, -0.5, 0.0, 0.7, 2.0, 4.0])
def test_loss_matches_its_definition(z):
    expected = stats.norm.expect(lambda x: max(x - z, 0.0), lb=z, ub=z + 40)
    assert math.isclose(expected, normal.loss(z), rel_tol=1e-7)
    assert math.isclose(normal.loss(z) + z, normal.complementary_loss(z), rel_tol=1e-12)


@pytest.mark.parametrize("g", [1e-8, 1e-4, 0.02, 0.3989, 1.0, 5.0])
def test_inverse_loss_round_trips(g):
    z = normal.inverse_loss(g)
    assert math.isclose(g, normal.loss(z), rel_tol=1e-9)


@pytest.mark.parametrize("p", [0.0, 1.0, -0.1, 1.5, float("nan"), True])
def test_ppf_rejects_levels_outside_open_unit_interval(p):
    with pytest.raises(InvalidServiceLevelError) as info:
        normal.ppf(p)
    assert "replenishment.invalid_service_level" == info.value.code


@pytest.mark.parametrize("g", [0.0, -1.0, float("inf")])
def test_inverse_loss_rejects_non_positive(g):
    with pytest.raises(InvalidParameterError):
        normal.inverse_loss(g)
