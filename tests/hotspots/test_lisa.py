"""Local Moran's I (LISA): quadrants of constructed clusters and a direct esda call."""

from __future__ import annotations

import esda
import numpy as np
import pandas as pd

from geo_ssgp.hotspots import run_method
from geo_ssgp.hotspots.lisa import lisa_hotspots


def test_lisa_quadrants_for_a_cluster_inside_one_area_and_across_four(synth, box, squares):
    x0, y0, centre = synth.X0, synth.Y0, synth.CENTRE
    inside = synth.points(
        np.vstack([synth.uniform(5), synth.disc(9, (x0 + 1250, y0 + 1250), radius=100)])
    )
    layer = lisa_hotspots(inside, squares, permutations=999, seed=1)
    row = layer.surface.set_index("code").loc["A22"]
    assert row["quadrant"] == "HL"  # a high area with ordinary neighbours is an outlier
    assert "A22" not in set(layer.hotspots["code"])
    corner = synth.points(np.vstack([synth.uniform(5), synth.disc(9, (centre.x, centre.y))]))
    layer = lisa_hotspots(corner, squares, permutations=999, seed=1)
    assert set(layer.hotspots["code"]) == {"A44", "A45", "A54", "A55"}
    assert (layer.hotspots["quadrant"] == "HH").all()
    assert layer.surface["score"].notna().sum() == (layer.surface["quadrant"] == "HH").sum()


def test_real_lisa_equals_a_direct_esda_call(sample_ok, pack, real_lsoa_counts):
    lsoa, counts, w = real_lsoa_counts
    y = counts.to_numpy().astype(float)
    li = run_method("lisa", sample_ok, pack, label=False, permutations=999, seed=5)
    lm = esda.Moran_Local(y, w, transformation="r", permutations=999, seed=5)
    quads = pd.Series(lm.q).map({1: "HH", 2: "LH", 3: "LL", 4: "HL"}).to_numpy()
    lsurf = li.surface.set_index("code").loc[lsoa["code"]]
    assert (lsurf["quadrant"].to_numpy() == quads).all()
    assert np.allclose(lsurf["local_i"].to_numpy(), lm.Is)
    assert np.allclose(lsurf["p"].to_numpy(), np.minimum(1, 2 * lm.p_sim))
    assert (li.hotspots["quadrant"] == "HH").all() and len(li.hotspots) >= 1
    # the city-centre LSOA (most incidents) is a high-high hotspot
    assert counts.idxmax() in set(li.hotspots["code"])
