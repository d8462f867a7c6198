"""Change between two periods: hotspots matched by overlap, the change in counts tested."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from geo_ssgp.hotspots import run_method
from geo_ssgp.hotspots.change import compare_periods, period_months


def test_compare_periods_matches_by_overlap_and_tests_the_change(synth, box):
    x0, y0 = synth.X0, synth.Y0
    a_xy = np.vstack(
        [
            synth.uniform(1, 300),
            synth.disc(1, (x0 + 1050, y0 + 1050), 120, 40),
            synth.disc(2, (x0 + 4050, y0 + 4050), 80, 40),
        ]
    )
    b_xy = np.vstack(
        [
            synth.uniform(2, 150),
            synth.disc(3, (x0 + 1050, y0 + 1050), 30, 40),
            synth.disc(4, (x0 + 2550, y0 + 4050), 60, 40),
        ]
    )
    pa = synth.points(a_xy, "2025-01-01")
    pb = synth.points(b_xy, "2025-07-01")
    la = run_method("grid-count", pa, region=box, threshold=8)
    lb = run_method("grid-count", pb, region=box, threshold=8)
    la.parameters["period"] = {"from": "2025-01", "to": "2025-06"}
    lb.parameters["period"] = {"from": "2025-07", "to": "2025-09"}
    assert period_months(la.parameters) == 6 and period_months(lb.parameters) == 3
    out = compare_periods(la, lb, pa, pb)
    assert set(out["status"]) == {"persistent", "new", "gone"}
    here = out[out.intersects(shapely.Point(x0 + 1050, y0 + 1050))].iloc[0]
    assert here["status"] == "persistent" and here["rank_before"] == 1
    assert here["n_after"] < here["n_before"] and here["change"] < 0
    assert here["rate_ratio"] == pytest.approx((here["n_after"] / 3) / (here["n_before"] / 6))
    new = out[out.intersects(shapely.Point(x0 + 2550, y0 + 4050))].iloc[0]
    assert new["status"] == "new" and pd.isna(new["rank_before"])
    assert new["n_after"] >= 60 and new["p_change"] < 0.001
    gone = out[out.intersects(shapely.Point(x0 + 4050, y0 + 4050))].iloc[0]
    assert gone["status"] == "gone" and pd.isna(gone["rank"]) and gone["n_before"] >= 80


def test_change_test_false_positive_rate_on_one_poisson_process():
    """Two periods (6 and 3 months) from the same rates: at most 5 % called a change."""
    from geo_ssgp.hotspots.change import NO_CHANGE, change_test

    rng = np.random.default_rng(42)
    rate = rng.gamma(0.8, 3.0, 4000)  # per month, many small and a few large places
    n_a, n_b = rng.poisson(rate * 6), rng.poisson(rate * 3)
    out = change_test(n_a, n_b, 6, 3)
    tested = out["p_value"].notna()
    assert (out.loc[tested, "p_value"] < 0.05).mean() <= 0.05
    assert (out["change_class"] == NO_CHANGE).mean() >= 0.99  # after BH
    assert out.loc[~tested, ["before", "after"]].sum().sum() == 0  # untested: nothing in either


def test_change_test_finds_planted_changes_per_month():
    from geo_ssgp.hotspots.change import DECREASE, INCREASE, NO_CHANGE, change_test

    # 60 in 6 months then 30 in 3 months: the same 10 a month, not a fall
    out = change_test([60, 60, 60, 0], [30, 90, 5, 0], 6, 3)
    assert out["change_class"].tolist() == [NO_CHANGE, INCREASE, DECREASE, NO_CHANGE]
    assert out["rate_ratio"].iloc[0] == pytest.approx(1.0)
    assert out["before_per_month"].iloc[1] == 10 and out["after_per_month"].iloc[1] == 30
    assert np.isnan(out["p_value"].iloc[3])


def test_pack_change_cells_lsoas_and_hotspots(sample_geocoded, pack):
    from geo_ssgp.errors import BadInput
    from geo_ssgp.filters import Filters
    from geo_ssgp.hotspots.change import change_geojson, pack_change

    before, after = Filters.of("2025-01", "2025-06"), Filters.of("2025-07", "2025-09")
    cells = pack_change(sample_geocoded, pack, before, after, cell_size=250)
    ok = sample_geocoded[sample_geocoded["status"] == "ok"]
    assert cells["before"].sum() == len(before.apply(ok))
    assert cells["after"].sum() == len(after.apply(ok))
    assert "compared per month" in cells.attrs["parameters"]["note"]
    # cells with a significant change are named on the ground, the others are not labelled
    changed = cells["change_class"] != "no significant change"
    assert changed.sum() == 5 and (cells.loc[changed, "label"] != "").all()
    assert (cells.loc[~changed, "label"] == "").all()
    assert any("Widden Street" in label for label in cells.loc[changed, "label"])
    lsoas = pack_change(sample_geocoded, pack, before, after, unit="lsoa")
    assert lsoas["code"].str.startswith("E01").all()
    spots = pack_change(sample_geocoded, pack, before, after, unit="hotspot")
    assert "pooled" in spots.attrs["parameters"]["selection"]
    assert (spots["before"] + spots["after"] > 0).all()
    doc = change_geojson(spots)
    props = doc["features"][0]["properties"]
    assert {"before", "after", "p_value", "p_adjusted", "change_class"} <= set(props)
    with pytest.raises(BadInput, match="must end before"):
        pack_change(sample_geocoded, pack, after, before)
