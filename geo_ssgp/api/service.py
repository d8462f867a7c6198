"""What the routes call: the pipeline's functions behind a per-app cache, with access rules.

:class:`Service` holds the settings, the area pack, the store and a :class:`LayerCache`. It
owns two things only: **caching** (each result under its parameters plus the store version,
so a warm request does not recompute and an ingest invalidates everything) and the **access
policy** (restricted records and small-count suppression for roles other than analyst).
Every figure, join, period rule and map comes from the stages the CLI and the notebook call
(``areas``, ``hotspots``, ``focus``, ``reports``, ``maps``). Heavy builds (maps, hotspot
GeoJSON, emerging, change, accuracy) go through :meth:`Service.bounded`, which runs the named
build method in a worker process (:mod:`geo_ssgp.api.workers`) or a thread, with a time limit.
"""

from __future__ import annotations

import gzip
import json
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import pandas as pd

from geo_ssgp import areas, focus, gazetteer, hotspots, maps, pipeline, reports, streets
from geo_ssgp.api.auth import User
from geo_ssgp.api.cache import LayerCache
from geo_ssgp.api.params import analyst_layer_url
from geo_ssgp.api.privacy import (
    AREA_KEEP,
    CANDIDATE_KEEP,
    HOTSPOT_KEEP,
    small,
    suppress_frame,
    suppress_summary,
    visible_filters,
)
from geo_ssgp.api.workers import WorkerPool
from geo_ssgp.config import CRS_BNG, Settings
from geo_ssgp.errors import BadInput, Forbidden, NotEnoughData, NotFound, StillComputing
from geo_ssgp.filters import Filters, night_scope, resolve_method, subcategory_counts
from geo_ssgp.hotspots.change import change_geojson, pack_change
from geo_ssgp.hotspots.emerging import EmergingHotspots, emerging_scope, pack_emerging
from geo_ssgp.hotspots.evaluate import layer_accuracy
from geo_ssgp.hotspots.layer import json_safe
from geo_ssgp.maps.streets import street_data, street_version
from geo_ssgp.pack import AreaPack, has_streets, load_layer, lsoa_wards
from geo_ssgp.schema import CRIME_GROUPS, CRIME_TYPES
from geo_ssgp.store import FocusArea, SQLiteStore


@dataclass(frozen=True)
class MapOverlays:
    """The space-time overlays asked of the analyst map (analysts only).

    Attributes
    ----------
    emerging : bool
        Draw the emerging hot/cold-spot categories.
    change : ((str, str), (str, str)) or None
        Earlier and later period (first and last month each) of the change layer.
    change_all : bool
        Draw every tested place, not only significant changes.
    """

    emerging: bool = False
    change: tuple[tuple[str, str], tuple[str, str]] | None = None
    change_all: bool = False

    @property
    def requested(self) -> bool:
        """Whether any overlay is asked for."""
        return self.emerging or self.change is not None


#: The emerging overlay of the analyst map: 100 m cells by month, ArcGIS categories.
MAP_EMERGING = {"unit": "grid", "cell_size": None, "step": "month", "scheme": "arcgis"}
#: The change overlay of the analyst map: 100 m cells.
MAP_CHANGE = {"unit": "grid", "cell_size": None}


def _json_bytes(value: Any) -> bytes:
    """Compact UTF-8 JSON (NaN refused: :func:`json_safe` the value first)."""
    return json.dumps(value, separators=(",", ":"), allow_nan=False).encode()


