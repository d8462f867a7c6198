"""Human labels for hotspots: ward, most frequent streets and the nearest named place.

A label reads ``"<Ward>: <Street 1> / <Street 2> (<city centre>, near <place>)"``, for example
``"Barton and Tredworth: Widden Street / Tredworth Road (near Tredworth)"`` or
``"Westgate: Eastgate Street / Northgate Street (city centre, near Gloucester Park)"``.

- **Ward**: the pack's ward polygon holding most of the hotspot's area (its representative
  point breaks ties and labels point hotspots); without a ward layer, the most frequent
  ``ward_nm`` of the hotspot's incidents.
- **Streets**: the most frequent street names of the incidents inside the hotspot, from
  police.uk's anonymised ``"On or near ..."`` text (:func:`street_name`); a name is shown
  only when at least ``min_share`` (default :data:`MIN_STREET_SHARE`, 10%) of the hotspot's
  incidents carry it, so a label never names a street holding 1 of 164 incidents.
  Police.uk's generic place kinds (``"Shopping Area"``, ``"Supermarket"`` ...) are not
  streets: at most one of them is listed, in lower case, and never in place of the only real
  street name. When the incidents carry no location text (local data), the streets of the
  NaPTAN stops inside the hotspot, or of the nearest stop, stand in.
- **Anchor**: where a hotspot's incidents are, i.e. their mean point (the representative
  point of the polygon when it holds none). Irregular polygons are placed by it, not by
  an arbitrary interior point.
- **City centre**: the pack's ``[places.city_centre]`` manifest entry (see :func:`city_centre`);
  a hotspot whose anchor lies within its radius, or which covers the centre, gets the
  centre's name.
- **Around**: named places of the places table that are streets running through the hotspot:
  with a ``[streets]`` layer, OpenStreetMap lines of that name crossing the polygon; without
  one, police.uk street names held by at least ``min_share`` of its incidents.
- **Near**: the named place of the pack's places table (e.g. "Gloucester Park", NaPTAN stop
  "The Park" on Trier Way) closest to the hotspot among those whose point lies within
  ``edge_m`` (default :data:`NEAR_EDGE_M`, 250 m) of its edge, measured from the place's
  point (a large park is named by its point, so it must lie that close too); else,
  outside the city centre, the NPTG locality whose point is nearest, within the same
  distance of the edge (the locality named like the pack itself, e.g. "Gloucester",
  says nothing and is skipped). So every "near X" in a label means: X's point lies
  within 250 m of the hotspot. A name equal to the ward's is not repeated.

Labels are plain text built only from street, ward and place names: never house numbers or
postcodes (they are stripped from the location text), so a label never implies an exact
address. Escaping for HTML is the display layer's job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Point

from geo_ssgp.config import CRS_BNG
from geo_ssgp.errors import BadInput
from geo_ssgp.pack import AreaPack, has_streets, load_layer, load_points, read_table
from geo_ssgp.streets import street_segments

#: Smallest share of a hotspot's incidents a street must hold to be named in its label.
MIN_STREET_SHARE = 0.10
#: A named place is "near" a hotspot when its point lies within this distance (m) of the
#: hotspot's edge (inside counts as 0). Until 2026-11 a place within 400 m of the hotspot's
#: anchor also counted: the top default hotspot was "near Gloucester Docks" 390 m away.
NEAR_EDGE_M = 250.0

#: Police.uk's generic anonymous-map-point kinds: places, not streets.
GENERIC_PLACES: frozenset[str] = frozenset(
    {
        "Airport/Airfield",
        "Bus/Coach Station",
        "Conference/Exhibition Centre",
        "Further/Higher Educational Building",
        "Hospital",
        "Motorway Service Area",
        "Nightclub",
        "Park/Open Space",
        "Parking Area",
        "Pedestrian Subway",
        "Petrol Station",
        "Police Station",
        "Prison",
        "Shopping Area",
        "Sports/Recreation Area",
        "Supermarket",
        "Theatre/Concert Hall",
        "Train Station",
    }
)
_GENERIC_FOLDED = frozenset(name.casefold() for name in GENERIC_PLACES)

#: Location texts that carry no place at all.
_NO_PLACE = {"", "no location", "unknown", "n/a", "na", "none"}

_PREFIX = re.compile(
    r"^(?:on or near|near|outside|opposite|opp\.?|o/s|rear of|adjacent to|junction of)\s+",
    re.IGNORECASE,
)
_POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b", re.IGNORECASE)
_UNIT = re.compile(r"\b(?:flat|unit|apartment|apt|house|no\.?)\s*\d+\w*\b[,]?", re.IGNORECASE)
# House numbers and ranges ("12", "12a", "12-14"); road numbers ("A38", "M5") keep their letter.
_HOUSE_NUMBER = re.compile(r"(?<![A-Za-z\d])\d+[A-Za-z]?(?:\s*[-/]\s*\d+[A-Za-z]?)?\b,?")
# Police.uk capitalises after apostrophes: "St John'S Lane" -> "St John's Lane".
_APOSTROPHE_S = re.compile(r"(?<=\w)'S\b")


@dataclass(frozen=True)
class CityCentre:
    """A pack's city centre: a named point and the radius a hotspot must lie within.

    Attributes
    ----------
    name : str
        Text used in labels, e.g. ``"city centre"``.
    point : shapely.geometry.Point
        Centre in EPSG:27700.
    radius_m : float
        Hotspots whose anchor (mean incident point) lies within this distance are "in" it.
    """

    name: str
    point: Point
    radius_m: float


def street_name(location_text: pd.Series) -> pd.Series:
    """Street or place name of each location text, without anything address-like.

    Strips police.uk's ``"On or near "`` (and similar prefixes of local logs), postcodes,
    house numbers and flat/unit numbers; road numbers such as ``"A38"`` are kept. Police.uk's
    generic place kinds (``"Shopping Area"`` ...) are kept as they are; test them with
    :func:`is_generic_place`.

    Parameters
    ----------
    location_text : pandas.Series
        Location texts, e.g. ``"On or near Widden Street"``.

    Returns
    -------
    pandas.Series
        String dtype, same index; missing where the text names no place (empty,
        ``"No Location"``).
    """
    codes, uniques = pd.factorize(location_text.astype("string"), use_na_sentinel=True)
    if len(uniques) == 0:
        return pd.Series(pd.NA, index=location_text.index, dtype="string", name="street")
    names = pd.Series(uniques, dtype="string")
    for pattern, repl in (
        (_POSTCODE, ""),
        (_UNIT, ""),
        (_HOUSE_NUMBER, ""),
        (re.compile(r"\s+"), " "),
    ):
        names = names.str.replace(pattern, repl, regex=True)
    names = names.str.strip(" ,;-")
    names = names.str.replace(_PREFIX, "", regex=True).str.strip(" ,;-")
    names = names.str.replace(_APOSTROPHE_S, "'s", regex=True)
    names = names.mask(names.str.casefold().isin(_NO_PLACE))
    taken = names.to_numpy(dtype=object, na_value=None)[np.where(codes < 0, 0, codes)]
    out = pd.Series(taken, index=location_text.index, dtype="string", name="street")
    return out.mask(codes < 0)


def is_generic_place(names: pd.Series) -> pd.Series:
    """Whether each name is one of police.uk's generic place kinds rather than a street.

    Parameters
    ----------
    names : pandas.Series
        Names from :func:`street_name`.

    Returns
    -------
    pandas.Series
        Boolean, same index; ``False`` for missing names.
    """
    folded = names.astype("string").str.casefold()
    return folded.isin(_GENERIC_FOLDED).fillna(False).astype(bool)


def _street_meeting_point(
    xy: np.ndarray, streets: pd.Series, wanted: list[str], least: int
) -> Point | None:
    """Mean of the per-street mean points of ``wanted`` streets; ``least`` must be present."""
    folded = streets.astype("string").str.casefold()
    keep = folded.isin([w.casefold() for w in wanted]).fillna(False).to_numpy(dtype=bool)
    if not keep.any():
        return None
    frame = pd.DataFrame(xy[keep], columns=["x", "y"]).assign(street=folded[keep].to_numpy())
    means = frame.groupby("street")[["x", "y"]].mean()
    if len(means) < max(least, 1):
        return None
    return Point(means["x"].mean(), means["y"].mean())


def city_centre(pack: AreaPack, incidents: gpd.GeoDataFrame | None = None) -> CityCentre | None:
    """The pack's city centre, from its manifest's optional ``[places.city_centre]`` entry.

    The entry gives ``name`` (default ``"city centre"``), ``radius_m`` (default 600) and either
    ``easting``/``northing`` (EPSG:27700) or ``streets``: the streets that meet at the centre
    (in Gloucester the four "gate" streets meeting at the Cross). The centre is then derived
    from the data: each named street's mean point, averaged over the streets, taken from the
    incidents' police.uk snap points when every one of the streets occurs in their location
    text, else from the pack's NaPTAN stops on those streets (at least two streets needed).

    Parameters
    ----------
    pack : AreaPack
    incidents : geopandas.GeoDataFrame, optional
        Incidents with ``location_text``.

    Returns
    -------
    CityCentre or None
        ``None`` when the pack names no centre or it cannot be derived.
    """
    return _city_centre(pack, None if incidents is None else _prepare(incidents))


def _city_centre(pack: AreaPack, inc: gpd.GeoDataFrame | None) -> CityCentre | None:
    """:func:`city_centre` on incidents already passed through :func:`_prepare`."""
    entry = pack.places.get("city_centre")
    if not entry:
        return None
    name = str(entry.get("name", "city centre"))
    radius = float(entry.get("radius_m", 600.0))
    if "easting" in entry and "northing" in entry:
        return CityCentre(name, Point(float(entry["easting"]), float(entry["northing"])), radius)
    wanted = [str(s) for s in entry.get("streets", [])]
    point = None
    if wanted and inc is not None and inc["street"].notna().any():
        point = _street_meeting_point(
            inc.get_coordinates().to_numpy(),
            inc["street"],
            wanted,
            least=len(set(w.casefold() for w in wanted)),
        )
    if point is None and wanted and pack.has("tables", "stops"):
        stops = load_points(pack, "stops")
        if "street" in stops:
            point = _street_meeting_point(
                stops.get_coordinates().to_numpy(), stops["street"], wanted, least=2
            )
    return None if point is None else CityCentre(name, point, radius)


def _prepare(incidents: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Incidents reduced to ``street`` (and ``ward_nm``) on non-empty points in EPSG:27700."""
    geom = incidents.geometry
    if incidents.crs is not None and incidents.crs.to_epsg() != 27700:
        geom = geom.to_crs(CRS_BNG)
    keep = (geom.notna() & ~geom.is_empty).to_numpy()
    if "location_text" in incidents:
        street = street_name(incidents["location_text"]).array[keep]
    else:
        street = pd.array([pd.NA] * int(keep.sum()), dtype="string")
    data: dict[str, Any] = {"street": street}
    if "ward_nm" in incidents:
        data["ward_nm"] = incidents["ward_nm"].to_numpy()[keep]
    return gpd.GeoDataFrame(data, geometry=geom.to_numpy()[keep], crs=CRS_BNG)


