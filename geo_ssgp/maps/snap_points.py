"""Incidents grouped by police.uk snap point, as compact columns for the incident layer.

Police.uk publishes incidents at anonymised snap points, so many share coordinates:
:func:`snap_point_rows` sends one entry per distinct location with its incident count,
most common location text, crime-type breakdown and month span, coordinates written with
:func:`geo_ssgp.maps.codec.encode_ints`. ``geoSsgp.snapPoints`` in the map runtime draws
them as clustered circle markers and builds each popup on first opening.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_ssgp.config import CRS_BNG, CRS_WGS84
from geo_ssgp.maps.codec import SCALE, encode_ints
from geo_ssgp.maps.format import SNAP_POINT_NOTE, esc

_LETTERS = np.array(list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"), dtype=object)
_PREFIX = "On or near "


def _type_letters(codes: np.ndarray) -> pd.Series:
    """Letter per crime-type index (a-z, A-Z) for the compact per-point breakdown."""
    if len(codes) and codes.max() >= len(_LETTERS):
        raise ValueError(f"at most {len(_LETTERS)} crime types can be shown on one map")
    return pd.Series(_LETTERS[codes], dtype=object)


def _type_text(pts: pd.DataFrame) -> np.ndarray:
    """Crime type, with a local record's own category beside it when it differs.

    E.g. ``"Anti-social behaviour: Begging"`` for a Street Aware record.
    """
    kind = pts["crime_type"].astype(str)
    if "subcategory" not in pts:
        return kind.to_numpy()
    sub = pts["subcategory"].astype(object).where(pts["subcategory"].notna(), "").astype(str)
    differs = (sub != "") & (sub.str.lower() != kind.str.lower())
    return kind.where(~differs, kind + ": " + sub).to_numpy()


def _incident_frame(incidents: gpd.GeoDataFrame) -> pd.DataFrame:
    """One row per located incident: BNG x, y, crime type, location text, month, snap flag."""
    pts = incidents[~(incidents.geometry.is_empty | incidents.geometry.isna())]
    pts = pts.to_crs(CRS_BNG) if pts.crs is not None else pts
    snap = (
        pts["snap_point"].astype(object).where(pts["snap_point"].notna(), False).astype(bool)
        if "snap_point" in pts
        else pd.Series(False, index=pts.index)
    )
    loc = pts["location_text"].astype(object).where(pts["location_text"].notna(), "")
    return pd.DataFrame(
        {
            "x": pts.geometry.x.to_numpy(),
            "y": pts.geometry.y.to_numpy(),
            "type": _type_text(pts),
            "loc": loc.astype(str).to_numpy(),
            "month": pd.to_datetime(pts["month"]).dt.strftime("%Y-%m").to_numpy(),
            "snap": snap.to_numpy(),
        }
    )


def _points(frame: pd.DataFrame) -> pd.DataFrame:
    """Per distinct (x, y): count, month span, all-snap flag, location text, type codes."""
    points = frame.groupby(["x", "y"]).agg(
        n=("t", "size"), m0=("m", "min"), m1=("m", "max"), snap=("snap", "all")
    )
    # Most common location text per point (ties: alphabetical).
    locs = frame.groupby(["x", "y", "loc"]).size().rename("k").reset_index()
    locs = locs.sort_values(["k", "loc"], ascending=[False, True]).drop_duplicates(["x", "y"])
    points = points.join(locs.set_index(["x", "y"])["loc"])
    # Incidents per crime type at each point, largest first, as "a12c3" (type letter, count).
    by_type = frame.groupby(["x", "y", "t"]).size().rename("k").reset_index()
    by_type = by_type.sort_values(["k", "t"], ascending=[False, True], ignore_index=True)
    by_type["code"] = _type_letters(by_type["t"].to_numpy()) + by_type["k"].astype(str)
    points = points.join(by_type.groupby(["x", "y"])["code"].agg("".join))
    return points.reset_index()


def _page_coordinates(points: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Integer WGS84 latitude and longitude (``10**-DECIMALS`` degrees) of BNG points."""
    lonlat = gpd.GeoSeries(gpd.points_from_xy(points["x"], points["y"]), crs=CRS_BNG)
    lonlat = lonlat.to_crs(CRS_WGS84)
    lat = np.rint(lonlat.y.to_numpy() * SCALE).astype(np.int64)
    lon = np.rint(lonlat.x.to_numpy() * SCALE).astype(np.int64)
    return lat, lon


def _location_text(loc: pd.Series) -> tuple[str, pd.Series]:
    """The common prefix (``"On or near "``) if every text has it, and the escaped rest."""
    prefix = _PREFIX if len(loc) and loc.str.startswith(_PREFIX).all() else ""
    return prefix, loc.str.slice(len(prefix)).map(esc).replace("", "location not given")


def snap_point_rows(incidents: gpd.GeoDataFrame) -> dict:
    """Incidents grouped by identical location: one entry per snap point, in columns.

    Parameters
    ----------
    incidents : geopandas.GeoDataFrame
        Incidents (EPSG:27700) with ``crime_type``, ``location_text``, ``month`` and
        optionally ``snap_point``.

    Returns
    -------
    dict
        Columns over points sorted south to north: ``lat`` (first absolute, then differences,
        in ``10**-DECIMALS`` degrees) and ``lon`` (offsets from ``lon0``), both written with
        :func:`~geo_ssgp.maps.codec.encode_ints`, ``n`` (incidents),
        ``loc`` (most common location text, escaped, without the common ``prefix`` such as
        ``"On or near "``), ``t`` (incidents per crime type, largest first, as type letter
        ``a``, ``b``, ... indexing ``types`` followed by the count: ``"a12c3"``), ``m`` (index
        into ``spans`` of ``[first, last]`` month indexes into ``months``); ``exact`` lists
        the points whose incidents are not all police.uk snap points; ``note`` is the
        snap-point caveat. All text is HTML-escaped.
    """
    frame = _incident_frame(incidents)
    types = sorted(frame["type"].unique())
    months = sorted(frame["month"].unique())
    frame["t"] = pd.Categorical(frame["type"], categories=types).codes
    frame["m"] = pd.Categorical(frame["month"], categories=months).codes
    points = _points(frame)
    lat, lon = _page_coordinates(points)
    order = np.argsort(lat, kind="stable")
    points, lat, lon = points.iloc[order].reset_index(drop=True), lat[order], lon[order]
    lon0 = int(lon.min()) if len(lon) else 0
    spans, span_index = np.unique(
        points[["m0", "m1"]].to_numpy(dtype=int), axis=0, return_inverse=True
    )
    prefix, loc = _location_text(points["loc"].astype(str))
    return {
        "lat": encode_ints(np.diff(lat, prepend=0))[0],
        "lon": encode_ints(lon - lon0)[0],
        "lon0": lon0,
        "n": points["n"].astype(int).tolist(),
        "loc": loc.tolist(),
        "prefix": esc(prefix),
        "t": points["code"].tolist(),
        "m": np.asarray(span_index).ravel().astype(int).tolist(),
        "spans": spans.reshape(-1, 2).tolist(),
        "exact": np.flatnonzero(~points["snap"].to_numpy(dtype=bool)).tolist(),
        "types": [esc(t) for t in types],
        "months": [pd.Timestamp(m).strftime("%b %Y") for m in months],
        "note": esc(SNAP_POINT_NOTE),
    }
