"""Offline place search: a street, a postcode or a place name -> the ward and LSOA it is in.

A PCSO knows "Widden Street" or "GL1 1AD", not "Barton and Tredworth" or "E01022289". The
gazetteer is built once per area pack from its own files, so nothing leaves the machine:

- **wards** from the ward layer;
- **streets** from the pack's OpenStreetMap street layer (``[streets]``): one entry per
  street and ward it runs through (pieces under :data:`MIN_PIECE_M` only touch a ward),
  placed at the middle of its longest piece in that ward;
- **postcodes** from ``[tables.postcodes]`` (Code-Point Open points);
- **places** from ``[tables.places]`` and **localities** from ``[tables.localities]``.

Every entry carries the ward and the primary-level LSOA its point lies in; entries outside
the pack's wards are left out. :func:`search_places` ranks matches exact, then prefix, then
word prefix, then substring (postcodes by prefix of the compact code, any spacing).

Every entry also has a reference, ``<kind>:<id>`` (:func:`entry_ref`), that pages and the API
pass as ``?focus=`` to show the entry on a map; :func:`resolve_focus` turns it back into the
entry with its geometry: a street's OpenStreetMap lines in its ward, a postcode's centre
point, a place's or locality's point, a ward's boundary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from geo_ssgp.config import CRS_BNG, CRS_WGS84
from geo_ssgp.errors import BadInput, NotFound
from geo_ssgp.pack import AreaPack, has_streets, load_layer, load_points, load_streets

#: Kinds of entry, in the order equally good matches are listed.
KINDS = ("postcode", "ward", "street", "place", "locality")
#: Shortest query searched.
MIN_QUERY = 2
#: A street piece shorter than this inside a ward only touches it (crossing its boundary).
MIN_PIECE_M = 25.0
_POSTCODE_START = re.compile(r"^[A-Z]{1,2}\d")


def _compact(text: pd.Series | str) -> pd.Series | str:
    """Upper case without spaces (how postcodes are compared)."""
    if isinstance(text, str):
        return re.sub(r"\s+", "", text).upper()
    return text.str.replace(r"\s+", "", regex=True).str.upper()


def _points(kind: str, names: pd.Series, geometry: np.ndarray) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"kind": kind, "name": names.astype(str).str.strip().to_numpy()},
        geometry=geometry,
        crs=CRS_BNG,
    )


def _ward_entries(wards: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return _points("ward", wards["name"], shapely.point_on_surface(wards.geometry.to_numpy()))


def _street_entries(pack: AreaPack, wards: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One point per (street name, ward): the middle of its longest piece in the ward."""
    streets = load_streets(pack).dropna(subset=["name"])
    streets = streets[streets["name"].str.strip() != ""]
    s_idx, w_idx = shapely.STRtree(wards.geometry.to_numpy()).query(
        streets.geometry.to_numpy(), predicate="intersects"
    )
    pieces = shapely.intersection(
        streets.geometry.to_numpy()[s_idx], wards.geometry.to_numpy()[w_idx]
    )
    pairs = pd.DataFrame(
        {
            "name": streets["name"].to_numpy()[s_idx],
            "ward": w_idx,
            "length": shapely.length(pieces),
            "piece": pieces,
        }
    )
    longest_anywhere = pairs.groupby("name")["length"].transform("max")
    keep = (pairs["length"] >= MIN_PIECE_M) | (pairs["length"] == longest_anywhere)
    pairs = pairs[keep & (pairs["length"] > 0)].sort_values(["name", "ward", "length"])
    longest = pairs.drop_duplicates(["name", "ward"], keep="last")
    middle = shapely.line_interpolate_point(
        shapely.line_merge(longest["piece"].to_numpy()), 0.5, normalized=True
    )
    return _points("street", longest["name"], middle)


def _table_entries(pack: AreaPack, kind: str, table: str) -> gpd.GeoDataFrame | None:
    if not pack.has("tables", table):
        return None
    points = load_points(pack, table)
    return _points(kind, points["name"], points.geometry.to_numpy())


