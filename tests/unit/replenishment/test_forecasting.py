import math

import pytest

from multistore.replenishment import (
    DemandClass,
    EmptyHistoryError,
    InvalidParameterError,
    NegativeDemandError,
    classify,
    croston,
    forecast,
    holt,
    moving_average,
    sba,
    seasonal_weekly,
    ses,
    tsb,
)


def test_moving_average_hand_computed():
    fc = moving_average(demand=[2, 4, 6, 8], window=2, horizon=3)
    assert 7.0 == fc.mean
    assert (7.0, 7.0, 7.0) == fc.path
    assert 3.0 == fc.std  # one-step errors 6-3 and 8-5
    assert math.isclose(3.0 * math.sqrt(3), fc.total_std)
    assert 21.0 == fc.total


def test_moving_average_window_longer_than_history_falls_back_to_history_std():
    fc = moving_average(demand=[1, 3], window=5)
    assert 2.0 == fc.mean
    assert 1.0 == fc.std


def test_ses_hand_computed():
    fc = ses(demand=[10, 12, 8, 11], alpha=0.5)
    assert 10.25 == fc.mean
    assert math.isclose(math.sqrt((4 + 9 + 2.25) / 3), fc.std)


def test_ses_single_observation_has_zero_error():
    fc = ses(demand=[5])
    assert (5.0, 0.0) == (fc.mean, fc.std)


def test_holt_hand_computed():
    fc = holt(demand=[1, 3, 4, 7], alpha=0.5, beta=0.5, horizon=2)
    assert (8.5625, 10.5) == fc.path
    assert math.isclose(math.sqrt((0 + 1 + 0.5625) / 3), fc.std)
    assert 9.53125 == fc.mean


def test_holt_clips_a_falling_trend_at_zero():
    fc = holt(demand=[9, 6, 3, 1], alpha=0.9, beta=0.9, horizon=3)
    assert 0.0 == fc.path[-1]


def test_croston_hand_computed():
    fc = croston(demand=[0, 3, 0, 0, 5, 0], alpha=0.5)
    assert math.isclose(1.6, fc.mean)
    assert math.isclose(math.sqrt((2.25 + 2.25 + 12.25 + 2.56) / 4), fc.std)


def test_sba_hand_computed():
    fc = sba(demand=[0, 3, 0, 0, 5, 0], alpha=0.5)
    assert math.isclose(1.2, fc.mean)
    assert math.isclose(math.sqrt((1.265625 * 2 + 15.015625 + 1.44) / 4), fc.std)


def test_tsb_hand_computed():
    fc = tsb(demand=[0, 3, 0, 0, 5, 0], alpha=0.5, beta=0.5)
    assert math.isclose(1.125, fc.mean)
    assert math.isclose(math.sqrt((2.25 + 0.5625 + 21.390625 + 5.0625) / 4), fc.std)


def test_intermittent_methods_forecast_zero_without_demand():
    for fn in (croston, sba, tsb):
        fc = fn(demand=[0, 0, 0])
        assert (0.0, 0.0) == (fc.mean, fc.std)


def test_seasonal_weekly_reproduces_a_pure_weekly_pattern():
    week = [1, 2, 3, 4, 5, 6, 7]
    fc = seasonal_weekly(demand=week * 4, start_weekday=0, horizon=7)
    assert tuple(float(x) for x in week) == fc.path
    assert 0.0 == fc.std


def test_seasonal_weekly_starts_after_the_last_weekday_and_uses_given_weekdays():
    # Values on Mon and Wed only (Tue excluded as a stock-out day).
    fc = seasonal_weekly(demand=[2, 4, 2, 4], weekdays=[0, 2, 0, 2], horizon=2, window=4)
    # index Mon 2/3, Wed 4/3, Thu (never seen) 1.0; level = 3; next day after Wed is Thu.
    assert math.isclose(3.0, fc.path[0])
    assert math.isclose(3.0, fc.path[1])


def test_seasonal_weekly_rejects_bad_weekdays():
    with pytest.raises(InvalidParameterError):
        seasonal_weekly(demand=[1, 2], weekdays=[0, 9])
    with pytest.raises(InvalidParameterError):
        seasonal_weekly(demand=[1, 2], weekdays=[0])


@pytest.mark.parametrize("fn", [moving_average, ses, holt, seasonal_weekly, croston, sba, tsb])
def test_every_forecaster_rejects_empty_and_negative_history(fn):
    with pytest.raises(EmptyHistoryError) as info:
        fn(demand=[])
    assert "replenishment.empty_history" == info.value.code
    with pytest.raises(NegativeDemandError) as neg:
        fn(demand=[1, -2, 3])
    assert "replenishment.negative_demand" == neg.value.code


@pytest.mark.parametrize("alpha", [0.0, -0.1, 1.1])
def test_smoothing_constants_must_lie_in_zero_one(alpha):
    with pytest.raises(InvalidParameterError):
        ses(demand=[1, 2], alpha=alpha)


def test_classify_four_classes():
    assert DemandClass.SMOOTH == classify(demand=[10, 11, 9, 10, 12]).demand_class
    assert DemandClass.ERRATIC == classify(demand=[1, 30, 2, 40, 1]).demand_class
    assert DemandClass.INTERMITTENT == classify(demand=[0, 0, 5, 0, 0, 6, 0, 5]).demand_class
    assert DemandClass.LUMPY == classify(demand=[0, 0, 1, 0, 0, 40, 0, 2]).demand_class
    assert DemandClass.NO_DEMAND == classify(demand=[0, 0]).demand_class


def test_classify_figures_and_cutoffs():
    c = classify(demand=[0, 4, 0, 6])
    assert 2.0 == c.adi
    assert math.isclose(1 / 25, c.cv2)  # sizes 4, 6: variance 1, mean 5
    assert "sba" == c.method
    # Exactly on the cut-off counts as intermittent (ADI >= 1.32).
    assert DemandClass.SMOOTH == classify(demand=[1, 1, 1], adi_cutoff=1.0001).demand_class


def test_forecast_picks_method_from_class_unless_named():
    lumpy = [0, 0, 1, 0, 0, 40, 0, 2]
    chosen = forecast(demand=lumpy)
    assert "tsb" == chosen.method
    assert DemandClass.LUMPY == chosen.classification.demand_class
    named = forecast(demand=lumpy, method="croston", alpha=0.5)
    assert "croston" == named.method
    assert named.classification is None


def test_forecast_unknown_method_is_a_typed_error():
    with pytest.raises(InvalidParameterError) as info:
        forecast(demand=[1, 2], method="arima")
    assert "replenishment.unknown_method" == info.value.code
