"""Locating rows: coordinate tiers, range checks and the offline postcode lookup.

Each row is located by the first *usable* of three tiers: WGS84 longitude/latitude
(transformed to British National Grid), easting/northing, and a postcode looked up in the
area pack's Code-Point files. A tier that is present but unusable gets a reason
(``bad_coordinates``, ``wrong_crs``, ``swapped_lat_lon``, ``impossible_coordinates``,
``bad_postcode``, ``unknown_postcode``); a row with no usable tier takes the reason of the
first tier it offers, or ``no_location``. Rows are quarantined, never silently repaired.
This module also owns the one UK postcode pattern of the package (:data:`POSTCODE_PATTERN`)
and the distinct locations of rows (:func:`distinct_locations`): police.uk rows share snap
points, so projecting and building points is done once per location (:func:`points_of`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from geo_ssgp.config import CRS_BNG, CRS_WGS84
from geo_ssgp.incidents.quarantine import Reasons, RowText
from geo_ssgp.incidents.staging import Columns
from geo_ssgp.pack import AreaPack, read_table
from geo_ssgp.schema import QUARANTINE_REASONS

#: UK extent used to reject impossible WGS84 coordinates (degrees).
UK_LON = (-9.0, 2.5)
UK_LAT = (49.0, 61.0)
#: British National Grid extent (metres).
BNG_EAST = (0.0, 700_000.0)
BNG_NORTH = (0.0, 1_300_000.0)

#: A UK postcode in upper case: outward code, optional white space, inward code. Not
#: anchored: use ``re.fullmatch`` to check a value, or ``\b...\b`` to find one in text.
POSTCODE_PATTERN = r"(?:[A-Z]{1,2}[0-9][A-Z0-9]?|GIR)\s*[0-9][A-Z]{2}"

#: Declared degrees at least this large on both axes are read as grid metres (``wrong_crs``).
_METRES = 1000.0
_ZERO = "coordinates are (0, 0), a placeholder rather than a location"


def normalise_postcode(values: pd.Series) -> pd.Series:
    """Normalise UK postcodes to upper case with one space before the inward code.

    Parameters
    ----------
    values : pandas.Series
        Postcode text in any case and spacing (``"gl11ad"``, ``" GL1  1AD "``).

    Returns
    -------
    pandas.Series
        ``"GL1 1AD"`` form where the text is a syntactically valid postcode, else ``""``.
    """
    compact = values.fillna("").astype(str).str.upper().str.replace(r"\s+", "", regex=True)
    valid = compact.str.fullmatch(POSTCODE_PATTERN).fillna(False).astype(bool)
    spaced = compact.str[:-3] + " " + compact.str[-3:]
    return spaced.where(valid, "").astype(object)


def distinct_locations(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's position among the distinct (x, y) locations, and each location's first row.

    Police.uk points are snap points, each carrying many incidents, so a force's rows hold
    far fewer distinct locations than rows; work that depends on the location alone (building
    a point, locating it in polygons) is done once per location.

    Parameters
    ----------
    x, y : numpy.ndarray of float
        Finite coordinates (``0.0`` and ``-0.0`` count as equal).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        ``place`` (int per row, locations numbered in order of first appearance) and
        ``first`` (per location, the position of its first row).
    """
    place, _ = pd.factorize(x + 1j * y)
    # factorize numbers locations in order of first appearance: a new one raises the maximum
    first = np.flatnonzero(np.diff(np.maximum.accumulate(place), prepend=-1) > 0)
    return place, first


def points_of(x: np.ndarray, y: np.ndarray) -> gpd.array.GeometryArray:
    """Points at finite ``x``, ``y`` (EPSG:27700), one geometry built per distinct location.

    Equal to ``geopandas.points_from_xy(x, y)``; rows at one location share its (immutable)
    point, which costs a tenth of building one per row on police.uk data.
    """
    place, first = distinct_locations(x, y)
    points = shapely.points(x[first], y[first])[place]
    return gpd.array.from_shapely(points, crs=CRS_BNG)


@dataclass
class Tier:
    """One way of locating rows: which rows offer it, why each fails, and x/y in BNG."""

    present: np.ndarray
    reasons: Reasons
    x: np.ndarray
    y: np.ndarray