def _incident_hits(hot: gpd.GeoDataFrame, inc: gpd.GeoDataFrame) -> pd.DataFrame:
    """One row per (incident, hotspot containing it): ``hid``, ``street``, ``x``, ``y``."""
    hits = gpd.sjoin(inc, hot[["hid", "geometry"]], predicate="intersects")
    xy = hits.get_coordinates()
    return pd.DataFrame(hits.drop(columns=["geometry", "index_right"])).assign(
        x=xy["x"].to_numpy(), y=xy["y"].to_numpy()
    )


def _mode_by_hid(hid: pd.Series, values: pd.Series) -> pd.Series:
    """Most frequent non-missing value per hotspot (ties: alphabetical)."""
    frame = pd.DataFrame({"hid": hid.to_numpy(), "v": values.to_numpy()}).dropna()
    frame = frame[frame["v"].astype(str) != ""]
    counts = frame.groupby(["hid", "v"]).size().rename("n").reset_index()
    counts = counts.sort_values(["hid", "n", "v"], ascending=[True, False, True])
    return counts.drop_duplicates("hid").set_index("hid")["v"].astype(str)


def _ward_names(hot: gpd.GeoDataFrame, pack: AreaPack, hits: pd.DataFrame) -> pd.Series:
    """Ward holding most of each hotspot's area; incidents' ``ward_nm`` where no polygon."""
    out = pd.Series(pd.NA, index=hot["hid"], dtype="string")
    if pack.has("layers", "ward"):
        wards = load_layer(pack, "ward")
        pairs = gpd.sjoin(
            hot[["hid", "geometry"]], wards[["name", "geometry"]], "inner", predicate="intersects"
        )
        if len(pairs):
            hgeom = hot.geometry.to_numpy()[pairs["hid"].to_numpy()]
            wgeom = wards.geometry.to_numpy()[pairs["index_right"].to_numpy()]
            pairs = pairs.assign(
                area=shapely.area(shapely.intersection(hgeom, wgeom)),
                rep_d=shapely.distance(shapely.point_on_surface(hgeom), wgeom),
            ).sort_values(["hid", "area", "rep_d", "name"], ascending=[True, False, True, True])
            best = pairs.drop_duplicates("hid").set_index("hid")["name"]
            out.loc[best.index] = best.astype("string")
    if out.isna().any() and "ward_nm" in hits:
        fallback = _mode_by_hid(hits["hid"], hits["ward_nm"])
        missing = out.index[out.isna()].intersection(fallback.index)
        out.loc[missing] = fallback.loc[missing]
    return out


