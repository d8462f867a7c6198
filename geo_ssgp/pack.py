"""The area pack: its manifest and the cached loaders of its files.

An area pack (a TOML manifest in ``boundaries/`` plus a data folder) names the boundary
layers, lookups, statistics tables, gazetteer points, places and streets an area is analysed
with. This module owns reading them: :func:`load_pack` checks the manifest, and the loaders
(:func:`load_layer`, :func:`load_points`, :func:`read_table`, :func:`population`,
and :func:`imd`) return tables keyed by area code, geometry in EPSG:27700.
They are cached per (manifest, data folder) because packs are read-only during a run.
The geography that links areas (:func:`lsoa_districts`, :func:`lsoa_wards`,
:func:`lsoa11_parents`, :func:`area_districts`) is here too: it is a property of the pack,
not of any incidents. Every later stage imports this module; it imports none of them.
"""

from __future__ import annotations

import glob
import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geo_ssgp.config import CRS_BNG, Settings, get_settings, packs_dir
from geo_ssgp.errors import PackError
from geo_ssgp.schema import EDGE_TOLERANCE_M

#: ONS LSOA names are ``<district name> <3-digit MSOA number><letter>``.
LSOA_NAME = re.compile(r"^(?P<district>.+) \d{3}[A-Z]$")


@dataclass(frozen=True, eq=False)
class AreaPack:
    """An area pack: the manifest plus the data folder its paths are relative to.

    Attributes
    ----------
    name, title : str
        Short name and display title.
    manifest : Path
        The TOML manifest this pack was read from.
    data_dir : Path
        Folder the manifest's file paths are relative to.
    district_codes : list of str
        Districts that make up the area; points elsewhere are ``outside_area``.
    county_name : str
        Name of the comparison area for district rates.
    county_district_codes : list of str
        Districts of the comparison area.
    layers : dict
        Polygon layers (``lsoa21``, ``lsoa11``, ``ward``, ``district``): file, code, name.
    lookups : dict
        Code lookups between geographies.
    tables : dict
        Statistics and gazetteer tables (population, IMD, postcodes, localities, stops).
    sample : dict
        Sample incident globs and their source format.
    places : dict
        Named places used in hotspot labels (e.g. ``city_centre``: streets or a point).
    streets : dict
        The street layer (``file``, ``name``, ``road_class``, ``ref`` columns), optional.
    edge_tolerance_m : float
        Band (m) either side of an LSOA boundary where geocoded points are ``ambiguous``
        (``Settings.edge_tolerance_m``).
    """

    name: str
    title: str
    manifest: Path
    data_dir: Path
    district_codes: list[str]
    county_name: str
    county_district_codes: list[str]
    layers: dict[str, dict[str, Any]]
    lookups: dict[str, dict[str, Any]]
    tables: dict[str, dict[str, Any]]
    sample: dict[str, Any]
    places: dict[str, Any] = field(default_factory=dict)
    streets: dict[str, Any] = field(default_factory=dict)
    edge_tolerance_m: float = EDGE_TOLERANCE_M

    def _key(self) -> tuple[Path, Path]:
        return (self.manifest, self.data_dir)

    def __hash__(self) -> int:
        return hash(self._key())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AreaPack) and self._key() == other._key()

    def path(self, section: str, key: str) -> Path:
        """Absolute path of the single file of ``section.key`` (e.g. ``layers``, ``lsoa21``)."""
        entry = getattr(self, section)[key]
        return self.data_dir / entry["file"]

    def paths(self, section: str, key: str) -> list[Path]:
        """Absolute paths of an entry that names one ``file`` or several ``files``."""
        entry = getattr(self, section)[key]
        names = entry.get("files") or [entry["file"]]
        return [self.data_dir / n for n in names]

    def has(self, section: str, key: str) -> bool:
        """Whether the manifest has ``section.key``."""
        return key in getattr(self, section)

    def sample_files(self) -> list[Path]:
        """Sample incident files, expanded from the manifest's globs, sorted."""
        out: list[Path] = []
        for pattern in self.sample.get("incidents", []):
            out.extend(Path(p) for p in sorted(glob.glob(str(self.data_dir / pattern))))
        return out

    @property
    def primary_lsoa(self) -> str:
        """The finest LSOA polygon layer: ``lsoa21`` where present, else ``lsoa11``."""
        return "lsoa21" if "lsoa21" in self.layers else "lsoa11"


