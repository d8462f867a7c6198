"""Focus areas: selections, summaries against the district, comparison, candidate ranking, export.

A *focus area* is the part of the district an analyst proposes for intensive engagement. The
functions here are pure (tables in, tables or plain dicts out) and serve the API, the CLI and
the notebook alike:

* :func:`selection_from` turns LSOA codes, a drawn polygon, a hotspot, a ward or a locality
  into a :class:`Selection` (outline in EPSG:27700 plus the LSOAs it covers);
* :func:`summarise` describes a selection against the district for a period and crime types;
* :func:`compare` lays several summaries side by side;
* :func:`period_change` and :func:`rank_candidates` give an explainable ranking of candidate
  LSOAs or hotspots for the next pilot;
* :func:`export_geojson`, :func:`export_csv` and :func:`export_gpkg` write a focus area out;
* :func:`find_place`, :func:`localities` and :func:`hotspot_context` name and describe places
  (a PCSO's ward or LSOA, the gazetteer's localities, the area under a hotspot).

Incidents are the geocoded incidents table (``geo_ssgp.geocode.geocode``); per-LSOA counts,
population and IMD come from :func:`geo_ssgp.areas.area_stats`, so the numbers here agree with
the area layers on the map.
"""

from __future__ import annotations

import difflib
import json
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

from geo_ssgp import areas, tables
from geo_ssgp.config import CRS_BNG, CRS_WGS84
from geo_ssgp.errors import BadInput, NotFound
from geo_ssgp.filters import filter_incidents
from geo_ssgp.hotspots.label import area_names, street_name
from geo_ssgp.hotspots.layer import json_safe
from geo_ssgp.pack import AreaPack, load_layer, load_points

#: LSOAs overlapping a drawn outline by at least this share of their area count as "in" it.
MIN_LSOA_SHARE = 0.5
#: Radius (m) of the circle drawn around a named locality's point.
LOCALITY_RADIUS_M = 400.0
#: Default weights of the candidate score components (normalised to sum to 1).
DEFAULT_WEIGHTS = {"count": 0.35, "rate": 0.25, "trend": 0.2, "deprivation": 0.2}
#: What each score component measures, shown beside the ranking.
COMPONENTS = {
    "count": "incidents in the period (percentile among candidates)",
    "rate": (
        "incidents per 1,000 residents per year, or per 1,000 workday population where "
        "residents are a poor denominator (rate_basis; percentile among candidates)"
    ),
    "trend": "change of the last months against the months before (percentile)",
    "deprivation": "IMD 2019 decile, 1 (most deprived) scores 1.0 and 10 scores 0.0",
}
#: Months compared by :func:`period_change` (the last N against the N before).
TREND_WINDOW = 3


@dataclass(frozen=True)
class Selection:
    """A selected part of the district.

    Attributes
    ----------
    kind : str
        ``lsoa``, ``polygon``, ``hotspot``, ``ward`` or ``locality``.
    label : str
        Human-readable description (ward name, hotspot label, ...).
    geometry : shapely geometry
        Outline in EPSG:27700.
    lsoa_codes : list of str
        LSOAs of the pack's primary level that the selection covers.
    match : str
        ``codes`` when incidents are matched by their geocoded LSOA (an LSOA selection),
        ``geometry`` when they are matched by point in outline.
    """

    kind: str
    label: str
    geometry: BaseGeometry
    lsoa_codes: list[str] = field(default_factory=list)
    match: str = "geometry"

    def to_geojson(self) -> dict:
        """The selection as a GeoJSON Feature in WGS84.

        Returns
        -------
        dict
            Feature with ``kind``, ``label``, ``lsoa_codes`` and ``match`` properties.
        """
        geom = gpd.GeoSeries([self.geometry], crs=CRS_BNG).to_crs(CRS_WGS84).iloc[0]
        return {
            "type": "Feature",
            "geometry": mapping(geom),
            "properties": {
                "kind": self.kind,
                "label": self.label,
                "lsoa_codes": list(self.lsoa_codes),
                "match": self.match,
            },
        }


# --------------------------------------------------------------------------------------------
# selections


