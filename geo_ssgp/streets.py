"""Street segments: the pack's OSM streets split at junctions, incidents snapped to them.

This stage owns the street unit of analysis (Weisburd's "law of crime concentration": about
half of crime falls on a few per cent of street segments).

* :func:`street_segments` splits the pack's street lines (``[streets]``, OpenStreetMap) at
  junctions: the lines are noded wherever they meet, and pieces are joined again through
  points where exactly two pieces of the *same* street meet; slivers shorter than
  :data:`MIN_SEGMENT_M` are dropped. A segment therefore runs from
  junction (or dead end, or change of street name) to junction. Its ``segment_id`` is
  derived from its geometry (``seg-`` + 12 hex digits of the SHA-1 of its normalised
  coordinates rounded to 0.1 m), so the same OSM file always gives the same ids.
* :func:`snap_to_segments` puts each incident on the nearest segment within
  :data:`SNAP_DISTANCE_M`, **preferring a segment whose name matches** police.uk's
  "On or near <street>" text; the distance and whether the name matched are kept.
  Police.uk points are anonymised snap points on streets: a snapped incident is "on or
  near" the segment, never at an address.
* :func:`segment_counts` counts incidents per segment and per km of segment.
* :func:`concentration_curve` and :func:`concentration` answer "what share of incidents
  lies on the busiest x% of street length (or of segments)?" for the district, each ward
  and each crime type.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import lru_cache

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_ssgp.config import CRS_BNG
from geo_ssgp.errors import BadInput, NotEnoughData
from geo_ssgp.filters import Filters
from geo_ssgp.geocode import inside_area
from geo_ssgp.pack import AreaPack, load_layer, load_streets

#: What the concentration figures answer, shown beside them in the CLI, API and notebook.
QUESTION = (
    "What share of incidents lies on the busiest x% of street length (segments ranked by "
    "incidents per km) or of street segments (ranked by count)? Police.uk points are "
    "anonymised snap points: few segments can hold incidents at all, so concentration "
    "is partly a property of the snapping, not only of crime."
)

#: Largest distance (m) from an incident to the segment it is snapped to. Police.uk points
#: whose street name matches an OSM street lie a median 1.1 m from it; 93% of Gloucester's
#: 2025-01..09 incidents lie within 30 m of a segment, and most of the rest are off-street
#: points ("Supermarket", "Shopping Area", "Petrol Station"), left unsnapped.
SNAP_DISTANCE_M = 30.0

#: Segments shorter than this (m) are noding slivers where OSM lines nearly coincide; dropped.
MIN_SEGMENT_M = 1.0

#: Points of the concentration curve reported by :func:`concentration` (share of length).
REPORT_SHARES = (0.01, 0.05, 0.10, 0.20)

#: Share of the street length the analyst map's street-segment layer draws (busiest per km).
MAP_STREET_SHARE = 0.05
#: Fewest incidents a segment drawn on the map holds (a 5 m stub with one incident is not
#: drawn, though it counts in the shares).
MAP_MIN_INCIDENTS = 3

_PREFIX = re.compile(r"^\s*on or near\s+", re.IGNORECASE)
_SPACE = re.compile(r"\s+")


def street_key(text: pd.Series | str) -> pd.Series | str:
    """A street name normalised for matching: lower case, single spaces, no "On or near".

    Parameters
    ----------
    text : str or pandas.Series of str
        Police.uk ``location_text`` ("On or near Barnett Way") or an OSM street name.

    Returns
    -------
    str or pandas.Series
        ``"barnett way"``; ``""`` for missing text.
    """
    if isinstance(text, str):
        return _SPACE.sub(" ", _PREFIX.sub("", text)).strip().lower()
    clean = text.astype("string").fillna("").str.replace(_PREFIX, "", regex=True)
    return clean.str.replace(_SPACE, " ", regex=True).str.strip().str.lower()


def _segment_id(geom: shapely.LineString | shapely.MultiLineString) -> str:
    coords = np.round(shapely.get_coordinates(shapely.normalize(geom)), 1)
    return "seg-" + hashlib.sha1(coords.tobytes()).hexdigest()[:12]


def _pieces(streets: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Street lines noded at every crossing, each piece with its street's attributes."""
    parts = streets.explode(index_parts=False).reset_index(drop=True)
    parts = parts[~parts.geometry.is_empty & (parts.geometry.length > 0)]
    noded = shapely.get_parts(shapely.node(shapely.MultiLineString(list(parts.geometry.values))))
    noded = noded[shapely.length(noded) > 0.01]
    tree = shapely.STRtree(parts.geometry.values)
    middle = shapely.line_interpolate_point(noded, 0.5, normalized=True)
    source = parts.iloc[tree.query_nearest(middle, all_matches=False)[1]]
    return gpd.GeoDataFrame(
        {
            "name": source["name"].to_numpy(),
            "road_class": source["road_class"].to_numpy(),
        },
        geometry=noded,
        crs=CRS_BNG,
    )


