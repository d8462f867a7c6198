"""Hotspot methods behind one registry, and the entry point the maps, API and CLI call.

``run_method(name, incidents, pack, **params)`` filters the incidents (period, crime
types, sources, restricted records), keeps geocoded rows with ``status == "ok"``,
runs the method on the pack's study region (its district polygons) or its LSOAs,
records the period, filters and incident count in the layer's parameters and labels
the hotspots.

Default method: ``grid-count`` on 50 m cells, chosen by the rolling backtest
(:func:`geo_ssgp.hotspots.evaluate.rolling_backtest`: every method at its own best
setting chosen on training months, scored on a common 50 m grid, train 6 months ->
test the next month, 3 folds on 2025-07..09). Ranked cell by cell the default *is*
the naive previous-period count: PAI at 1 / 5 % of the area 56.9 (sd 4.2) / 18.2
(0.2) for both (the tuned variant, a 2-month recency half-life chosen on training
months, 56.6 (3.1) / 18.2 (0.3)), and none of the predictors tried
(recency, neighbour smoothing, persistence, capped or square-root monthly counts, a
long-run blend, street segments mapped to cells) beats it beyond fold-to-fold noise
(``benchmarks/bench_hotspots_default.py``). Police.uk incidents sit on ~1,250
anonymous map points that recur month after month, so last period's busiest cells keep
being the busiest; smoothing (KDE) or testing neighbourhoods (Gi*, LISA) spreads the
selection over quieter cells. The README ("Choosing the default") has the tables.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd

from geo_ssgp.config import CRS_BNG
from geo_ssgp.errors import BadInput, NotEnoughData, PackError
from geo_ssgp.filters import filter_incidents, month_text, resolve_crime_types, resolve_method
from geo_ssgp.hotspots.change import compare_periods
from geo_ssgp.hotspots.clusters import dbscan_hotspots, hdbscan_hotspots
from geo_ssgp.hotspots.count import grid_count_hotspots
from geo_ssgp.hotspots.gistar import gistar_area_hotspots, gistar_grid_hotspots
from geo_ssgp.hotspots.grid import pack_districts, region_geometry, region_label, study_region
from geo_ssgp.hotspots.kde import kde_hotspots
from geo_ssgp.hotspots.label import label_hotspots
from geo_ssgp.hotspots.layer import HotspotLayer
from geo_ssgp.hotspots.lisa import lisa_hotspots
from geo_ssgp.hotspots.segments import segment_hotspots, segments_in_region
from geo_ssgp.hotspots.significance import hotspot_significance, significance_parameters
from geo_ssgp.pack import AreaPack, has_streets, load_layer, population
from geo_ssgp.schema import DEFAULT_METHOD, HOTSPOT_METHODS
from geo_ssgp.streets import street_segments


@dataclass(frozen=True)
class Method:
    """A registered hotspot method.

    Attributes
    ----------
    func : callable
        ``func(incidents, region_or_areas, **params) -> HotspotLayer``.
    unit : {"region", "areas", "streets"}
        Whether the method works on the study region (grid / points), on areas or on
        the pack's street segments (it then needs a pack with a ``[streets]`` layer).
    title : str
        Short human description.
    per_district : bool
        The method runs district by district with a halo (``districts``, ``client``), in
        parallel on a Dask cluster (:mod:`geo_ssgp.hotspots.halo`).
    """

    func: Callable[..., HotspotLayer]
    unit: str
    title: str
    per_district: bool = False


METHODS: dict[str, Method] = {
    "grid-count": Method(grid_count_hotspots, "region", "Incidents per grid cell"),
    "kde": Method(kde_hotspots, "region", "Quartic kernel density", per_district=True),
    "gistar": Method(
        gistar_grid_hotspots, "region", "Getis-Ord Gi* on grid cells", per_district=True
    ),
    "lsoa-gistar": Method(gistar_area_hotspots, "areas", "Getis-Ord Gi* on LSOAs"),
    "lisa": Method(lisa_hotspots, "areas", "Local Moran's I high-high LSOAs"),
    "dbscan": Method(dbscan_hotspots, "region", "DBSCAN point clusters"),
    "hdbscan": Method(hdbscan_hotspots, "region", "HDBSCAN point clusters"),
    "street-segments": Method(segment_hotspots, "streets", "Busiest street segments per km"),
}
assert tuple(METHODS) == HOTSPOT_METHODS, "schema.HOTSPOT_METHODS must name every method"


__all__ = [
    "DEFAULT_METHOD",
    "METHODS",
    "HotspotLayer",
    "check_per_district",
    "compare_periods",
    "pack_segments",
    "prepare_incidents",
    "resolve_method",
    "run_method",
]


def prepare_incidents(
    incidents: gpd.GeoDataFrame,
    *,
    start: str | None = None,
    end: str | None = None,
    crime_types: str | list[str] | None = None,
    sources: str | list[str] | None = None,
    restricted: bool | None = None,
) -> tuple[gpd.GeoDataFrame, dict]:
    """Filter incidents for a hotspot run and describe what was kept.

    Parameters
    ----------
    incidents : geopandas.GeoDataFrame
        Incidents (EPSG:27700); geocoded tables keep only ``status == "ok"`` rows.
    start, end : str, optional
        First and last month, ``"YYYY-MM"``, inclusive.
    crime_types : str or list of str, optional
        Crime types, API slugs or group names (``"violence"``); recorded as the
        police.uk category names they resolve to.
    sources : str or list of str, optional
        Keep only these sources.
    restricted : bool, optional
        ``False`` drops restricted (local) records, ``True`` keeps only them.

    Returns
    -------
    (geopandas.GeoDataFrame, dict)
        The points used, and ``period``, ``filters``, ``n_incidents`` and
        ``excluded_not_ok`` for the layer's parameters.
    """
    points = incidents
    if points.crs is not None and points.crs != CRS_BNG:
        points = points.to_crs(CRS_BNG)
    excluded = 0
    if "status" in points.columns:
        ok = (points["status"] == "ok").to_numpy()
        excluded = int((~ok).sum())
        points = points[ok]
    if any(v is not None for v in (start, end, crime_types, sources, restricted)):
        points = filter_incidents(
            points,
            start=start,
            end=end,
            crime_types=crime_types,
            sources=sources,
            restricted=restricted,
        )
    points = points[~(points.geometry.is_empty | points.geometry.isna())]
    months = pd.to_datetime(points["month"]) if "month" in points.columns else pd.Series([])
    period = {
        "from": month_text(start) if start is not None else month_text(months.min()),
        "to": month_text(end) if end is not None else month_text(months.max()),
    }
    if crime_types is not None:
        crime_types = resolve_crime_types(crime_types)
    if isinstance(sources, str):
        sources = [sources]
    info = {
        "period": period,
        "filters": {
            "crime_types": list(crime_types) if crime_types is not None else None,
            "sources": list(sources) if sources is not None else None,
            "restricted": restricted,
        },
        "n_incidents": int(len(points)),
        "excluded_not_ok": excluded,
    }
    return points, info


def _areas_for(pack: AreaPack, region: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, pd.Series]:
    """The pack's finest LSOA layer inside the region, and its population."""
    level = pack.primary_lsoa
    areas = load_layer(pack, level)
    inside = areas.geometry.representative_point().within(region_geometry(region))
    areas = areas[inside.to_numpy()].reset_index(drop=True)
    key = "population21" if level == "lsoa21" else "population11"
    pop = population(pack, level) if pack.has("tables", key) else None
    return areas, pop


