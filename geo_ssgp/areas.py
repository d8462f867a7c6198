"""Per-area statistics: counts, rates on several denominators, IMD, district and county rates.

This stage owns the area figures: :func:`area_stats` (counts, rates per 1,000 residents and
per 1,000 workday population, per km² and per km of street, all annualised, IMD 2019 and
2015 per LSOA or ward), :func:`workday_population` (the MSOA -> LSOA apportioning rule) and
:func:`district_summary` (district and county rates, most-deprived 10% / 20% counts). It
reads boundaries, population and IMD through :mod:`geo_ssgp.pack`, street lengths through
:mod:`geo_ssgp.streets` and selects incidents with :mod:`geo_ssgp.filters`.

Annualisation: a rate over ``m`` months is multiplied by ``12 / m`` (``m`` = months from the
first to the last month of the period, inclusive), so periods of different length compare.
"""

from __future__ import annotations

from collections.abc import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_ssgp.config import CRS_BNG
from geo_ssgp.filters import Filters, filter_incidents, month_start, resolve_crime_types
from geo_ssgp.pack import (
    AreaPack,
    area_districts,
    has_streets,
    imd,
    imd2015,
    load_layer,
    load_points,
    lsoa11_parents,
    lsoa_districts,
    lsoa_wards,
    population,
    workday_table,
)
from geo_ssgp.streets import level_street_km

#: Workday / resident ratio above which residents are a poor denominator for an area: its
#: sound rate (ranking, focus summaries) is then per 1,000 workday population.
WORKDAY_FLAG_RATIO = 1.5

#: How workday population is apportioned from MSOA 2021 to LSOA 2021 (shown with the rates).
WORKDAY_RULE = (
    "LSOA workday population = LSOA residents x (1 - MSOA employed residents / MSOA "
    "residents) + MSOA workplace population x the LSOA's share of the MSOA's postcode units "
    "(residential and business delivery points; share of residents where the pack has no "
    "postcodes there); LSOAs sum to the MSOA's Census 2021 derived workday population "
    "(workplace + residents - employed residents)"
)

_CODE_COLUMN = {"lsoa21": "lsoa21cd", "lsoa11": "lsoa11cd", "ward": "ward_cd"}

# ---------------------------------------------------------------------------------------
# Per-area statistics

_POPULATION_LABEL = {"lsoa21": "population21", "lsoa11": "population11"}


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
    _check_level(pack, level)
    counts = area_counts(geocoded, level, start, end, crime_types)
    n_months = _period_months(geocoded, start, end)
    return area_table(counts, n_months, pack, level, start, end, crime_types)


def _check_level(pack: AreaPack, level: str) -> None:
    if level not in _CODE_COLUMN:
        raise ValueError(f"level must be one of {list(_CODE_COLUMN)}, not {level!r}")
    if not pack.has("layers", level):
        raise ValueError(
            f"area pack {pack.name!r} has no {level} polygon layer "
            f"(layers: {', '.join(pack.layers)})"
        )


def area_counts(
    geocoded: pd.DataFrame,
    level: str,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    crime_types: str | Iterable[str] | None = None,
) -> pd.Series:
    """Incidents per area code: the rows :func:`area_stats` counts (status ``ok``, filtered).

    Counts of separate parts of a table (the partitions of a Dask engine run) add up to
    the counts of the whole table.

    Parameters
    ----------
    geocoded : pandas.DataFrame
        Output of :func:`geo_ssgp.geocode.geocode`.
    level : {"lsoa21", "lsoa11", "ward"}
    start, end, crime_types
        As for :func:`area_stats`.

    Returns
    -------
    pandas.Series
        Count (int64) by code, only codes with incidents.
    """
    selected = filter_incidents(geocoded, start=start, end=end, crime_types=crime_types)
    selected = selected[selected["status"] == "ok"]
    return selected[_CODE_COLUMN[level]].value_counts().astype(np.int64)