def _root(parent: np.ndarray, i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def _chains(pieces: gpd.GeoDataFrame) -> np.ndarray:
    """Group label per piece: pieces joined through 2-piece nodes of the same street."""
    geoms = pieces.geometry.values
    ends = np.vstack(
        [
            shapely.get_coordinates(shapely.get_point(geoms, 0)),
            shapely.get_coordinates(shapely.get_point(geoms, -1)),
        ]
    )
    keys = pd.Series([f"{x:.2f},{y:.2f}" for x, y in np.round(ends, 2)])
    piece = np.concatenate([np.arange(len(geoms)), np.arange(len(geoms))])
    by_node = pd.DataFrame({"node": keys, "piece": piece}).groupby("node")["piece"]
    pairs = by_node.agg(list)
    pairs = pairs[pairs.map(len) == 2]
    names = pieces["name"].fillna("").to_numpy()
    parent = np.arange(len(geoms))
    for a, b in pairs:
        if a != b and names[a] == names[b]:
            parent[_root(parent, a)] = _root(parent, b)
    return np.array([_root(parent, i) for i in range(len(geoms))])


@lru_cache(maxsize=8)
def _segments_cached(pack: AreaPack) -> gpd.GeoDataFrame:
    pieces = _pieces(load_streets(pack))
    pieces["chain"] = _chains(pieces)
    merged = pieces.groupby("chain").agg(
        name=("name", "first"),
        road_class=("road_class", "first"),
        geometry=("geometry", lambda g: shapely.line_merge(shapely.union_all(list(g)))),
    )
    segs = gpd.GeoDataFrame(merged.reset_index(drop=True), geometry="geometry", crs=CRS_BNG)
    segs["segment_id"] = [_segment_id(g) for g in segs.geometry.values]
    segs["length_m"] = segs.geometry.length
    segs = segs[segs["length_m"] >= MIN_SEGMENT_M].drop_duplicates("segment_id")
    segs["ward_cd"], segs["ward_nm"] = _wards(pack, segs)
    segs["in_area"] = _in_area(pack, segs)
    cols = ["segment_id", "name", "road_class", "ward_cd", "ward_nm", "in_area", "length_m"]
    cols.append("geometry")
    return segs[cols].sort_values("segment_id", ignore_index=True)


def _wards(pack: AreaPack, segs: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The ward holding each segment's midpoint (``""`` outside every ward or without wards)."""
    code = np.full(len(segs), "", dtype=object)
    name = np.full(len(segs), "", dtype=object)
    if not pack.has("layers", "ward"):
        return code, name
    wards = load_layer(pack, "ward")
    middle = shapely.line_interpolate_point(segs.geometry.values, 0.5, normalized=True)
    seg_i, ward_i = shapely.STRtree(wards.geometry.values).query(middle, predicate="within")
    code[seg_i] = wards["code"].to_numpy()[ward_i]
    name[seg_i] = wards["name"].to_numpy()[ward_i]
    return code, name


def _in_area(pack: AreaPack, segs: gpd.GeoDataFrame) -> np.ndarray:
    """Whether each segment's midpoint lies in one of the pack's districts."""
    districts = load_layer(pack, "district")
    districts = districts[districts["code"].isin(pack.district_codes)]
    middle = shapely.line_interpolate_point(segs.geometry.values, 0.5, normalized=True)
    seg_i, _ = shapely.STRtree(districts.geometry.values).query(middle, predicate="within")
    inside = np.zeros(len(segs), dtype=bool)
    inside[seg_i] = True
    return inside


def street_segments(pack: AreaPack) -> gpd.GeoDataFrame:
    """The pack's streets split at junctions into segments with stable ids.

    Parameters
    ----------
    pack : AreaPack
        A pack with a ``[streets]`` layer.

    Returns
    -------
    geopandas.GeoDataFrame
        ``segment_id``, ``name`` (OSM, may be missing), ``road_class`` (OSM ``highway``),
        ``ward_cd``/``ward_nm`` (ward holding the segment's midpoint, ``""`` outside the
        pack's wards), ``in_area`` (midpoint in the pack's districts), ``length_m`` and
        (Multi)LineString geometry in EPSG:27700, sorted
        by ``segment_id``. A copy (cached per pack).

    Raises
    ------
    PackError
        When the pack has no street layer.
    """
    return _segments_cached(pack).copy()


def snap_to_segments(
    incidents: gpd.GeoDataFrame,
    segments: gpd.GeoDataFrame,
    max_distance_m: float = SNAP_DISTANCE_M,
) -> pd.DataFrame:
    """Each incident's street segment: nearest within a distance, name match preferred.

    Among the segments within ``max_distance_m`` of the point, one whose name matches the
    street in ``location_text`` ("On or near <street>") wins; otherwise the nearest one.
    Incidents sharing a point and text are snapped once.

    Parameters
    ----------
    incidents : geopandas.GeoDataFrame
        Points in EPSG:27700 with ``location_text`` (optional: without it no name match).
    segments : geopandas.GeoDataFrame
        From :func:`street_segments`.
    max_distance_m : float
        Largest snapping distance in metres.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``incidents``: ``segment_id`` (``<NA>`` when no segment is within
        the distance), ``snap_distance_m`` (NaN then) and ``name_match`` (bool).

    Raises
    ------
    BadInput
        When ``max_distance_m`` is not positive.
    """
    if not max_distance_m > 0:
        raise BadInput(f"snapping distance must be positive, got {max_distance_m}")
    xy = shapely.get_coordinates(incidents.geometry.values)
    text = (
        incidents["location_text"]
        if "location_text" in incidents
        else pd.Series("", index=incidents.index)
    )
    keys = pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1], "street": street_key(text).to_numpy()})
    unique = keys.drop_duplicates(ignore_index=True)
    best = _snap_unique(unique, segments, max_distance_m)
    out = keys.merge(best, on=["x", "y", "street"], how="left")
    out.index = incidents.index
    out["name_match"] = out["name_match"].fillna(False).astype(bool)
    return out[["segment_id", "snap_distance_m", "name_match"]]


