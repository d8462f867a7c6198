"""Boundary layers, population and IMD from an area pack, and per-area statistics.

Loaders return tables keyed by area code, in EPSG:27700 for geometry. They are cached
per (manifest, data folder) because packs are read-only during a run.

Below the loaders: :func:`filter_incidents` (the one incident filter every stage uses),
the geography that links areas (:func:`lsoa_districts`, :func:`lsoa_wards`,
:func:`lsoa11_parents`), :func:`area_stats` (counts, rates per 1,000, IMD per area) and
:func:`district_summary` (district and county rates).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from functools import lru_cache

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geo_ssgp.config import CRS_BNG, AreaPack
from geo_ssgp.schema import API_SLUGS, CRIME_GROUPS, CRIME_TYPES


def _number(series: pd.Series) -> pd.Series:
    """Parse numbers published with thousands separators (``"1,702"``)."""
    return pd.to_numeric(series.astype(str).str.replace(",", "", regex=False), errors="coerce")


def read_table(pack: AreaPack, section: str, key: str) -> pd.DataFrame:
    """Read every CSV file of a manifest entry into one DataFrame of strings.

    Parameters
    ----------
    pack : AreaPack
    section : str
        ``"lookups"`` or ``"tables"``.
    key : str
        Entry name, e.g. ``"imd"``.

    Returns
    -------
    pandas.DataFrame
        All columns as strings (``encoding="utf-8-sig"`` strips byte-order marks).
    """
    frames = [
        pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        for p in pack.paths(section, key)
    ]
    return pd.concat(frames, ignore_index=True)


@lru_cache(maxsize=32)
def _load_layer_cached(pack: AreaPack, key: str) -> gpd.GeoDataFrame:
    entry = pack.layers[key]
    gdf = pyogrio.read_dataframe(pack.path("layers", key))
    gdf = gdf.set_crs("EPSG:4326", allow_override=True) if gdf.crs is None else gdf
    out = gpd.GeoDataFrame(
        {"code": gdf[entry["code"]].astype(str), "name": gdf[entry["name"]].astype(str)},
        geometry=gdf.geometry.to_crs(CRS_BNG).make_valid(),
        crs=CRS_BNG,
    )
    return out.sort_values("code", ignore_index=True)


def load_layer(pack: AreaPack, key: str) -> gpd.GeoDataFrame:
    """Load a polygon layer of the pack in British National Grid.

    Parameters
    ----------
    pack : AreaPack
    key : str
        ``"lsoa21"``, ``"lsoa11"``, ``"ward"`` or ``"district"``.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``code``, ``name``, ``geometry`` (EPSG:27700), sorted by code.
        A copy: callers may modify it.
    """
    return _load_layer_cached(pack, key).copy()


@lru_cache(maxsize=32)
def _load_points_cached(pack: AreaPack, key: str) -> gpd.GeoDataFrame:
    entry = pack.tables[key]
    df = read_table(pack, "tables", key)
    east, north = _number(df[entry["easting"]]), _number(df[entry["northing"]])
    keep = east.notna() & north.notna()
    data = {"name": df.loc[keep, entry["name"]].str.strip()}
    if "street" in entry:
        data["street"] = df.loc[keep, entry["street"]].str.strip()
    return gpd.GeoDataFrame(
        data,
        geometry=gpd.points_from_xy(east[keep], north[keep]),
        crs=CRS_BNG,
    ).reset_index(drop=True)


def load_points(pack: AreaPack, key: str) -> gpd.GeoDataFrame:
    """Load a gazetteer point table (``localities``, ``stops`` or ``places``).

    Parameters
    ----------
    pack : AreaPack
    key : str
        Table name in the manifest's ``[tables]``.

    Returns
    -------
    geopandas.GeoDataFrame
        ``name`` (and ``street`` for stops) with Point geometry in EPSG:27700;
        rows without coordinates are left out.
    """
    return _load_points_cached(pack, key).copy()


@lru_cache(maxsize=8)
def _population_cached(pack: AreaPack, level: str) -> pd.Series:
    key = "population21" if level == "lsoa21" else "population11"
    entry = pack.tables[key]
    df = read_table(pack, "tables", key)
    values = _number(df[entry["value"]])
    return values.groupby(df[entry["code"]]).sum().rename("population")


def population(pack: AreaPack, level: str) -> pd.Series:
    """Resident population per LSOA.

    Parameters
    ----------
    pack : AreaPack
    level : {"lsoa21", "lsoa11"}
        ``lsoa21`` uses Census 2021 usual residents (age groups summed);
        ``lsoa11`` uses the IoD2019 mid-2015 denominators.

    Returns
    -------
    pandas.Series
        Population indexed by LSOA code, for every LSOA in the table (county-wide).
    """
    return _population_cached(pack, level).copy()


@lru_cache(maxsize=8)
def _imd_cached(pack: AreaPack) -> pd.DataFrame:
    entry = pack.tables["imd"]
    df = read_table(pack, "tables", "imd")
    out = pd.DataFrame(
        {
            "lsoa11cd": df[entry["code"]],
            "lad_cd": df[entry["lad"]],
            "imd_rank": _number(df[entry["rank"]]).astype("Int64"),
            "imd_decile": _number(df[entry["decile"]]).astype("Int64"),
        }
    )
    if "crime_decile" in entry:
        out["imd_crime_decile"] = _number(df[entry["crime_decile"]]).astype("Int64")
    return out.set_index("lsoa11cd")


def imd(pack: AreaPack) -> pd.DataFrame:
    """IMD 2019 rank and decile per LSOA 2011 (rank 1 = most deprived nationally).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``lsoa11cd`` with ``lad_cd``, ``imd_rank``, ``imd_decile``
        and ``imd_crime_decile`` where the pack names it.
    """
    return _imd_cached(pack).copy()


# ---------------------------------------------------------------------------------------
# Filtering incidents


def month_start(value: str | pd.Timestamp | date | pd.Period) -> pd.Timestamp:
    """The first day of the month a value falls in.

    Parameters
    ----------
    value : str, Timestamp, date or Period
        ``"YYYY-MM"``, ``"YYYY-MM-DD"``, a timestamp, a date or a monthly period.

    Returns
    -------
    pandas.Timestamp
        Midnight on the first of that month.

    Raises
    ------
    ValueError
        If the value is not a date or month.
    """
    if isinstance(value, str) and not _MONTH_TEXT.match(value.strip()):
        raise ValueError(f"not a month: {value!r} (expected YYYY-MM)")
    try:
        return pd.Period(value, freq="M").to_timestamp()
    except (ValueError, TypeError) as exc:
        raise ValueError(f"not a month: {value!r} (expected YYYY-MM)") from exc


#: Month text accepted by :func:`month_start`: ``YYYY-MM`` with an optional day and time.
_MONTH_TEXT = re.compile(r"^\d{4}-\d{1,2}(-\d{1,2}([ T].*)?)?$")


def _as_list(values: str | Iterable[str]) -> list[str]:
    """A single string or an iterable of strings as a list."""
    return [values] if isinstance(values, str) else list(values)


def resolve_crime_types(crime_types: str | Iterable[str]) -> list[str]:
    """Resolve crime-type names, API slugs and group names to police.uk category names.

    Parameters
    ----------
    crime_types : str or iterable of str
        Each item is a police.uk category name (case-insensitive, e.g. ``"Burglary"``),
        an API slug (``"violent-crime"``) or a group of
        :data:`~geo_ssgp.schema.CRIME_GROUPS` (``"asb"``, ``"violence"``, ``"crime"``).

    Returns
    -------
    list of str
        Category names in :data:`~geo_ssgp.schema.CRIME_TYPES` order, without repeats.

    Raises
    ------
    ValueError
        Naming every item that is none of the above.
    """
    by_lower = {t.lower(): t for t in CRIME_TYPES}
    wanted: set[str] = set()
    unknown = []
    for item in _as_list(crime_types):
        key = str(item).strip()
        if key in CRIME_GROUPS:
            wanted.update(CRIME_GROUPS[key])
        elif key in API_SLUGS:
            wanted.add(API_SLUGS[key])
        elif key.lower() in by_lower:
            wanted.add(by_lower[key.lower()])
        else:
            unknown.append(item)
    if unknown:
        raise ValueError(
            f"unknown crime type(s) {unknown!r}: use police.uk category names, API slugs "
            f"or one of the groups {sorted(CRIME_GROUPS)}"
        )
    return [t for t in CRIME_TYPES if t in wanted]


def filter_incidents(
    incidents: pd.DataFrame,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    crime_types: str | Iterable[str] | None = None,
    sources: str | Iterable[str] | None = None,
    restricted: bool | None = None,
) -> pd.DataFrame:
    """Select incidents by month range, crime type, source and restriction.

    The one filter every stage uses (area statistics, hotspots, maps, API). ``None``
    means "no condition"; conditions combine with AND. Index, column order and
    ``attrs`` are kept.

    Parameters
    ----------
    incidents : pandas.DataFrame or geopandas.GeoDataFrame
        Table with ``month`` (and ``crime_type``, ``source``, ``restricted`` for the
        filters that use them).
    start, end : str or Timestamp, optional
        First and last month, **both included**: ``"2025-01"`` to ``"2025-03"`` is three
        months. Any date is reduced to its month.
    crime_types : str or iterable of str, optional
        Category names, API slugs or group names (see :func:`resolve_crime_types`). An
        empty list selects nothing.
    sources : str or iterable of str, optional
        Source names (``police-uk``, ``police-uk-api``, ``police-uk-geojson``, ``local``).
    restricted : bool, optional
        ``False`` keeps public records only, ``True`` restricted (local) records only.

    Returns
    -------
    pandas.DataFrame or geopandas.GeoDataFrame
        The selected rows (same type as the input).

    Raises
    ------
    ValueError
        For an unknown crime type, a value that is not a month, or ``start`` after ``end``.
    """
    mask = np.ones(len(incidents), dtype=bool)
    first = month_start(start) if start is not None else None
    last = month_start(end) if end is not None else None
    if first is not None and last is not None and first > last:
        raise ValueError(f"start {first:%Y-%m} is after end {last:%Y-%m}")
    if first is not None or last is not None:
        months = pd.to_datetime(incidents["month"])
        if first is not None:
            mask &= (months >= first).to_numpy()
        if last is not None:
            mask &= (months < last + pd.offsets.MonthBegin(1)).to_numpy()
    if crime_types is not None:
        mask &= incidents["crime_type"].isin(resolve_crime_types(crime_types)).to_numpy()
    if sources is not None:
        mask &= incidents["source"].isin(_as_list(sources)).to_numpy()
    if restricted is not None:
        mask &= (incidents["restricted"].astype(bool) == bool(restricted)).to_numpy()
    return incidents[mask]


# ---------------------------------------------------------------------------------------
# Area geography: districts, wards and 2011 parents of LSOAs

#: ONS LSOA names are ``<district name> <3-digit MSOA number><letter>``.
_LSOA_NAME = r"^(?P<district>.+) \d{3}[A-Z]$"

_CODE_COLUMN = {"lsoa21": "lsoa21cd", "lsoa11": "lsoa11cd", "ward": "ward_cd"}


@lru_cache(maxsize=8)
def _lsoa_districts_cached(pack: AreaPack, level: str) -> pd.Series:
    if level == "lsoa11":
        return imd(pack)["lad_cd"].rename("lad_cd")
    entry = pack.tables["population21"]
    df = read_table(pack, "tables", "population21").drop_duplicates(entry["code"])
    name_col = entry.get("name", "lsoa21_name")
    districts = load_layer(pack, "district")
    by_name = dict(zip(districts["name"], districts["code"], strict=True))
    if name_col in df.columns:
        prefix = df[name_col].str.extract(_LSOA_NAME, expand=False)
        out = pd.Series(prefix.map(by_name).to_numpy(), index=df[entry["code"]].to_numpy())
    else:
        out = pd.Series(dtype=object)
    if pack.has("lookups", "lsoa11_lsoa21_bestfit"):
        entry = pack.lookups["lsoa11_lsoa21_bestfit"]
        look = read_table(pack, "lookups", "lsoa11_lsoa21_bestfit").drop_duplicates(entry["lsoa21"])
        best = pd.Series(look[entry["lad"]].to_numpy(), index=look[entry["lsoa21"]].to_numpy())
        out = out.combine_first(best) if len(out) else best
    return out.rename("lad_cd").rename_axis("code")


def lsoa_districts(pack: AreaPack, level: str) -> pd.Series:
    """District (LAD) code of every LSOA the pack's statistics tables know (county-wide).

    Parameters
    ----------
    pack : AreaPack
    level : {"lsoa21", "lsoa11"}
        ``lsoa11``: the district column of the IMD table. ``lsoa21``: the district whose
        name begins the LSOA's name in the Census 2021 population table (ONS names LSOAs
        ``<district> <MSOA number><letter>``), matched to the district layer's names;
        the best-fit lookup's district fills any name that does not match.

    Returns
    -------
    pandas.Series
        ``lad_cd`` indexed by LSOA code.
    """
    return _lsoa_districts_cached(pack, level).copy()


def _majority(left: gpd.GeoDataFrame, right: gpd.GeoDataFrame) -> pd.DataFrame:
    """For each polygon of ``left``, the ``right`` polygon covering most of its area."""
    a = np.asarray(left.geometry.values)
    b = np.asarray(right.geometry.values)
    i, j = shapely.STRtree(b).query(a, predicate="intersects")
    overlap = shapely.area(shapely.intersection(a[i], b[j]))
    pairs = pd.DataFrame({"i": i, "j": j, "overlap": overlap})
    pairs = pairs.sort_values(["i", "overlap", "j"], ascending=[True, False, True])
    top = pairs.drop_duplicates("i").set_index("i").reindex(range(len(a)))
    j_top = top["j"].to_numpy()
    has = ~np.isnan(j_top)
    idx = np.where(has, j_top, 0).astype(int)
    share = top["overlap"].to_numpy() / shapely.area(a)
    return pd.DataFrame(
        {
            "code": left["code"].to_numpy(),
            "match_cd": np.where(has, right["code"].to_numpy()[idx], None),
            "match_nm": np.where(has, right["name"].to_numpy()[idx], None),
            "share": np.where(has, share, np.nan),
        }
    )


@lru_cache(maxsize=8)
def _lsoa_wards_cached(pack: AreaPack, level: str) -> pd.DataFrame:
    codes = load_layer(pack, level)
    if pack.has("layers", "ward"):
        m = _majority(codes, load_layer(pack, "ward"))
        out = m.rename(
            columns={"match_cd": "ward_cd", "match_nm": "ward_nm", "share": "ward_share"}
        )
        return out.set_index("code").assign(ward_rule="area majority of ward polygons")
    parent = lsoa11_parents(pack)["lsoa11cd"] if level == "lsoa21" else None
    key = codes["code"].map(parent) if parent is not None else codes["code"]
    entry = pack.lookups["lsoa11_ward"]
    look = read_table(pack, "lookups", "lsoa11_ward").drop_duplicates(entry["lsoa11"])
    look = look.set_index(entry["lsoa11"])
    out = pd.DataFrame(
        {
            "ward_cd": key.map(look[entry["ward_code"]]).to_numpy(),
            "ward_nm": key.map(look[entry["ward_name"]]).to_numpy(),
            "ward_share": np.nan,
            "ward_rule": "ONS best-fit LSOA 2011 to ward lookup",
        },
        index=codes["code"].to_numpy(),
    )
    return out.rename_axis("code")


def lsoa_wards(pack: AreaPack, level: str) -> pd.DataFrame:
    """Ward of every LSOA polygon of the pack.

    With ward polygons, an LSOA belongs to the ward covering most of its area (the ONS
    best-fit lookups use population instead; for Gloucester the two differ only for
    E01022285, 60% of whose area lies in Barnwood while ONS puts it in Coney Hill).
    Without ward polygons, the ward comes from ``lookups.lsoa11_ward`` (through the
    LSOA's 2011 parent for LSOA 2021).

    Parameters
    ----------
    pack : AreaPack
    level : {"lsoa21", "lsoa11"}

    Returns
    -------
    pandas.DataFrame
        Indexed by LSOA code: ``ward_cd``, ``ward_nm``, ``ward_share`` (share of the LSOA's
        area in that ward; NaN for lookups) and ``ward_rule``.
    """
    return _lsoa_wards_cached(pack, level).copy()


@lru_cache(maxsize=8)
def _lsoa11_parents_cached(pack: AreaPack) -> pd.DataFrame:
    codes = load_layer(pack, "lsoa21")["code"]
    parent = pd.Series(np.where(codes.isin(imd(pack).index), codes, None), index=codes.to_numpy())
    rule = pd.Series(np.where(parent.notna(), "same code", None), index=parent.index)
    if pack.has("lookups", "lsoa11_lsoa21"):
        entry = pack.lookups["lsoa11_lsoa21"]
        look = read_table(pack, "lookups", "lsoa11_lsoa21")
        share_col = entry.get("share_of_lsoa21")
        if share_col in look.columns:
            look = look.assign(_share=_number(look[share_col]))
            look = look.sort_values("_share", ascending=False, kind="stable")
        look = look.drop_duplicates(entry["lsoa21"]).set_index(entry["lsoa21"])[entry["lsoa11"]]
        mapped = parent.index.to_series().map(look)
        rule = rule.where(mapped.isna(), "lookups.lsoa11_lsoa21")
        parent = mapped.combine_first(parent)
    return pd.DataFrame({"lsoa11cd": parent, "parent_rule": rule}).rename_axis("code")


def lsoa11_parents(pack: AreaPack) -> pd.DataFrame:
    """The LSOA 2011 each LSOA 2021 polygon of the pack comes from (for IMD).

    Unchanged LSOAs map 1:1 (``lookups.lsoa11_lsoa21`` ``U`` rows, or the same code);
    an LSOA 2021 split from a 2011 LSOA maps to that parent, so it inherits the parent's
    IMD 2019 rank and decile. Where the lookup lists several 2011 LSOAs for one 2021
    LSOA, the one covering most of it (``share_of_lsoa21``) is the parent.

    Parameters
    ----------
    pack : AreaPack

    Returns
    -------
    pandas.DataFrame
        Indexed by LSOA 2021 code: ``lsoa11cd`` and ``parent_rule``.
    """
    return _lsoa11_parents_cached(pack).copy()


def _area_districts(layer: gpd.GeoDataFrame, pack: AreaPack) -> np.ndarray:
    """District code of each polygon: the district holding its representative point.

    A representative point on a district boundary goes to the lowest district code.
    """
    district = load_layer(pack, "district")
    points = shapely.point_on_surface(np.asarray(layer.geometry.values))
    poly_idx, point_idx = shapely.STRtree(points).query(
        np.asarray(district.geometry.values), predicate="intersects"
    )
    best = np.full(len(layer), len(district), dtype=np.intp)
    np.minimum.at(best, point_idx, poly_idx)
    codes = np.append(district["code"].to_numpy(dtype=object), None)
    return codes[best]


# ---------------------------------------------------------------------------------------
# Per-area statistics

_POPULATION_LABEL = {"lsoa21": "population21", "lsoa11": "population11"}


def _counts(incidents: pd.DataFrame, column: str, codes: pd.Series) -> np.ndarray:
    """Incident counts per code (0 where none), in the order of ``codes``."""
    counts = incidents[column].value_counts()
    return counts.reindex(codes.to_numpy(), fill_value=0).to_numpy(dtype=np.int64)


def _imd_columns(pack: AreaPack, lsoa11: pd.Series) -> pd.DataFrame:
    """IMD rank, decile and crime decile for a Series of LSOA 2011 codes."""
    table = imd(pack).reindex(lsoa11.to_numpy())
    cols = ["imd_rank", "imd_decile"] + (
        ["imd_crime_decile"] if "imd_crime_decile" in table.columns else []
    )
    return table[cols].set_axis(lsoa11.index)


def area_stats(
    geocoded: pd.DataFrame,
    pack: AreaPack,
    level: str = "lsoa21",
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    crime_types: str | Iterable[str] | None = None,
) -> gpd.GeoDataFrame:
    """Incident counts, rates per 1,000 residents and deprivation for every area of a pack.

    Only rows with ``status == "ok"`` are counted, by their geocoded code at ``level``
    (see :func:`filter_incidents` for ``start``, ``end`` and ``crime_types``). Every area of
    the pack's polygon layer appears, with a count of 0 where nothing happened.

    Denominators and deprivation by level:

    - ``lsoa21`` (LSOA 2021 vintage): Census 2021 usual residents. IMD 2019 is published
      for LSOA 2011, so each LSOA 2021 takes its 2011 parent's rank and decile
      (:func:`lsoa11_parents`: unchanged LSOAs 1:1, split LSOAs inherit the parent's).
    - ``lsoa11`` (LSOA 2011 vintage): IoD2019 mid-2015 population; IMD 2019 as published.
    - ``ward``: population is the sum of Census 2021 LSOA 2021 populations of the LSOAs
      whose area lies mostly in the ward (:func:`lsoa_wards`); ``imd_rank`` is the
      population-weighted mean IMD rank of those LSOAs (Census 2021 weights, inherited
      ranks); ``n_lsoa11_imd_decile1`` counts the ward's LSOA 2011 (by area majority) in
      the most deprived national decile; ``imd_decile`` is not defined for wards.

    Parameters
    ----------
    geocoded : pandas.DataFrame
        Output of :func:`geo_ssgp.geocode.geocode`.
    pack : AreaPack
    level : {"lsoa21", "lsoa11", "ward"}
        Areas to summarise; the pack needs that polygon layer.
    start, end : str or Timestamp, optional
        First and last month included.
    crime_types : str or iterable of str, optional
        Crime-type names, slugs or groups.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per area, EPSG:27700, sorted by code: ``code``, ``name``, ``lad_cd``,
        (``ward_cd``, ``ward_nm`` for LSOA levels; ``lsoa11cd`` parent for ``lsoa21``),
        ``count``, ``population``, ``rate_per_1000``, ``imd_rank``, ``imd_decile``,
        ``imd_crime_decile``, ``share_of_district`` (count / count of all areas of the same
        district in the table), ``area_m2``, ``lsoa_vintage`` and ``geometry``.
        ``attrs["area_stats"]`` records the level, vintage, denominators, period, filters.

    Raises
    ------
    ValueError
        For an unknown level or a pack without that polygon layer.
    """
    if level not in _CODE_COLUMN:
        raise ValueError(f"level must be one of {list(_CODE_COLUMN)}, not {level!r}")
    if not pack.has("layers", level):
        raise ValueError(
            f"area pack {pack.name!r} has no {level} polygon layer "
            f"(layers: {', '.join(pack.layers)})"
        )
    selected = filter_incidents(geocoded, start=start, end=end, crime_types=crime_types)
    selected = selected[selected["status"] == "ok"]
    layer = load_layer(pack, level)
    out = layer[["code", "name"]].copy()
    out["lad_cd"] = _area_districts(layer, pack)
    if level == "ward":
        extra, vintage, pop_label = _ward_columns(pack, layer["code"])
    else:
        extra, vintage, pop_label = _lsoa_columns(pack, level, layer["code"])
    out["count"] = _counts(selected, _CODE_COLUMN[level], layer["code"])
    for col in extra.columns:
        out[col] = extra[col].to_numpy()
    pop = out["population"].astype(float)
    out["rate_per_1000"] = np.where(pop > 0, out["count"] / pop.where(pop > 0) * 1000, np.nan)
    out["population"] = pop.round().astype("Int64")
    district_total = out.groupby("lad_cd", dropna=False)["count"].transform("sum")
    out["share_of_district"] = np.where(
        district_total > 0, out["count"] / district_total.where(district_total > 0), np.nan
    )
    out["area_m2"] = layer.geometry.area.to_numpy()
    out["lsoa_vintage"] = vintage
    front = [
        "code",
        "name",
        "lad_cd",
        "ward_cd",
        "ward_nm",
        "lsoa11cd",
        "count",
        "population",
        "rate_per_1000",
        "imd_rank",
        "imd_decile",
        "imd_crime_decile",
    ]
    cols = [c for c in front if c in out.columns]
    cols += [c for c in out.columns if c not in cols]
    result = gpd.GeoDataFrame(out[cols], geometry=layer.geometry.to_numpy(), crs=CRS_BNG)
    result.attrs = {
        "area_stats": {
            "level": level,
            "lsoa_vintage": vintage,
            "population": pop_label,
            "imd": "English Indices of Deprivation 2019 (LSOA 2011)",
            "start": None if start is None else f"{month_start(start):%Y-%m}",
            "end": None if end is None else f"{month_start(end):%Y-%m}",
            "crime_types": None if crime_types is None else resolve_crime_types(crime_types),
            "n_incidents": int(out["count"].sum()),
            "counted": "geocoded status ok, by point in polygon",
        }
    }
    return result


def _lsoa_columns(pack: AreaPack, level: str, codes: pd.Series):
    """Population, IMD and ward columns for LSOA levels, with vintage and population label."""
    pop = population(pack, level).reindex(codes.to_numpy()).to_numpy()
    if level == "lsoa21":
        parents = lsoa11_parents(pack)["lsoa11cd"].reindex(codes.to_numpy())
    else:
        parents = pd.Series(codes.to_numpy(), index=codes.to_numpy())
    extra = pd.DataFrame({"population": pop}, index=codes.to_numpy())
    wards = lsoa_wards(pack, level).reindex(codes.to_numpy())
    extra["ward_cd"] = wards["ward_cd"].to_numpy()
    extra["ward_nm"] = wards["ward_nm"].to_numpy()
    if level == "lsoa21":
        extra["lsoa11cd"] = parents.to_numpy()
    imd_cols = _imd_columns(pack, parents)
    for col in imd_cols.columns:
        extra[col] = imd_cols[col].to_numpy()
    vintage = "2021" if level == "lsoa21" else "2011"
    label = pack.tables[_POPULATION_LABEL[level]].get("label", _POPULATION_LABEL[level])
    return extra, vintage, label


def _ward_columns(pack: AreaPack, codes: pd.Series):
    """Population and IMD summaries for wards, from the LSOAs lying mostly in each ward."""
    base = "lsoa21" if pack.has("layers", "lsoa21") else "lsoa11"
    lsoas = lsoa_wards(pack, base)
    lsoas["population"] = population(pack, base).reindex(lsoas.index).to_numpy()
    if base == "lsoa21":
        parents = lsoa11_parents(pack)["lsoa11cd"].reindex(lsoas.index)
    else:
        parents = lsoas.index.to_series()
    lsoas["imd_rank"] = imd(pack)["imd_rank"].reindex(parents.to_numpy()).to_numpy(dtype=float)
    lsoas["weighted"] = lsoas["imd_rank"] * lsoas["population"]
    grouped = lsoas.groupby("ward_cd")
    pop = grouped["population"].sum()
    summary = pd.DataFrame(
        {
            "population": pop,
            "imd_rank": grouped["weighted"].sum() / pop.where(pop > 0),
            "n_lsoa": grouped.size(),
        }
    )
    if pack.has("layers", "lsoa11"):
        w11 = lsoa_wards(pack, "lsoa11")
        decile = imd(pack)["imd_decile"].reindex(w11.index)
        summary["n_lsoa11_imd_decile1"] = (decile == 1).groupby(w11["ward_cd"]).sum()
    extra = summary.reindex(codes.to_numpy())
    extra["n_lsoa"] = extra["n_lsoa"].fillna(0).astype(np.int64)
    if "n_lsoa11_imd_decile1" in extra.columns:
        extra["n_lsoa11_imd_decile1"] = extra["n_lsoa11_imd_decile1"].fillna(0).astype(np.int64)
    label = pack.tables[_POPULATION_LABEL[base]].get("label", "")
    return extra, ("2021" if base == "lsoa21" else "2011"), f"{label}, summed over {base}"


# ---------------------------------------------------------------------------------------
# District and county summary


def _months_between(first: pd.Timestamp, last: pd.Timestamp) -> list[str]:
    """Every month from ``first`` to ``last`` as ``YYYY-MM``."""
    return [f"{m:%Y-%m}" for m in pd.date_range(first, last, freq="MS")]


def district_summary(
    geocoded: pd.DataFrame,
    pack: AreaPack,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
) -> dict:
    """Crime and ASB counts and rates per 1,000 for the pack's districts and its county.

    Incidents are attributed by ``lad_cd``, the district polygon each point falls in
    (county-wide district layer), whatever their geocode status, so county totals include
    the incidents outside the pack's own districts. Rates are per 1,000 Census 2021 usual
    residents over the whole period (not annualised). *Crime* is every category except
    Anti-social behaviour.

    Parameters
    ----------
    geocoded : pandas.DataFrame
        Output of :func:`geo_ssgp.geocode.geocode` (``lad_cd``, ``crime_type``, ``month``).
    pack : AreaPack
    start, end : str or Timestamp, optional
        First and last month included; by default the months present in the data.

    Returns
    -------
    dict
        ``period`` (``"YYYY-MM to YYYY-MM"``), ``start``, ``end``, ``months`` (list),
        ``n_months``, ``population_source``, ``notes`` and ``rows``: one dict per pack
        district and one for the county with ``area``, ``lad_codes``, ``population``,
        ``crime_count``, ``crime_per_1000``, ``asb_count``, ``asb_per_1000``, ``all_count``,
        ``all_per_1000``, ``lsoa11_count`` and ``lsoa11_imd_decile1`` (LSOA 2011 in the
        most deprived national IMD 2019 decile).
    """
    selected = filter_incidents(geocoded, start=start, end=end)
    months = pd.to_datetime(selected["month"])
    first = month_start(start) if start is not None else (months.min() if len(months) else None)
    last = month_start(end) if end is not None else (months.max() if len(months) else None)
    pop = population(pack, "lsoa21")
    pop_lad = pop.groupby(lsoa_districts(pack, "lsoa21").reindex(pop.index)).sum()
    deprivation = imd(pack)
    is_asb = (selected["crime_type"] == "Anti-social behaviour").to_numpy()
    lad = selected["lad_cd"]
    names = load_layer(pack, "district").set_index("code")["name"]
    groups = [(names.get(c, c), [c]) for c in pack.district_codes]
    groups.append((pack.county_name or "county", list(pack.county_district_codes)))
    rows = []
    for area, codes in groups:
        in_area = lad.isin(codes).to_numpy()
        people = int(pop_lad.reindex(codes).fillna(0).sum())
        crime, asb = int((in_area & ~is_asb).sum()), int((in_area & is_asb).sum())
        in_imd = deprivation["lad_cd"].isin(codes)
        rows.append(
            {
                "area": area,
                "lad_codes": ",".join(codes),
                "population": people,
                "crime_count": crime,
                "crime_per_1000": crime / people * 1000 if people else float("nan"),
                "asb_count": asb,
                "asb_per_1000": asb / people * 1000 if people else float("nan"),
                "all_count": crime + asb,
                "all_per_1000": (crime + asb) / people * 1000 if people else float("nan"),
                "lsoa11_count": int(in_imd.sum()),
                "lsoa11_imd_decile1": int((in_imd & (deprivation["imd_decile"] == 1)).sum()),
            }
        )
    month_list = _months_between(first, last) if first is not None else []
    return {
        "period": f"{month_list[0]} to {month_list[-1]}" if month_list else "",
        "start": month_list[0] if month_list else None,
        "end": month_list[-1] if month_list else None,
        "months": month_list,
        "n_months": len(month_list),
        "population_source": pack.tables["population21"].get("label", "Census 2021"),
        "rows": rows,
        "notes": [
            "Rates per 1,000 Census 2021 usual residents over the whole period, not annualised.",
            "Crime = all police.uk categories except Anti-social behaviour.",
            "Incidents counted by the district polygon their point falls in.",
            "IMD decile 1 = most deprived 10% of LSOAs in England (IMD 2019, LSOA 2011).",
        ],
    }