def _select_streets(counts: pd.DataFrame, top_streets: int) -> pd.Series:
    """Pick up to ``top_streets`` names per hotspot from ``hid, street, n, generic`` counts."""
    counts = counts.sort_values(["hid", "n", "street"], ascending=[True, False, True])
    gen_rank = counts.groupby(["hid", "generic"]).cumcount()
    counts = counts[~counts["generic"] | (gen_rank == 0)].copy()
    rank = counts.groupby("hid").cumcount()
    real = ~counts["generic"]
    real_rank = real.groupby(counts["hid"]).cumsum() - 1
    sel = rank < top_streets
    has_real = real.groupby(counts["hid"]).transform("any")
    real_sel = (sel & real).groupby(counts["hid"]).transform("any")
    need = has_real & ~real_sel
    sel = (sel & ~(need & counts["generic"])) | (need & real & (real_rank == 0))
    picked = counts[sel]
    shown = picked["street"].where(~picked["generic"], picked["street"].str.lower())
    return shown.groupby(picked["hid"], sort=True).agg(" / ".join)


def _street_counts(hits: pd.DataFrame, min_share: float) -> pd.DataFrame:
    """``hid, street, n`` for streets held by at least ``min_share`` of a hotspot's incidents."""
    named = hits.dropna(subset=["street"])
    counts = named.groupby(["hid", "street"]).size().rename("n").reset_index()
    total = hits.groupby("hid").size()
    share = counts["n"] / total.reindex(counts["hid"]).to_numpy()
    return counts[(share >= min_share).to_numpy()]