def area_table(
    counts: pd.Series,
    n_months: int,
    pack: AreaPack,
    level: str = "lsoa21",
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
    crime_types: str | Iterable[str] | None = None,
) -> gpd.GeoDataFrame:
    """:func:`area_stats` from incident counts per area already made (:func:`area_counts`).

    Parameters
    ----------
    counts : pandas.Series
        Incidents by area code at ``level``.
    n_months : int
        Months of the period (:func:`period_months`), for the annualised rates.
    pack, level, start, end, crime_types
        As for :func:`area_stats` (recorded with the table).

    Returns
    -------
    geopandas.GeoDataFrame
        As :func:`area_stats`.
    """
    _check_level(pack, level)
    layer = load_layer(pack, level)
    out = layer[["code", "name"]].copy()
    out["lad_cd"] = area_districts(layer, pack)
    if level == "ward":
        extra, vintage, pop_label = _ward_columns(pack, layer["code"])
    else:
        extra, vintage, pop_label = _lsoa_columns(pack, level, layer["code"])
    out["count"] = counts.reindex(layer["code"].to_numpy(), fill_value=0).to_numpy(np.int64)
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
    out = _denominators(out, layer, pack, level, n_months)
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
            "n_months": n_months,
            "annualised": "rates *_year = count / denominator x 12 / n_months",
            "denominators": {
                "rate_per_1000": f"{pop_label}, whole period (not annualised)",
                "rate_per_1000_year": f"{pop_label}, annualised",
                "per_1000_workday_year": WORKDAY_RULE,
                "per_km2_year": "area of the polygon (EPSG:27700)",
                "per_street_km_year": "km of OpenStreetMap street segments inside the polygon",
                "sound_rate_per_1000_year": (
                    f"per 1,000 workday population where workday / residents > "
                    f"{WORKDAY_FLAG_RATIO} (residents_poor_denominator), else per 1,000 "
                    "residents; rate_basis says which"
                ),
            },
            "imd2015": "English Indices of Deprivation 2015 (LSOA 2011)",
        }
    }
    return result


def area_stats_for(
    incidents: gpd.GeoDataFrame, pack: AreaPack, filters: Filters, level: str | None = None
) -> gpd.GeoDataFrame:
    """:func:`area_stats` for a :class:`~geo_ssgp.filters.Filters` (the app's and the CLI's).

    Sources, subcategories, restricted records and the night-time window select the
    incidents first; the period and crime types go to :func:`area_stats`, which records
    them with the table.

    Parameters
    ----------
    incidents : geopandas.GeoDataFrame
        Geocoded incidents.
    pack : AreaPack
    filters : Filters
    level : str, optional
        Area level; the pack's finest LSOA level by default.

    Returns
    -------
    geopandas.GeoDataFrame
    """
    level = level or pack.primary_lsoa
    return area_stats_from_parts([area_count_part(incidents, filters, level)], pack, filters, level)


def area_count_part(
    incidents: pd.DataFrame, filters: Filters, level: str
) -> tuple[pd.Series, pd.Timestamp, pd.Timestamp]:
    """What :func:`area_stats_for` needs from (a part of) a table of incidents.

    The Dask engine runs this on every partition and :func:`area_stats_from_parts`
    combines the parts; in-process the whole table is the one part.

    Parameters
    ----------
    incidents : pandas.DataFrame
        Geocoded incidents (all of them, or one partition).
    filters : Filters
    level : str
        Area level.

    Returns
    -------
    (pandas.Series, Timestamp, Timestamp)
        :func:`area_counts` under ``filters``, and the first and last month of the rows of
        the selected sources (:func:`month_range`, which sets the period when ``filters``
        leaves it open).
    """
    rows = by_source(incidents, filters)
    counts = area_counts(rows, level, filters.start, filters.end, list(filters.crime_types) or None)
    return (counts, *month_range(rows))


def area_stats_from_parts(
    parts: Iterable[tuple[pd.Series, pd.Timestamp, pd.Timestamp]],
    pack: AreaPack,
    filters: Filters,
    level: str,
) -> gpd.GeoDataFrame:
    """:func:`area_stats_for` from the :func:`area_count_part` of each part of a table.

    Parameters
    ----------
    parts : iterable of tuple
        One :func:`area_count_part` result per part.
    pack : AreaPack
    filters : Filters
    level : str

    Returns
    -------
    geopandas.GeoDataFrame
        As :func:`area_stats`; equal to it on the whole table.
    """
    counts, firsts, lasts = zip(*parts, strict=True)
    total = pd.concat(counts).groupby(level=0).sum().astype(np.int64)
    first = pd.Series(firsts, dtype="M8[ns]").min()
    last = pd.Series(lasts, dtype="M8[ns]").max()
    n_months = period_months(first, last, filters.start, filters.end)
    crime_types = list(filters.crime_types) or None
    return area_table(total, n_months, pack, level, filters.start, filters.end, crime_types)


def by_source(incidents: pd.DataFrame, filters: Filters) -> pd.DataFrame:
    """The rows of the sources, restriction, night window and subcategories of ``filters``.

    The period and crime types are applied later (:func:`area_counts`).
    """
    chosen = Filters(
        sources=filters.sources,
        restricted=filters.restricted,
        night=filters.night,
        subcategories=filters.subcategories,
    )
    return chosen.apply(incidents) if chosen != Filters() else incidents