def _access(user: User | None) -> str:
    """Cache-key part for what a caller may see."""
    return "analyst" if user is None or user.is_analyst else "public"


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
        self._pool = ThreadPoolExecutor(settings.layer_workers, thread_name_prefix="geo-ssgp-map")
        self.workers = WorkerPool(settings, settings.map_workers) if settings.map_workers else None
        self._building: dict[tuple, Future] = {}
        self._building_lock = threading.Lock()

    # data ----------------------------------------------------------------------------------

    def version(self) -> tuple[int, ...]:
        """Ids of the stored datasets: changes with every ingest (re-read every few seconds)."""
        with self._version_lock:
            now = time.monotonic()
            stale = self._version is None or now - self._version[0] > self.settings.version_ttl_s
            if stale:
                ids = tuple(int(i) for i in self.store.datasets()["id"])
                self._version = (now, ids)
            return self._version[1]

    def invalidate(self) -> None:
        """Forget every cached layer and the store version (after an ingest).

        Builds still queued for the old version are cancelled (a running one finishes).
        """
        with self._version_lock:
            self._version = None
        self.cache.clear()
        self._cancel_queued()

    def _cancel_queued(self) -> None:
        """Cancel the builds that have not started (a running build cannot be cancelled)."""
        with self._building_lock:
            queued = list(self._building.values())
        for future in queued:
            future.cancel()

    def start_workers(self) -> Future | None:
        """Start the map workers and let them read the store now (app start-up, no waiting).

        Returns
        -------
        concurrent.futures.Future or None
            Done when a worker has read the store; ``None`` without worker processes.
        """
        if self.workers is None:
            return None
        return self.workers.submit(self.version(), "health", None)

    def close(self) -> None:
        """Stop building (app shutdown): queued builds are cancelled, worker processes killed.

        A build running in a thread of this process (``map_workers=0``) cannot be stopped.
        """
        self._cancel_queued()
        if self.workers is not None:
            self.workers.close()

    def _cached(self, key: tuple, compute: Any) -> Any:
        return self.cache.get((self.version(), *key), compute)

    def bounded(self, key: tuple, build: str, *args: Any) -> Any:
        """A cached result built in the bounded worker pool, waited for at most a while.

        A cache hit is answered at once, whatever the pool is doing. A miss is built once
        per key, however many ask: by ``self.<build>(*args)`` in one of
        ``settings.map_workers`` worker processes (:class:`~geo_ssgp.api.workers.WorkerPool`,
        which hold their own pack, store and caches), or with ``map_workers=0`` in one of
        ``settings.layer_workers`` threads of this process. The request waits up to
        ``settings.layer_timeout_s`` and then gets :class:`~geo_ssgp.errors.StillComputing`
        (HTTP 503) while the build goes on and fills this cache for the next request. A
        worker that dies mid-build (killed, out of memory) also gives ``StillComputing``;
        the pool is restarted and the next request builds again.

        Parameters
        ----------
        key : tuple
            Cache key (without the store version, which is added).
        build : str
            Name of the method that computes the result from ``args``.
        *args
            Its arguments (picklable: filters, user, place, plain values).

        Returns
        -------
        object
        """
        version = self.version()
        full = (version, *key)
        found, value = self.cache.peek(full)
        if found:
            return value
        with self._building_lock:
            future = self._building.get(full)
            if future is None:
                future = self._submit(full, build, args)
                self._building[full] = future
                future.add_done_callback(lambda _: self._building.pop(full, None))
        try:
            return future.result(timeout=self.settings.layer_timeout_s)
        except FutureTimeout:
            raise StillComputing(
                "this map is still being computed; it will be ready shortly"
            ) from None
        except (BrokenProcessPool, CancelledError):
            raise StillComputing(
                "the map build was interrupted (a worker stopped or the data changed); "
                "ask again to build it"
            ) from None

    def _submit(self, full: tuple, build: str, args: tuple) -> Future:
        """Start building ``full``: in a worker process, or in a thread of this process."""
        if self.workers is None:
            return self._pool.submit(self.cache.get, full, lambda: getattr(self, build)(*args))
        future = self.workers.submit(full[0], build, *args)

        def keep(done: Future) -> None:
            if not done.cancelled() and done.exception() is None:
                self.cache.put(full, done.result())

        future.add_done_callback(keep)
        return future

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
            return _json_bytes(compute())

        return self._cached(("json", *key), dump)

    def all_incidents(self) -> gpd.GeoDataFrame:
        """Every stored geocoded incident, inside the area or not (district vs county)."""
        return self._cached(("all",), self.store.incidents)

    def incidents(self) -> gpd.GeoDataFrame:
        """Stored incidents inside the area (``status == "ok"``)."""
        return self._cached(("ok",), lambda: pipeline.analysed_incidents(self.store))

    def months(self, user: User | None = None) -> list[str]:
        """Months with incidents the caller may see, ``YYYY-MM``, ascending."""
        return self._cached(
            ("months", _access(user)),
            lambda: reports.data_months(self.filtered(Filters.of(), user)),
        )

    def recent_filters(self, n: int | None = None, user: User | None = None) -> Filters:
        """Filters for the latest ``n`` months with data (``settings.recent_months``)."""
        months = self.months(user)
        start, end = reports.recent_period(months, n or self.settings.recent_months)
        return Filters.of(start, end)

    def visible(self, filters: Filters, user: User | None) -> Filters:
        """The filters an answer for this caller is computed with.

        The one access rule (:func:`geo_ssgp.api.privacy.visible_filters`): analysts (and
        ``user=None``, internal use) get every record, other roles public records only.
        """
        return visible_filters(filters, _access(user) == "analyst")

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
        filters = self.visible(filters, user)
        return self._cached(("filtered", filters.key()), lambda: filters.apply(self.incidents()))

    # layers --------------------------------------------------------------------------------

    def area_stats(self, level: str | None, filters: Filters) -> gpd.GeoDataFrame:
        """Per-area statistics (:func:`geo_ssgp.areas.area_stats`) for the filters."""
        level = level or self.pack.primary_lsoa

        return self._cached(
            ("areas", level, filters.key()),
            lambda: areas.area_stats_for(self.incidents(), self.pack, filters, level),
        )

    def night_scope(self, filters: Filters, user: User | None) -> dict | None:
        """With ``filters.night``: the window and the caller's records it left out.

        :func:`geo_ssgp.filters.night_scope` on the records the other filters select;
        ``None`` when the night-time filter is off.
        """
        if not filters.night:
            return None
        before = self.filtered(filters.replace(night=False), user)
        return night_scope(before)

    def day_hour(self, filters: Filters, user: User | None) -> dict:
        """Day-of-week x hour chart (:func:`geo_ssgp.reports.day_hour_chart`) for the caller.

        Non-analysts see public records only, which carry the month only: their chart is
        empty and its note says so.
        """
        filters = self.visible(filters, user)
        return self._cached(
            ("day-hour", filters.key()),
            lambda: reports.day_hour_chart(self.filtered(filters)),
        )

    def area_stats_for(self, level: str | None, filters: Filters, user: User) -> gpd.GeoDataFrame:
        """Per-area statistics of public records with small counts suppressed for non-analysts."""
        stats = self.area_stats(level, self.visible(filters, user))
        if user.is_analyst:
            return stats.assign(suppressed=False)
        return suppress_frame(stats, "count", self.settings.suppress_below, keep=AREA_KEEP)

    def streets(self, filters: Filters, user: User) -> streets.StreetReport:
        """Street-segment counts (:func:`geo_ssgp.streets.street_report`) for the caller.

        Restricted records only for analysts, small counts suppressed for the others.
        """
        report = self._street_report(filters, user)
        busy = report.segments[report.segments["n_incidents"] > 0]
        if not user.is_analyst:
            busy = suppress_frame(busy, "n_incidents", self.settings.suppress_below, ("per_km",))
        return streets.StreetReport(busy, report.concentration, report.parameters)

    def _street_report(self, filters: Filters, user: User) -> streets.StreetReport:
        """Street-segment counts of the records the caller may see (cached, unsuppressed)."""
        return self._cached(
            ("streets", filters.key(), user.is_analyst),
            lambda: streets.street_report(self.filtered(filters, user), self.pack),
        )

    def street_layer(self, filters: Filters, user: User) -> gpd.GeoDataFrame | None:
        """The busiest street segments for the map (:func:`geo_ssgp.streets.busiest_segments`).

        ``None`` when the pack has no streets or no incident lies on one. Non-analysts get
        public records only, and segments with a small count are left out.
        """
        if not has_streets(self.pack):
            return None
        try:
            top = streets.busiest_segments(self._street_report(filters, user).segments)
        except NotEnoughData:
            return None
        if user.is_analyst:
            return top
        shown = suppress_frame(top, "n_incidents", self.settings.suppress_below, ("per_km",))
        return shown[~shown["suppressed"]]

    def hotspots(self, method: str, filters: Filters) -> hotspots.HotspotLayer:
        """A hotspot layer (:func:`geo_ssgp.reports.hotspot_layer`) for the filters."""
        return self._cached(
            ("hotspots", method, filters.key()),
            lambda: reports.hotspot_layer(method, self.incidents(), self.pack, filters),
        )

    def emerging_result(self, filters: Filters, options: dict) -> EmergingHotspots:
        """Emerging hotspots (:func:`geo_ssgp.hotspots.emerging.pack_emerging`), cached.

        Parameters
        ----------
        filters : Filters
        options : dict
            ``unit``, ``cell_size``, ``step``, ``scheme`` (part of the cache key).

        Returns
        -------
        EmergingHotspots
        """
        return self._cached(
            ("emerging", filters.key(), tuple(sorted(options.items()))),
            lambda: pack_emerging(self.incidents(), self.pack, filters, **options),
        )

    def emerging(self, filters: Filters, options: dict) -> dict:
        """Emerging hotspots GeoJSON (the cached :meth:`emerging_result`).

        Built off the server's interpreter (:meth:`bounded`).
        """
        key = ("emerging-json", filters.key(), tuple(sorted(options.items())))
        return self.bounded(key, "emerging_geojson", filters, options)

    def emerging_geojson(self, filters: Filters, options: dict) -> dict:
        """Build :meth:`emerging` (run by :meth:`bounded`)."""
        return self.emerging_result(filters, options).to_geojson()

    def change_table(self, before: Filters, after: Filters, options: dict) -> gpd.GeoDataFrame:
        """Tested change per place (:func:`geo_ssgp.hotspots.change.pack_change`), cached.

        Parameters
        ----------
        before, after : Filters
            The two periods with the crime types and sources.
        options : dict
            ``unit``, ``cell_size``, ``method``, ``selection`` (part of the cache key).

        Returns
        -------
        geopandas.GeoDataFrame
        """
        key = ("change", before.key(), after.key(), tuple(sorted(options.items())))
        return self._cached(
            key, lambda: pack_change(self.incidents(), self.pack, before, after, **options)
        )

    def change(self, before: Filters, after: Filters, options: dict) -> dict:
        """Tested change GeoJSON (the cached :meth:`change_table`).

        Built off the server's interpreter (:meth:`bounded`).
        """
        key = ("change-json", before.key(), after.key(), tuple(sorted(options.items())))
        return self.bounded(key, "change_geojson", before, after, options)

    def change_geojson(self, before: Filters, after: Filters, options: dict) -> dict:
        """Build :meth:`change` (run by :meth:`bounded`)."""
        return change_geojson(self.change_table(before, after, options))

    def hotspots_for(self, method: str, filters: Filters, user: User) -> hotspots.HotspotLayer:
        """A hotspot layer as the caller may see it.

        Non-analysts get a layer of public records only (so its labels name no restricted
        location) with small incident counts suppressed together with every count-derived
        column (:data:`geo_ssgp.api.privacy.HOTSPOT_KEEP`).
        """
        layer = self.hotspots(method, self.visible(filters, user))
        if user.is_analyst or layer.hotspots.empty:
            return layer
        spots = suppress_frame(
            layer.hotspots, "n_incidents", self.settings.suppress_below, keep=HOTSPOT_KEEP
        )
        return hotspots.HotspotLayer(layer.method, spots, layer.parameters, layer.surface)

    def hotspot_json(self, method: str, filters: Filters, user: User) -> bytes:
        """The caller's hotspot layer (:meth:`hotspots_for`) as GeoJSON bytes.

        Built off the server's interpreter (:meth:`bounded`); only the bytes come back.
        """
        key = ("hotspot-json", method, filters.key(), _access(user))
        return self.bounded(key, "hotspot_json_bytes", method, filters, user)

    def hotspot_json_bytes(self, method: str, filters: Filters, user: User) -> bytes:
        """Build :meth:`hotspot_json` (uncached; run by :meth:`bounded`)."""
        return _json_bytes(self.hotspots_for(method, filters, user).to_geojson())

    def layer_accuracy(self, filters: Filters, user: User) -> dict:
        """How well the default layer predicted the last months (cached, JSON-safe).

        :func:`geo_ssgp.hotspots.evaluate.layer_accuracy` on the filters' crime types and
        sources, as the caller may see them. The test months end at the filters' ``end``
        (default: the last month of the data); the filters' ``start`` is ignored, because
        the backtest needs the months before. Built off the server's interpreter
        (:meth:`bounded`).
        """
        key = ("accuracy", filters.key(), _access(user))
        return self.bounded(key, "layer_accuracy_json", filters, user)

    def layer_accuracy_json(self, filters: Filters, user: User) -> dict:
        """Build :meth:`layer_accuracy` (uncached; run by :meth:`bounded`)."""
        scope = self.filtered(filters.replace(start=None, end=None), user)
        return json_safe(layer_accuracy(scope, self.pack, "default", end=filters.end))

    def optional_layer(
        self, method: str, filters: Filters, user: User
    ) -> hotspots.HotspotLayer | None:
        """A hotspot layer, or ``None`` when the method cannot run on the selected data."""
        try:
            return self.hotspots_for(method, filters, user)
        except NotEnoughData:
            return None

    # maps ----------------------------------------------------------------------------------

    def analyst_map(
        self, filters: Filters, user: User, overlays: MapOverlays = MapOverlays()
    ) -> str:
        """HTML of the analyst map for the filters (cached per filters and access level).

        Parameters
        ----------
        filters : Filters
        user : User
            Analysts see restricted records among the incident markers; others see public
            records only and suppressed small counts.
        overlays : MapOverlays
            Emerging and change layers (:meth:`overlay_layers`), analysts only.

        Returns
        -------
        str
            A complete HTML document (local ``/static/vendor`` assets).

        Raises
        ------
        Forbidden
            Overlays asked for by a non-analyst (as ``/api/emerging`` and ``/api/change``).
        """
        if overlays.requested and not user.is_analyst:
            raise Forbidden("the emerging and change layers are for analysts only", "emerging")

        key = ("analyst-map", filters.key(), _access(user), overlays)
        return self.bounded(key, "analyst_map_html", filters, user, overlays)

    def analyst_map_html(
        self, filters: Filters, user: User, overlays: MapOverlays = MapOverlays()
    ) -> str:
        """Build :meth:`analyst_map` (uncached; run by :meth:`bounded`).

        Only the layers shown when the map opens are computed here; the others are listed
        and fetched from :meth:`analyst_layer` when the user switches them on.
        """
        layers = self._map_layers(filters, user)
        lazy = self.lazy_layer_ids()
        surface = "surface" in lazy and bool(layers)
        segments = "street-segments" in lazy
        fmap = maps.build_analyst_map(
            self.pack,
            self.area_stats_for(None, filters, user),
            load_layer(self.pack, "ward"),
            layers,
            hotspots.DEFAULT_METHOD,
            incidents=self.filtered(filters, user),
            surface=analyst_layer_url("surface", filters) if surface else None,
            tiles=self.settings.tiles,
            overlays=self.overlay_layers(filters, overlays),
            street_segments=analyst_layer_url("street-segments", filters) if segments else None,
        )
        maps.add_draw_control(fmap)
        return maps.render(fmap)

    def lazy_layer_ids(self) -> list[str]:
        """Ids of the analyst map's layers drawn on demand (:func:`maps.analyst_lazy_layer_ids`)."""
        return maps.analyst_lazy_layer_ids(
            self.settings.map_methods, hotspots.DEFAULT_METHOD, has_streets(self.pack)
        )

    def analyst_layer(self, layer_id: str, filters: Filters, user: User) -> bytes:
        """One of the analyst map's :meth:`lazy_layer_ids` as its page document (JSON bytes).

        Cached per layer, filters and access level, built off the server's interpreter
        (:meth:`bounded`): the layer the map would have drawn at once
        (:func:`geo_ssgp.maps.analyst_layer_document`).

        Raises
        ------
        NotFound
            For an id that is not a lazy layer of the analyst map.
        """
        if layer_id not in self.lazy_layer_ids():
            raise NotFound(
                f"the analyst map has no layer {layer_id!r} drawn on demand; "
                f"layers: {', '.join(self.lazy_layer_ids())}"
            )
        key = ("analyst-layer", layer_id, filters.key(), _access(user))
        return self.bounded(key, "analyst_layer_json", layer_id, filters, user)

    def analyst_layer_json(self, layer_id: str, filters: Filters, user: User) -> bytes:
        """Build :meth:`analyst_layer` (uncached; run by :meth:`bounded`).

        A method that cannot run on the selected data gives an empty layer whose legend says
        why.
        """
        method = maps.lazy_layer_method(layer_id)
        if method is None:
            content = self.street_layer(filters, user)
        else:
            try:
                content = self.hotspots_for(method, filters, user)
            except NotEnoughData as exc:
                content = exc.message
        doc = maps.analyst_layer_document(layer_id, content, self.settings.map_methods)
        return _json_bytes(doc)

    def overlay_layers(
        self, filters: Filters, overlays: MapOverlays
    ) -> list[Callable[[folium.Map], Any]]:
        """The analyst map's space-time layers: cached analyses, each drawn by ``maps``.

        The emerging layer runs on the filters' months, or on every month when they select
        fewer than 10 (:func:`geo_ssgp.hotspots.emerging.emerging_scope`); the change layer
        compares the two periods under the filters' crime types and sources.

        Returns
        -------
        list of callable
            Each adds one layer to a map (``build_analyst_map(..., overlays=)``).
        """
        add = []
        if overlays.emerging:
            result = self.emerging_result(emerging_scope(filters, self.months()), MAP_EMERGING)
            add.append(
                partial(
                    maps.add_emerging_layer,
                    locations=result.locations,
                    parameters=result.parameters,
                    warnings=result.warnings,
                )
            )
        if overlays.change is not None:
            (b0, b1), (a0, a1) = overlays.change
            before, after = filters.replace(start=b0, end=b1), filters.replace(start=a0, end=a1)
            table = self.change_table(before, after, MAP_CHANGE)
            significant_only = not overlays.change_all
            add.append(
                partial(maps.add_change_layer, table=table, significant_only=significant_only)
            )
        return add

    def _map_layers(self, filters: Filters, user: User) -> dict[str, Any]:
        """The analyst map's hotspot layers: the default computed, the others as URLs.

        Every one of ``settings.map_methods`` is listed, in that order; the default layer
        (shown when the map opens) is computed, each other is the URL of its
        :meth:`analyst_layer` document, fetched when the user switches it on. Without the
        default layer (its method refuses the data, :class:`~geo_ssgp.errors.NotEnoughData`)
        the map has no hotspot layers.
        """
        default = hotspots.DEFAULT_METHOD
        if default not in self.settings.map_methods:
            return {}
        layer = self.optional_layer(default, filters, user)
        if layer is None:
            return {}
        return {
            m: layer if m == default else analyst_layer_url(f"hotspots:{m}", filters)
            for m in self.settings.map_methods
        }

    def street_document(self) -> tuple[bytes, str]:
        """The pack's street data for served maps, gzip-compressed once, and its version.

        Returns
        -------
        (bytes, str)
            :func:`geo_ssgp.maps.streets.street_data` compressed, and
            :func:`~geo_ssgp.maps.streets.street_version` (the ETag).
        """

        def compute() -> bytes:
            return gzip.compress(street_data(self.pack).encode(), 9, mtime=0)

        return self.cache.get(("street-layer",), compute), street_version(self.pack)

    def area_map(self, place: focus.Place, user: User) -> str:
        """HTML of the PCSO map of a ward or LSOA: last months' incidents and hotspots."""
        filters = self.recent_filters(user=user)
        key = ("area-map", place.code, filters.key(), _access(user))
        return self.bounded(key, "area_map_html", place, filters, user)

    def area_map_html(self, place: focus.Place, filters: Filters, user: User) -> str:
        """Build :meth:`area_map` for the filters (uncached; run by :meth:`bounded`)."""
        area = gpd.GeoDataFrame({"name": [place.name]}, geometry=[place.geometry], crs=CRS_BNG)
        layer, incidents = reports.place_content(
            place.geometry,
            self.optional_layer(hotspots.DEFAULT_METHOD, filters, user),
            self.filtered(filters, user),
        )
        fmap = maps.build_area_map(self.pack, area, incidents, layer, tiles=self.settings.tiles)
        return maps.render(fmap)

    def meeting_map(
        self,
        method: str,
        filters: Filters,
        user: User,
        standalone: bool = False,
        bins: tuple[float, ...] | None = None,
    ) -> str:
        """HTML of one meeting period's map (:func:`geo_ssgp.reports.meeting_map_html`).

        ``bins``: class breaks shared by both periods (the meeting context's ``bins``).
        """
        key = ("meeting-map", method, filters.key(), _access(user), standalone, bins)
        return self.bounded(key, "meeting_map_html", method, filters, user, standalone, bins)

    def meeting_map_html(
        self, method: str, filters: Filters, user: User, standalone: bool, bins: tuple | None
    ) -> str:
        """Build :meth:`meeting_map` (uncached; run by :meth:`bounded`)."""
        return reports.meeting_map_html(
            self.meeting_inputs(user),
            self.pack,
            method,
            filters,
            bins=list(bins) if bins else None,
            tiles=self.settings.tiles,
            standalone=standalone,
        )

    def meeting_difference_map(
        self, before: Filters, after: Filters, user: User, standalone: bool = False
    ) -> str:
        """HTML of the meeting's difference map: tested change per LSOA.

        :func:`geo_ssgp.reports.meeting_difference` on the caller's records; for
        non-analysts small counts are suppressed as in the change table.
        """
        key = ("difference-map", before.key(), after.key(), _access(user), standalone)
        return self.bounded(key, "difference_map_html", before, after, user, standalone)

    def difference_map_html(
        self, before: Filters, after: Filters, user: User, standalone: bool = False
    ) -> str:
        """Build :meth:`meeting_difference_map` (uncached; run by :meth:`bounded`)."""
        change = reports.meeting_difference(self.meeting_inputs(user), self.pack, before, after)
        shown = self._suppress_change_frame(change, user)
        return reports.difference_map_html(
            shown, self.pack, tiles=self.settings.tiles, standalone=standalone
        )

    # places and selections -----------------------------------------------------------------

    def wards(self) -> pd.DataFrame:
        """Wards (``code``, ``name``) sorted by name."""
        wards = load_layer(self.pack, "ward")
        return wards[["code", "name"]].sort_values("name", ignore_index=True)

    def search(self, query: str) -> list[dict]:
        """Offline place search (:func:`geo_ssgp.gazetteer.search_places`) in the pack."""
        return gazetteer.search_places(self.pack, query)

    def search_focus(self, ref: str) -> dict:
        """A search result as a GeoJSON Feature (:func:`geo_ssgp.gazetteer.resolve_focus`)."""
        return gazetteer.resolve_focus(self.pack, ref).feature()

    def area_focus(self, place: focus.Place, ref: str) -> dict:
        """A search result on a PCSO page (:func:`geo_ssgp.reports.area_focus`)."""
        return reports.area_focus(self.pack, place, ref)

    def place(self, key: str) -> focus.Place:
        """A ward or LSOA by code or name (:func:`geo_ssgp.focus.find_place`)."""
        return focus.find_place(self.pack, key)

    def health(self, user: User | None) -> dict:
        """Service health: pack and public coverage; the dataset count for analysts only.

        ``incidents`` and ``months`` count public records whoever asks, so the answer never
        discloses restricted (local) records; how many uploads are stored is an analyst's
        business (``None`` for anyone else).
        """
        analyst = user is not None and user.is_analyst
        return self._cached(("health", analyst), lambda: self._health(analyst))

    def _health(self, analyst: bool) -> dict:
        public = User("viewer")
        months = self.months(public) or [None]
        return {
            "status": "ok",
            "pack": self.pack.name,
            "datasets": len(self.version()) if analyst else None,
            "incidents": int(len(self.filtered(Filters.of(), public))),
            "months": {"first": months[0], "last": months[-1]},
        }

    def meta(self, role: str) -> dict:
        """Choices for the page controls (months, types, wards, methods, weights, role)."""
        return {
            "role": role,
            "months": self.months(None if role == "analyst" else User(role)),
            "crime_types": CRIME_TYPES,
            "crime_groups": CRIME_GROUPS,
            "wards": self.wards().to_dict("records"),
            "localities": focus.localities(self.pack),
            "methods": {k: m.title for k, m in hotspots.METHODS.items()},
            "default_method": hotspots.DEFAULT_METHOD,
            "weights": focus.DEFAULT_WEIGHTS,
            "components": focus.COMPONENTS,
            "suppress_below": self.settings.suppress_below,
            "subcategories": self.subcategories(role),
        }

    def subcategories(self, role: str) -> dict[str, int]:
        """A local log's own categories and their counts; empty unless ``role`` is analyst.

        Only local (restricted) records carry a subcategory, so other roles get none
        (:func:`geo_ssgp.api.privacy.visible_filters` refuses the filter for them too).
        """
        if role != "analyst":
            return {}
        return self._cached(("subcategories",), lambda: subcategory_counts(self.incidents()))

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
        BadInput
            For an invalid or unknown selection, or a hotspot rank the layer does not have.
        """
        spec = {k: v for k, v in spec.items() if v not in (None, [], "")}
        if "hotspot" in spec:
            ref = spec.pop("hotspot")
            method = resolve_method(ref.get("method"))
            layer = self.hotspots_for(method, filters, user)
            hit = layer.hotspots[layer.hotspots["rank"] == int(ref.get("rank", 0))]
            if hit.empty:
                raise BadInput(
                    f"no hotspot of rank {ref.get('rank')} for method {method}", param="hotspot"
                )
            spec["hotspot"] = hit.iloc[0]
        return focus.selection_from(self.pack, **spec)

    def summary(self, selection: focus.Selection, filters: Filters, user: User) -> dict:
        """A focus summary (:func:`geo_ssgp.focus.summarise`) with the caller's access rules.

        Non-analysts get it from public records with small counts suppressed.
        """
        filters = self.visible(filters, user)
        key = (selection.kind, selection.geometry.wkb, tuple(selection.lsoa_codes), filters.key())

        def summarise() -> dict:
            return focus.summarise(
                self.filtered(filters),
                self.pack,
                selection,
                start=filters.start,
                end=filters.end,
                crime_types=list(filters.crime_types) or None,
            )

        result = {**self._cached(("summary", *key), summarise)}
        result["filters"] = filters.as_dict()
        result["night"] = self.night_scope(filters, user)
        if user.is_analyst:
            return result
        return suppress_summary(result, self.settings.suppress_below)

    def area_view(self, place: focus.Place, user: User) -> dict:
        """The PCSO view of a place: summary of the recent months and the hotspots touching it."""
        filters = self.recent_filters(user=user)
        if place.kind == "ward":
            sel = focus.selection_from(self.pack, ward=place.code)
        else:
            sel = focus.selection_from(self.pack, lsoa_codes=[place.code])
        layer = self.optional_layer(hotspots.DEFAULT_METHOD, filters, user)
        summary = self.summary(sel, filters, user)
        streets, places = reports.streets_and_places(summary["top_streets"], self.pack)
        n = self.settings.recent_months
        visible = self.filtered(Filters(), user)
        change = reports.area_change(visible, place.geometry, self.months(), n)
        if change and not user.is_analyst:
            small = [k for k in ("before", "after") if 0 < change[k] < self.settings.suppress_below]
            change.update({k: None for k in small})
        return {
            "summary": summary,
            "hotspots": [] if layer is None else reports.area_hotspots(layer, place.geometry),
            "months": n,
            "streets": streets,
            "places": places,
            "ward_name": self.ward_name(place),
            "change": change,
        }

    def ward_name(self, place: focus.Place) -> str:
        """The ward a place is (a ward) or lies in (an LSOA, by its LSOA-to-ward lookup)."""
        if place.kind == "ward":
            return place.name
        wards = lsoa_wards(self.pack, self.pack.primary_lsoa)["ward_nm"]
        return str(wards.get(place.code, ""))

    def trend(self, spec: dict, filters: Filters, user: User) -> dict:
        """Monthly trend of a place (:func:`geo_ssgp.reports.selection_trend`) for the caller.

        Parameters
        ----------
        spec : dict
            At most one of ``ward``, ``lsoa_codes``, ``hotspot`` (``method``, ``rank``) or
            ``focus_area`` (an id); empty for the district.
        filters : Filters
        user : User
            Non-analysts get public records, monthly counts below the threshold as ``None``
            and no chart when a month is suppressed (the test result is kept).

        Raises
        ------
        NotFound
            For an unknown focus area, ward or LSOA.
        """
        filters = self.visible(filters, user)
        if "focus_area" in spec:
            selection = self.focus_selection(self.store.get_focus_area(int(spec["focus_area"])))
        else:
            selection = self.selection(spec, filters, user) if spec else None
        where = () if selection is None else (selection.geometry.wkb, *selection.lsoa_codes)
        result = dict(
            self._cached(
                ("trend", where, filters.key()),
                lambda: reports.selection_trend(
                    self.filtered(filters), self.pack, selection, filters
                ),
            )
        )
        if not user.is_analyst:
            hidden = small(pd.Series(result["counts"]), self.settings.suppress_below)
            if hidden.any():
                counts = zip(hidden, result["counts"], strict=True)
                result["counts"] = [None if h else c for h, c in counts]
                result["chart"] = None
        return result

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
        return Filters.of(
            f.get("from"),
            f.get("to"),
            f.get("crime_types"),
            f.get("sources"),
            night=f.get("night", False),
            subcategories=f.get("subcategories"),
        )

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
            With ``ward`` and ``place`` names (:func:`geo_ssgp.focus.with_places`).
        """
        filters = self.visible(filters, user)

        def compute() -> pd.DataFrame:
            inc = self.filtered(filters)
            stats = self.area_stats(None, filters)
            if unit == "lsoa":
                cands = stats
                trend = focus.period_change(inc, cands, key=f"{self.pack.primary_lsoa}cd")
            else:
                cands = focus.hotspot_context(self.hotspots(method, filters).hotspots, stats)
                trend = focus.period_change(inc, cands)
            table = focus.rank_candidates(focus.with_places(cands, self.pack), trend, weights)
            if not user.is_analyst:
                table = suppress_frame(
                    table, "count", self.settings.suppress_below, keep=CANDIDATE_KEEP
                )
            return table

        key = (
            unit,
            method if unit == "hotspot" else None,
            filters.key(),
            tuple(sorted(weights.items())),
            user.is_analyst,
        )
        return self._cached(("candidates", *key), compute)

    # meeting -------------------------------------------------------------------------------

    def meeting_inputs(self, user: User) -> reports.MeetingInputs:
        """Cached layers, incidents, rates and LSOA statistics for the meeting pack."""
        return reports.MeetingInputs(
            layer=lambda method, f: self.hotspots_for(method, f, user),
            incidents=lambda f: self.filtered(f, user),
            rates=lambda f: self.district_rates(f, user),
            area_stats=lambda f: self.area_stats_for(None, f, user),
            months=self.months(user),
        )

    def meeting(
        self,
        method: str,
        periods: dict[str, str | None],
        crime_types: tuple[str, ...],
        user: User,
    ) -> dict:
        """The meeting comparison (:func:`geo_ssgp.reports.meeting_context`) as the caller sees it.

        Parameters
        ----------
        method : str
            Resolved method name.
        periods : dict
            ``a_from``, ``a_to``, ``b_from``, ``b_to`` (``None`` for the defaults of
            :func:`geo_ssgp.reports.meeting_periods`).
        crime_types : tuple of str
        user : User

        Returns
        -------
        dict
            The context with ``change`` as records (small counts suppressed for non-analysts).
        """
        (a0, a1), (b0, b1) = reports.meeting_periods(
            self.months(user), **periods, n=self.settings.recent_months
        )
        before, after = Filters.of(a0, a1, crime_types), Filters.of(b0, b1, crime_types)

        def compute() -> dict:
            context = reports.meeting_context(
                self.meeting_inputs(user), method, before, after, top=self.settings.meeting_top
            )
            context["change"] = self._suppress_change(context["change"], user)
            return context

        return self._cached(("meeting", method, before.key(), after.key(), _access(user)), compute)

    def _suppress_change(self, table: pd.DataFrame, user: User) -> list[dict]:
        """The change table as records; small counts suppressed for non-analysts."""
        return json_safe(self._suppress_change_frame(table, user).to_dict("records"))

    def _suppress_change_frame(self, table: pd.DataFrame, user: User) -> pd.DataFrame:
        """A change table with small counts suppressed for non-analysts."""
        if not user.is_analyst:
            thr = self.settings.suppress_below
            for col in ("before", "after"):
                linked = ("change", "change_pct", "rate_ratio", "p_change", f"{col}_per_month")
                table = suppress_frame(table, col, thr, linked)
                table = table.rename(columns={"suppressed": f"{col}_suppressed"})
        return table

    def district_rates(self, filters: Filters, user: User | None = None) -> dict:
        """District and county rates per 1,000, police.uk records on both sides.

        See :func:`geo_ssgp.reports.district_county_summary` (police.uk records only, so
        restricted local records never enter it, whoever asks).
        """
        return self._cached(
            ("district", filters.start, filters.end),
            lambda: json_safe(
                reports.district_county_summary(
                    self.all_incidents(), self.pack, start=filters.start, end=filters.end
                )
            ),
        )

    # ingest --------------------------------------------------------------------------------

    def datasets(self) -> list[dict]:
        """The store's catalogue as records (:class:`geo_ssgp.api.schemas.DatasetOut`)."""
        cols = [
            "id", "name", "source", "n_in", "n_accepted", "n_quarantined", "ingested_at", "public",
        ]  # fmt: skip
        return json_safe(self.store.datasets()[cols].to_dict("records"))

    def remove_dataset(self, dataset_id: int) -> dict:
        """Remove a dataset from the store (atomically) and forget every cached layer."""
        try:
            return self.store.remove_dataset(dataset_id)
        finally:
            self.invalidate()

    def rejected_rows(self, name: str) -> pd.DataFrame:
        """Rejected rows of a stored file (:func:`geo_ssgp.reports.rejected_rows`).

        Raises
        ------
        NotFound
            When no stored file has that name.
        """
        if name not in set(self.store.datasets()["name"]):
            raise NotFound(f"no uploaded file named {name!r}")
        return reports.rejected_rows(self.store.quarantine(), name)

    def ingest_upload(
        self, name: str, data: bytes, columns: dict | None = None, public: bool = False
    ) -> dict:
        """Ingest an uploaded local incident log through the pipeline, atomically.

        Parameters
        ----------
        name : str
            File name (already sanitised); becomes the dataset name.
        data : bytes
        columns : dict, optional
            Column mapping for the local log.
        public : bool, default False
            The uploader marks the log public (every role sees it); restricted otherwise.

        Returns
        -------
        dict
            :func:`geo_ssgp.pipeline.ingest_files` summary.

        Raises
        ------
        geo_ssgp.errors.IngestError
            The file cannot be read; nothing is stored.
        """
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / name
            path.write_bytes(data)
            try:
                result = pipeline.ingest_files(
                    self.store, self.pack, [path], source="local", columns=columns, public=public
                )
            finally:
                self.invalidate()
        return result