def _incident_streets(hits: pd.DataFrame, top_streets: int, min_share: float) -> pd.Series:
    """Street text per hotspot from its incidents' location text."""
    counts = _street_counts(hits, min_share)
    if counts.empty:
        return pd.Series(dtype=object)
    counts["generic"] = is_generic_place(counts["street"]).to_numpy()
    return _select_streets(counts, top_streets)


def place_names(pack: AreaPack) -> list[str]:
    """Names people use for places, from the pack's places table (with or without a point).

    The Gloucester table lists, for example, "Widden Street", "Kingsholm" and
    "Gloucester Park"; a name without coordinates still labels hotspots whose incidents
    carry it as their street.
    """
    if not pack.has("tables", "places"):
        return []
    names = read_table(pack, "tables", "places")[pack.tables["places"]["name"]]
    return sorted({n.strip() for n in names if n.strip()})


def _osm_through(hot: gpd.GeoDataFrame, pack: AreaPack) -> pd.DataFrame:
    """``hid, street`` of the OpenStreetMap streets crossing each hotspot polygon."""
    segs = street_segments(pack).dropna(subset=["name"])
    hid, seg = shapely.STRtree(segs.geometry.values).query(
        hot.geometry.values, predicate="intersects"
    )
    return pd.DataFrame(
        {"hid": hot["hid"].to_numpy()[hid], "street": segs["name"].to_numpy()[seg]}
    ).drop_duplicates()