def _period_months(
    geocoded: pd.DataFrame, start: str | pd.Timestamp | None, end: str | pd.Timestamp | None
) -> int:
    """Months from the first to the last month of the period (the data's where not given)."""
    first, last = month_range(geocoded)
    return period_months(first, last, start, end)


def month_range(geocoded: pd.DataFrame) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last month of a table's rows (``NaT`` for an empty table)."""
    months = pd.to_datetime(geocoded["month"]) if len(geocoded) else pd.Series([], dtype="M8[ns]")
    return months.min(), months.max()


def period_months(
    first: pd.Timestamp,
    last: pd.Timestamp,
    start: str | pd.Timestamp | None,
    end: str | pd.Timestamp | None,
) -> int:
    """Months from ``start`` (else the data's ``first``) to ``end`` (else ``last``), inclusive.

    Parameters
    ----------
    first, last : Timestamp
        The data's first and last month (:func:`month_range`; ``NaT`` when empty).
    start, end : str or Timestamp, optional
        The period asked for.

    Returns
    -------
    int
        0 when either end is unknown.
    """
    first = month_start(start) if start is not None else first
    last = month_start(end) if end is not None else last
    if pd.isna(first) or pd.isna(last):
        return 0
    return len(_months_between(first, last))


def _per_year(count: pd.Series, denominator: pd.Series, n_months: int, scale: float) -> np.ndarray:
    """``count / denominator x scale x 12 / n_months``; NaN where the denominator is not > 0."""
    d = pd.Series(denominator, dtype=float).to_numpy()
    ok = (d > 0) & (n_months > 0)
    out = np.full(len(d), np.nan)
    out[ok] = count.to_numpy(dtype=float)[ok] / d[ok] * scale * 12.0 / n_months
    return out


def _denominators(
    out: pd.DataFrame, layer: gpd.GeoDataFrame, pack: AreaPack, level: str, n_months: int
) -> pd.DataFrame:
    """Annualised rates per resident, workday population, km² and km of street; IMD 2015."""
    out["n_months"] = n_months
    out["rate_per_1000_year"] = _per_year(out["count"], out["population"], n_months, 1000)
    out["area_km2"] = out["area_m2"] / 1e6
    out["per_km2_year"] = _per_year(out["count"], out["area_km2"], n_months, 1)
    if has_streets(pack):
        out["street_km"] = level_street_km(pack, level).reindex(out["code"]).to_numpy()
        out["per_street_km_year"] = _per_year(out["count"], out["street_km"], n_months, 1)
    if level == "lsoa21" and pack.has("tables", "workday"):
        work = workday_population(pack, layer, out["population"].astype(float))
        out["workday_population"] = work.to_numpy()
        out["workday_ratio"] = out["workday_population"] / out["population"].astype(float)
        out["per_1000_workday_year"] = _per_year(
            out["count"], out["workday_population"], n_months, 1000
        )
        poor = (out["workday_ratio"] > WORKDAY_FLAG_RATIO).fillna(False).to_numpy(dtype=bool)
        out["residents_poor_denominator"] = poor
        out["rate_basis"] = np.where(poor, "workday", "residents")
        out["sound_rate_per_1000_year"] = np.where(
            poor, out["per_1000_workday_year"], out["rate_per_1000_year"]
        )
    if level != "ward" and "lsoa11cd" in out.columns or level == "lsoa11":
        parents = out["lsoa11cd"] if level == "lsoa21" else out["code"]
        dep = imd2015(pack).reindex(parents.to_numpy())
        out["imd2015_rank"] = dep["imd2015_rank"].to_numpy()
        out["imd2015_decile"] = dep["imd2015_decile"].to_numpy()
    return out


def _postcode_counts(pack: AreaPack, areas: gpd.GeoDataFrame) -> np.ndarray:
    """Postcode units of the pack inside each polygon (zeros without a postcode table)."""
    if not pack.has("tables", "postcodes"):
        return np.zeros(len(areas))
    points = load_points(pack, "postcodes").geometry.values
    area_i, _ = shapely.STRtree(points).query(areas.geometry.values, predicate="contains")
    return np.bincount(area_i, minlength=len(areas)).astype(float)


