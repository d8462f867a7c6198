"""The hotspot layer: ranked hotspot polygons, the method's surface and its parameters.

Every hotspot method returns a :class:`HotspotLayer`. Maps, the API, the CLI and the
backtest read only this shape:

* ``hotspots``: polygons in EPSG:27700, one row per hotspot, ranked (``rank`` 1 =
  strongest by ``score``), with ``n_incidents``, ``area_m2``, ``snap_points``,
  ``top_snap_share``, ``single_snap_point``, ``label`` and the method's statistics.
* ``surface``: the full grid or area table with the method's statistic for every
  cell or area (``score`` is the column hotspots are ranked on), or ``None`` for
  point-cluster methods.
* ``parameters``: everything needed to reproduce and explain the layer (method,
  cell size and its rule, bandwidth and its rule, neighbours, permutations, seed,
  p-value adjustment, period, filters, incident count, region).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_ssgp.config import CRS_WGS84
from geo_ssgp.hotspots.grid import snap_summary

#: Columns every ``hotspots`` table starts with, in this order.
HOTSPOT_COLUMNS = [
    "rank",
    "score",
    "n_incidents",
    "area_m2",
    "snap_points",
    "top_snap_share",
    "single_snap_point",
    "label",
]


@dataclass
class HotspotLayer:
    """A ranked set of hotspots with the surface and parameters that produced them.

    Attributes
    ----------
    method : str
        Registry name of the method (``"grid-count"``, ``"kde"``, ...).
    hotspots : geopandas.GeoDataFrame
        Ranked hotspot polygons (see module docstring), EPSG:27700.
    parameters : dict
        JSON-safe description of how the layer was made.
    surface : geopandas.GeoDataFrame or None
        Per-cell or per-area statistic with a ``score`` column, EPSG:27700.
    """

    method: str
    hotspots: gpd.GeoDataFrame
    parameters: dict = field(default_factory=dict)
    surface: gpd.GeoDataFrame | None = None

    def to_geojson(self, include_surface: bool = False) -> dict:
        """The hotspots as a WGS84 GeoJSON FeatureCollection.

        Parameters
        ----------
        include_surface : bool
            Also return the surface as a second collection under ``"surface"``.

        Returns
        -------
        dict
            ``{"type": "FeatureCollection", "features": [...], "method": ...,
            "parameters": {...}}`` with JSON-safe values (NaN becomes ``null``).
        """
        out = frame_to_geojson(self.hotspots)
        out["method"] = self.method
        out["parameters"] = json_safe(self.parameters)
        if include_surface and self.surface is not None:
            out["surface"] = frame_to_geojson(self.surface)
        return out

    def cell_scores(self, grid) -> pd.Series:
        """The layer's ranking score on any grid, for ranking cells in a backtest.

        Each grid cell takes the ``score`` of the surface cell or area containing
        the cell's representative point or, for layers without a surface
        (point clusters) or with a surface of lines (street segments), the highest
        ``score`` of the features the cell intersects; cells outside every scored
        feature get NaN and are never selected.

        Parameters
        ----------
        grid : Grid or geopandas.GeoDataFrame
            Target grid (``Grid`` or its ``cells`` frame).

        Returns
        -------
        pandas.Series
            Float scores indexed like the grid's cells (name ``score``).
        """
        cells = grid.cells if hasattr(grid, "cells") else grid
        from_surface = self.surface is not None
        source = self.surface if from_surface else self.hotspots
        source = source[source["score"].notna()]
        out = pd.Series(np.nan, index=cells.index, name="score")
        if source.empty:
            return out
        tree = shapely.STRtree(source.geometry.values)
        if from_surface and source.geom_type.isin(["Polygon", "MultiPolygon"]).all():
            points = cells.geometry.representative_point().values
            cell_i, src_i = tree.query(points, predicate="within")
        else:
            cell_i, src_i = tree.query(cells.geometry.values, predicate="intersects")
        scores = pd.DataFrame({"cell": cell_i, "score": source["score"].to_numpy()[src_i]})
        best = scores.groupby("cell")["score"].max()  # overlapping polygons: strongest wins
        out.iloc[best.index.to_numpy()] = best.to_numpy(dtype=float)
        return out


def finish_hotspots(
    polygons: gpd.GeoDataFrame,
    incidents: gpd.GeoDataFrame,
    *,
    tie_break: list[str] | None = None,
) -> gpd.GeoDataFrame:
    """Add the common columns to a method's hotspot polygons and rank them.

    Parameters
    ----------
    polygons : geopandas.GeoDataFrame
        One row per hotspot with a ``score`` column (higher = stronger) and the
        method's own statistics, EPSG:27700.
    incidents : geopandas.GeoDataFrame
        The incidents the method used (for counts and snap points).
    tie_break : list of str, optional
        Extra columns, descending, to order equal scores (``n_incidents`` then the
        smaller area always follow).

    Returns
    -------
    geopandas.GeoDataFrame
        :data:`HOTSPOT_COLUMNS` first, then the method's columns, then geometry;
        sorted by rank, index 0..k-1, ``label`` empty (filled by the labeller).
    """
    hot = polygons.copy()
    summary = snap_summary(hot, incidents)
    for col in summary.columns:
        hot[col] = summary[col].to_numpy()
    hot["area_m2"] = hot.geometry.area.to_numpy()
    hot["label"] = ""
    keys = ["score", *(tie_break or []), "n_incidents", "area_m2"]
    ascending = [False] * (len(keys) - 1) + [True]
    hot = hot.sort_values(keys, ascending=ascending, kind="stable").reset_index(drop=True)
    hot["rank"] = np.arange(1, len(hot) + 1)
    own = [c for c in hot.columns if c not in HOTSPOT_COLUMNS and c != hot.geometry.name]
    hot = hot[HOTSPOT_COLUMNS + own + [hot.geometry.name]]
    hot["n_incidents"] = hot["n_incidents"].astype(np.int64)
    hot["snap_points"] = hot["snap_points"].astype(np.int64)
    hot["single_snap_point"] = hot["single_snap_point"].astype(bool)
    return gpd.GeoDataFrame(hot, geometry=polygons.geometry.name, crs=polygons.crs)


def json_safe(value: Any) -> Any:
    """Convert numpy/pandas scalars, timestamps and NaN to plain JSON values.

    Parameters
    ----------
    value : Any
        Nested dicts, lists and scalars.

    Returns
    -------
    Any
        The same structure with only ``dict``, ``list``, ``str``, ``int``, ``float``
        (finite), ``bool`` and ``None``; missing values (``None``, NaN, ``pd.NA``,
        ``NaT``) become ``None``.
    """
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, np.ndarray, pd.Index, pd.Series)):
        return [json_safe(v) for v in list(value)]
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, (pd.Timestamp, dt.date, dt.datetime)):
        return value.isoformat()
    return value if isinstance(value, str) else str(value)


def frame_to_geojson(frame: gpd.GeoDataFrame) -> dict:
    """A GeoDataFrame as a WGS84 FeatureCollection with JSON-safe properties.

    :meth:`geopandas.GeoDataFrame.to_geo_dict` builds the features (missing values as
    ``null``, no ids, no bounding boxes); :func:`json_safe` then converts what it leaves
    (timestamps, infinities, numpy values inside object columns, non-text keys), and the
    geometries get lists rather than tuples, exactly as they read back from JSON text.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame

    Returns
    -------
    dict
        A GeoJSON FeatureCollection (RFC 7946, lon/lat); empty geometries are ``null``.
    """
    doc = frame.to_crs(CRS_WGS84).to_geo_dict(na="null", drop_id=True)
    features = doc["features"]
    geometries = json.loads(json.dumps([f["geometry"] for f in features]))
    for feature, geometry in zip(features, geometries, strict=True):
        feature["properties"] = json_safe(feature["properties"])
        feature["geometry"] = geometry
    return doc