def _named_streets(
    hits: pd.DataFrame, hot: gpd.GeoDataFrame, pack: AreaPack, streets: pd.Series, min_share: float
) -> pd.Series:
    """Per hotspot, the pack's place names that are streets running through it, not yet shown.

    With a street layer these are OSM streets crossing the polygon; without one, police.uk
    street names held by at least ``min_share`` of the hotspot's incidents.
    """
    wanted = {n.casefold(): n for n in place_names(pack)}
    named = _osm_through(hot, pack) if has_streets(pack) else _street_counts(hits, min_share)
    key = named["street"].astype(str).str.casefold()
    found = named.loc[key.isin(wanted), ["hid"]].assign(name=key[key.isin(wanted)].map(wanted))
    found = found.drop_duplicates().sort_values(["hid", "name"])
    shown = streets.reindex(found["hid"]).fillna("").to_numpy()
    keep = [name not in text.split(" / ") for name, text in zip(found["name"], shown, strict=True)]
    found = found.loc[np.array(keep, dtype=bool)]
    return found.groupby("hid")["name"].agg(" / ".join)


def _stop_streets(
    hot: gpd.GeoDataFrame, pack: AreaPack, top_streets: int, stop_m: float
) -> pd.Series:
    """Street text per hotspot from NaPTAN stops inside it, else the nearest stop."""
    if hot.empty or not pack.has("tables", "stops"):
        return pd.Series(dtype=object)
    stops = load_points(pack, "stops")
    street = stops["street"] if "street" in stops else pd.Series("", index=stops.index)
    stops = gpd.GeoDataFrame(
        {"street": street.where(street.str.len() > 0, stops["name"])},
        geometry=stops.geometry.to_numpy(),
        crs=CRS_BNG,
    )
    inside = gpd.sjoin(stops, hot[["hid", "geometry"]], predicate="intersects")
    counts = inside.groupby(["hid", "street"]).size().rename("n").reset_index()
    counts["generic"] = False
    out = _select_streets(counts, top_streets) if len(counts) else pd.Series(dtype=object)
    rest = hot[~hot["hid"].isin(out.index)]
    if len(rest):
        near = gpd.sjoin_nearest(
            rest[["hid", "geometry"]], stops, max_distance=stop_m, distance_col="d"
        )
        near = near.sort_values(["hid", "d", "street"]).drop_duplicates("hid")
        out = pd.concat([out, near.set_index("hid")["street"]])
    return out


def _anchors(hot: gpd.GeoDataFrame, hits: pd.DataFrame) -> np.ndarray:
    """Where each hotspot's incidents are: their mean point, else the representative point."""
    anchor = shapely.point_on_surface(hot.geometry.to_numpy())
    if len(hits):
        mean = hits.groupby("hid")[["x", "y"]].mean()
        anchor[mean.index.to_numpy()] = shapely.points(mean[["x", "y"]].to_numpy())
    return anchor


