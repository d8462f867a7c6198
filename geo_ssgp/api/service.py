"""What the routes call: the pipeline functions behind a per-app cache, with access rules.

:class:`Service` holds the settings, the area pack, the store and a :class:`LayerCache`.
Each method composes the same functions the CLI and the notebook use
(``pipeline``, ``areas``, ``hotspots``, ``focus``, ``maps``) and caches the result under its
parameters plus the store version, so a warm request does not recompute and an ingest
invalidates everything. Role rules (restricted records, small-count suppression) are applied
here so that routes stay thin.
"""

from __future__ import annotations

import json
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_ssgp import areas, focus, hotspots, maps, pipeline
from geo_ssgp.api.auth import User
from geo_ssgp.api.cache import LayerCache
from geo_ssgp.api.params import Filters
from geo_ssgp.api.privacy import suppress_frame, suppress_summary
from geo_ssgp.config import CRS_BNG, Settings
from geo_ssgp.filters import filter_incidents
from geo_ssgp.hotspots.layer import json_safe
from geo_ssgp.pack import AreaPack, load_layer, load_points
from geo_ssgp.schema import CRIME_GROUPS, CRIME_TYPES
from geo_ssgp.store import FocusArea, SQLiteStore

#: Hotspot methods drawn on the analyst map (the default method is shown on opening).
MAP_METHODS = ("grid-count", "kde", "gistar", "lisa", "hdbscan")
#: Months shown on the PCSO area view and compared in each meeting period.
RECENT_MONTHS = 3
#: Hotspots listed in the meeting table.
MEETING_TOP = 10
#: Seconds the store version is trusted before the catalogue is read again (ingests through
#: the app invalidate at once; this bounds how long an ingest by the CLI goes unnoticed).
VERSION_TTL_S = 2.0