def selection_from(
    pack: AreaPack,
    *,
    lsoa_codes: Sequence[str] | None = None,
    polygon: BaseGeometry | Mapping | None = None,
    polygon_crs: str = CRS_WGS84,
    hotspot: pd.Series | BaseGeometry | None = None,
    ward: str | None = None,
    locality: str | None = None,
    radius_m: float = LOCALITY_RADIUS_M,
    min_share: float = MIN_LSOA_SHARE,
) -> Selection:
    """Build a selection from exactly one of LSOA codes, a polygon, a hotspot, a ward or a locality.

    Parameters
    ----------
    pack : AreaPack
    lsoa_codes : sequence of str, optional
        LSOA codes of the pack's primary level (``pack.primary_lsoa``).
    polygon : shapely geometry or GeoJSON mapping, optional
        A drawn outline (a GeoJSON geometry or Feature), in ``polygon_crs``.
    polygon_crs : str
        CRS of ``polygon``; WGS84 (what the map's draw tool gives) by default.
    hotspot : pandas.Series or shapely geometry, optional
        A row of a hotspot layer (``geometry`` in EPSG:27700, ``label`` and ``rank`` used for
        the label) or its outline.
    ward : str, optional
        Ward name or code (case-insensitive).
    locality : str, optional
        Locality name from the pack's gazetteer; the selection is a circle of ``radius_m``.
    radius_m : float
        Radius around a locality point, metres.
    min_share : float
        An LSOA belongs to an outline when at least this share of its area lies inside.

    Returns
    -------
    Selection

    Raises
    ------
    BadInput
        No or several selectors given, an unknown code or name (with close matches), or an
        empty or non-polygonal outline.
    """
    given = {
        k: v
        for k, v in {
            "lsoa_codes": lsoa_codes,
            "polygon": polygon,
            "hotspot": hotspot,
            "ward": ward,
            "locality": locality,
        }.items()
        if v is not None and not (isinstance(v, (list, tuple)) and len(v) == 0)
    }
    if len(given) != 1:
        raise BadInput(
            "give exactly one of lsoa_codes, polygon, hotspot, ward or locality"
            f" (got {', '.join(given) or 'none'})"
        )
    lsoas = load_layer(pack, pack.primary_lsoa)
    if lsoa_codes is not None:
        return _from_codes(lsoas, list(lsoa_codes))
    if polygon is not None:
        geom = _polygon(polygon, polygon_crs)
        return _from_outline(lsoas, "polygon", "drawn area", geom, min_share)
    if hotspot is not None:
        geom, label = _hotspot(hotspot)
        return _from_outline(lsoas, "hotspot", label, geom, min_share)
    if ward is not None:
        row = _lookup(load_layer(pack, "ward"), ward, "ward")
        return _from_outline(lsoas, "ward", str(row["name"]), row.geometry, min_share)
    points = load_points(pack, "localities")
    row = _lookup(points.assign(code=points["name"]), locality, "locality")
    geom = row.geometry.buffer(radius_m)
    label = f"{row['name']} ({radius_m:.0f} m)"
    return _from_outline(lsoas, "locality", label, geom, min_share)


def _from_codes(lsoas: gpd.GeoDataFrame, codes: list[str]) -> Selection:
    codes = list(dict.fromkeys(str(c).strip() for c in codes))
    unknown = sorted(set(codes) - set(lsoas["code"]))
    if unknown:
        raise BadInput(f"unknown LSOA code(s): {', '.join(unknown)}", param="lsoa_codes")
    chosen = lsoas[lsoas["code"].isin(codes)]
    geom = shapely.union_all(chosen.geometry.values)
    label = chosen["name"].iloc[0] if len(chosen) == 1 else f"{len(chosen)} LSOAs"
    return Selection("lsoa", str(label), geom, sorted(codes), "codes")


def _from_outline(
    lsoas: gpd.GeoDataFrame, kind: str, label: str, geom: BaseGeometry, min_share: float
) -> Selection:
    share = overlap_share(lsoas, geom)
    codes = sorted(lsoas.loc[share >= min_share, "code"])
    return Selection(kind, label, geom, codes, "geometry")


def overlap_share(polygons: gpd.GeoDataFrame, geom: BaseGeometry) -> pd.Series:
    """Share of each polygon's area that lies inside ``geom`` (both EPSG:27700).

    Parameters
    ----------
    polygons : geopandas.GeoDataFrame
    geom : shapely geometry

    Returns
    -------
    pandas.Series
        Values in [0, 1], aligned with ``polygons``.
    """
    area = polygons.geometry.area
    inter = polygons.geometry.intersection(geom).area
    return (inter / area.where(area > 0)).fillna(0.0).clip(0.0, 1.0)


def _polygon(polygon: BaseGeometry | Mapping, crs: str) -> BaseGeometry:
    if isinstance(polygon, Mapping):
        data = polygon.get("geometry", polygon) if polygon.get("type") == "Feature" else polygon
        try:
            geom = shape(data)
        except Exception as exc:  # shapely raises several types for malformed GeoJSON
            raise BadInput(f"polygon is not valid GeoJSON: {exc}", param="polygon") from exc
    else:
        geom = polygon
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise BadInput(
            f"polygon must be a Polygon or MultiPolygon, not {geom.geom_type}", param="polygon"
        )
    geom = gpd.GeoSeries([shapely.make_valid(geom)], crs=crs).to_crs(CRS_BNG).iloc[0]
    if geom.is_empty or geom.area <= 0:
        raise BadInput("polygon is empty", param="polygon")
    return geom


def _hotspot(hotspot: pd.Series | BaseGeometry) -> tuple[BaseGeometry, str]:
    if isinstance(hotspot, BaseGeometry):
        return hotspot, "hotspot"
    geom = hotspot["geometry"]
    label = str(hotspot.get("label") or "hotspot")
    if "rank" in hotspot and pd.notna(hotspot["rank"]):
        label = f"#{int(hotspot['rank'])} {label}"
    return geom, label