def _nearest_place(
    hot: gpd.GeoDataFrame,
    anchor: np.ndarray,
    ward: pd.Series,
    pack: AreaPack,
    edge_m: float,
) -> pd.Series:
    """Nearest places-table name whose point lies within ``edge_m`` of a hotspot.

    Names equal to the hotspot's ward are skipped (they would repeat it). The place closest
    to the polygon wins; distance to the anchor breaks ties (e.g. several places inside).
    """
    if hot.empty or not pack.has("tables", "places"):
        return pd.Series(dtype=object)
    places = load_points(pack, "places")[["name", "geometry"]]
    pairs = gpd.sjoin(hot[["hid", "geometry"]], places, predicate="dwithin", distance=edge_m)
    if pairs.empty:
        return pd.Series(dtype=object)
    hgeom = hot.geometry.to_numpy()[pairs["hid"].to_numpy()]
    pgeom = places.geometry.to_numpy()[pairs["index_right"].to_numpy()]
    pairs = pairs.assign(
        d=shapely.distance(hgeom, pgeom),
        rep_d=shapely.distance(anchor[pairs["hid"].to_numpy()], pgeom),
        ward=ward.reindex(pairs["hid"]).to_numpy(),
    )
    same = pairs["name"].str.casefold() == pairs["ward"].astype("string").str.casefold()
    pairs = pairs[~same.fillna(False).astype(bool)]
    pairs = pairs.sort_values(["hid", "d", "rep_d", "name"]).drop_duplicates("hid")
    return pairs.set_index("hid")["name"]


def _nearest_locality(
    hot: gpd.GeoDataFrame, ward: pd.Series, pack: AreaPack, edge_m: float
) -> pd.Series:
    """Nearest NPTG locality point to each hotspot, within ``edge_m`` of its edge."""
    if hot.empty or not pack.has("tables", "localities"):
        return pd.Series(dtype=object)
    locs = load_points(pack, "localities")[["name", "geometry"]]
    locs = locs[locs["name"].str.casefold() != pack.title.casefold()]
    near = gpd.sjoin_nearest(hot[["hid", "geometry"]], locs, max_distance=edge_m, distance_col="d")
    near = near.sort_values(["hid", "d", "name"]).drop_duplicates("hid").set_index("hid")
    same = near["name"].str.casefold() == ward.reindex(near.index).astype("string").str.casefold()
    return near.loc[~same.fillna(False).astype(bool), "name"]


def _near(
    hot: gpd.GeoDataFrame,
    anchor: np.ndarray,
    ward: pd.Series,
    pack: AreaPack,
    edge_m: float,
    skip_locality: np.ndarray | None = None,
) -> pd.Series:
    """The "near X" name of each polygon: a places-table name, else an NPTG locality.

    Both within ``edge_m`` of the polygon's edge and not the polygon's ward name; rows
    flagged in ``skip_locality`` (e.g. in the city centre) get no locality fallback.
    Indexed by ``hid``.
    """
    near = _nearest_place(hot, anchor, ward, pack, edge_m).reindex(hot["hid"])
    skip = np.zeros(len(hot), dtype=bool) if skip_locality is None else skip_locality
    rest = hot[near.isna().to_numpy() & ~skip]
    if len(rest):
        near = near.fillna(_nearest_locality(rest, ward, pack, edge_m))
    return near