def _locate(entries: gpd.GeoDataFrame, pack: AreaPack, wards: gpd.GeoDataFrame) -> pd.DataFrame:
    """Ward and primary LSOA of each entry's point; entries outside every ward dropped."""
    entries = entries.reset_index(drop=True)
    out = entries.drop(columns="geometry")
    for layer, prefix in ((wards, "ward"), (load_layer(pack, pack.primary_lsoa), "lsoa")):
        hit = gpd.sjoin(entries[["geometry"]], layer[["code", "name", "geometry"]], "left",
                        predicate="intersects")
        hit = hit[~hit.index.duplicated(keep="first")]
        out[f"{prefix}_cd"] = hit["code"].to_numpy()
        out[f"{prefix}_nm"] = hit["name"].to_numpy()
    wgs = entries.geometry.to_crs(CRS_WGS84)
    out["lon"], out["lat"] = wgs.x.round(6).to_numpy(), wgs.y.round(6).to_numpy()
    return out[out["ward_cd"].notna()].reset_index(drop=True)


@lru_cache(maxsize=4)
def _gazetteer_cached(pack: AreaPack) -> pd.DataFrame:
    wards = load_layer(pack, "ward")
    parts = [
        _ward_entries(wards),
        _street_entries(pack, wards) if has_streets(pack) else None,
        _table_entries(pack, "postcode", "postcodes"),
        _table_entries(pack, "place", "places"),
        _table_entries(pack, "locality", "localities"),
    ]
    entries = pd.concat([p for p in parts if p is not None and len(p)], ignore_index=True)
    table = _locate(gpd.GeoDataFrame(entries, geometry="geometry", crs=CRS_BNG), pack, wards)
    # a street once per ward it runs through; any other name once (the pack's first point)
    street = table["kind"] == "street"
    once = table[street].drop_duplicates(["name", "ward_cd"]), table[~street].drop_duplicates(
        ["kind", "name"]
    )
    table = pd.concat(once, ignore_index=True)
    table.loc[table["kind"] == "ward", ["lsoa_cd", "lsoa_nm"]] = None
    table["key"] = table["name"].str.casefold()
    postcode = table["kind"] == "postcode"
    table.loc[postcode, "key"] = _compact(table.loc[postcode, "name"])
    table["order"] = table["kind"].map({k: i for i, k in enumerate(KINDS)})
    table["ref"] = _refs(table)
    return table


def _refs(table: pd.DataFrame) -> pd.Series:
    """``<kind>:<id>`` of each entry.

    The id is the ward code of a ward, the compact code of a postcode, ``<ward code>:<name>``
    of a street and the name of a place or locality.
    """
    ident = table["name"].where(table["kind"] != "postcode", table["key"])
    ident = ident.where(table["kind"] != "ward", table["ward_cd"])
    ident = ident.where(table["kind"] != "street", table["ward_cd"] + ":" + table["name"])
    return table["kind"] + ":" + ident


def gazetteer(pack: AreaPack) -> pd.DataFrame:
    """Every searchable entry of the pack (cached per pack).

    Parameters
    ----------
    pack : AreaPack
        With a ward layer; streets, postcodes, places and localities where it has them.

    Returns
    -------
    pandas.DataFrame
        ``kind`` (:data:`KINDS`), ``name``, ``ward_cd``, ``ward_nm``, ``lsoa_cd``,
        ``lsoa_nm`` (the primary LSOA level; ``None`` off its polygons), ``lon``, ``lat``
        (WGS84), the matching ``key`` and ``ref`` (``<kind>:<id>``, see
        :func:`resolve_focus`). A copy.
    """
    return _gazetteer_cached(pack).copy()


def _match_rank(keys: pd.Series, text: str) -> pd.Series:
    """0 exact, 1 prefix, 2 a word starts with it, 3 contains it, NaN no match."""
    words = keys.str.contains(r"(?:^|[\s\-'/(])" + re.escape(text), regex=True)
    rank = np.select(
        [keys == text, keys.str.startswith(text), words, keys.str.contains(text, regex=False)],
        [0, 1, 2, 3],
        default=-1,
    )
    return pd.Series(rank, index=keys.index).where(rank >= 0)