def pack_segments(pack: AreaPack | None) -> gpd.GeoDataFrame:
    """The pack's street segments, for the street methods.

    Raises
    ------
    PackError
        When there is no pack or the pack has no ``[streets]`` layer.
    """
    if pack is None or not has_streets(pack):
        raise PackError(
            "street segments need an area pack with a [streets] layer (OpenStreetMap lines)"
        )
    return street_segments(pack)


def run_method(
    name: str,
    incidents: gpd.GeoDataFrame,
    pack: AreaPack | None = None,
    *,
    start: str | None = None,
    end: str | None = None,
    crime_types: list[str] | None = None,
    sources: list[str] | None = None,
    restricted: bool | None = None,
    region: gpd.GeoDataFrame | None = None,
    areas: gpd.GeoDataFrame | None = None,
    population: pd.Series | None = None,
    segments: gpd.GeoDataFrame | None = None,
    label: bool = True,
    client=None,
    **params,
) -> HotspotLayer:
    """Run a registered hotspot method with the pack's study region and filters.

    Parameters
    ----------
    name : str
        A key of :data:`METHODS`, or ``"default"``.
    incidents : geopandas.GeoDataFrame
        Incidents in EPSG:27700 (geocoded rows with ``status != "ok"`` are left out).
    pack : AreaPack, optional
        Supplies the region (district polygons), LSOAs, population and labels.
        Optional when ``region`` (and, for area methods, ``areas``) are given.
    start, end, crime_types, sources, restricted
        Filters (see :func:`prepare_incidents`).
    region : geopandas.GeoDataFrame, optional
        Study region; default :func:`~geo_ssgp.hotspots.grid.study_region` of the pack.
    areas : geopandas.GeoDataFrame, optional
        Areas (``code``, ``name``) for ``lsoa-gistar``/``lisa``; default: the pack's
        finest LSOA layer inside the region.
    population : pandas.Series, optional
        Residents by area code for rates; default: the pack's population table.
    segments : geopandas.GeoDataFrame, optional
        Street segments for ``street-segments`` (as from
        :func:`~geo_ssgp.streets.street_segments`); default: the pack's segments whose
        midpoint lies in the region (a pack without streets raises ``PackError``).
    label : bool
        Label hotspots with :func:`geo_ssgp.hotspots.label.label_hotspots` (needs a
        pack and ``location_text``).
    client : distributed.Client, optional
        Run a neighbour-needing method (``kde``, ``gistar``) district by district over the
        pack's districts, each with the halo it needs, in parallel on this Dask cluster
        (:mod:`geo_ssgp.hotspots.halo`); the layer equals the whole-area one.
    **params
        Method settings, e.g. ``cell_size``, ``coverage``, ``bandwidth``,
        ``permutations``, ``seed``, ``p_adjust``, ``alpha``, ``value``.

    Returns
    -------
    HotspotLayer
        With ``parameters`` completed by ``period``, ``filters``, ``n_incidents``,
        ``region``, the pack name and ``significance``; every hotspot carries
        ``p_value``, ``p_adjusted`` and ``significant`` from the per-place exceedance
        test (:func:`~geo_ssgp.hotspots.significance.hotspot_significance`; street
        segments: :func:`~geo_ssgp.hotspots.significance.segment_exceedance`).

    Raises
    ------
    PackError
        For ``street-segments`` without ``segments`` and without a pack with streets.
    BadInput
        A ``client`` for a method that does not run per district, or without a pack.
    """
    key = resolve_method(name)
    method = METHODS[key]
    if client is not None:
        params.update(districts=_districts_for(key, pack), client=client)
    points, info = prepare_incidents(
        incidents,
        start=start,
        end=end,
        crime_types=crime_types,
        sources=sources,
        restricted=restricted,
    )
    if region is None:
        if pack is None:
            raise ValueError("run_method needs a pack or a region")
        region = study_region(pack)
    if info["n_incidents"] == 0:
        raise NotEnoughData(
            f"no incidents to analyse: the filters leave 0 of {len(incidents):,} incidents"
        )
    if method.unit == "areas":
        if areas is None:
            if pack is None:
                raise ValueError(f"method {key!r} needs a pack or areas")
            areas, pack_pop = _areas_for(pack, region)
            population = pack_pop if population is None else population
            params.setdefault("area_level", pack.primary_lsoa)
        layer = method.func(points, areas, population=population, **params)
    elif method.unit == "streets":
        if segments is None:
            segments = pack_segments(pack)
        layer = method.func(points, segments_in_region(segments, region), **params)
    else:
        layer = method.func(points, region, **params)
    layer.parameters.update(info)
    if method.unit != "streets":  # segments are tested on their own street-length baseline
        _add_significance(layer, points, region)
    layer.parameters["region"] = region_label(region)
    layer.parameters["pack"] = pack.name if pack is not None else None
    if method.unit != "streets" and label and pack is not None and len(layer.hotspots):
        if "location_text" in points:
            layer.hotspots["label"] = label_hotspots(layer.hotspots, points, pack).to_numpy()
    return layer