def area_names(
    areas: gpd.GeoDataFrame, pack: AreaPack, edge_m: float = NEAR_EDGE_M
) -> pd.DataFrame:
    """The ward and the nearby place of each polygon, by the hotspot labels' rules.

    "Gloucester 004I" says nothing on the ground; this names an LSOA (or any polygon) the
    way :func:`label_hotspots` names a hotspot: the ward holding most of its area, and the
    places-table name (else NPTG locality) within ``edge_m`` of its edge, the closest to
    the polygon first, then to its representative point (names equal to the ward skipped).

    Parameters
    ----------
    areas : geopandas.GeoDataFrame
        Polygons; any CRS, worked in EPSG:27700.
    pack : AreaPack
    edge_m : float, default :data:`NEAR_EDGE_M` (250)

    Returns
    -------
    pandas.DataFrame
        ``ward`` and ``place`` (``None`` where there is none), index aligned with ``areas``.
    """
    geom = areas.geometry if areas.crs is None else areas.geometry.to_crs(CRS_BNG)
    hot = gpd.GeoDataFrame({"hid": np.arange(len(areas))}, geometry=geom.to_numpy(), crs=CRS_BNG)
    if hot.empty:
        return pd.DataFrame({"ward": [], "place": []}, index=areas.index, dtype=object)
    ward = _ward_names(hot, pack, pd.DataFrame({"hid": []}))
    near = _near(hot, shapely.point_on_surface(hot.geometry.to_numpy()), ward, pack, edge_m)
    names = pd.DataFrame({"ward": ward.to_numpy(), "place": near.to_numpy()}, index=areas.index)
    return names.astype(object).where(names.notna(), None)


def _single_snap_point(hot: gpd.GeoDataFrame, hits: pd.DataFrame) -> pd.Series:
    """Whether all of a hotspot's incidents sit on one map point."""
    distinct = hits.drop_duplicates(["hid", "x", "y"]).groupby("hid").size()
    return distinct.reindex(hot["hid"], fill_value=0).eq(1)


def label_hotspots(
    hotspots: gpd.GeoDataFrame,
    incidents: gpd.GeoDataFrame,
    pack: AreaPack,
    top_streets: int = 2,
    *,
    centre: CityCentre | None | str = "auto",
    edge_m: float = NEAR_EDGE_M,
    min_share: float = MIN_STREET_SHARE,
    stop_m: float = 300.0,
    mark_snap_points: bool = False,
) -> pd.Series:
    """Human label for each hotspot polygon.

    Parameters
    ----------
    hotspots : geopandas.GeoDataFrame
        Hotspot polygons (points are accepted); any CRS, worked in EPSG:27700. An optional
        boolean ``single_snap_point`` column is used by ``mark_snap_points``.
    incidents : geopandas.GeoDataFrame
        Incidents with ``location_text`` (police.uk) and optionally ``ward_nm``.
    pack : AreaPack
        Supplies wards, NPTG localities, NaPTAN stops, named places and the city centre.
    top_streets : int, default 2
        Most street names listed per hotspot.
    centre : CityCentre, None or "auto", default "auto"
        City centre to recognise; ``"auto"`` derives it with :func:`city_centre`,
        ``None`` recognises none.
    edge_m : float, default :data:`NEAR_EDGE_M` (250)
        Named places (places table) whose point lies within this distance of a hotspot's
        polygon (0 inside it) are "near" it; the closest wins, then the one closest to
        the anchor (the mean point of its incidents).
    min_share : float, default :data:`MIN_STREET_SHARE` (0.10)
        Smallest share of the hotspot's incidents a named street must hold.
    stop_m : float, default 300
        Farthest NaPTAN stop used for streets when incidents carry no location text.
    mark_snap_points : bool, default False
        Append ``" [snap point]"`` to hotspots whose incidents all sit on one anonymised
        map point (from ``single_snap_point`` where given, else from the incidents).

    Returns
    -------
    pandas.Series
        Plain-text labels (``"label"``), index aligned with ``hotspots``.
    """
    if top_streets < 1:
        raise BadInput(f"top_streets must be at least 1, not {top_streets}", param="top_streets")
    geom = hotspots.geometry if hotspots.crs is None else hotspots.geometry.to_crs(CRS_BNG)
    hot = gpd.GeoDataFrame({"hid": np.arange(len(hotspots))}, geometry=geom.to_numpy(), crs=CRS_BNG)
    if hot.empty:
        return pd.Series([], index=hotspots.index, dtype=object, name="label")
    inc = _prepare(incidents)
    hits = _incident_hits(hot, inc)
    ward = _ward_names(hot, pack, hits)

    streets = _incident_streets(hits, top_streets, min_share).reindex(hot["hid"])
    missing = hot[streets.isna().to_numpy()]
    if len(missing):
        streets = streets.fillna(_stop_streets(missing, pack, top_streets, stop_m))

    around = _named_streets(hits, hot, pack, streets, min_share).reindex(hot["hid"])
    anchor = _anchors(hot, hits)
    if isinstance(centre, str):
        if centre != "auto":
            raise ValueError(f"centre must be a CityCentre, None or 'auto', not {centre!r}")
        centre = _city_centre(pack, inc)
    in_centre = np.zeros(len(hot), dtype=bool)
    if centre is not None:
        in_centre = (shapely.distance(anchor, centre.point) <= centre.radius_m) | (
            shapely.intersects(hot.geometry.to_numpy(), centre.point)
        )

    near = _near(hot, anchor, ward, pack, edge_m, skip_locality=in_centre)

    snap = None
    if mark_snap_points:
        snap = (
            hotspots["single_snap_point"].fillna(False).astype(bool).to_numpy()
            if "single_snap_point" in hotspots
            else _single_snap_point(hot, hits).to_numpy()
        )
    labels = _compose(
        ward.reindex(hot["hid"]).to_numpy(),
        streets.to_numpy(),
        in_centre,
        centre.name if centre is not None else "",
        near.to_numpy(),
        snap,
        pack.title,
        around.to_numpy(),
    )
    return pd.Series(labels, index=hotspots.index, dtype=object, name="label")