def _lookup(table: gpd.GeoDataFrame, key: str, what: str) -> pd.Series:
    text = str(key).strip().casefold()
    hit = table[(table["code"].str.casefold() == text) | (table["name"].str.casefold() == text)]
    if hit.empty:
        close = difflib.get_close_matches(str(key), list(table["name"]), n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise BadInput(f"unknown {what} {key!r}{hint}", param=what)
    return hit.iloc[0]


# --------------------------------------------------------------------------------------------
# summaries


def summarise(
    incidents: gpd.GeoDataFrame,
    pack: AreaPack,
    selection: Selection | Sequence[str] | BaseGeometry,
    start: Any = None,
    end: Any = None,
    crime_types: Iterable[str] | None = None,
    top: int = 10,
) -> dict:
    """Describe a selection against the district for a period and crime types.

    Parameters
    ----------
    incidents : geopandas.GeoDataFrame
        Geocoded incidents (EPSG:27700) with ``lad_cd`` and the primary LSOA code column.
    pack : AreaPack
    selection : Selection, list of LSOA codes, or shapely geometry (EPSG:27700)
    start, end : str or Timestamp, optional
        First and last month (inclusive), e.g. ``"2025-01"``.
    crime_types : iterable of str, optional
        police.uk crime types; all when omitted.
    top : int
        Number of top streets to list.

    Returns
    -------
    dict
        JSON-ready: ``selection`` (kind, label, lsoa_codes, match), ``period``,
        ``incidents``, ``population``, ``rate_per_1000``, ``district`` (incidents,
        population, rate_per_1000, area_km2), ``rate_ratio`` (selection rate / district
        rate), ``share_of_district_incidents``, ``share_of_district_area``,
        ``concentration`` (incident share / area share), ``area_km2``, ``crime_types``
        (mix with district shares), ``monthly`` (trend with district counts), ``change``
        (last :data:`TREND_WINDOW` months against the ones before, percent), ``imd_deciles``
        (LSOA count per decile), ``top_streets``, ``snap_point_share`` and ``lsoas`` (per-LSOA
        statistics of the LSOAs the selection touches), ``sound_rate`` (annualised rate on
        workday population where a touched LSOA's residents are a poor denominator, else on
        residents, with a ``note`` saying which; see :func:`_sound_rate_summary`).
    """
    if not isinstance(selection, Selection):
        selection = _as_selection(pack, selection)
    level = pack.primary_lsoa
    code_col = f"{level}cd"
    types = list(crime_types) if crime_types else None
    stats = areas.area_stats(incidents, pack, level=level, start=start, end=end, crime_types=types)
    district = _district_incidents(incidents, pack, stats, code_col, start, end, types)
    share = _lsoa_shares(stats, selection)
    inside = _inside(district, selection, code_col)
    chosen = district[inside]

    population = float((stats["population"].fillna(0) * share).sum())
    d_population = float(stats["population"].fillna(0).sum())
    area = (
        float((stats["area_m2"] * share).sum())
        if selection.match == "codes"
        else float(selection.geometry.intersection(_district_outline(pack)).area)
    )
    d_area = float(stats["area_m2"].sum())
    n, d_n = len(chosen), len(district)
    rate, d_rate = _rate(n, population), _rate(d_n, d_population)
    share_inc = n / d_n if d_n else None
    share_area = area / d_area if d_area else None
    months = _months(district)
    return json_safe(
        {
            "selection": {
                "kind": selection.kind,
                "label": selection.label,
                "lsoa_codes": list(selection.lsoa_codes),
                "match": selection.match,
            },
            "period": {
                "from": months[0] if months else None,
                "to": months[-1] if months else None,
                "months": len(months),
                "crime_types": types,
            },
            "incidents": n,
            "population": round(population),
            "rate_per_1000": rate,
            "area_km2": area / 1e6,
            "district": {
                "incidents": d_n,
                "population": round(d_population),
                "rate_per_1000": d_rate,
                "area_km2": d_area / 1e6,
            },
            "rate_ratio": rate / d_rate if rate is not None and d_rate else None,
            "share_of_district_incidents": share_inc,
            "share_of_district_area": share_area,
            "concentration": share_inc / share_area
            if share_inc is not None and share_area
            else None,
            "crime_types": _mix(chosen, district),
            "monthly": _monthly(chosen, district, months),
            "change": _change(chosen, months),
            "imd_deciles": _deciles(stats, share),
            "top_streets": _streets(chosen, top),
            "snap_point_share": float(chosen["snap_point"].mean())
            if n and "snap_point" in chosen
            else None,
            "lsoas": _lsoa_rows(stats, share, chosen, code_col),
            "sound_rate": _sound_rate_summary(stats, share, n, d_n, len(months)),
        }
    )


def _sound_rate_summary(
    stats: pd.DataFrame, share: pd.Series, n: int, d_n: int, n_months: int
) -> dict | None:
    """Annualised rate on a sound denominator: workday population where residents mislead.

    When any LSOA the selection touches is flagged ``residents_poor_denominator`` (see
    :func:`geo_ssgp.areas.area_stats`), the selection and the district are compared per
    1,000 workday population per year; otherwise per 1,000 residents per year. ``None``
    when the pack has no workday table.
    """
    if "workday_population" not in stats or not n_months:
        return None
    touched = share.to_numpy() > 0
    flagged = stats.loc[touched & stats["residents_poor_denominator"].to_numpy(), "name"]
    column = "workday_population" if len(flagged) else "population"
    people = float((stats[column].astype(float).fillna(0) * share).sum())
    d_people = float(stats[column].astype(float).fillna(0).sum())
    per_year = 12.0 / n_months
    rate = n / people * 1000 * per_year if people else None
    d_rate = d_n / d_people * 1000 * per_year if d_people else None
    basis = "workday population" if len(flagged) else "residents"
    note = (
        f"Residents are a poor denominator in {', '.join(flagged)} (workday population well "
        "above residents): rates are per 1,000 workday population per year."
        if len(flagged)
        else "Rates are per 1,000 residents per year."
    )
    return {
        "basis": basis,
        "rate_per_1000_year": rate,
        "district_rate_per_1000_year": d_rate,
        "rate_ratio": rate / d_rate if rate is not None and d_rate else None,
        "flagged_lsoas": list(flagged),
        "note": note,
    }


def _as_selection(pack: AreaPack, value: Sequence[str] | BaseGeometry) -> Selection:
    if isinstance(value, BaseGeometry):
        lsoas = load_layer(pack, pack.primary_lsoa)
        return _from_outline(lsoas, "polygon", "area", value, MIN_LSOA_SHARE)
    return selection_from(pack, lsoa_codes=list(value))


def _district_incidents(
    incidents: gpd.GeoDataFrame,
    pack: AreaPack,
    stats: gpd.GeoDataFrame,
    code_col: str,
    start: Any,
    end: Any,
    types: list[str] | None,
) -> gpd.GeoDataFrame:
    """Incidents of the period and types that fall in the district's LSOAs."""
    if incidents.empty or code_col not in incidents:
        return incidents.iloc[0:0]
    chosen = filter_incidents(incidents, start=start, end=end, crime_types=types)
    return chosen[chosen[code_col].isin(stats["code"])]


def _lsoa_shares(stats: gpd.GeoDataFrame, selection: Selection) -> pd.Series:
    if selection.match == "codes":
        return stats["code"].isin(selection.lsoa_codes).astype(float)
    return overlap_share(stats, selection.geometry)


def _inside(district: gpd.GeoDataFrame, selection: Selection, code_col: str) -> np.ndarray:
    if district.empty:
        return np.zeros(0, dtype=bool)
    if selection.match == "codes":
        return district[code_col].isin(selection.lsoa_codes).to_numpy()
    geom = selection.geometry
    shapely.prepare(geom)
    return shapely.intersects(geom, district.geometry.values)


@lru_cache(maxsize=8)
def _district_outline(pack: AreaPack) -> BaseGeometry:
    """Union of the pack's primary LSOA polygons (the district), prepared for queries."""
    outline = shapely.union_all(load_layer(pack, pack.primary_lsoa).geometry.values)
    shapely.prepare(outline)
    return outline


# --------------------------------------------------------------------------------------------
# places: wards, LSOAs and localities by name


@dataclass(frozen=True)
class Place:
    """A ward or LSOA that a PCSO view can show.

    Attributes
    ----------
    kind : {"ward", "lsoa"}
    code, name : str
    geometry : shapely geometry (EPSG:27700)
    """

    kind: str
    code: str
    name: str
    geometry: Any


def find_place(pack: AreaPack, key: str) -> Place:
    """A ward (by code or name, any case) or an LSOA of the primary level (by code or name).

    Parameters
    ----------
    pack : AreaPack
    key : str

    Returns
    -------
    Place

    Raises
    ------
    NotFound
        When neither a ward nor an LSOA matches (with close ward names as a hint).
    """
    for kind, layer in (("ward", "ward"), ("lsoa", pack.primary_lsoa)):
        if not pack.has("layers", layer):
            continue
        try:
            row = _lookup(load_layer(pack, layer), key, kind)
        except BadInput:
            continue
        return Place(kind, str(row["code"]), str(row["name"]), row.geometry)
    raise NotFound(f"no ward or LSOA {key!r}", param="key")


def localities(pack: AreaPack) -> list[str]:
    """Names of the pack's gazetteer localities inside the district, sorted."""
    points = load_points(pack, "localities")
    inside = shapely.intersects(_district_outline(pack), points.geometry.values)
    return sorted(points.loc[inside, "name"].unique())


def hotspot_context(spots: gpd.GeoDataFrame, area_stats: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Hotspots with the IMD decile and rate per 1,000 of the LSOA under each one's centre.

    Parameters
    ----------
    spots : geopandas.GeoDataFrame
        Hotspots (EPSG:27700).
    area_stats : geopandas.GeoDataFrame
        :func:`geo_ssgp.areas.area_stats` of the same filters (``code``, ``imd_decile``,
        ``rate_per_1000``).

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``spots`` with ``imd_decile`` and ``rate_per_1000`` (NaN outside LSOAs).
    """
    spots = spots.copy()
    if spots.empty:
        return spots
    stats = area_stats[["code", "imd_decile", "rate_per_1000", "geometry"]]
    points = gpd.GeoDataFrame(
        {"i": np.arange(len(spots))},
        geometry=spots.geometry.representative_point().to_numpy(),
        crs=CRS_BNG,
    )
    joined = gpd.sjoin(points, stats, how="left", predicate="within").drop_duplicates("i")
    joined = joined.set_index("i").reindex(np.arange(len(spots)))
    spots["imd_decile"] = joined["imd_decile"].to_numpy()
    spots["rate_per_1000"] = joined["rate_per_1000"].to_numpy()
    return spots


def _rate(n: int, population: float) -> float | None:
    return n / population * 1000 if population > 0 else None


def _months(district: pd.DataFrame) -> list[str]:
    if district.empty:
        return []
    return sorted(pd.to_datetime(district["month"]).dt.strftime("%Y-%m").unique())


def _mix(chosen: pd.DataFrame, district: pd.DataFrame) -> list[dict]:
    counts = chosen["crime_type"].value_counts() if len(chosen) else pd.Series(dtype=int)
    d_counts = district["crime_type"].value_counts() if len(district) else pd.Series(dtype=int)
    rows = []
    for ctype, n in counts.items():
        rows.append(
            {
                "crime_type": ctype,
                "incidents": int(n),
                "share": n / len(chosen),
                "district_share": d_counts.get(ctype, 0) / len(district),
            }
        )
    return rows


def _monthly(chosen: pd.DataFrame, district: pd.DataFrame, months: list[str]) -> list[dict]:
    def by_month(frame: pd.DataFrame) -> pd.Series:
        if frame.empty:
            return pd.Series(dtype=int)
        return pd.to_datetime(frame["month"]).dt.strftime("%Y-%m").value_counts()

    sel, dist = by_month(chosen), by_month(district)
    return [
        {"month": m, "incidents": int(sel.get(m, 0)), "district": int(dist.get(m, 0))}
        for m in months
    ]


def _change(chosen: pd.DataFrame, months: list[str], window: int = TREND_WINDOW) -> dict | None:
    if len(months) < 2 * window:
        return None
    counts = (
        pd.to_datetime(chosen["month"]).dt.strftime("%Y-%m").value_counts()
        if len(chosen)
        else pd.Series(dtype=int)
    )
    recent = int(sum(counts.get(m, 0) for m in months[-window:]))
    previous = int(sum(counts.get(m, 0) for m in months[-2 * window : -window]))
    return {
        "recent_months": months[-window:],
        "previous_months": months[-2 * window : -window],
        "recent": recent,
        "previous": previous,
        "percent": (recent - previous) / previous * 100 if previous else None,
    }


def _deciles(stats: gpd.GeoDataFrame, share: pd.Series) -> dict:
    covered = stats[share >= MIN_LSOA_SHARE]
    if covered.empty:  # a small outline: the LSOA it overlaps most
        covered = stats[share == share.max()] if share.max() > 0 else covered
    deciles = covered["imd_decile"].dropna().astype(int)
    return {str(d): int(n) for d, n in deciles.value_counts().sort_index().items()}


def _streets(chosen: pd.DataFrame, top: int) -> list[dict]:
    if chosen.empty:
        return []
    names = street_name(chosen["location_text"]).dropna()
    counts = names.value_counts().head(top)
    return [{"street": s, "incidents": int(n)} for s, n in counts.items()]


def _lsoa_rows(
    stats: gpd.GeoDataFrame, share: pd.Series, chosen: pd.DataFrame, code_col: str
) -> list[dict]:
    counts = chosen[code_col].value_counts() if len(chosen) else pd.Series(dtype=int)
    keep = (share >= 0.05) | stats["code"].isin(counts.index)
    rows = stats.loc[keep, ["code", "name", "ward_nm", "population", "imd_decile"]].copy()
    rows["share_in_selection"] = share[keep]
    rows["incidents"] = rows["code"].map(counts).fillna(0).astype(int)
    rows["rate_per_1000"] = rows["incidents"] / rows["population"].where(rows["population"] > 0)
    rows["rate_per_1000"] *= 1000
    rows = rows.sort_values(["incidents", "code"], ascending=[False, True])
    return rows.to_dict("records")


# --------------------------------------------------------------------------------------------
# comparison and ranking

#: Rows of :func:`compare`: (label, key in a summary).
COMPARE_ROWS = [
    ("Incidents", "incidents"),
    ("Population", "population"),
    ("Rate per 1,000", "rate_per_1000"),
    ("Rate vs district (x)", "rate_ratio"),
    ("Share of district incidents", "share_of_district_incidents"),
    ("Share of district area", "share_of_district_area"),
    ("Concentration (incident share / area share)", "concentration"),
    ("Area (km²)", "area_km2"),
]


def compare(summaries: Mapping[str, dict] | Sequence[dict]) -> pd.DataFrame:
    """Lay summaries side by side, with the district as the last column.

    Parameters
    ----------
    summaries : mapping of name -> summary, or sequence of summaries
        Results of :func:`summarise` for the same period and crime types. Unnamed summaries
        are named by their selection label.

    Returns
    -------
    pandas.DataFrame
        One row per measure (:data:`COMPARE_ROWS`, plus top crime type, change %, most common
        IMD decile and LSOA count), one column per summary, then ``District``.
    """
    if not isinstance(summaries, Mapping):
        summaries = {s["selection"]["label"]: s for s in summaries}
    if not summaries:
        raise BadInput("nothing to compare", param="ids")
    columns: dict[str, dict[str, Any]] = {}
    for name, s in summaries.items():
        col = {label: s.get(key) for label, key in COMPARE_ROWS}
        col["Top crime type"] = s["crime_types"][0]["crime_type"] if s["crime_types"] else None
        col["Change, last 3 months (%)"] = (s.get("change") or {}).get("percent")
        deciles = s.get("imd_deciles") or {}
        col["Most common IMD decile"] = (
            int(max(deciles, key=lambda d: (deciles[d], -int(d)))) if deciles else None
        )
        col["LSOAs"] = len(s["selection"]["lsoa_codes"])
        columns[str(name)] = col
    first = next(iter(summaries.values()))
    d = first["district"]
    columns["District"] = {
        "Incidents": d["incidents"],
        "Population": d["population"],
        "Rate per 1,000": d["rate_per_1000"],
        "Rate vs district (x)": 1.0,
        "Share of district incidents": 1.0,
        "Share of district area": 1.0,
        "Concentration (incident share / area share)": 1.0,
        "Area (km²)": d["area_km2"],
    }
    return pd.DataFrame(columns)


def period_change(
    incidents: pd.DataFrame,
    candidates: gpd.GeoDataFrame,
    key: str | None = None,
    window: int = TREND_WINDOW,
) -> pd.Series:
    """Per candidate, the change of the last ``window`` months against the ``window`` before.

    Parameters
    ----------
    incidents : geopandas.GeoDataFrame
        Incidents already filtered to the period and crime types of interest.
    candidates : geopandas.GeoDataFrame
        Candidate areas (EPSG:27700), e.g. :func:`geo_ssgp.areas.area_stats` output or a
        hotspot layer.
    key : str, optional
        Match incidents to candidates by this incident column against the candidates'
        ``code`` (e.g. ``"lsoa21cd"``); by point in polygon when omitted.
    window : int
        Months in each of the two compared windows.

    Returns
    -------
    pandas.Series
        Percent change aligned with ``candidates`` (``(recent - previous) / previous * 100``);
        NaN where the previous window had no incidents or fewer than ``2 * window`` months
        of data exist.
    """
    out = pd.Series(np.nan, index=candidates.index, name="trend")
    if incidents.empty or candidates.empty:
        return out
    month = pd.to_datetime(incidents["month"]).dt.to_period("M").to_numpy()
    last = month.max()
    if month.min() > last - (2 * window - 1):
        return out
    recent = month > last - window
    previous = (month <= last - window) & (month > last - 2 * window)
    if key is not None:
        where = pd.Series(np.arange(len(candidates)), index=candidates["code"].to_numpy())
        cand = incidents[key].map(where).to_numpy()
        rows = np.arange(len(incidents))
    else:
        points = gpd.GeoDataFrame(geometry=incidents.geometry.values, crs=incidents.crs)
        polys = gpd.GeoDataFrame(geometry=candidates.geometry.values, crs=candidates.crs)
        joined = gpd.sjoin(points, polys, how="inner", predicate="intersects")
        rows, cand = joined.index.to_numpy(), joined["index_right"].to_numpy()
    member = pd.DataFrame({"cand": cand, "recent": recent[rows], "previous": previous[rows]})
    sums = member.dropna(subset=["cand"]).groupby("cand")[["recent", "previous"]].sum()
    pct = (sums["recent"] - sums["previous"]) / sums["previous"].where(sums["previous"] > 0) * 100
    out.iloc[pct.index.astype(int).to_numpy()] = pct.to_numpy()
    return out


def with_places(candidates: gpd.GeoDataFrame, pack: AreaPack) -> gpd.GeoDataFrame:
    """Candidates (LSOAs or hotspots) with ``ward`` and ``place`` names for the ranking.

    One rule for both units: :func:`geo_ssgp.hotspots.label.area_names` (the ward holding
    most of the polygon, the place within 250 m of its edge), so a row reads
    "Gloucester 005E · Barton and Tredworth · near Gloucester Park".

    Parameters
    ----------
    candidates : geopandas.GeoDataFrame
        Area statistics or hotspots with polygons (EPSG:27700).
    pack : AreaPack

    Returns
    -------
    geopandas.GeoDataFrame
        A copy with ``ward`` and ``place`` (``None`` where none is near).
    """
    out = candidates.copy()
    names = area_names(out, pack)
    out["ward"], out["place"] = names["ward"].to_numpy(), names["place"].to_numpy()
    return out


def rank_candidates(
    candidates: pd.DataFrame,
    trend: pd.Series | None = None,
    weights: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Rank candidate LSOAs or hotspots for the next pilot by an explainable weighted score.

    Each component is scaled to [0, 1]: count, rate and trend as their percentile among the
    candidates (1 = highest), deprivation from the IMD decile (decile 1 = 1.0, decile 10 =
    0.0). A component's points are ``100 * weight * scaled value``; the score is their sum
    (0-100). Weights are normalised to sum to 1 over the components the data has.

    Parameters
    ----------
    candidates : pandas.DataFrame
        :func:`geo_ssgp.areas.area_stats` output (``code``, ``name``, ``count``,
        ``rate_per_1000``, ``imd_decile``) or a hotspot layer (``rank``, ``label``,
        ``n_incidents``, optional ``imd_decile``/``rate_per_1000``).
    trend : pandas.Series, optional
        Percent change per candidate, aligned with ``candidates`` (:func:`period_change`).
    weights : mapping, optional
        Weights of ``count``, ``rate``, ``trend`` and ``deprivation``; missing keys take
        :data:`DEFAULT_WEIGHTS`. Negative weights are refused.

    Returns
    -------
    pandas.DataFrame
        ``id``, ``name`` (and ``ward``, ``place`` when the candidates have them, see
        :func:`with_places`), the raw values (``count``, ``rate_per_1000`` with its
        ``rate_basis``, ``trend_pct``, ``imd_decile``), per component ``<c>_scaled``,
        ``<c>_weight`` and ``<c>_points``,
        then ``score`` and ``position`` (1 = best), sorted by score. ``attrs["weights"]`` holds
        the weights used and ``attrs["components"]`` what each measures.
    """
    w = {**DEFAULT_WEIGHTS, **{k: float(v) for k, v in (weights or {}).items()}}
    unknown = set(w) - set(DEFAULT_WEIGHTS)
    if unknown:
        raise BadInput(f"unknown weight(s): {', '.join(sorted(unknown))}", param="weights")
    if any(v < 0 for v in w.values()):
        raise BadInput("weights must not be negative", param="weights")
    table = _candidate_table(candidates, trend)
    scaled = {
        "count": table["count"].rank(pct=True),
        "rate": table["rate_per_1000"].rank(pct=True),
        "trend": table["trend_pct"].rank(pct=True),
        "deprivation": (10 - table["imd_decile"].astype(float)) / 9,
    }
    available = {c: bool(scaled[c].notna().any()) for c in scaled}
    total = sum(w[c] for c in scaled if available[c])
    if total <= 0:
        raise BadInput("at least one available component needs a positive weight", param="weights")
    used = {c: (w[c] / total if available[c] else 0.0) for c in scaled}
    for c, values in scaled.items():
        table[f"{c}_scaled"] = values.fillna(0.0)
        table[f"{c}_weight"] = used[c]
        table[f"{c}_points"] = 100 * used[c] * table[f"{c}_scaled"]
    table["score"] = sum(table[f"{c}_points"] for c in scaled)
    table = table.sort_values(["score", "count"], ascending=[False, False], kind="stable")
    table["position"] = np.arange(1, len(table) + 1)
    table = table.reset_index(drop=True)
    table.attrs["weights"] = used
    table.attrs["components"] = dict(COMPONENTS)
    return table


def _candidate_table(candidates: pd.DataFrame, trend: pd.Series | None) -> pd.DataFrame:
    if "code" in candidates:
        ids, names = candidates["code"].astype(str), candidates["name"].astype(str)
    elif "rank" in candidates:
        ids = "hotspot " + candidates["rank"].astype(int).astype(str)
        names = candidates.get("label", ids).astype(str)
    else:
        raise ValueError("candidates need a 'code' (areas) or 'rank' (hotspots) column")
    count_col = "count" if "count" in candidates else "n_incidents"
    if count_col not in candidates:
        raise ValueError("candidates need a 'count' or 'n_incidents' column")
    nan = pd.Series(np.nan, index=candidates.index)
    rate, basis = _sound_rate(candidates, nan)
    where = {c: candidates[c] for c in ("ward", "place") if c in candidates}
    return pd.DataFrame(
        {
            "id": ids,
            "name": names,
            **where,
            "count": candidates[count_col].astype(float),
            "rate_per_1000": rate,
            "rate_basis": basis,
            "trend_pct": (trend if trend is not None else nan).reindex(candidates.index),
            "imd_decile": candidates.get("imd_decile", nan).astype(float),
        },
        index=candidates.index,
    )


def _sound_rate(candidates: pd.DataFrame, nan: pd.Series) -> tuple[pd.Series, pd.Series]:
    """The rate a candidate is ranked on, and its basis.

    Area statistics with ``sound_rate_per_1000_year`` (see :func:`geo_ssgp.areas.area_stats`)
    are ranked per 1,000 workday population per year where residents are a poor denominator
    (``rate_basis == "workday"``) and per 1,000 residents per year elsewhere; other tables on
    their ``rate_per_1000``.
    """
    if "sound_rate_per_1000_year" in candidates:
        basis = (
            candidates["rate_basis"]
            .map({"workday": "per 1,000 workday population per year"})
            .fillna("per 1,000 residents per year")
        )
        return candidates["sound_rate_per_1000_year"].astype(float), basis
    basis = pd.Series("per 1,000 residents", index=candidates.index)
    return candidates.get("rate_per_1000", nan).astype(float), basis


# --------------------------------------------------------------------------------------------
# exports


def focus_lsoas(summary: dict, pack: AreaPack) -> gpd.GeoDataFrame:
    """The per-LSOA statistics of a summary with their polygons.

    Parameters
    ----------
    summary : dict
        Output of :func:`summarise`.
    pack : AreaPack

    Returns
    -------
    geopandas.GeoDataFrame
        ``summary["lsoas"]`` rows with LSOA geometry in EPSG:27700.
    """
    rows = pd.DataFrame(summary["lsoas"])
    layer = load_layer(pack, pack.primary_lsoa)[["code", "geometry"]]
    if rows.empty:
        return gpd.GeoDataFrame(
            {"code": pd.Series(dtype=str)}, geometry=gpd.GeoSeries([], crs=CRS_BNG)
        )
    merged = layer.merge(rows, on="code", how="inner")
    return gpd.GeoDataFrame(merged, geometry="geometry", crs=CRS_BNG)


def _headline(name: str, notes: str, summary: dict) -> dict:
    return {
        "name": name,
        "notes": notes,
        "kind": summary["selection"]["kind"],
        "lsoa_codes": ",".join(summary["selection"]["lsoa_codes"]),
        "period_from": summary["period"]["from"],
        "period_to": summary["period"]["to"],
        "incidents": summary["incidents"],
        "population": summary["population"],
        "rate_per_1000": summary["rate_per_1000"],
        "district_rate_per_1000": summary["district"]["rate_per_1000"],
        "share_of_district_incidents": summary["share_of_district_incidents"],
        "share_of_district_area": summary["share_of_district_area"],
    }


def export_geojson(
    name: str, notes: str, geometry: BaseGeometry, summary: dict, pack: AreaPack
) -> dict:
    """A focus area as a GeoJSON FeatureCollection in WGS84.

    Parameters
    ----------
    name, notes : str
    geometry : shapely geometry
        Outline in EPSG:27700.
    summary : dict
        Output of :func:`summarise` for the area.
    pack : AreaPack

    Returns
    -------
    dict
        First feature the outline (``feature_kind="focus_area"``, headline statistics), then
        one feature per LSOA (``feature_kind="lsoa"``, per-LSOA statistics).
    """
    outline = gpd.GeoDataFrame(
        [{**_headline(name, notes, summary), "feature_kind": "focus_area"}],
        geometry=[geometry],
        crs=CRS_BNG,
    )
    lsoas = focus_lsoas(summary, pack).assign(feature_kind="lsoa")
    both = pd.concat([outline, lsoas], ignore_index=True)
    both = gpd.GeoDataFrame(both, geometry="geometry", crs=CRS_BNG).to_crs(CRS_WGS84)
    return json.loads(both.to_json(na="null", drop_id=True))


def export_csv(summary: dict) -> str:
    """The LSOA list of a focus area with statistics, as CSV text.

    Parameters
    ----------
    summary : dict
        Output of :func:`summarise`.

    Returns
    -------
    str
        Columns ``code``, ``name``, ``ward_nm``, ``share_in_selection``, ``incidents``,
        ``population``, ``rate_per_1000``, ``imd_decile``.
    """
    cols = [
        "code",
        "name",
        "ward_nm",
        "share_in_selection",
        "incidents",
        "population",
        "rate_per_1000",
        "imd_decile",
    ]
    rows = pd.DataFrame(summary["lsoas"], columns=cols)
    return tables.to_csv(rows, float_format="%.4g", lineterminator="\n")


def export_gpkg(
    name: str, notes: str, geometry: BaseGeometry, summary: dict, pack: AreaPack
) -> bytes:
    """A focus area as a GeoPackage (EPSG:27700) with layers ``focus_area`` and ``lsoas``.

    Parameters
    ----------
    name, notes : str
    geometry : shapely geometry
        Outline in EPSG:27700.
    summary : dict
        Output of :func:`summarise`.
    pack : AreaPack

    Returns
    -------
    bytes
        The GeoPackage file.
    """
    outline = gpd.GeoDataFrame([_headline(name, notes, summary)], geometry=[geometry], crs=CRS_BNG)
    outline["geometry"] = outline.geometry.apply(_multi)
    lsoas = focus_lsoas(summary, pack)
    lsoas["geometry"] = lsoas.geometry.apply(_multi)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "focus_area.gpkg"
        pyogrio.write_dataframe(outline, path, layer="focus_area", driver="GPKG")
        if len(lsoas):
            pyogrio.write_dataframe(lsoas, path, layer="lsoas", driver="GPKG", append=True)
        return path.read_bytes()


def _multi(geom: BaseGeometry) -> BaseGeometry:
    """Keep the polygonal parts of a geometry as one MultiPolygon (one type per layer)."""
    parts = shapely.get_parts(shapely.get_parts(geom))
    return shapely.MultiPolygon([p for p in parts if p.geom_type == "Polygon"])
