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