def _join_terms(a: pd.Series, b: pd.Series) -> pd.Series:
    """Join two columns of label terms with ", ", skipping empty ones."""
    return a.str.cat(b, sep=", ").where((a != "") & (b != ""), a + b)


def _compose(
    ward: np.ndarray,
    streets: np.ndarray,
    in_centre: np.ndarray,
    centre_name: str,
    near: np.ndarray,
    snap: np.ndarray | None,
    fallback: str,
    around: np.ndarray | None = None,
) -> np.ndarray:
    """Assemble ``"<ward>: <streets> (<centre>, around <name>, near <place>)"``."""
    w = pd.Series(ward, dtype="string").fillna("")
    s = pd.Series(streets, dtype="string").fillna("")
    head = w.str.cat(s, sep=": ").where((w != "") & (s != ""), w + s)
    head = head.where(head != "", fallback)
    centre_part = pd.Series(np.where(in_centre, centre_name, ""), dtype="string")
    n = pd.Series(near, dtype="string")
    near_part = ("near " + n).fillna("")
    a = pd.Series(around if around is not None else [None] * len(w), dtype="string")
    around_part = ("around " + a).fillna("")
    terms = _join_terms(_join_terms(centre_part, around_part), near_part)
    label = head + (" (" + terms + ")").where(terms != "", "")
    if snap is not None:
        label = label + pd.Series(np.where(snap, " [snap point]", ""), dtype="string")
    return label.astype(str).to_numpy(dtype=object)


def segment_label(ward: pd.Series, name: pd.Series, road_class: pd.Series) -> pd.Series:
    """Labels of street-segment hotspots: ``"<ward>: <street>"``.

    Parameters
    ----------
    ward : pandas.Series
        Ward name of each segment (``""`` outside the pack's wards).
    name : pandas.Series
        OSM street name (may be missing).
    road_class : pandas.Series
        OSM ``highway`` value, named as ``"unnamed <class>"`` when the street has no name.

    Returns
    -------
    pandas.Series
        ``"Westgate: Northgate Street"``, ``"Kingsholm and Wotton: unnamed footway"``;
        just the street outside every ward.
    """
    street = pd.Series(name, dtype="string").reset_index(drop=True)
    unnamed = "unnamed " + pd.Series(road_class, dtype="string").fillna("street").reset_index(
        drop=True
    )
    street = street.where(street.fillna("").str.strip() != "", unnamed)
    ward = pd.Series(ward, dtype="string").fillna("").reset_index(drop=True)
    return (ward + ": " + street).where(ward != "", street)
