"""Street-segment hotspots: the busiest street segments, kept as lines.

A street segment (junction to junction, :func:`geo_ssgp.streets.street_segments`) is a
street unit, not an area: hotspots of this method are the segments' own lines, never
buffered into polygons (``area_m2`` is 0, ``length_m`` says how much street is marked).

* **Counts.** Incidents are snapped to the nearest segment within
  :data:`~geo_ssgp.streets.SNAP_DISTANCE_M` (name match preferred,
  :func:`~geo_ssgp.streets.snap_to_segments`); incidents farther from any street are left
  out and counted in the parameters. Police.uk points are anonymised snap points: a
  segment's incidents are "on or near" it, never at an address.
* **Score.** Incidents per km of segment (``per_km``); the busiest segments are taken
  until they reach ``coverage`` of the street length (default
  :data:`DEFAULT_STREET_COVERAGE`), keeping only segments with at least ``min_incidents``
  (default :data:`MIN_SEGMENT_INCIDENTS`), so a 3 m stub holding one incident is no
  hotspot.
* **Significance.** Every segment is tested against a street-length baseline
  (:func:`~geo_ssgp.hotspots.significance.segment_exceedance`: Poisson with expected
  count proportional to length, Benjamini-Hochberg over every segment of the region).
* **Label.** ``"<ward>: <street>"`` (:func:`~geo_ssgp.hotspots.label.segment_label`).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_ssgp.errors import BadInput, NotEnoughData
from geo_ssgp.hotspots.grid import SINGLE_SNAP_SHARE, region_geometry
from geo_ssgp.hotspots.label import segment_label
from geo_ssgp.hotspots.layer import HOTSPOT_COLUMNS, HotspotLayer
from geo_ssgp.hotspots.significance import (
    DEFAULT_ALPHA,
    segment_exceedance,
    street_significance_parameters,
)
from geo_ssgp.streets import SNAP_DISTANCE_M, segment_counts, snap_to_segments

#: Share of the region's street length marked as hotspots by default.
DEFAULT_STREET_COVERAGE = 0.02
#: Fewest incidents a hotspot segment holds.
MIN_SEGMENT_INCIDENTS = 3


def segments_in_region(
    segments: gpd.GeoDataFrame, region: gpd.GeoDataFrame | shapely.Geometry
) -> gpd.GeoDataFrame:
    """The segments whose midpoint lies in the region, index 0..n-1.

    Parameters
    ----------
    segments : geopandas.GeoDataFrame
        From :func:`geo_ssgp.streets.street_segments`.
    region : GeoDataFrame or shapely.Geometry
        Study region, EPSG:27700.

    Returns
    -------
    geopandas.GeoDataFrame
    """
    middle = shapely.line_interpolate_point(segments.geometry.values, 0.5, normalized=True)
    inside = shapely.contains(region_geometry(region), middle)
    return segments[inside].reset_index(drop=True)


def segment_surface(
    incidents: gpd.GeoDataFrame,
    segments: gpd.GeoDataFrame,
    *,
    model: str = "poisson",
    alpha: float = DEFAULT_ALPHA,
    max_distance_m: float = SNAP_DISTANCE_M,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Every segment's count, rate, test and ``score`` (incidents per km).

    Parameters
    ----------
    incidents : geopandas.GeoDataFrame
        Points, EPSG:27700.
    segments : geopandas.GeoDataFrame
        The region's segments (:func:`segments_in_region`).
    model : {"poisson", "nb"}
    alpha : float
        Cut on the adjusted p-value.
    max_distance_m : float
        Snapping distance.

    Returns
    -------
    (geopandas.GeoDataFrame, pandas.DataFrame)
        Segments with ``n_incidents``, ``per_km``, ``expected``, ``p_value``,
        ``p_adjusted``, ``significant`` and ``score``; and the snapping of each incident
        (:func:`~geo_ssgp.streets.snap_to_segments`).
    """
    if segments.empty:
        raise NotEnoughData("no street segments in the region")
    snapped = snap_to_segments(incidents, segments, max_distance_m)
    surface = segment_counts(incidents, segments, snapped, max_distance_m)
    tests = segment_exceedance(surface["n_incidents"], surface["length_m"], model)
    for col in ("expected", "p_value", "p_adjusted"):
        surface[col] = tests[col].to_numpy()
    surface["significant"] = surface["p_adjusted"] < alpha
    surface["score"] = surface["per_km"].astype(float)
    return surface, snapped


def _select(surface: pd.DataFrame, coverage: float, min_incidents: int) -> np.ndarray:
    """Positions of the busiest segments (per km) up to ``coverage`` of the street length."""
    order = np.lexsort((-surface["n_incidents"].to_numpy(), -surface["score"].to_numpy()))
    length = surface["length_m"].to_numpy()[order]
    within = np.cumsum(length) <= coverage * surface["length_m"].sum()
    busy = surface["n_incidents"].to_numpy()[order] >= min_incidents
    return order[within & busy]


