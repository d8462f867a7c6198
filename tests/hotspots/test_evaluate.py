"""Rolling PAI / PEI / RRI backtest: hand-computed measures, constructed folds, real 2025 data."""

from __future__ import annotations

import itertools

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo_ssgp.errors import BadInput, PackError
from geo_ssgp.hotspots import METHODS
from geo_ssgp.hotspots.evaluate import (
    BASELINE,
    CANDIDATES,
    backtest,
    backtest_table,
    check_folds,
    layer_accuracy,
    max_capture,
    rolling_backtest,
    rolling_folds,
    selection_metrics,
    split_periods,
    tune_method,
)
from geo_ssgp.hotspots.grid import make_grid
from geo_ssgp.hotspots.segments import segments_in_region

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


def _recurring(seed, month, hot=((X0 + 475, Y0 + 1275), (X0 + 1525, Y0 + 325))):
    """100 uniform points and two snap points that recur every month (150 and 90)."""
    r = np.random.default_rng(seed)
    bg = r.uniform(0, 2000, (100, 2)) + [X0, Y0]
    spots = np.repeat(np.array(hot), [150, 90], axis=0)
    return _points(np.vstack([bg, spots]), month)


def test_a_stable_pattern_is_predicted_perfectly_by_the_previous_period(box):
    train, test = _recurring(1, "2025-01-01"), _recurring(2, "2025-07-01")
    res = backtest(
        train, test, region=box, methods=["grid-count"], coverages=(0.005, 0.5), cell_size=100
    )
    assert set(res) == {BASELINE, "grid-count"}
    small = res[BASELINE]["coverage"][0.005]  # 2 cells of 400
    assert small["n_cells"] == 2 and small["area_share"] == pytest.approx(0.005)
    assert small["pei"] == pytest.approx(1.0)
    assert small["n_test"] >= 240  # both recurring spots captured
    assert small["pai"] == pytest.approx(small["hit_rate"] / 0.005)
    # one training month: nothing to tune on, grid-count runs at its first candidate
    assert res["grid-count"]["params"] == CANDIDATES["grid-count"][0]
    assert res[BASELINE]["coverage"][0.5]["hit_rate"] > 0.5


def test_street_unit_scores_the_length_each_method_selects(street_grid, synth):
    """One busy 500 m segment recurs; 1 % of the street length takes it and nothing else."""
    # moved off the 50 m cell edges, so each midpoint lies inside one evaluation cell
    moved = street_grid.set_geometry(street_grid.geometry.translate(13.0, 17.0))
    box = gpd.GeoDataFrame(geometry=[shapely.box(*street_grid.total_bounds)], crs="EPSG:27700")
    streets = segments_in_region(moved, box)
    target = streets["segment_id"] == "h44"
    other = streets[~target]

    def month(seed, when):
        xy = np.vstack(
            [synth.on_streets(other, 400, seed), synth.on_streets(streets[target], 100, seed)]
        )
        return synth.points(xy, when)

    train, test = month(1, "2025-01-01"), month(2, "2025-07-01")
    res = backtest(
        train, test, region=box, segments=moved, unit="street",
        methods=["street-segments", "grid-count"], coverages=(0.009, 0.05),
    )
    assert set(res) == {BASELINE, "street-segments", "grid-count"}
    inside = len(streets) * 500.0  # 200 segments: 100 km of street
    for name in (BASELINE, "street-segments"):
        one = res[name]["coverage"][0.009]  # 900 m of street: the 500 m target alone
        assert one["n_cells"] == 1 and one["area_share"] == pytest.approx(500 / inside)
        assert one["hit_rate"] == pytest.approx(100 / 500)
        assert one["pai"] == pytest.approx(0.2 / (500 / inside))
        assert one["pei"] == pytest.approx(1.0)
    # grid-count's busiest cells lie on the target: the segment under them is selected
    grid = res["grid-count"]["coverage"][0.009]
    assert grid["n_cells"] == 1 and grid["hit_rate"] == pytest.approx(0.2)
    assert res[BASELINE]["params"] == {"unit": "street", "cell_size": None}


