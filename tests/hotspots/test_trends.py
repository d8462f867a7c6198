"""Monthly series and the Mann-Kendall trend: zeros kept, steady noise quiet, a ramp found."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_ssgp.hotspots.trends import KNIFE_PROXY, monthly_series, place_trend, trend_test

MONTHS = [f"2024-{m:02d}" for m in range(1, 13)]


def _points(months: list[str], xy: list[tuple[float, float]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"month": pd.to_datetime(months)},
        geometry=gpd.points_from_xy(*zip(*xy, strict=True)),
        crs="EPSG:27700",
    )


def test_monthly_series_fills_empty_months_and_clips_to_place():
    inc = _points(["2024-01-01", "2024-01-01", "2024-03-01"], [(0, 0), (500, 500), (10, 10)])
    assert monthly_series(inc, MONTHS)[:3].tolist() == [2, 0, 1]
    near = monthly_series(inc, MONTHS, shapely.box(-1, -1, 100, 100))
    assert near.sum() == 2 and near["2024-02"] == 0 and len(near) == 12


def test_trend_test_is_quiet_on_steady_counts_and_finds_a_ramp():
    rng = np.random.default_rng(0)
    steady = rng.poisson(50, (400, 24))
    false_alarms = np.mean([trend_test(pd.Series(s))["p_value"] < 0.05 for s in steady])
    assert false_alarms <= 0.06  # nominal 5 %; 400 series
    ramp = trend_test(pd.Series(rng.poisson(np.linspace(30, 80, 24))))
    assert ramp["trend"] == "rising" and ramp["slope_per_month"] > 1
    short = trend_test(pd.Series([5, 6, 5, 7, 6]))
    assert short["weak"] and "fewer than 10 months" in short["words"]


def test_place_trend_and_knife_proxy(sample_ok):
    inc = sample_ok[sample_ok["crime_type"].isin(KNIFE_PROXY)]
    months = sorted(pd.to_datetime(sample_ok["month"]).dt.strftime("%Y-%m").unique())
    out = place_trend(inc, months, "district, knife-crime proxy")
    assert out["months"] == months and sum(out["counts"]) == len(inc)
    assert out["trend"] in {"rising", "falling", "no clear trend"}


def _log(stamps: list[str], timed: list[bool]) -> pd.DataFrame:
    when = pd.to_datetime(pd.Series(stamps), format="ISO8601")
    return pd.DataFrame({"occurred_at": when, "time_known": timed})


def test_day_hour_table_counts_timed_incidents_only():
    from geo_ssgp.hotspots.trends import day_hour_table

    # 2025-06-13 is a Friday
    log = _log(
        ["2025-06-13 22:40", "2025-06-13 22:05", "2025-06-14 01:15", "2025-06-16", None],
        [True, True, True, False, False],
    )
    table = day_hour_table(log)
    assert table.shape == (7, 24) and table.to_numpy().sum() == 3
    assert table.loc["Fri", 22] == 2 and table.loc["Sat", 1] == 1
    assert table.attrs["without_time"] == 2


def test_night_time_filter_fri_sat_20_to_04():
    from geo_ssgp.hotspots.trends import night_time_mask

    stamps = [
        "2025-06-13 20:00",  # Fri 20:00: in (Friday night)
        "2025-06-14 03:59",  # Sat 03:59: in (still Friday night)
        "2025-06-14 04:00",  # Sat 04:00: out
        "2025-06-14 23:30",  # Sat 23:30: in (Saturday night)
        "2025-06-15 02:00",  # Sun 02:00: in (Saturday night)
        "2025-06-16 02:00",  # Mon 02:00: out (Sunday night)
        "2025-06-12 22:00",  # Thu 22:00: out
        "2025-06-13 00:00",  # Fri, date only: out (no clock time)
    ]
    log = _log(stamps, [True] * 7 + [False])
    assert night_time_mask(log).tolist() == [True, True, False, True, True, False, False, False]
    weekday = night_time_mask(log, days=("Thu",), start=21, end=23)
    assert weekday.tolist() == [False] * 6 + [True, False]
