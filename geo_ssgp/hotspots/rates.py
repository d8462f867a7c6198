"""Per-area incident counts, rates per 1,000 residents and empirical-Bayes rates.

Points are assigned to the area polygon that covers them (a point on a shared edge
goes to the first area in code order, so each point is counted once). Rates are per
1,000 residents of the population table the pack names (Census 2021 for LSOA 2021).
The empirical-Bayes rate is esda's global (aspatial) ``Empirical_Bayes`` smoother
(Marshall 1991): each raw rate is shrunk toward the overall rate, more strongly for
areas with few residents.
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from esda.smoothing import Empirical_Bayes

from geo_ssgp.config import CRS_BNG
from geo_ssgp.errors import BadInput
from geo_ssgp.hotspots.grid import point_xy

VALUES = ("count", "rate", "eb_rate")


def count_in_areas(incidents: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> np.ndarray:
    """Incidents per area polygon.

    Parameters
    ----------
    incidents : geopandas.GeoDataFrame
        Points in EPSG:27700.
    areas : geopandas.GeoDataFrame
        Polygons in EPSG:27700.

    Returns
    -------
    numpy.ndarray
        Counts aligned with the rows of ``areas``; each point counted at most once.
    """
    x, y = point_xy(incidents)
    points = shapely.points(x, y)
    tree = shapely.STRtree(areas.geometry.values)
    pt_i, area_i = tree.query(points, predicate="intersects")
    first = pd.DataFrame({"pt": pt_i, "area": area_i}).sort_values(["pt", "area"])
    first = first.drop_duplicates("pt")
    return np.bincount(first["area"].to_numpy(), minlength=len(areas))


def area_values(
    incidents: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    *,
    value: str = "count",
    population: pd.Series | None = None,
) -> gpd.GeoDataFrame:
    """Counts, rates and empirical-Bayes rates per area, with the analysed ``value``.

    Parameters
    ----------
    incidents : geopandas.GeoDataFrame
        Points in EPSG:27700.
    areas : geopandas.GeoDataFrame
        Area polygons with ``code`` and ``name``.
    value : {"count", "rate", "eb_rate"}
        Which column is copied to ``value`` for the statistics.
    population : pandas.Series, optional
        Residents by area code; required for ``rate`` and ``eb_rate``.

    Returns
    -------
    geopandas.GeoDataFrame
        ``code``, ``name``, ``count``, ``population``, ``rate_per_1000``,
        ``eb_rate_per_1000``, ``value``, geometry; index 0..n-1 in ``areas`` order.
    """
    if value not in VALUES:
        raise BadInput(f"value must be one of {VALUES}, not {value!r}", param="value")
    table = gpd.GeoDataFrame(
        areas[["code", "name"]].reset_index(drop=True),
        geometry=areas.geometry.to_crs(CRS_BNG).reset_index(drop=True),
        crs=CRS_BNG,
    )
    table["count"] = count_in_areas(incidents, table)
    if population is None:
        if value != "count":
            raise BadInput(f"value={value!r} needs a population table", param="value")
        table["population"] = np.nan
        table["rate_per_1000"] = np.nan
        table["eb_rate_per_1000"] = np.nan
    else:
        table["population"] = table["code"].map(population).astype(float)
        missing = table.loc[table["population"].isna() | (table["population"] <= 0), "code"]
        if len(missing) and value != "count":
            raise ValueError(f"no population for areas {list(missing)[:5]}")
        table["rate_per_1000"] = table["count"] / table["population"] * 1000.0
        table["eb_rate_per_1000"] = eb_rates(table["count"], table["population"]) * 1000.0
    table["value"] = table[
        {"count": "count", "rate": "rate_per_1000", "eb_rate": "eb_rate_per_1000"}[value]
    ].astype(float)
    cols = ["code", "name", "count", "population", "rate_per_1000", "eb_rate_per_1000", "value"]
    return table[cols + ["geometry"]]


def eb_rates(events: pd.Series, population: pd.Series) -> np.ndarray:
    """Global empirical-Bayes smoothed rates (esda ``Empirical_Bayes``).

    Parameters
    ----------
    events : pandas.Series
        Incidents per area.
    population : pandas.Series
        Residents per area (NaN or non-positive areas get NaN).

    Returns
    -------
    numpy.ndarray
        Smoothed rates per resident.
    """
    e = np.asarray(events, dtype=float)
    b = np.asarray(population, dtype=float)
    ok = np.isfinite(b) & (b > 0)
    out = np.full(len(e), np.nan)
    if ok.sum() >= 2:
        out[ok] = np.asarray(Empirical_Bayes(e[ok], b[ok]).r, dtype=float).ravel()
    return out


def area_weights(table: gpd.GeoDataFrame):
    """Binary queen contiguity weights of area polygons.

    Parameters
    ----------
    table : geopandas.GeoDataFrame
        Areas with index 0..n-1.

    Returns
    -------
    libpysal.weights.W
        ``Queen.from_dataframe(table, use_index=True)``, binary.
    """
    from libpysal.weights import Queen

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # islands and disconnected components are allowed
        w = Queen.from_dataframe(table, use_index=True)
    w.transform = "B"
    return w