def search_places(pack: AreaPack, query: str, limit: int = 12) -> list[dict]:
    """Wards, streets, postcodes and places matching ``query``, each with its ward and LSOA.

    Parameters
    ----------
    pack : AreaPack
    query : str
        At least :data:`MIN_QUERY` characters, any case: ``"widden"``, ``"gl1 1ad"``,
        ``"Kingsholm"``. A query that starts like a postcode (``GL1``) matches postcodes
        by prefix, whatever the spacing.
    limit : int, default 12
        Most matches returned.

    Returns
    -------
    list of dict
        ``kind``, ``name``, ``ward_cd``, ``ward_nm``, ``lsoa_cd``, ``lsoa_nm``, ``lon``,
        ``lat`` and ``ref`` (to show it on a map, :func:`resolve_focus`); best first
        (exact, prefix, word prefix, substring; then by :data:`KINDS` and name). A street
        running through several wards appears once per ward.

    Raises
    ------
    BadInput
        For a query shorter than :data:`MIN_QUERY` characters.
    """
    text = " ".join(str(query).split())
    if len(text) < MIN_QUERY:
        raise BadInput(f"type at least {MIN_QUERY} characters to search", param="q")
    table = _gazetteer_cached(pack)
    rank = _match_rank(table["key"].where(table["kind"] != "postcode", ""), text.casefold())
    code = _compact(text)
    if _POSTCODE_START.match(code):
        postcode = (table["kind"] == "postcode") & table["key"].str.startswith(code)
        rank = rank.where(~postcode, np.where(table["key"] == code, 0, 1))
    hits = table.assign(rank=rank).dropna(subset=["rank"])
    hits = hits.sort_values(["rank", "order", "name", "ward_nm"]).head(limit)
    columns = ["kind", "name", "ward_cd", "ward_nm", "lsoa_cd", "lsoa_nm", "lon", "lat", "ref"]
    records = hits[columns].astype(object).where(hits[columns].notna(), None)
    return records.to_dict("records")


#: What the highlighted geometry of each kind is, said beside it on the page.
FOCUS_SHOWS = {
    "street": "the street's OpenStreetMap line(s) in {ward} ward",
    "postcode": "the postcode's centre point (Code-Point Open), not a boundary",
    "place": "the place's point, not its outline",
    "locality": "the locality's centre point (NPTG), not a boundary",
    "ward": "the ward boundary",
}
#: Longest ``?focus=`` reference accepted.
MAX_REF = 200


@dataclass(frozen=True)
class PlaceFocus:
    """A gazetteer entry to show on a map: its names, its ward and LSOA, its geometry.

    Attributes
    ----------
    ref, kind, name : str
        ``<kind>:<id>`` as in :func:`search_places`; one of :data:`KINDS`; its name.
    ward_cd, ward_nm : str
        The ward its search point lies in.
    lsoa_cd, lsoa_nm : str or None
        The primary-level LSOA of its search point (``None`` for a ward).
    geometry : shapely geometry
        EPSG:27700: street lines, a point, or a ward polygon.
    """

    ref: str
    kind: str
    name: str
    ward_cd: str
    ward_nm: str
    lsoa_cd: str | None
    lsoa_nm: str | None
    geometry: BaseGeometry

    @property
    def shows(self) -> str:
        """What the highlighted geometry is (:data:`FOCUS_SHOWS`)."""
        return FOCUS_SHOWS[self.kind].format(ward=self.ward_nm)

    @property
    def label(self) -> str:
        """The map label: the name, with "postcode centre" or "ward" where it helps."""
        suffix = {"postcode": " (postcode centre)", "ward": " ward"}.get(self.kind, "")
        return self.name + suffix

    def lies_in(self, area: BaseGeometry) -> bool:
        """Whether any of it lies in ``area`` (EPSG:27700), e.g. the ward of the page."""
        return bool(shapely.intersects(self.geometry, area))

    def feature(self) -> dict:
        """The entry as a GeoJSON Feature in WGS84 (coordinates to 6 decimals).

        Properties: ``ref``, ``kind``, ``name``, ``label``, ``shows``, ``ward_cd``,
        ``ward_nm``, ``lsoa_cd``, ``lsoa_nm``; plain text (pages insert it as text).
        """
        wgs = gpd.GeoSeries([self.geometry], crs=CRS_BNG).to_crs(CRS_WGS84).iloc[0]
        keys = ("ref", "kind", "name", "label", "shows", "ward_cd", "ward_nm", "lsoa_cd",
                "lsoa_nm")
        return {
            "type": "Feature",
            "geometry": mapping(shapely.set_precision(wgs, 1e-6)),
            "properties": {k: getattr(self, k) for k in keys},
        }


