"""Grid-count hotspots: densest cells merged into ranked polygons, snap points flagged."""

from __future__ import annotations

import numpy as np
import shapely

from geo_ssgp.hotspots import run_method


def test_grid_count_hotspots_carry_snap_point_columns(synth, box):
    x0, y0 = synth.X0, synth.Y0
    xy = np.vstack([synth.uniform(1, 300), np.tile([[x0 + 1210.0, y0 + 3310.0]], (60, 1))])
    layer = run_method("grid-count", synth.points(xy), region=box)
    top = layer.hotspots.iloc[0]
    assert top.geometry.contains(shapely.Point(x0 + 1210, y0 + 3310))
    assert top["single_snap_point"] and top["snap_points"] <= 3
    assert top["n_incidents"] >= 60 and top["count"] == top["n_incidents"]