def locate(frame: Columns, pack: AreaPack | None) -> tuple[Reasons, np.ndarray, np.ndarray]:
    """Locate every row by its first usable tier.

    Parameters
    ----------
    frame : Columns
        The stage columns of all rows of the call.
    pack : AreaPack, optional
        Needed only when some rows can be located by postcode alone.

    Returns
    -------
    (Reasons, numpy.ndarray, numpy.ndarray)
        Location reasons (rows with no usable tier), and x, y in EPSG:27700 (NaN there).

    Raises
    ------
    ValueError
        If rows are located by postcode only and ``pack`` has no postcode table.
    """
    n = frame["lon"].n
    tiers = [_lonlat_tier(frame), _grid_tier(frame)]
    located = tiers[0].reasons.ok | tiers[1].reasons.ok
    tiers.append(_postcode_tier(frame, pack, ~located))
    out = Reasons(n)
    x = np.full(n, np.nan)
    y = np.full(n, np.nan)
    chosen = np.zeros(n, dtype=bool)
    for tier in tiers:
        use = ~chosen & tier.reasons.ok
        x[use], y[use] = tier.x[use], tier.y[use]
        chosen |= use
    for tier in tiers:  # rows with no usable tier: reason of the first one present
        out.take(tier.reasons, ~chosen & tier.present & out.ok)
    out.mark(~chosen, "no_location", lambda m: _no_location_detail(frame, m))
    return out, x, y


def _no_location_detail(frame: Columns, m: np.ndarray) -> np.ndarray:
    text = frame["location_text"][m]
    base = QUARANTINE_REASONS["no_location"]
    return np.where(text != "", base + " (location '" + text + "')", base)


def _between(v: np.ndarray, bounds: tuple[float, float]) -> np.ndarray:
    return (v >= bounds[0]) & (v <= bounds[1])


@dataclass
class _Pair:
    """A coordinate pair being checked: its tier, values as floats, and text for messages."""

    tier: Tier
    a: np.ndarray
    b: np.ndarray
    text: RowText


def _read_pair(frame: Columns, keys: tuple[str, str], names: tuple[str, str]) -> _Pair:
    """The tier of the pair ``keys``: absent rows, blank halves and non-numbers marked.

    Values parse only on rows still usable; NaN elsewhere.
    """
    sa, sb = frame[keys[0]], frame[keys[1]]
    na, nb = names
    present = ~(sa.blank & sb.blank)
    r = Reasons(len(present))
    r.mark(~present, "no_location", "")
    nan = np.full(len(present), np.nan)

    def text(m: np.ndarray) -> np.ndarray:
        return f"{na} " + sa[m] + f", {nb} " + sb[m]

    pair = _Pair(Tier(present, r, nan, nan.copy()), nan.copy(), nan.copy(), text)
    if not present.any():
        return pair
    r.mark(sa.blank, "bad_coordinates", lambda m: f"{na} is blank ({nb} " + sb[m] + ")")
    r.mark(sb.blank, "bad_coordinates", lambda m: f"{nb} is blank ({na} " + sa[m] + ")")
    pair.a, pair.b = sa.floats(r.ok), sb.floats(r.ok)
    r.mark(
        ~(np.isfinite(pair.a) & np.isfinite(pair.b)),
        "bad_coordinates",
        lambda m: f"{na}/{nb} do not parse as numbers: " + text(m),
    )
    return pair


@lru_cache(maxsize=1)
def _to_bng() -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(CRS_WGS84, CRS_BNG, always_xy=True)


def _lonlat_tier(frame: Columns) -> Tier:
    """Longitude/latitude in WGS84 degrees, inside the UK, transformed to BNG."""
    pair = _read_pair(frame, ("lon", "lat"), ("longitude", "latitude"))
    tier, r, lon, lat = pair.tier, pair.tier.reasons, pair.a, pair.b
    if not tier.present.any():
        return tier
    _mark_lonlat_crs(pair, frame)
    r.mark((lon == 0) & (lat == 0), "impossible_coordinates", _ZERO)
    r.mark(
        ~((np.abs(lon) <= 180) & (np.abs(lat) <= 90)),
        "impossible_coordinates",
        lambda m: pair.text(m) + " outside the WGS84 range (longitude -180..180, latitude -90..90)",
    )
    r.mark(
        ~(_between(lon, UK_LON) & _between(lat, UK_LAT)),
        "impossible_coordinates",
        lambda m: (
            pair.text(m) + f" outside the UK (longitude {UK_LON[0]}..{UK_LON[1]}, "
            f"latitude {UK_LAT[0]:g}..{UK_LAT[1]:g})"
        ),
    )
    if r.ok.any():
        tier.x[r.ok], tier.y[r.ok] = _project(lon[r.ok], lat[r.ok])
    return tier