def check_per_district(name: str) -> str:
    """The method's key when it runs per district with a halo (``kde``, ``gistar``).

    Parameters
    ----------
    name : str
        A method name or ``"default"`` (:func:`resolve_method`).

    Returns
    -------
    str

    Raises
    ------
    BadInput
        For a method without a per-district rule (its layer would differ at district edges).
    """
    key = resolve_method(name)
    if not METHODS[key].per_district:
        runs = ", ".join(k for k, m in METHODS.items() if m.per_district)
        raise BadInput(
            f"method {key!r} does not run per district on a Dask cluster (only {runs} do); "
            "run it in-process",
            param="engine",
        )
    return key


def _districts_for(key: str, pack: AreaPack | None) -> gpd.GeoDataFrame:
    """The pack's districts for a per-district run of ``key`` (or a one-line refusal)."""
    check_per_district(key)
    if pack is None:
        raise BadInput("a per-district run needs the area pack's districts", param="engine")
    return pack_districts(pack)


def _add_significance(layer: HotspotLayer, points: gpd.GeoDataFrame, region) -> None:
    """The per-cell exceedance test of every hotspot, on the layer in place."""
    if len(layer.hotspots):
        tested = hotspot_significance(layer.hotspots, points, region)
        for col in tested.columns:
            layer.hotspots[col] = tested[col].to_numpy()
    layer.parameters["significance"] = significance_parameters()
