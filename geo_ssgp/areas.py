"""Boundary layers, population and IMD from an area pack, and per-area statistics.

Loaders return tables keyed by area code, in EPSG:27700 for geometry. They are cached
per (manifest, data folder) because packs are read-only during a run.
"""

from __future__ import annotations

from functools import lru_cache

import geopandas as gpd
import pandas as pd
import pyogrio

from geo_ssgp.config import CRS_BNG, AreaPack


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