def _parse_ref(ref: str) -> tuple[str, str]:
    kind, _, ident = str(ref).strip().partition(":")
    if kind not in KINDS or not ident.strip() or len(ref) > MAX_REF:
        raise BadInput(
            f"focus {ref[:MAX_REF]!r}: give <kind>:<id> as a search result's ref, with kind "
            f"one of {', '.join(KINDS)} (e.g. 'postcode:GL11AD')",
            param="focus",
        )
    return kind, ident.strip()


def _focus_geometry(pack: AreaPack, entry: pd.Series) -> BaseGeometry:
    """BNG geometry of an entry: street lines in its ward, a ward polygon, or its point."""
    if entry["kind"] == "ward":
        return load_layer(pack, "ward").set_index("code").loc[entry["ward_cd"], "geometry"]
    if entry["kind"] == "street":
        ward = load_layer(pack, "ward").set_index("code").loc[entry["ward_cd"], "geometry"]
        streets = load_streets(pack)
        lines = shapely.get_parts(streets.geometry[streets["name"] == entry["name"]].to_numpy())
        touching = lines[shapely.intersects(lines, ward)]
        return touching[0] if len(touching) == 1 else shapely.multilinestrings(touching)
    point = gpd.points_from_xy([entry["lon"]], [entry["lat"]], crs=CRS_WGS84)
    return gpd.GeoSeries(point).to_crs(CRS_BNG).iloc[0]


def resolve_focus(pack: AreaPack, ref: str) -> PlaceFocus:
    """The gazetteer entry of a reference, with the geometry to highlight on a map.

    Parameters
    ----------
    pack : AreaPack
    ref : str
        ``<kind>:<id>`` as given by :func:`search_places` (``ref``):
        ``"street:E05010953:Widden Street"``, ``"postcode:GL11AD"`` (any case and
        spacing), ``"place:Gloucester Park"``, ``"locality:Kingsholm"``,
        ``"ward:E05010953"``.

    Returns
    -------
    PlaceFocus
        A street's geometry is every OpenStreetMap line of that name touching its ward;
        a postcode's is its Code-Point Open centre point; a place's or locality's its point;
        a ward's its boundary polygon.

    Raises
    ------
    BadInput
        For a reference that is not ``<kind>:<id>`` with a kind of :data:`KINDS`.
    NotFound
        For a well-formed reference that names no entry of the pack.
    """
    kind, ident = _parse_ref(ref)
    if kind == "postcode":
        ident = _compact(ident)
    table = _gazetteer_cached(pack)
    hit = table[table["ref"] == f"{kind}:{ident}"]
    if hit.empty:
        what = "{1!r} in ward {0}".format(*ident.split(":", 1)) if ":" in ident else repr(ident)
        raise NotFound(f"no {kind} {what} in the {pack.title} gazetteer: search again",
                       param="focus")
    entry = hit.iloc[0]
    text = {k: (None if pd.isna(entry[k]) else str(entry[k]))
            for k in ("ref", "kind", "name", "ward_cd", "ward_nm", "lsoa_cd", "lsoa_nm")}
    return PlaceFocus(**text, geometry=_focus_geometry(pack, entry))