def workday_population(pack: AreaPack, lsoas: gpd.GeoDataFrame, residents: pd.Series) -> pd.Series:
    """Census 2021 workday population apportioned from MSOA 2021 to LSOA 2021.

    Rule (:data:`WORKDAY_RULE`): residents who are not in employment stay where they live,
    so each LSOA keeps ``residents x (1 - employed / residents)`` of its MSOA; the MSOA's
    workplace population is spread over its LSOAs by their share of the MSOA's postcode
    units (a postcode serves ~15 delivery points, homes and businesses alike, so city-centre
    LSOAs with few residents hold many; by residents where the MSOA has no postcodes in the
    pack). Street length was tried and rejected: long suburban streets outweigh the centre.
    The LSOAs of an MSOA sum to its derived workday population. An LSOA belongs to the MSOA
    whose name it carries (``Gloucester 004F`` -> ``Gloucester 004``).

    Parameters
    ----------
    pack : AreaPack
        With ``[tables.workday]``.
    lsoas : geopandas.GeoDataFrame
        LSOA 2021 polygons with ``code`` and ``name``.
    residents : pandas.Series
        Usual residents per LSOA, aligned with ``lsoas``.

    Returns
    -------
    pandas.Series
        Workday population per LSOA (NaN where the MSOA is not in the table), aligned with
        ``lsoas``.
    """
    table = workday_table(pack).set_index("msoa_name")
    msoa = lsoas["name"].str.replace(r"[A-Z]$", "", regex=True).str.strip()
    m = table.reindex(msoa.to_numpy())
    res = pd.Series(residents.to_numpy(dtype=float), index=lsoas.index)
    weight = pd.Series(_postcode_counts(pack, lsoas), index=lsoas.index)
    total = weight.groupby(msoa.to_numpy()).transform("sum")
    by_res = res / res.groupby(msoa.to_numpy()).transform("sum")
    share = (weight / total.where(total > 0)).fillna(by_res)
    stay = res * (1 - m["employed"].to_numpy() / m["residents"].to_numpy())
    return stay + m["workplace"].to_numpy() * share


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


def _annualised(crime: int, asb: int, people: int, n_months: int) -> dict:
    """Crime, ASB and all incidents per 1,000 residents per year (x 12 / months)."""
    if not people or not n_months:
        nan = float("nan")
        return {"crime_per_1000_year": nan, "asb_per_1000_year": nan, "all_per_1000_year": nan}
    per = 1000 * 12 / (people * n_months)
    return {
        "crime_per_1000_year": crime * per,
        "asb_per_1000_year": asb * per,
        "all_per_1000_year": (crime + asb) * per,
    }


def _most_deprived(imd19: pd.DataFrame, imd15: pd.DataFrame) -> dict:
    """LSOA 2011 counts in the most deprived 10% and 20% nationally, IMD 2019 and 2015."""
    d19, d15 = imd19["imd_decile"], imd15["imd2015_decile"]
    return {
        "lsoa11_imd2019_10pct": int((d19 == 1).sum()),
        "lsoa11_imd2019_20pct": int((d19 <= 2).sum()),
        "lsoa11_imd2015_10pct": int((d15 == 1).sum()),
        "lsoa11_imd2015_20pct": int((d15 <= 2).sum()),
    }


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
    residents over the whole period and annualised. *Crime* is every category except
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
        ``all_per_1000`` (whole period), ``crime_per_1000_year``, ``asb_per_1000_year``,
        ``all_per_1000_year`` (annualised), ``lsoa11_count``, ``lsoa11_imd_decile1`` (LSOA
        2011 in the most deprived national IMD 2019 decile) and the LSOA 2011 counts in the
        most deprived 10% and 20% on IMD 2019 and IMD 2015 (``lsoa11_imd2019_10pct``,
        ``lsoa11_imd2019_20pct``, ``lsoa11_imd2015_10pct``, ``lsoa11_imd2015_20pct``).
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
    n_months = len(_months_between(first, last)) if first is not None else 0
    dep2015 = imd2015(pack)
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
                **_annualised(crime, asb, people, n_months),
                "lsoa11_count": int(in_imd.sum()),
                "lsoa11_imd_decile1": int((in_imd & (deprivation["imd_decile"] == 1)).sum()),
                **_most_deprived(deprivation[in_imd], dep2015.reindex(deprivation.index[in_imd])),
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
            "Rates per 1,000 Census 2021 usual residents: *_per_1000 over the whole period, "
            "*_per_1000_year annualised (x 12 / months in the period).",
            "Crime = all police.uk categories except Anti-social behaviour.",
            "Incidents counted by the district polygon their point falls in.",
            "IMD decile 1 = most deprived 10% of LSOAs in England (IMD 2019, LSOA 2011); "
            "lsoa11_imd2019_20pct and lsoa11_imd2015_* count the most deprived 10% and 20% "
            "(deciles 1-2) on IMD 2019 and IMD 2015.",
        ],
    }