@dataclass(frozen=True)
class Place:
    """A ward or LSOA the PCSO view can show.

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


class Service:
    """The app's access to data, layers and maps.

    Parameters
    ----------
    settings : Settings
    pack : AreaPack
    store : SQLiteStore
    """

    def __init__(self, settings: Settings, pack: AreaPack, store: SQLiteStore) -> None:
        self.settings = settings
        self.pack = pack
        self.store = store
        self.cache = LayerCache()
        self._version: tuple[float, tuple[int, ...]] | None = None
        self._version_lock = threading.Lock()

    # data ----------------------------------------------------------------------------------

    def version(self) -> tuple[int, ...]:
        """Ids of the stored datasets: changes with every ingest (re-read every few seconds)."""
        with self._version_lock:
            now = time.monotonic()
            if self._version is None or now - self._version[0] > VERSION_TTL_S:
                ids = tuple(int(i) for i in self.store.datasets()["id"])
                self._version = (now, ids)
            return self._version[1]

    def invalidate(self) -> None:
        """Forget every cached layer and the store version (after an ingest)."""
        with self._version_lock:
            self._version = None
        self.cache.clear()

    def _cached(self, key: tuple, compute: Any) -> Any:
        return self.cache.get((self.version(), *key), compute)

    def cached_json(self, key: tuple, compute: Callable[[], Any]) -> bytes:
        """A JSON answer serialised once per parameters and store version.

        Parameters
        ----------
        key : tuple
            Route name and its parameters (including the caller's access level).
        compute : callable
            Returns the JSON-ready object.

        Returns
        -------
        bytes
            UTF-8 JSON.
        """

        def dump() -> bytes:
            return json.dumps(compute(), separators=(",", ":"), allow_nan=False).encode()

        return self._cached(("json", *key), dump)

    def all_incidents(self) -> gpd.GeoDataFrame:
        """Every stored geocoded incident, inside the area or not (district vs county)."""
        return self._cached(("all",), self.store.incidents)

    def incidents(self) -> gpd.GeoDataFrame:
        """Stored incidents inside the area (``status == "ok"``)."""
        return self._cached(("ok",), lambda: pipeline.analysed_incidents(self.store))

    def months(self) -> list[str]:
        """Months with incidents, ``YYYY-MM``, ascending."""

        def compute() -> list[str]:
            inc = self.incidents()
            if inc.empty:
                return []
            return sorted(pd.to_datetime(inc["month"]).dt.strftime("%Y-%m").unique())

        return self._cached(("months",), compute)

    def recent(self, n: int = RECENT_MONTHS) -> tuple[str | None, str | None]:
        """First and last month of the latest ``n`` months with data."""
        months = self.months()
        return (months[-n], months[-1]) if months else (None, None)

    def filtered(self, filters: Filters, user: User | None = None) -> gpd.GeoDataFrame:
        """Incidents matching the filters; restricted records only for analysts.

        Parameters
        ----------
        filters : Filters
        user : User, optional
            ``None`` keeps every record (for aggregates).

        Returns
        -------
        geopandas.GeoDataFrame
        """
        public_only = user is not None and not user.is_analyst

        def compute() -> gpd.GeoDataFrame:
            return filter_incidents(
                self.incidents(),
                start=filters.start,
                end=filters.end,
                crime_types=list(filters.crime_types) or None,
                sources=list(filters.sources) or None,
                restricted=False if public_only else None,
            )

        return self._cached(("filtered", filters.key(), public_only), compute)

    # layers --------------------------------------------------------------------------------

    def area_stats(self, level: str | None, filters: Filters) -> gpd.GeoDataFrame:
        """Per-area statistics (:func:`geo_ssgp.areas.area_stats`) for the filters."""
        level = level or self.pack.primary_lsoa

        def compute() -> gpd.GeoDataFrame:
            inc = self.filtered(filters) if filters.sources else self.incidents()
            return areas.area_stats(
                inc,
                self.pack,
                level=level,
                start=filters.start,
                end=filters.end,
                crime_types=list(filters.crime_types) or None,
            )

        return self._cached(("areas", level, filters.key()), compute)

    def area_stats_for(self, level: str | None, filters: Filters, user: User) -> gpd.GeoDataFrame:
        """Per-area statistics with small counts suppressed for non-analysts."""
        stats = self.area_stats(level, filters)
        if user.is_analyst:
            return stats.assign(suppressed=False)
        out = suppress_frame(
            stats, "count", self.settings.suppress_below, ("rate_per_1000", "share_of_district")
        )
        out.attrs = stats.attrs
        return out

    def hotspots(self, method: str, filters: Filters) -> hotspots.HotspotLayer:
        """A hotspot layer (:func:`geo_ssgp.hotspots.run_method`) for the filters."""

        def compute() -> hotspots.HotspotLayer:
            return hotspots.run_method(
                method,
                self.incidents(),
                self.pack,
                start=filters.start,
                end=filters.end,
                crime_types=list(filters.crime_types) or None,
                sources=list(filters.sources) or None,
            )

        return self._cached(("hotspots", method, filters.key()), compute)

    def hotspots_for(self, method: str, filters: Filters, user: User) -> hotspots.HotspotLayer:
        """A hotspot layer as the caller may see it.

        Non-analysts get small incident counts suppressed and labels built from public
        records only (a label names streets, so a restricted record's location text must not
        reach it); the polygons and counts still include restricted records (aggregates).
        """
        layer = self.hotspots(method, filters)
        if user.is_analyst or layer.hotspots.empty:
            return layer
        spots = suppress_frame(
            layer.hotspots, "n_incidents", self.settings.suppress_below, ("score", "count")
        )
        spots["label"] = self.hotspot_labels(method, filters, user)
        return hotspots.HotspotLayer(layer.method, spots, layer.parameters, layer.surface)

    def hotspot_labels(self, method: str, filters: Filters, user: User) -> np.ndarray:
        """Labels of a layer's hotspots; for non-analysts from public records only."""
        layer = self.hotspots(method, filters)
        labels = layer.hotspots["label"].to_numpy() if "label" in layer.hotspots else None
        if user.is_analyst or layer.hotspots.empty:
            return labels

        def compute() -> np.ndarray:
            if not self.filtered(filters)["restricted"].any():
                return labels
            from geo_ssgp.hotspots.label import label_hotspots

            public = self.filtered(filters, user)
            return label_hotspots(layer.hotspots, public, self.pack).to_numpy()

        return self._cached(("public-labels", method, filters.key()), compute)

    # maps ----------------------------------------------------------------------------------

    def analyst_map(self, filters: Filters, user: User) -> str:
        """HTML of the analyst map for the filters (cached per filters and access level).

        Parameters
        ----------
        filters : Filters
        user : User
            Analysts see restricted records among the incident markers; others see public
            records only and suppressed small counts.

        Returns
        -------
        str
            A complete HTML document (local ``/static/vendor`` assets).
        """
        access = "analyst" if user.is_analyst else "public"

        def compute() -> str:
            layers = self._map_layers(filters, user)
            kde = layers["kde"].surface if "kde" in layers else None
            fmap = maps.build_analyst_map(
                self.pack,
                self.area_stats_for(None, filters, user),
                load_layer(self.pack, "ward"),
                layers,
                hotspots.DEFAULT_METHOD,
                incidents=self.filtered(filters, user),
                surface=kde,
                tiles=self.settings.tiles,
            )
            maps.add_draw_control(fmap)
            return maps.render(fmap)

        return self._cached(("analyst-map", filters.key(), access), compute)

    def _map_layers(self, filters: Filters, user: User) -> dict[str, hotspots.HotspotLayer]:
        """The analyst map's hotspot layers; a method that cannot run on the data is left out.

        Methods refuse data they cannot work with (e.g. KDE's bandwidth rule needs two
        incidents); the map then shows the other layers rather than failing.
        """
        layers = {}
        for method in MAP_METHODS:
            try:
                layers[method] = self.hotspots_for(method, filters, user)
            except ValueError:
                continue
        if hotspots.DEFAULT_METHOD not in layers:
            layers = {}
        return layers

    def area_map(self, place: Place, user: User) -> str:
        """HTML of the PCSO map of a ward or LSOA: last months' incidents and hotspots."""
        access = "analyst" if user.is_analyst else "public"
        filters = self.recent_filters()

        def compute() -> str:
            area = gpd.GeoDataFrame({"name": [place.name]}, geometry=[place.geometry], crs=CRS_BNG)
            fmap = maps.build_area_map(
                self.pack,
                area,
                self.filtered(filters, user),
                self._optional_layer(hotspots.DEFAULT_METHOD, filters, user),
                tiles=self.settings.tiles,
            )
            return maps.render(fmap)

        return self._cached(("area-map", place.code, access), compute)

    def meeting_map(
        self, method: str, filters: Filters, user: User, standalone: bool = False
    ) -> str:
        """HTML of one meeting period's map: the hotspot layer over LSOA counts and wards."""
        access = "analyst" if user.is_analyst else "public"

        def compute() -> str:
            fmap = maps.base_map(self.pack, tiles=self.settings.tiles)
            maps.add_area_layer(
                fmap,
                self.area_stats_for(None, filters, user),
                "count",
                name="LSOA: incidents",
                show=True,
            )
            layer = self._optional_layer(method, filters, user)
            if layer is not None:
                maps.add_hotspot_layer(fmap, layer, show=True, layer_id=f"hotspots:{method}")
            maps.add_ward_layer(fmap, load_layer(self.pack, "ward"))
            folium.LayerControl(collapsed=False).add_to(fmap)
            return maps.render_standalone(fmap) if standalone else maps.render(fmap)

        return self._cached(("meeting-map", method, filters.key(), access, standalone), compute)

    def _optional_layer(
        self, method: str, filters: Filters, user: User
    ) -> hotspots.HotspotLayer | None:
        """A hotspot layer, or ``None`` when the method cannot run on the selected data."""
        try:
            return self.hotspots_for(method, filters, user)
        except ValueError:
            return None

    def recent_filters(self, n: int = RECENT_MONTHS) -> Filters:
        """Filters for the latest ``n`` months with data."""
        start, end = self.recent(n)
        return Filters.of(start, end)

    # places and selections -----------------------------------------------------------------

    def wards(self) -> pd.DataFrame:
        """Wards (``code``, ``name``) sorted by name."""
        wards = load_layer(self.pack, "ward")
        return wards[["code", "name"]].sort_values("name", ignore_index=True)

    def place(self, key: str) -> Place:
        """A ward (by code or name) or an LSOA (by code); KeyError if neither."""
        text = key.strip().casefold()
        for kind, layer in (("ward", "ward"), ("lsoa", self.pack.primary_lsoa)):
            if not self.pack.has("layers", layer):
                continue
            table = load_layer(self.pack, layer)
            match = (table["code"].str.casefold() == text) | (table["name"].str.casefold() == text)
            hit = table[match]
            if len(hit):
                row = hit.iloc[0]
                return Place(kind, str(row["code"]), str(row["name"]), row.geometry)
        raise KeyError(f"no ward or LSOA {key!r}")

    def meta(self, role: str) -> dict:
        """Choices for the page controls (months, types, wards, methods, weights, role)."""
        return {
            "role": role,
            "months": self.months(),
            "crime_types": CRIME_TYPES,
            "crime_groups": CRIME_GROUPS,
            "wards": self.wards().to_dict("records"),
            "localities": self.localities(),
            "methods": {k: m.title for k, m in hotspots.METHODS.items()},
            "default_method": hotspots.DEFAULT_METHOD,
            "weights": focus.DEFAULT_WEIGHTS,
            "components": focus.COMPONENTS,
            "suppress_below": self.settings.suppress_below,
        }

    def localities(self) -> list[str]:
        """Names of the pack's localities inside the district, sorted."""
        points = load_points(self.pack, "localities")
        outline = shapely.union_all(
            load_layer(self.pack, self.pack.primary_lsoa).geometry.values
        )
        inside = points[points.within(outline)]
        return sorted(inside["name"].unique())

    def selection(self, spec: dict, filters: Filters, user: User) -> focus.Selection:
        """A :class:`geo_ssgp.focus.Selection` from a request's selection object.

        Parameters
        ----------
        spec : dict
            One of ``lsoa_codes``, ``polygon`` (GeoJSON, WGS84), ``hotspot`` (``method``,
            ``rank``), ``ward`` or ``locality``.
        filters : Filters
            Period and types of the hotspot layer a ``hotspot`` refers to.
        user : User
            The caller (hotspot labels for non-analysts come from public records).

        Returns
        -------
        Selection

        Raises
        ------
        ValueError
            For an invalid or unknown selection.
        """
        spec = {k: v for k, v in spec.items() if v not in (None, [], "")}
        if "hotspot" in spec:
            ref = spec.pop("hotspot")
            method = hotspots.resolve_method(ref.get("method") or "default")
            layer = self.hotspots_for(method, filters, user)
            hit = layer.hotspots[layer.hotspots["rank"] == int(ref.get("rank", 0))]
            if hit.empty:
                raise ValueError(f"no hotspot of rank {ref.get('rank')} for method {method}")
            spec["hotspot"] = hit.iloc[0]
        return focus.selection_from(self.pack, **spec)

    def summary(self, selection: focus.Selection, filters: Filters, user: User) -> dict:
        """A focus summary (:func:`geo_ssgp.focus.summarise`) with the caller's access rules.

        Non-analysts get it from public records for the streets and small counts suppressed;
        the headline counts include every record (aggregates).
        """
        key = (
            "summary",
            selection.kind,
            selection.geometry.wkb,
            tuple(selection.lsoa_codes),
            filters.key(),
        )

        def compute() -> dict:
            return focus.summarise(
                self.filtered(filters),
                self.pack,
                selection,
                start=filters.start,
                end=filters.end,
                crime_types=list(filters.crime_types) or None,
            )

        result = self._cached(key, compute)
        result = {**result, "filters": filters.as_dict()}
        if user.is_analyst:
            return result
        public = self._cached(
            ("summary-streets", *key[1:]),
            lambda: focus.summarise(
                self.filtered(filters, user),
                self.pack,
                selection,
                start=filters.start,
                end=filters.end,
                crime_types=list(filters.crime_types) or None,
            )["top_streets"],
        )
        return suppress_summary({**result, "top_streets": public}, self.settings.suppress_below)

    def focus_selection(self, area: FocusArea) -> focus.Selection:
        """The selection a saved focus area stands for."""
        meta = area.params.get("selection", {})
        return focus.Selection(
            kind=meta.get("kind", "polygon"),
            label=meta.get("label", area.name),
            geometry=area.geometry,
            lsoa_codes=list(area.lsoa_codes),
            match=meta.get("match", "codes" if meta.get("kind") == "lsoa" else "geometry"),
        )

    def focus_filters(self, area: FocusArea) -> Filters:
        """The filters a focus area was saved under."""
        f = area.params.get("filters", {})
        return Filters.of(f.get("from"), f.get("to"), f.get("crime_types"), f.get("sources"))

    # ranking -------------------------------------------------------------------------------

    def candidates(
        self, unit: str, method: str, filters: Filters, weights: dict[str, float], user: User
    ) -> pd.DataFrame:
        """Ranked pilot candidates (:func:`geo_ssgp.focus.rank_candidates`).

        Parameters
        ----------
        unit : {"lsoa", "hotspot"}
        method : str
            Hotspot method for ``unit="hotspot"``.
        filters : Filters
        weights : dict
        user : User

        Returns
        -------
        pandas.DataFrame
        """

        def compute() -> pd.DataFrame:
            inc = self.filtered(filters)
            if unit == "lsoa":
                cands = self.area_stats(None, filters)
                trend = focus.period_change(inc, cands, key=f"{self.pack.primary_lsoa}cd")
            else:
                cands = self._hotspot_context(self.hotspots(method, filters), filters)
                cands["label"] = self.hotspot_labels(method, filters, user)
                trend = focus.period_change(inc, cands)
            table = focus.rank_candidates(cands, trend, weights)
            if not user.is_analyst:
                attrs = table.attrs
                table = suppress_frame(
                    table, "count", self.settings.suppress_below, ("rate_per_1000",)
                )
                table.attrs = attrs
            return table

        key = (
            unit,
            method if unit == "hotspot" else None,
            filters.key(),
            tuple(sorted(weights.items())),
            user.is_analyst,
        )
        return self._cached(("candidates", *key), compute)

    def _hotspot_context(self, layer: hotspots.HotspotLayer, filters: Filters) -> gpd.GeoDataFrame:
        """Hotspots with the IMD decile and rate of the LSOA under each one's centre."""
        spots = layer.hotspots.copy()
        if spots.empty:
            return spots
        stats = self.area_stats(None, filters)[["code", "imd_decile", "rate_per_1000", "geometry"]]
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

    # meeting -------------------------------------------------------------------------------

    def meeting_periods(
        self, a_from: str | None, a_to: str | None, b_from: str | None, b_to: str | None
    ) -> tuple[tuple[str | None, str | None], tuple[str | None, str | None]]:
        """The two compared periods; by default the last quarter and the one before."""
        months = self.months()
        n = RECENT_MONTHS
        if not (b_from and b_to):
            b_from, b_to = (months[-n], months[-1]) if months else (None, None)
        if not (a_from and a_to):
            earlier = [m for m in months if b_from and m < b_from]
            a_from, a_to = (earlier[-n], earlier[-1]) if len(earlier) >= 1 else (b_from, b_to)
            if len(earlier) < n and earlier:
                a_from = earlier[0]
        return (a_from, a_to), (b_from, b_to)

    def hotspot_change(
        self, method: str, before: Filters, after: Filters, user: User, top: int = MEETING_TOP
    ) -> list[dict]:
        """Top hotspots of the later period with their incidents in the earlier one.

        Returns
        -------
        list of dict
            ``rank``, ``label``, ``before``, ``after``, ``change`` (after - before),
            ``change_pct``, ``new`` (no hotspot of the earlier period overlaps it),
            ``single_snap_point``; small counts suppressed for non-analysts.
        """
        try:
            later = self.hotspots(method, after).hotspots.head(top)
            earlier = self.hotspots(method, before).hotspots
        except ValueError:
            return []
        if later.empty:
            return []
        inc = self.filtered(before)
        points = gpd.GeoDataFrame(geometry=inc.geometry.values, crs=CRS_BNG)
        polys = gpd.GeoDataFrame(geometry=later.geometry.values, crs=CRS_BNG)
        joined = gpd.sjoin(points, polys, how="inner", predicate="intersects")
        n_before = joined.groupby("index_right").size().reindex(range(len(later)), fill_value=0)
        overlaps = (
            later.geometry.intersects(shapely.union_all(earlier.geometry.values))
            if len(earlier)
            else pd.Series(False, index=later.index)
        )
        table = pd.DataFrame(
            {
                "rank": later["rank"].astype(int).to_numpy(),
                "label": pd.Series(self.hotspot_labels(method, after, user)[: len(later)])
                .astype(str)
                .to_numpy(),
                "before": n_before.to_numpy(),
                "after": later["n_incidents"].astype(int).to_numpy(),
                "new": ~overlaps.to_numpy(),
                "single_snap_point": later["single_snap_point"].astype(bool).to_numpy(),
            }
        )
        table["change"] = table["after"] - table["before"]
        table["change_pct"] = table["change"] / table["before"].where(table["before"] > 0) * 100
        if not user.is_analyst:
            thr = self.settings.suppress_below
            for col in ("before", "after"):
                table = suppress_frame(table, col, thr, ("change", "change_pct")).rename(
                    columns={"suppressed": f"{col}_suppressed"}
                )
        return json_safe(table.to_dict("records"))

    def district_rates(self, filters: Filters) -> dict:
        """District and county rates per 1,000 (:func:`geo_ssgp.areas.district_summary`)."""
        return self._cached(
            ("district", filters.start, filters.end),
            lambda: json_safe(
                areas.district_summary(
                    self.all_incidents(), self.pack, start=filters.start, end=filters.end
                )
            ),
        )

    # ingest --------------------------------------------------------------------------------

    def ingest_upload(self, name: str, data: bytes, columns: dict | None = None) -> dict:
        """Ingest an uploaded local incident log through the pipeline, atomically.

        Parameters
        ----------
        name : str
            File name (already sanitised); becomes the dataset name.
        data : bytes
        columns : dict, optional
            Column mapping for the local log.

        Returns
        -------
        dict
            :func:`geo_ssgp.pipeline.ingest_files` summary.

        Raises
        ------
        geo_ssgp.incidents.IngestError
            The file cannot be read; nothing is stored.
        """
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / name
            path.write_bytes(data)
            try:
                result = pipeline.ingest_files(
                    self.store, self.pack, [path], source="local", columns=columns
                )
            finally:
                self.invalidate()
        return result