def _snap_unique(points: pd.DataFrame, segments: gpd.GeoDataFrame, distance: float) -> pd.DataFrame:
    geoms = shapely.points(points["x"].to_numpy(), points["y"].to_numpy())
    lines = segments.geometry.values
    pt, seg = shapely.STRtree(lines).query(geoms, predicate="dwithin", distance=distance)
    cand = pd.DataFrame(
        {
            "point": pt,
            "segment_id": segments["segment_id"].to_numpy()[seg],
            "snap_distance_m": shapely.distance(geoms[pt], lines[seg]),
            "name_match": street_key(segments["name"]).to_numpy()[seg]
            == points["street"].to_numpy()[pt],
        }
    )
    cand["name_match"] &= points["street"].to_numpy()[pt] != ""
    cand = cand.sort_values(
        ["point", "name_match", "snap_distance_m"], ascending=[True, False, True]
    )
    chosen = cand.drop_duplicates("point").set_index("point")
    out = points.copy()
    out["segment_id"] = chosen["segment_id"].reindex(out.index).astype("string")
    out["snap_distance_m"] = chosen["snap_distance_m"].reindex(out.index)
    out["name_match"] = chosen["name_match"].reindex(out.index)
    return out


def segment_counts(
    incidents: gpd.GeoDataFrame,
    segments: gpd.GeoDataFrame,
    snapped: pd.DataFrame | None = None,
    max_distance_m: float = SNAP_DISTANCE_M,
) -> gpd.GeoDataFrame:
    """Incidents per street segment and per km of segment.

    Parameters
    ----------
    incidents : geopandas.GeoDataFrame
        Points in EPSG:27700.
    segments : geopandas.GeoDataFrame
        From :func:`street_segments`.
    snapped : pandas.DataFrame, optional
        :func:`snap_to_segments` of these incidents (computed when not given).
    max_distance_m : float
        Snapping distance when ``snapped`` is computed here.

    Returns
    -------
    geopandas.GeoDataFrame
        ``segments`` with ``n_incidents`` and ``per_km`` (incidents per km of the
        segment), every segment kept (zeros included). ``attrs`` holds ``n_snapped``,
        ``n_unsnapped``, ``n_name_match`` and ``max_distance_m``.
    """
    if snapped is None:
        snapped = snap_to_segments(incidents, segments, max_distance_m)
    counts = snapped["segment_id"].dropna().value_counts()
    out = segments.copy()
    out["n_incidents"] = counts.reindex(out["segment_id"]).fillna(0).astype(int).to_numpy()
    out["per_km"] = out["n_incidents"] / (out["length_m"] / 1000.0)
    out.attrs = {
        "n_snapped": int(snapped["segment_id"].notna().sum()),
        "n_unsnapped": int(snapped["segment_id"].isna().sum()),
        "n_name_match": int(snapped["name_match"].sum()),
        "max_distance_m": float(max_distance_m),
    }
    return out