def _snap_points(incidents: gpd.GeoDataFrame, snapped: pd.DataFrame) -> pd.DataFrame:
    """Per segment: distinct snap points and the share of its busiest one."""
    xy = shapely.get_coordinates(incidents.geometry.values)
    ids = snapped["segment_id"].to_numpy()
    pts = pd.DataFrame({"segment_id": ids, "x": xy[:, 0], "y": xy[:, 1]})
    per_point = pts.dropna(subset=["segment_id"]).value_counts(["segment_id", "x", "y"])
    by_seg = per_point.groupby(level="segment_id")
    return pd.DataFrame(
        {"snap_points": by_seg.size(), "top_snap_share": by_seg.max() / by_seg.sum()}
    )


def segment_hotspots(
    incidents: gpd.GeoDataFrame,
    segments: gpd.GeoDataFrame,
    *,
    coverage: float = DEFAULT_STREET_COVERAGE,
    min_incidents: int = MIN_SEGMENT_INCIDENTS,
    model: str = "poisson",
    alpha: float = DEFAULT_ALPHA,
    max_distance_m: float = SNAP_DISTANCE_M,
) -> HotspotLayer:
    """Street-segment hotspots: the busiest segments per km, as lines.

    Parameters
    ----------
    incidents : geopandas.GeoDataFrame
        Points, EPSG:27700 (``location_text`` helps the snapping).
    segments : geopandas.GeoDataFrame
        The region's street segments (:func:`segments_in_region`).
    coverage : float
        Largest share of the street length marked as hotspots.
    min_incidents : int
        Fewest incidents a hotspot segment holds.
    model : {"poisson", "nb"}
        Exceedance model of the significance test.
    alpha : float
        Cut on the adjusted p-value for ``significant``.
    max_distance_m : float
        Snapping distance in metres.

    Returns
    -------
    HotspotLayer
        Hotspots (LineStrings) with :data:`HOTSPOT_COLUMNS`, ``segment_id``, ``name``,
        ``ward_nm``, ``length_m``, ``per_km``, ``expected``, ``p_value``, ``p_adjusted``
        and ``significant``; ``score`` = ``per_km``. The surface holds every segment.

    Raises
    ------
    BadInput
        When ``coverage`` is not in (0, 1].
    NotEnoughData
        When the region holds no segment.
    """
    if not 0 < coverage <= 1:
        raise BadInput(f"coverage must be in (0, 1], got {coverage}", param="coverage")
    surface, snapped = segment_surface(
        incidents, segments, model=model, alpha=alpha, max_distance_m=max_distance_m
    )
    hot = surface.iloc[_select(surface, coverage, min_incidents)].reset_index(drop=True)
    snaps = _snap_points(incidents, snapped).reindex(hot["segment_id"])
    hot["snap_points"] = snaps["snap_points"].fillna(0).astype(np.int64).to_numpy()
    hot["top_snap_share"] = snaps["top_snap_share"].fillna(0.0).to_numpy()
    hot["single_snap_point"] = hot["top_snap_share"] >= SINGLE_SNAP_SHARE
    hot["area_m2"] = 0.0
    hot["rank"] = np.arange(1, len(hot) + 1)
    hot["label"] = segment_label(hot["ward_nm"], hot["name"], hot["road_class"]).to_numpy()
    own = ["segment_id", "name", "ward_nm", "length_m", "per_km", "expected"]
    own += ["p_value", "p_adjusted", "significant"]
    hot = gpd.GeoDataFrame(
        hot[HOTSPOT_COLUMNS + own + ["geometry"]], geometry="geometry", crs=segments.crs
    )
    params = {
        "method": "street-segments",
        "unit": "street segments (junction to junction), drawn as lines",
        "statistic": "incidents per km of segment",
        "selection": "busiest segments per km up to coverage of the street length",
        "coverage": float(coverage),
        "min_incidents": int(min_incidents),
        "score": "incidents per km of the segment",
        "snap_distance_m": float(max_distance_m),
        "n_segments": int(len(surface)),
        "street_km": float(surface["length_m"].sum() / 1000.0),
        "incidents_off_street": surface.attrs["n_unsnapped"],
        "significance": street_significance_parameters(model, alpha),
    }
    return HotspotLayer("street-segments", hot, params, surface)


__all__ = [
    "DEFAULT_STREET_COVERAGE",
    "MIN_SEGMENT_INCIDENTS",
    "segment_hotspots",
    "segment_surface",
    "segments_in_region",
]