def manifest_path(pack: str) -> Path:
    """Resolve a pack name (``boundaries/<name>.toml``) or a manifest path."""
    candidate = Path(pack)
    if candidate.suffix == ".toml":
        return candidate.resolve()
    return packs_dir() / f"{pack}.toml"


def load_pack(settings: Settings | None = None) -> AreaPack:
    """Read and check an area-pack manifest.

    Parameters
    ----------
    settings : Settings, optional
        Settings naming the pack and data folder; defaults to :func:`get_settings`.

    Returns
    -------
    AreaPack

    Raises
    ------
    PackError
        If the manifest is missing or malformed, or names a file that does not exist
        (the message names the file and the manifest).
    """
    settings = settings or get_settings()
    path = manifest_path(settings.pack)
    if not path.is_file():
        raise PackError(f"area pack manifest not found: {path}")
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise PackError(f"area pack manifest {path} is not valid TOML: {exc}") from exc
    head = doc.get("pack", {})
    layers = doc.get("layers", {})
    if "lsoa21" not in layers and "lsoa11" not in layers:
        raise PackError(f"area pack manifest {path} needs [layers.lsoa21] or [layers.lsoa11]")
    if "district" not in layers:
        raise PackError(f"area pack manifest {path} needs [layers.district]")
    pack = AreaPack(
        name=head.get("name", path.stem),
        title=head.get("title", path.stem),
        manifest=path,
        data_dir=settings.data_dir,
        district_codes=list(head.get("district_codes", [])),
        county_name=head.get("county_name", ""),
        county_district_codes=list(head.get("county_district_codes", [])),
        layers=layers,
        lookups=doc.get("lookups", {}),
        tables=doc.get("tables", {}),
        sample=doc.get("sample", {}),
        places=doc.get("places", {}),
        streets=doc.get("streets", {}),
        edge_tolerance_m=settings.edge_tolerance_m,
    )
    _check_files(pack)
    return pack


def _check_files(pack: AreaPack) -> None:
    """Raise :class:`PackError` for the first file the manifest names that is missing."""
    if not pack.data_dir.is_dir():
        raise PackError(f"data folder {pack.data_dir} (used by {pack.manifest}) does not exist")
    if pack.streets and not (pack.data_dir / pack.streets["file"]).is_file():
        raise PackError(
            f"{pack.data_dir / pack.streets['file']} is missing: named by [streets] in "
            f"{pack.manifest}"
        )
    for section in ("layers", "lookups", "tables"):
        for key in getattr(pack, section):
            for file in pack.paths(section, key):
                if not file.is_file():
                    raise PackError(
                        f"{file} is missing: named by [{section}.{key}] in {pack.manifest}"
                    )


# ---------------------------------------------------------------------------------------
# Loaders


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


#: Layers loaded elsewhere and handed to this process (:func:`share_layers`), by (pack, key).
_SHARED_LAYERS: dict[tuple[AreaPack, str], gpd.GeoDataFrame] = {}


def share_layers(pack: AreaPack, layers: dict[str, gpd.GeoDataFrame]) -> None:
    """Use layers another process already loaded instead of reading the pack's files.

    A Dask worker receives the driver's layers once (broadcast) and registers them here, so
    :func:`load_layer` does not read and reproject the boundary files again in every worker.

    Parameters
    ----------
    pack : AreaPack
    layers : dict
        Layer key -> the frame :func:`load_layer` returned for ``pack`` and that key.
    """
    for key, frame in layers.items():
        _SHARED_LAYERS[(pack, key)] = frame


@lru_cache(maxsize=32)
def _load_layer_cached(pack: AreaPack, key: str) -> gpd.GeoDataFrame:
    shared = _SHARED_LAYERS.get((pack, key))
    if shared is not None:
        return shared
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
    data = {"name": df.loc[keep, entry.get("name", entry.get("postcode"))].str.strip()}
    if "street" in entry:
        data["street"] = df.loc[keep, entry["street"]].str.strip()
    return gpd.GeoDataFrame(
        data,
        geometry=gpd.points_from_xy(east[keep], north[keep]),
        crs=CRS_BNG,
    ).reset_index(drop=True)


