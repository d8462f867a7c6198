"""The naive Folium baseline the map benchmarks compare against (not part of the package).

Import from a benchmark script run as ``python benchmarks/<name>.py``: the script's own
folder is on ``sys.path``, so ``from naive_map import naive_map`` works.
"""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from folium.plugins import MarkerCluster

from geo_ssgp.config import CRS_WGS84
from geo_ssgp.maps.format import esc


def naive_map(incidents: gpd.GeoDataFrame) -> folium.Map:
    """The straightforward Folium map: one clustered marker with a popup per incident.

    Uses Folium's defaults (CDN assets, OpenStreetMap tiles): the baseline for page size
    and render time in ``benchmarks/bench_maps.py`` and ``benchmarks/bench_api.py``.

    Parameters
    ----------
    incidents : geopandas.GeoDataFrame
        Incidents (EPSG:27700) with ``crime_type``, ``location_text``, ``month``.

    Returns
    -------
    folium.Map
    """
    pts = incidents.to_crs(CRS_WGS84)
    west, south, east, north = pts.total_bounds
    fmap = folium.Map(location=[(south + north) / 2, (west + east) / 2], zoom_start=12)
    texts = (
        pts["crime_type"].astype(str)
        + ", "
        + pd.to_datetime(pts["month"]).dt.strftime("%Y-%m")
        + ", "
        + pts["location_text"].fillna("").astype(str)
    ).map(esc)
    MarkerCluster(
        locations=np.column_stack([pts.geometry.y, pts.geometry.x]).tolist(),
        popups=texts.tolist(),
        name="Incidents",
    ).add_to(fmap)
    return fmap