def test_street_unit_needs_segments_and_the_unit_is_checked(box, squares):
    train, test = _recurring(1, "2025-01-01"), _recurring(2, "2025-02-01")
    with pytest.raises(PackError, match=r"\[streets\] layer"):
        backtest(train, test, region=box, methods=["kde"], unit="street")
    with pytest.raises(PackError, match=r"\[streets\] layer"):
        backtest(train, test, region=box, methods=["street-segments"])
    with pytest.raises(BadInput, match="unit must be one of"):
        backtest(train, test, region=box, methods=["kde"], unit="lsoa")
    # every method by default: the street method only where there are segments
    res = backtest(train, test, region=box, areas=squares, tune=False, coverages=(0.05,))
    assert set(res) == {BASELINE} | set(METHODS) - {"street-segments"}


def test_keys_are_the_names_as_requested_and_the_unit_is_never_finer_than_50m(box):
    train, test = _recurring(1, "2025-01-01"), _recurring(2, "2025-02-01")
    res = backtest(train, test, region=box, methods=["default", "kde"], tune=False)
    assert set(res) == {"default", "kde", BASELINE}
    assert res["default"]["method"] == "grid-count"
    with pytest.raises(BadInput, match="at least 50 m"):
        backtest(train, test, region=box, methods=["kde"], cell_size=25)


def test_tuning_uses_training_months_only_and_picks_the_finer_cell(box, monkeypatch):
    """Two snap points recur; 50 m cells hold them in a quarter of the area of 100 m ones."""
    months = [f"2025-0{m}-01" for m in range(1, 5)]
    train = pd.concat([_recurring(i, m) for i, m in enumerate(months)], ignore_index=True)
    monkeypatch.setitem(CANDIDATES, "grid-count", ({"cell_size": 100.0}, {"cell_size": 50.0}))
    grid = make_grid(box, cell_size=50)
    chosen = tune_method("grid-count", train, None, grid, (0.001,), context={"region": box})
    assert chosen == {"cell_size": 50.0}
    # the test months cannot change the choice: they are not an argument
    moved = _recurring(9, "2025-05-01", hot=((X0 + 25, Y0 + 25), (X0 + 1975, Y0 + 1975)))
    res = backtest(train, moved, region=box, methods=["grid-count"], coverages=(0.001,))
    assert res["grid-count"]["params"] == {"cell_size": 50.0}
    assert res["grid-count"]["coverage"][0.001]["n_test"] == 0  # the hot spots moved


def test_rolling_folds_slide_both_windows_and_check_the_data():
    folds = rolling_folds(("2025-01", "2025-06"), ("2025-07", "2025-07"), folds=3)
    assert [f.describe() for f in folds] == [
        {"train": ["2025-01", "2025-06"], "test": ["2025-07", "2025-07"]},
        {"train": ["2025-02", "2025-07"], "test": ["2025-08", "2025-08"]},
        {"train": ["2025-03", "2025-08"], "test": ["2025-09", "2025-09"]},
    ]
    with pytest.raises(BadInput, match="without overlap"):
        rolling_folds(("2025-01", "2025-06"), ("2025-06", "2025-07"))
    with pytest.raises(BadInput, match="at least 1"):
        rolling_folds(("2025-01", "2025-06"), ("2025-07", "2025-07"), folds=0)
    data = pd.DataFrame({"month": pd.to_datetime([f"2025-0{m}-01" for m in range(1, 10)])})
    check_folds(folds, data)
    too_many = rolling_folds(("2025-01", "2025-06"), ("2025-07", "2025-09"), folds=2)
    with pytest.raises(BadInput, match=r"at most 1 fold\(s\) fit"):
        check_folds(too_many, data)


def test_rolling_backtest_reports_mean_and_spread(box):
    months = [f"2025-0{m}-01" for m in range(1, 6)]
    data = pd.concat([_recurring(i, m) for i, m in enumerate(months)], ignore_index=True)
    folds = rolling_folds(("2025-01", "2025-03"), ("2025-04", "2025-04"), folds=2)
    res = rolling_backtest(data, folds, methods=["grid-count"], coverages=(0.01,), region=box)
    entry = res["grid-count"]
    assert [f["test"] for f in entry["folds"]] == [["2025-04", "2025-04"], ["2025-05", "2025-05"]]
    pais = [f["coverage"][0.01]["pai"] for f in entry["folds"]]
    summary = entry["coverage"][0.01]
    assert summary["folds"] == 2
    assert summary["pai"] == pytest.approx(np.mean(pais))
    assert summary["pai_sd"] == pytest.approx(np.std(pais, ddof=1))
    table = backtest_table(res)
    assert list(table["method"]) == [BASELINE, "grid-count"]
    assert {"pai_sd", "pei_sd", "folds"} <= set(table.columns)


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
def real_rolling(sample_ok, pack):
    """Three rolling folds on the 2025 street CSVs: train 6 months, test the next month."""
    folds = rolling_folds(("2025-01", "2025-06"), ("2025-07", "2025-07"), folds=3)
    return rolling_backtest(sample_ok, folds, pack)


