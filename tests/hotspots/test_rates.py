"""Per-area counts, rates per 1,000 residents and empirical-Bayes rates."""

from __future__ import annotations

import esda
import numpy as np
import pandas as pd
import pytest

from geo_ssgp.errors import BadInput
from geo_ssgp.hotspots.rates import area_values, count_in_areas


def test_area_rates_and_empirical_bayes(synth, squares):
    near_corner = synth.disc(1, (synth.X0 + 250, synth.Y0 + 250), n=100, radius=100)
    xy = np.vstack([synth.uniform(6, 500), near_corner])
    pop = pd.Series(1000.0, index=squares["code"])
    pop["A00"] = 50.0
    table = area_values(synth.points(xy), squares, value="eb_rate", population=pop)
    row = table.set_index("code").loc["A00"]
    assert row["rate_per_1000"] == pytest.approx(row["count"] / 50 * 1000)
    eb = esda.smoothing.Empirical_Bayes(table["count"].to_numpy(), table["population"].to_numpy())
    assert table["eb_rate_per_1000"].to_numpy() == pytest.approx(np.ravel(eb.r) * 1000)
    assert row["eb_rate_per_1000"] < row["rate_per_1000"]  # shrunk toward the mean
    assert table["value"].equals(table["eb_rate_per_1000"])
    assert table["count"].sum() == 600
    with pytest.raises(BadInput, match="population"):
        area_values(synth.points(xy), squares, value="rate")


def test_count_in_areas_counts_boundary_points_once(synth, squares):
    pts = synth.points(
        np.array([[synth.X0 + 500.0, synth.Y0 + 500.0], [synth.X0 + 10.0, synth.Y0 + 10.0]])
    )
    counts = count_in_areas(pts, squares)
    assert counts.sum() == 2
