"""Per-area statistics: counts, rates per 1,000, IMD per area, district and county rates.

This stage owns the area figures: :func:`area_stats` (counts, rates per 1,000 residents,
IMD per LSOA or ward) and :func:`district_summary` (district and county rates). It reads
boundaries, population and IMD through :mod:`geo_ssgp.pack` and selects incidents with
:mod:`geo_ssgp.filters`.
"""

from __future__ import annotations

from collections.abc import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_ssgp.config import CRS_BNG
from geo_ssgp.filters import filter_incidents, month_start, resolve_crime_types
from geo_ssgp.pack import (
    AreaPack,
    area_districts,
    imd,
    load_layer,
    lsoa11_parents,
    lsoa_districts,
    lsoa_wards,
    population,
)

_CODE_COLUMN = {"lsoa21": "lsoa21cd", "lsoa11": "lsoa11cd", "ward": "ward_cd"}

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
    out["lad_cd"] = area_districts(layer, pack)
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
