import math
from decimal import Decimal

import pytest

from multistore.replenishment import (
    InvalidLeadTimeError,
    InvalidParameterError,
    NegativeDemandError,
    bulk_policies,
    eoq,
    safety_stock,
)


def test_python_and_numpy_paths_agree_with_scalar_functions():
    means = [0.0, 1.5, 10.0, 42.0]
    stds = [0.0, 1.0, 3.0, 7.5]
    leads = [1.0, 3.0, 5.0, 10.0]
    lead_stds = [0.0, 0.5, 1.0, 2.0]
    results = [
        bulk_policies(
            demand_mean=means,
            demand_std=stds,
            lead_time=leads,
            lead_time_std=lead_stds,
            service_level=0.97,
            order_cost=Decimal(50),
            holding_cost=Decimal("0.02"),
            backend=backend,
        )
        for backend in ("python", "numpy")
    ]
    for res in results:
        for i, (d, s, lt, lts) in enumerate(zip(means, stds, leads, lead_stds, strict=True)):
            ss = safety_stock(
                demand_mean=d, demand_std=s, lead_time=lt, lead_time_std=lts, service_level=0.97
            )
            assert math.isclose(ss, res.safety_stock[i], rel_tol=1e-12, abs_tol=1e-12)
            assert math.isclose(d * lt + ss, res.reorder_point[i], rel_tol=1e-12, abs_tol=1e-12)
            q = eoq(demand_rate=d, order_cost=Decimal(50), holding_cost=Decimal("0.02")).quantity
            assert math.isclose(q, res.order_quantity[i], rel_tol=1e-12, abs_tol=1e-12)
    assert ("python", "numpy") == (results[0].backend, results[1].backend)


def test_scalar_lead_time_fast_path():
    res = bulk_policies(
        demand_mean=[10.0, 2.0],
        demand_std=[3.0, 1.0],
        lead_time=4.0,
        service_level=0.95,
        backend="python",
    )
    assert res.order_quantity is None
    expected = safety_stock(demand_mean=10, demand_std=3, lead_time=4, service_level=0.95)
    assert math.isclose(expected, res.safety_stock[0])


def test_bulk_validation():
    with pytest.raises(NegativeDemandError):
        bulk_policies(demand_mean=[1.0, -1.0], demand_std=[1.0, 1.0], lead_time=1.0)
    with pytest.raises(InvalidLeadTimeError):
        bulk_policies(demand_mean=[1.0], demand_std=[1.0], lead_time=[0.0])
    with pytest.raises(InvalidParameterError):
        bulk_policies(demand_mean=[1.0, 2.0], demand_std=[1.0], lead_time=1.0)
    with pytest.raises(InvalidParameterError):
        bulk_policies(demand_mean=[1.0], demand_std=[1.0], lead_time=1.0, order_cost=Decimal(1))


def test_numpy_backend_validates_arrays():
    np = pytest.importorskip("numpy")
    with pytest.raises(NegativeDemandError):
        bulk_policies(
            demand_mean=np.array([1.0, -1.0]),
            demand_std=np.array([1.0, 1.0]),
            lead_time=1.0,
            backend="numpy",
        )
    with pytest.raises(InvalidLeadTimeError):
        bulk_policies(
            demand_mean=np.array([1.0]),
            demand_std=np.array([1.0]),
            lead_time=np.array([0.0]),
            backend="numpy",
        )
    out = bulk_policies(
        demand_mean=np.array([10.0]), demand_std=np.array([3.0]), lead_time=4.0, backend="auto"
    )
    assert "numpy" == out.backend
    expected = safety_stock(demand_mean=10, demand_std=3, lead_time=4, service_level=0.95)
    assert math.isclose(expected, float(out.safety_stock[0]))


def test_python_fallback_when_numpy_is_missing(monkeypatch):
    import multistore.replenishment.bulk as bulk

    monkeypatch.setattr(bulk, "numpy_available", lambda: False)
    out = bulk.bulk_policies(demand_mean=[10.0], demand_std=[3.0], lead_time=4.0)
    assert "python" == out.backend


def test_batch_intermittent_fits_match_single_series_fits():
    pytest.importorskip("numpy")
    import random

    from multistore.replenishment import croston, fit_intermittent_many, sba, tsb

    rng = random.Random(3)
    data = [[rng.randint(1, 9) if rng.random() < 0.3 else 0 for _ in range(60)] for _ in range(70)]
    data += [[0] * 60, [5] + [0] * 59, [0] * 59 + [3]]
    for method, single in (("croston", croston), ("sba", sba), ("tsb", tsb)):
        batch = fit_intermittent_many(demand=data, method=method, alpha=0.2, beta=0.3, horizon=3)
        python = fit_intermittent_many(
            demand=data, method=method, alpha=0.2, beta=0.3, horizon=3, backend="python"
        )
        for got, other, series in zip(batch, python, data, strict=True):
            expected = single(demand=series, alpha=0.2, beta=0.3, horizon=3)
            assert math.isclose(expected.mean, got.mean, rel_tol=1e-9, abs_tol=1e-12)
            assert math.isclose(expected.std, got.std, rel_tol=1e-9, abs_tol=1e-12)
            assert expected == other
            assert 3 == got.horizon


def test_batch_fit_errors():
    from multistore.replenishment import EmptyHistoryError, fit_intermittent_many

    with pytest.raises(InvalidParameterError):
        fit_intermittent_many(demand=[[1, 0]], method="ses")
    with pytest.raises(InvalidParameterError):
        fit_intermittent_many(demand=[[1, 0], [1]], backend="numpy")
    with pytest.raises(NegativeDemandError):
        fit_intermittent_many(demand=[[1, -1]], backend="numpy")
    with pytest.raises(EmptyHistoryError):
        fit_intermittent_many(demand=[[]], backend="numpy")
    with pytest.raises(EmptyHistoryError):
        fit_intermittent_many(demand=[[]], backend="python")


def test_batch_fit_accepts_a_2d_array():
    np = pytest.importorskip("numpy")
    from multistore.replenishment import fit_intermittent_many, sba

    rows = [[0, 3, 0, 0, 5, 0], [1, 0, 0, 0, 2, 0]]
    fits = fit_intermittent_many(demand=np.array(rows), method="sba", alpha=0.5, backend="numpy")
    for row, fit in zip(rows, fits, strict=True):
        assert math.isclose(sba(demand=row, alpha=0.5).mean, fit.mean)