def load_points(pack: AreaPack, key: str) -> gpd.GeoDataFrame:
    """Load a gazetteer point table (``localities``, ``stops``, ``places`` or ``postcodes``).

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


@lru_cache(maxsize=8)
def _imd2015_cached(pack: AreaPack) -> pd.DataFrame:
    entry = pack.tables["imd2015"]
    df = read_table(pack, "tables", "imd2015")
    return pd.DataFrame(
        {
            "imd2015_rank": _number(df[entry["rank"]]).astype("Int64").to_numpy(),
            "imd2015_decile": _number(df[entry["decile"]]).astype("Int64").to_numpy(),
        },
        index=pd.Index(df[entry["code"]], name="lsoa11cd"),
    )


def imd2015(pack: AreaPack) -> pd.DataFrame:
    """IMD 2015 rank and decile per LSOA 2011 (``[tables.imd2015]``; rank 1 = most deprived).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``lsoa11cd`` with ``imd2015_rank`` and ``imd2015_decile``; empty when the
        pack has no such table.
    """
    if not pack.has("tables", "imd2015"):
        empty = pd.Index([], name="lsoa11cd")
        return pd.DataFrame({"imd2015_rank": [], "imd2015_decile": []}, index=empty)
    return _imd2015_cached(pack).copy()


@lru_cache(maxsize=8)
def _workday_cached(pack: AreaPack) -> pd.DataFrame:
    entry = pack.tables["workday"]
    df = read_table(pack, "tables", "workday")
    cols = {k: _number(df[entry[k]]).to_numpy() for k in ("workplace", "employed", "residents")}
    cols["workday"] = _number(df[entry["workday"]]).to_numpy()
    return pd.DataFrame(
        {"msoa_name": df[entry["name"]].to_numpy(), **cols},
        index=pd.Index(df[entry["code"]], name="msoa21cd"),
    )


def workday_table(pack: AreaPack) -> pd.DataFrame:
    """Census 2021 workplace, employed residents, residents and workday population by MSOA.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``msoa21cd``: ``msoa_name``, ``workplace``, ``employed``, ``residents``,
        ``workday`` (``[tables.workday]``).

    Raises
    ------
    PackError
        When the pack has no workday table.
    """
    if not pack.has("tables", "workday"):
        raise PackError(f"area pack {pack.name!r} has no [tables.workday]")
    return _workday_cached(pack).copy()


# ---------------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _load_streets_cached(pack: AreaPack) -> gpd.GeoDataFrame:
    entry = pack.streets
    gdf = pyogrio.read_dataframe(pack.data_dir / entry["file"])
    gdf = gdf.set_crs("EPSG:4326", allow_override=True) if gdf.crs is None else gdf

    def column(key: str) -> pd.Series:
        name = entry.get(key)
        if name and name in gdf.columns:
            return gdf[name].astype("string")
        return pd.Series(pd.NA, index=gdf.index, dtype="string")

    return gpd.GeoDataFrame(
        {"name": column("name"), "road_class": column("road_class"), "ref": column("ref")},
        geometry=gdf.geometry.to_crs(CRS_BNG),
        crs=CRS_BNG,
    )


def has_streets(pack: AreaPack) -> bool:
    """Whether the pack names a street layer (``[streets]``)."""
    return bool(pack.streets)


def load_streets(pack: AreaPack) -> gpd.GeoDataFrame:
    """The pack's street lines in British National Grid.

    Parameters
    ----------
    pack : AreaPack
        A pack with a ``[streets]`` entry (see :func:`has_streets`).

    Returns
    -------
    geopandas.GeoDataFrame
        ``name``, ``road_class`` (e.g. OSM ``highway``), ``ref`` (road number) as nullable
        strings and (Multi)LineString geometry, EPSG:27700, in file order. A copy.

    Raises
    ------
    PackError
        When the pack has no street layer.
    """
    if not has_streets(pack):
        raise PackError(f"area pack {pack.name!r} has no [streets] layer ({pack.manifest})")
    return _load_streets_cached(pack).copy()


# ---------------------------------------------------------------------------------------
# Area geography: districts, wards and 2011 parents of LSOAs

# Area geography: districts, wards and 2011 parents of LSOAs


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
        prefix = df[name_col].str.extract(LSOA_NAME, expand=False)
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


def area_districts(layer: gpd.GeoDataFrame, pack: AreaPack) -> np.ndarray:
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