def _project(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 longitude/latitude to BNG easting/northing, each distinct location once."""
    place, first = distinct_locations(lon, lat)
    x, y = _to_bng().transform(lon[first], lat[first])
    return x[place], y[place]


def _mark_lonlat_crs(pair: _Pair, frame: Columns) -> None:
    """Declared degrees that look like grid metres, or like swapped latitude/longitude."""
    lon, lat, r = pair.a, pair.b, pair.tier.reasons
    r.mark(
        (lon >= _METRES) & (lat >= _METRES) & _between(lon, BNG_EAST) & _between(lat, BNG_NORTH),
        "wrong_crs",
        lambda m: (
            pair.text(m) + " look like British National Grid easting/northing metres "
            "(EPSG:27700), not WGS84 degrees"
        ),
    )
    r.mark(
        _between(lon, UK_LAT) & _between(lat, UK_LON),
        "swapped_lat_lon",
        lambda m: (
            "latitude and longitude appear swapped: longitude "
            + frame["lon"][m]
            + " looks like a UK latitude and latitude "
            + frame["lat"][m]
            + " like a UK longitude"
        ),
    )


def _looks_like_degrees(order: str) -> str:
    return f" look like WGS84 {order} degrees (EPSG:4326), not British National Grid metres"


def _grid_tier(frame: Columns) -> Tier:
    """Easting/northing in British National Grid metres, inside the grid's extent."""
    pair = _read_pair(frame, ("east", "north"), ("easting", "northing"))
    tier, r, e, nn = pair.tier, pair.tier.reasons, pair.a, pair.b
    if not tier.present.any():
        return tier
    zero = (e == 0) & (nn == 0)
    degrees = (np.abs(e) <= 180) & (np.abs(nn) <= 90) & ~zero
    r.mark(
        degrees & _between(e, UK_LAT) & _between(nn, UK_LON),
        "wrong_crs",
        lambda m: pair.text(m) + _looks_like_degrees("latitude/longitude"),
    )
    r.mark(degrees, "wrong_crs", lambda m: pair.text(m) + _looks_like_degrees("longitude/latitude"))
    r.mark(zero, "impossible_coordinates", _ZERO)
    r.mark(
        ~(_between(e, BNG_EAST) & _between(nn, BNG_NORTH)),
        "impossible_coordinates",
        lambda m: (
            pair.text(m) + " outside the British National Grid extent "
            "(easting 0..700000, northing 0..1300000)"
        ),
    )
    return Tier(tier.present, r, np.where(r.ok, e, np.nan), np.where(r.ok, nn, np.nan))


@lru_cache(maxsize=8)
def _postcode_lookup(pack: AreaPack) -> pd.DataFrame:
    """Normalised postcode -> easting, northing from the pack's Code-Point files.

    All files of ``[tables.postcodes]`` are read; a postcode in several takes the first.
    """
    entry = pack.tables["postcodes"]
    table = read_table(pack, "tables", "postcodes")
    out = pd.DataFrame(
        {
            "easting": pd.to_numeric(table[entry["easting"]], errors="coerce").to_numpy(),
            "northing": pd.to_numeric(table[entry["northing"]], errors="coerce").to_numpy(),
        },
        index=normalise_postcode(table[entry["postcode"]]).to_numpy(),
    )
    out = out[(out.index != "") & out["easting"].notna() & out["northing"].notna()]
    return out[~out.index.duplicated(keep="first")]


def _postcode_tier(frame: Columns, pack: AreaPack | None, needed: np.ndarray) -> Tier:
    """Postcodes looked up in the pack; looked up only when some row ``needed`` one."""
    sraw = frame["postcode"]
    n = sraw.n
    present = ~sraw.blank
    r = Reasons(n)
    r.mark(~present, "no_location", "")
    tier = Tier(present, r, np.full(n, np.nan), np.full(n, np.nan))
    if not present.any():
        return tier
    norm = normalise_postcode(sraw.series)
    snorm = norm.to_numpy(dtype=object)
    r.mark(snorm == "", "bad_postcode", lambda m: "'" + sraw[m] + "' is not a UK postcode")
    if not (needed & r.ok).any():  # every row is located otherwise: no lookup needed
        r.mark(r.ok, "unknown_postcode", "postcode not looked up")
        return tier
    _require_postcodes(pack, int((needed & r.ok).sum()))
    lookup = _postcode_lookup(pack).reindex(norm)
    e = lookup["easting"].to_numpy(dtype=float)
    nn = lookup["northing"].to_numpy(dtype=float)
    r.mark(
        np.isnan(e),
        "unknown_postcode",
        lambda m: "'" + snorm[m] + "' is not in the area pack's postcode file",
    )
    return Tier(present, r, np.where(r.ok, e, np.nan), np.where(r.ok, nn, np.nan))


def _require_postcodes(pack: AreaPack | None, count: int) -> None:
    """Raise ValueError unless ``pack`` has a postcode table for ``count`` rows."""
    if pack is None or not pack.has("tables", "postcodes"):
        where = "no area pack was given" if pack is None else f"pack {pack.name!r} has none"
        raise ValueError(
            f"{count} rows are located by postcode only, but {where}: pass an area pack "
            "with a [tables.postcodes] entry to geocode them"
        )
