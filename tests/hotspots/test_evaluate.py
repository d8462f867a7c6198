"""PAI / PEI / RRI backtest: hand-computed measures and the real 2025 sample."""

from __future__ import annotations

import itertools

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo_ssgp.errors import BadInput
from geo_ssgp.hotspots import METHODS
from geo_ssgp.hotspots.evaluate import (
    BASELINE,
    backtest,
    backtest_table,
    max_capture,
    selection_metrics,
    split_periods,
)

X0, Y0 = 300000.0, 200000.0


def test_selection_metrics_by_hand():
    area = np.full(10, 100.0)  # region 1,000 m²
    test = np.array([10, 5, 0, 0, 0, 0, 0, 0, 0, 5])  # N = 20
    train = np.array([8, 2, 0, 0, 0, 0, 0, 0, 0, 10])  # M = 20
    sel = np.zeros(10, dtype=bool)
    sel[[0, 1]] = True
    m = selection_metrics(sel, area, test, train, 1000.0)
    assert m["hit_rate"] == pytest.approx(15 / 20)
    assert m["area_share"] == pytest.approx(0.2)
    assert m["pai"] == pytest.approx((15 / 20) / 0.2)
    assert m["pei"] == pytest.approx(15 / 15)  # the two best cells hold 10 + 5
    assert m["rri"] == pytest.approx((15 / 10) / (20 / 20))
    assert (m["n_cells"], m["n_test"], m["n_train"]) == (2, 15, 10)
    sel2 = np.zeros(10, dtype=bool)
    sel2[[9, 2]] = True
    m2 = selection_metrics(sel2, area, test, train, 1000.0)
    assert m2["pei"] == pytest.approx(5 / 15) and m2["pai"] == pytest.approx(1.25)
    none = selection_metrics(np.zeros(10, dtype=bool), area, test, train, 1000.0)
    assert none["pai"] is None or none["pai"] == 0
    assert none["pei"] is None and none["rri"] is None and none["hit_rate"] == 0


def test_max_capture_is_the_best_whole_cell_selection_or_better():
    rng = np.random.default_rng(0)
    area = rng.choice([50.0, 100.0], 9)
    counts = rng.integers(0, 20, 9).astype(float)
    for budget in (100.0, 250.0, 400.0):
        best_whole = max(
            counts[list(c)].sum()
            for r in range(10)
            for c in itertools.combinations(range(9), r)
            if area[list(c)].sum() <= budget
        )
        bound = max_capture(area, counts, budget)
        assert bound >= best_whole - 1e-9
    equal = np.full(6, 10.0)
    assert max_capture(equal, np.array([1, 9, 3, 7, 0, 2.0]), 30.0) == pytest.approx(19.0)
    assert max_capture(equal, np.array([1, 9, 3, 7, 0, 2.0]), 25.0) == pytest.approx(17.5)


@pytest.fixture(scope="module")
def box():
    return gpd.GeoDataFrame(
        {"code": ["BOX"], "name": ["Box"]},
        geometry=[shapely.box(X0, Y0, X0 + 2000, Y0 + 2000)],
        crs="EPSG:27700",
    )


def _points(xy, month):
    return gpd.GeoDataFrame(
        {"month": np.full(len(xy), np.datetime64(month))},
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs="EPSG:27700",
    )


def test_a_stable_pattern_is_predicted_perfectly_by_the_previous_period(box):
    hot = np.array([[X0 + 450, Y0 + 1250], [X0 + 1550, Y0 + 350]])

    def period(seed):
        r = np.random.default_rng(seed)
        bg = r.uniform(0, 2000, (100, 2)) + [X0, Y0]
        spots = np.repeat(hot, [150, 90], axis=0)  # snap points recur every period
        return np.vstack([bg, spots])

    train, test = _points(period(1), "2025-01-01"), _points(period(2), "2025-07-01")
    res = backtest(
        train, test, region=box, methods=["grid-count"], coverages=(0.005, 0.5), cell_size=100
    )
    assert set(res) == {BASELINE, "grid-count"}
    small = res[BASELINE][0.005]  # 2 cells of 400
    assert small["n_cells"] == 2 and small["area_share"] == pytest.approx(0.005)
    assert small["pei"] == pytest.approx(1.0)
    assert small["n_test"] >= 240  # both recurring spots captured
    assert small["pai"] == pytest.approx(small["hit_rate"] / 0.005)
    assert res["grid-count"][0.005] == small  # grid-count ranks cells by train count too
    assert res[BASELINE][0.5]["hit_rate"] > 0.5