def test_split_periods_covers_each_month_once(gloucester_periods):
    train, test = gloucester_periods
    assert set(train["month"].dt.strftime("%Y-%m")) == {f"2025-0{m}" for m in range(1, 7)}
    assert set(test["month"].dt.strftime("%Y-%m")) == {"2025-07", "2025-08", "2025-09"}
    assert 8000 < len(train) < 10000 and 4000 < len(test) < 6000


@pytest.mark.slow
def test_real_rolling_backtest_reports_every_method_and_the_baseline(real_rolling):
    assert set(real_rolling) == set(METHODS) | {BASELINE}
    table = backtest_table(real_rolling)
    assert len(table) == 9 * 3 and set(table["folds"]) == {3}
    for row in table.itertuples():
        assert 0 <= row.hit_rate <= 1
        assert row.area_share <= row.coverage + 1e-9
        assert row.pai >= 0 and row.pai_sd >= 0
        assert 0 <= row.pei <= 1 + 1e-9
    naive = real_rolling[BASELINE]["coverage"]
    default = real_rolling["grid-count"]["coverage"]
    # snap points recur: last months' busiest 50 m cells hold much of the next month
    assert naive[0.01]["pai"] > 45 and naive[0.05]["pei"] > 0.85
    # the default (tuned on training months) matches counting on the same folds
    for cov in (0.01, 0.03, 0.05):
        assert default[cov]["pai"] >= 0.97 * naive[cov]["pai"]
        best = max(r["coverage"][cov]["pai"] for r in real_rolling.values())
        assert default[cov]["pai"] >= 0.97 * best
    # KDE is tuned to a narrow bandwidth, never the 850 m rule-of-thumb blob
    assert {f["params"]["bandwidth"] for f in real_rolling["kde"]["folds"]} <= {100.0, 200.0}


def test_real_backtest_by_hotspot_rank(gloucester_periods, pack):
    train, test = gloucester_periods
    res = backtest(train, test, pack, methods=["gistar", "lisa"], rank_by="hotspots", tune=False)
    for name in ("gistar", "lisa"):
        for cov, m in res[name]["coverage"].items():
            assert m["area_share"] <= cov + 1e-9
            assert 0 <= m["pei"] <= 1 + 1e-9
    # Gi* hotspots are small: at 5 % they cannot fill the area, unlike the surface ranking
    assert res["gistar"]["coverage"][0.05]["area_share"] < 0.05


def test_default_at_50m_beats_100m_cells_on_the_same_months(gloucester_periods, pack):
    train, test = gloucester_periods
    res = backtest(
        train, test, pack, methods=["grid-count"], tune=False,
        method_params={"grid-count": {"cell_size": 100.0}},
    )
    coarse = res["grid-count"]["coverage"][0.01]["pai"]
    fine = res[BASELINE]["coverage"][0.01]["pai"]  # train counts on the 50 m cells
    assert fine > 1.4 * coarse


def test_layer_accuracy_in_plain_words(sample_ok, pack, box):
    acc = layer_accuracy(sample_ok, pack, "default")
    assert acc["method"] == "grid-count"
    assert [f["test"][0] for f in acc["folds"]] == ["2025-07", "2025-08", "2025-09"]
    one = acc["coverage"][0.01]
    assert one["pai"] > 40 and one["baseline_pai"] > 40 and 0 < one["pei"] <= 1
    assert acc["text"].startswith("Tested on 2025-07..2025-09, each month predicted from the 6")
    assert f"PAI {one['pai']:.0f} ± {one['pai_sd']:.0f}" in acc["text"]
    assert "counting the previous months on 50 m cells" in acc["text"]
    short = layer_accuracy(_recurring(1, "2025-01-01"), None, "kde", region=box)
    assert short == {
        "method": "kde",
        "text": "Not enough months to test this layer: it needs 9 months up to 2025-01, "
        "the data start in 2025-01.",
    }