def concentration_curve(counts: pd.DataFrame, by: str = "length") -> pd.DataFrame:
    """Cumulative share of incidents against cumulative share of street (Lorenz-type curve).

    Parameters
    ----------
    counts : pandas.DataFrame
        ``n_incidents`` and ``length_m`` per segment (:func:`segment_counts`).
    by : {"length", "segments"}
        ``"length"``: segments ranked by incidents per km, x = share of street length.
        ``"segments"``: segments ranked by count, x = share of segments.

    Returns
    -------
    pandas.DataFrame
        ``street_share`` and ``incident_share`` from (0, 0) to (1, 1), one row per
        segment plus the origin.

    Raises
    ------
    NotEnoughData
        When there are no segments or no incidents on them.
    """
    if by not in ("length", "segments"):
        raise BadInput(f"concentration is by 'length' or 'segments', not {by!r}")
    n = counts["n_incidents"].to_numpy(dtype=float)
    length = counts["length_m"].to_numpy(dtype=float)
    if len(n) == 0 or n.sum() == 0:
        raise NotEnoughData("no incidents on street segments: no concentration curve")
    if by == "length":
        order = _by_rate(n, length)
        weight = length[order]
    else:
        order = np.argsort(-n, kind="stable")
        weight = np.ones(len(n))
    x = np.concatenate([[0.0], np.cumsum(weight) / weight.sum()])
    y = np.concatenate([[0.0], np.cumsum(n[order]) / n.sum()])
    return pd.DataFrame({"street_share": x, "incident_share": y})


