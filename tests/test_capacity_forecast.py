"""dashboard/capacity/forecast.py on known series (issue 12)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from dashboard.capacity import forecast as fc

T0 = datetime(2026, 1, 1, tzinfo=UTC)
GIB = 2**30


def series(values, step=timedelta(days=1)):
    return [(T0 + i * step, int(v)) for i, v in enumerate(values)]


def test_linear_growth_is_full_in_the_exact_days_and_fairly_sure():
    # 100 GiB total, 10 GiB used growing 2 GiB a day for 10 days: 28 GiB at day 9, 72 GiB left = 36 days.
    result = fc.forecast(series([10 * GIB + 2 * GIB * i for i in range(10)]), 100 * GIB)
    assert result.status is fc.Status.FULL_IN
    assert round(result.days, 6) == 36
    assert result.whole_days == 36 and result.sure and round(result.r_squared, 6) == 1


def test_noisy_growth_is_forecast_but_uncertain():
    rng = random.Random(4)
    values = [50 * GIB + 0.2 * GIB * i + rng.uniform(-8, 8) * GIB for i in range(14)]
    result = fc.forecast(series(values), 100 * GIB)
    assert result.status is fc.Status.FULL_IN and not result.sure


def test_flat_and_shrinking_usage_give_no_forecast():
    assert fc.forecast(series([40 * GIB] * 10), 100 * GIB).status is fc.Status.NONE
    assert fc.forecast(series([60 * GIB - GIB * i for i in range(10)]), 100 * GIB).status is fc.Status.NONE


def test_fewer_than_seven_points_is_not_enough_history():
    result = fc.forecast(series([GIB * i for i in range(6)]), 100 * GIB)
    assert result.status is fc.Status.TOO_SHORT and result.points == 6
    assert fc.forecast([], 100).status is fc.Status.TOO_SHORT


def test_only_the_recent_window_counts():
    # 30 old days shrinking, then 8 days growing: the 14-day window sees mostly growth.
    old = [90 * GIB - GIB * i for i in range(30)]
    recent = [20 * GIB + 3 * GIB * i for i in range(8)]
    points = series(old) + [(T0 + timedelta(days=60 + i), int(v)) for i, v in enumerate(recent)]
    assert fc.forecast(points, 100 * GIB).status is fc.Status.FULL_IN


def test_already_full_is_full_now():
    result = fc.forecast(series([90 * GIB + GIB * i for i in range(12)]), 100 * GIB)
    assert result.status is fc.Status.FULL_IN and result.whole_days == 0


@given(
    st.integers(min_value=1, max_value=10**12),
    st.integers(min_value=7, max_value=40),
    st.integers(min_value=0, max_value=10**13),
)
def test_a_perfect_line_predicts_its_own_crossing(slope, n, start):
    total = start + slope * (n - 1) + slope * 5  # five more days of room after the last point
    result = fc.forecast(series([start + slope * i for i in range(n)]), total)
    if n - 1 > 14:  # older points fall out of the window; the line is the same
        pass
    assert result.status is fc.Status.FULL_IN
    assert abs(result.days - 5) < 1e-3


@given(
    st.lists(st.integers(min_value=0, max_value=10**14), min_size=0, max_size=30),
    st.integers(min_value=0, max_value=10**14),
)
def test_never_fails_and_days_are_never_negative(values, total):
    result = fc.forecast(series(values, timedelta(hours=6)), total)
    assert result.status in set(fc.Status)
    assert result.days is None or result.days >= 0