def test_backtest_is_deterministic_and_rejects_bad_options(box):
    rng = np.random.default_rng(9)
    train = _points(rng.uniform(0, 2000, (400, 2)) + [X0, Y0], "2025-01-01")
    test = _points(rng.uniform(0, 2000, (400, 2)) + [X0, Y0], "2025-02-01")
    a = backtest(train, test, region=box, methods=["kde", "dbscan"], seed=4)
    b = backtest(train, test, region=box, methods=["kde", "dbscan"], seed=4)
    assert a == b
    with pytest.raises(BadInput, match="rank_by"):
        backtest(train, test, region=box, methods=["kde"], rank_by="size")
    with pytest.raises(BadInput, match="unknown hotspot method"):
        backtest(train, test, region=box, methods=["nope"])


# ---------------------------------------------------------------------------------------
# Real data


@pytest.fixture(scope="session")
def gloucester_periods(sample_ok):
    """Geocoded Gloucester incidents split 2025-01..06 (train) / 2025-07..09 (test)."""
    return split_periods(sample_ok, ("2025-01", "2025-06"), ("2025-07", "2025-09"))


@pytest.fixture(scope="session")
def real_backtest(gloucester_periods, pack):
    train, test = gloucester_periods
    return backtest(train, test, pack)


def test_split_periods_covers_each_month_once(gloucester_periods):
    train, test = gloucester_periods
    assert set(train["month"].dt.strftime("%Y-%m")) == {f"2025-0{m}" for m in range(1, 7)}
    assert set(test["month"].dt.strftime("%Y-%m")) == {"2025-07", "2025-08", "2025-09"}
    assert 8000 < len(train) < 10000 and 4000 < len(test) < 6000


def test_real_backtest_reports_every_method_and_the_baseline(real_backtest):
    assert set(real_backtest) == set(METHODS) | {BASELINE}
    table = backtest_table(real_backtest)
    assert len(table) == 8 * 3
    assert set(table["coverage"]) == {0.01, 0.03, 0.05}
    for row in table.itertuples():
        assert 0 <= row.hit_rate <= 1
        assert row.area_share <= row.coverage + 1e-9
        assert row.pai >= 0
        assert 0 <= row.pei <= 1 + 1e-9
        assert row.rri is None or row.rri >= 0
        assert row.pai == pytest.approx(row.hit_rate / row.area_share)
    grid5 = real_backtest["grid-count"][0.05]
    assert grid5["pai"] > 1
    assert grid5["area_share"] > 0.049
    # police.uk snap points recur: last period's busiest cells hold most of the next
    assert grid5["pai"] > 10 and grid5["pei"] > 0.8
    # the default method is the best or tied at every coverage (why it is the default)
    for cov in (0.01, 0.03, 0.05):
        best = max(r[cov]["pai"] for r in real_backtest.values())
        assert real_backtest["grid-count"][cov]["pai"] == pytest.approx(best)


def test_real_backtest_by_hotspot_rank(gloucester_periods, pack):
    train, test = gloucester_periods
    res = backtest(train, test, pack, methods=["gistar", "lisa"], rank_by="hotspots")
    for name in ("gistar", "lisa"):
        for cov, m in res[name].items():
            assert m["area_share"] <= cov + 1e-9
            assert 0 <= m["pei"] <= 1 + 1e-9
    # Gi* hotspots are small: at 5 % they cannot fill the area, unlike the surface ranking
    assert res["gistar"][0.05]["area_share"] < 0.05