def _by_rate(n: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Segment positions by incidents per km, highest first (longer first on a tie)."""
    return np.lexsort((-length, -(n / length)))


def busiest_segments(
    counts: gpd.GeoDataFrame,
    street_share: float = MAP_STREET_SHARE,
    min_incidents: int = MAP_MIN_INCIDENTS,
) -> gpd.GeoDataFrame:
    """The busiest segments per km that together make up ``street_share`` of the street.

    The segments at the top of the concentration curve by length
    (:func:`concentration_curve`): ranked by incidents per km, taken while their
    cumulative length stays within ``street_share`` of the length of all ``counts``.
    Segments holding fewer than ``min_incidents`` are not returned, but count in the
    cumulative shares, so the shares are the curve's.

    Parameters
    ----------
    counts : geopandas.GeoDataFrame
        :func:`segment_counts` of every segment of the area (zeros included).
    street_share : float
        Share of the street length, in (0, 1].
    min_incidents : int
        Fewest incidents of a returned segment (at least 1).

    Returns
    -------
    geopandas.GeoDataFrame
        The selected rows of ``counts``, busiest per km first, with ``street_share`` and
        ``incident_share``: the cumulative shares of street length and of incidents up
        to and including each segment. ``attrs`` holds ``street_share``,
        ``min_incidents`` and ``incident_share`` (of the whole selection).
    """
    if not 0 < street_share <= 1:
        raise BadInput(f"street_share must be in (0, 1], got {street_share}", "street_share")
    n = counts["n_incidents"].to_numpy(dtype=float)
    length = counts["length_m"].to_numpy(dtype=float)
    order = _by_rate(n, length)
    top = counts.iloc[order].reset_index(drop=True)
    top["street_share"] = np.cumsum(length[order]) / length.sum()
    top["incident_share"] = np.cumsum(n[order]) / max(n.sum(), 1.0)
    within = (top["street_share"] <= street_share).to_numpy()
    out = top[within & (top["n_incidents"] >= max(min_incidents, 1)).to_numpy()]
    held = float(top.loc[within, "incident_share"].max()) if within.any() else 0.0
    out.attrs = {
        **counts.attrs,
        "street_share": street_share,
        "min_incidents": min_incidents,
        "incident_share": held,
    }
    return out


def share_on_top(curve: pd.DataFrame, street_share: float) -> float:
    """Share of incidents on the busiest ``street_share`` of street (linear within a segment)."""
    return float(np.interp(street_share, curve["street_share"], curve["incident_share"]))


def street_share_for(curve: pd.DataFrame, incident_share: float) -> float:
    """Smallest share of street holding ``incident_share`` of the incidents."""
    return float(np.interp(incident_share, curve["incident_share"], curve["street_share"]))


def _summary(counts: pd.DataFrame) -> dict:
    by_length = concentration_curve(counts, "length")
    by_segment = concentration_curve(counts, "segments")
    row = {
        "n_incidents": int(counts["n_incidents"].sum()),
        "n_segments": int(len(counts)),
        "street_km": float(counts["length_m"].sum() / 1000.0),
        "segments_with_incidents": int((counts["n_incidents"] > 0).sum()),
    }
    for share in REPORT_SHARES:
        row[f"top_{share:.0%}_length"] = share_on_top(by_length, share)
        row[f"top_{share:.0%}_segments"] = share_on_top(by_segment, share)
    row["length_for_half"] = street_share_for(by_length, 0.5)
    row["segments_for_half"] = street_share_for(by_segment, 0.5)
    return row


def concentration(
    incidents: gpd.GeoDataFrame,
    segments: gpd.GeoDataFrame,
    group_by: str | None = None,
    snapped: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Concentration of incidents on street segments, for the district or per group.

    Parameters
    ----------
    incidents : geopandas.GeoDataFrame
        Points in EPSG:27700 (``location_text``; ``crime_type`` for ``group_by``).
    segments : geopandas.GeoDataFrame
        From :func:`street_segments` (the district's street network).
    group_by : {None, "ward", "crime_type"}
        ``None``: one row for all segments. ``"ward"``: one row per ward, over the
        segments whose midpoint lies in it. ``"crime_type"``: one row per crime type,
        over all segments.
    snapped : pandas.DataFrame, optional
        :func:`snap_to_segments` of ``incidents`` (computed when not given).

    Returns
    -------
    pandas.DataFrame
        One row per group (``group``; ``"all"`` without grouping): ``n_incidents``,
        ``n_segments``, ``street_km``, ``segments_with_incidents``, the share of
        incidents on the busiest 1/5/10/20 % of street length (``top_5%_length``, ranked
        by incidents per km) and of segments (``top_5%_segments``, ranked by count), and
        the share of length / segments holding half the incidents. Groups without
        incidents are left out. Sorted by ``n_incidents`` descending.
    """
    if group_by not in (None, "ward", "crime_type"):
        raise BadInput(f"group_by is 'ward' or 'crime_type', not {group_by!r}")
    if snapped is None:
        snapped = snap_to_segments(incidents, segments)
    if group_by is None:
        rows = [{"group": "all", **_summary(segment_counts(incidents, segments, snapped))}]
    elif group_by == "crime_type":
        rows = []
        for crime, part in incidents.groupby("crime_type", observed=True):
            counts = segment_counts(part, segments, snapped.loc[part.index])
            if counts["n_incidents"].sum() > 0:
                rows.append({"group": crime, **_summary(counts)})
    else:
        counts = segment_counts(incidents, segments, snapped)
        rows = [
            {"group": f"{name} ({code})", **_summary(part)}
            for (code, name), part in counts.groupby(["ward_cd", "ward_nm"])
            if code and part["n_incidents"].sum() > 0
        ]
    table = pd.DataFrame(rows)
    return table.sort_values("n_incidents", ascending=False, ignore_index=True)


@dataclass
class StreetReport:
    """Street-segment counts and their concentration for one set of filters.

    Attributes
    ----------
    segments : geopandas.GeoDataFrame
        The district's segments (midpoint in the pack's districts) with ``n_incidents``
        and ``per_km`` (:func:`segment_counts`), busiest first.
    concentration : pandas.DataFrame
        :func:`concentration` for the district, then per ward or crime type if asked.
    parameters : dict
        Filters, snapping distance and rule, counts snapped / unsnapped / name-matched,
        the question answered and the OSM attribution.
    """

    segments: gpd.GeoDataFrame
    concentration: pd.DataFrame
    parameters: dict = field(default_factory=dict)


def street_report(
    incidents: gpd.GeoDataFrame,
    pack: AreaPack,
    filters: Filters | None = None,
    group_by: str | None = None,
    max_distance_m: float = SNAP_DISTANCE_M,
) -> StreetReport:
    """Segment counts and concentration curves of the filtered incidents inside the area.

    The one entry point of the CLI (``geo-ssgp streets``), the API (``/api/streets``) and the
    notebook.

    Parameters
    ----------
    incidents : geopandas.GeoDataFrame
        Geocoded incidents (rows with ``status != "ok"`` are left out).
    pack : AreaPack
        A pack with a ``[streets]`` layer.
    filters : Filters, optional
        Period, crime types, sources, restricted records.
    group_by : {None, "ward", "crime_type"}
        Add one concentration row per ward or crime type after the district row.
    max_distance_m : float
        Snapping distance.

    Returns
    -------
    StreetReport

    Raises
    ------
    NotEnoughData
        When no filtered incident lies on a segment.
    """
    points = inside_area(incidents)
    if filters is not None:
        points = filters.apply(points)
    segs = street_segments(pack)
    segs = segs[segs["in_area"]]
    snapped = snap_to_segments(points, segs, max_distance_m)
    counts = segment_counts(points, segs, snapped, max_distance_m)
    table = concentration(points, segs, None, snapped)
    if group_by is not None:
        table = pd.concat([table, concentration(points, segs, group_by, snapped)])
    params = {
        **counts.attrs,
        "filters": filters.as_dict() if filters is not None else {},
        "snap_rule": (
            "nearest segment within max_distance_m; a segment whose OSM name matches "
            "police.uk's 'On or near' street wins over a nearer one"
        ),
        "segment_rule": "OSM streets split at junctions; ids from geometry",
        "question": QUESTION,
        "attribution": "© OpenStreetMap contributors (ODbL)",
    }
    busiest = counts.sort_values(["n_incidents", "per_km"], ascending=False, ignore_index=True)
    return StreetReport(busiest, table.reset_index(drop=True), params)


@lru_cache(maxsize=8)
def level_street_km(pack: AreaPack, level: str) -> pd.Series:
    """:func:`street_km` of the pack's area layer ``level``, computed once per pack and level.

    Street length is a property of the pack, not of a query: every area table (each filter
    change of the app) reuses it.
    """
    return street_km(pack, load_layer(pack, level))


def street_km(pack: AreaPack, areas: gpd.GeoDataFrame) -> pd.Series:
    """Kilometres of the pack's street segments inside each area polygon.

    Parameters
    ----------
    pack : AreaPack
        A pack with a ``[streets]`` layer.
    areas : geopandas.GeoDataFrame
        Polygons with ``code``, EPSG:27700.

    Returns
    -------
    pandas.Series
        Street length in km by area code (0 where no street runs), in the order of ``areas``.
    """
    lines = street_segments(pack).geometry.values
    polys = areas.geometry.values
    area_i, line_i = shapely.STRtree(lines).query(polys, predicate="intersects")
    inside = shapely.length(shapely.intersection(lines[line_i], polys[area_i]))
    km = np.bincount(area_i, weights=inside, minlength=len(areas)) / 1000.0
    return pd.Series(km, index=areas["code"].to_numpy(), name="street_km")
