"""Products shared by the web pages, the CLI and the notebook: meeting pack and PCSO area view.

This stage owns how the analysis is put in front of people: which two periods a meeting
compares by default (:func:`meeting_periods`), the table of top hotspots with their tested
change (:func:`meeting_change`, on :func:`geo_ssgp.hotspots.change.compare_periods`), the
hotspots a PCSO sees for a ward (:func:`area_hotspots`), a search result shown on a PCSO
page (:func:`area_focus`), and the self-contained meeting report (:func:`meeting_report`,
rendered from the same Jinja2 template the app serves).
The web layer adds only caching and the access policy; ``geo-ssgp meeting`` and the notebook
call these functions directly.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import jinja2
import mapclassify
import numpy as np
import pandas as pd

from geo_ssgp import areas, focus, gazetteer, maps
from geo_ssgp.config import ATTRIBUTION, Settings
from geo_ssgp.errors import AssetError, NotEnoughData
from geo_ssgp.filters import Filters, night_scope, night_time_mask, night_window
from geo_ssgp.geocode import inside_area
from geo_ssgp.hotspots import HotspotLayer, run_method
from geo_ssgp.hotspots.change import (
    INCREASE,
    NO_CHANGE,
    change_test,
    compare_periods,
    pack_change,
    period_months,
    period_note,
)
from geo_ssgp.hotspots.emerging import pack_emerging
from geo_ssgp.hotspots.layer import json_safe
from geo_ssgp.hotspots.trends import (
    KNIFE_NOTE,
    KNIFE_PROXY,
    day_hour_table,
    monthly_series,
    place_trend,
)
from geo_ssgp.pack import AreaPack, has_streets, load_layer, load_streets
from geo_ssgp.schema import CRIME_GROUPS

#: Attribution lines shown in every page footer and report.
PAGE_ATTRIBUTION = [ATTRIBUTION[k] for k in ("ons", "police", "imd")]

#: Columns of the meeting change table.
CHANGE_COLUMNS = [
    "rank",
    "label",
    "before",
    "after",
    "change",
    "change_pct",
    "before_per_month",
    "after_per_month",
    "p_change",
    "p_adjusted",
    "change_class",
    "new",
    "single_snap_point",
]


def hotspot_layer(
    method: str, incidents: gpd.GeoDataFrame, pack: AreaPack, filters: Filters, **params
) -> HotspotLayer:
    """A hotspot layer of ``method`` for the incidents these filters select (app and CLI).

    A local log's own categories and the night-time window select the incidents first
    (:meth:`Filters.apply`; ``run_method`` has no such options), the rest goes to the method
    with ``params`` (e.g. ``cell_size``, ``bandwidth``, ``coverage``).
    """
    if filters.subcategories or filters.night:
        chosen = Filters(subcategories=filters.subcategories, night=filters.night)
        incidents = chosen.apply(incidents)
    return run_method(
        method,
        incidents,
        pack,
        start=filters.start,
        end=filters.end,
        crime_types=list(filters.crime_types) or None,
        sources=list(filters.sources) or None,
        restricted=filters.restricted,
        **params,
    )


def data_months(incidents: pd.DataFrame) -> list[str]:
    """Months with incidents, ``YYYY-MM``, ascending."""
    if incidents.empty:
        return []
    return sorted(pd.to_datetime(incidents["month"]).dt.strftime("%Y-%m").unique())


def recent_period(months: list[str], n: int) -> tuple[str | None, str | None]:
    """First and last month of the latest ``n`` months with data (``None`` when none)."""
    return (months[-n], months[-1]) if months else (None, None)


def meeting_periods(
    months: list[str],
    a_from: str | None = None,
    a_to: str | None = None,
    b_from: str | None = None,
    b_to: str | None = None,
    n: int = 3,
) -> tuple[tuple[str | None, str | None], tuple[str | None, str | None]]:
    """The two periods a meeting compares; by default the last ``n`` months and the ``n`` before.

    Parameters
    ----------
    months : list of str
        Months with data, ascending.
    a_from, a_to, b_from, b_to : str, optional
        Earlier (A) and later (B) period; a period given in full is kept as it is.
    n : int
        Months per default period.

    Returns
    -------
    ((str, str), (str, str))
        ``(a_from, a_to), (b_from, b_to)``. With fewer than ``n`` earlier months, A is what
        there is; with none, A equals B.
    """
    if not (b_from and b_to):
        b_from, b_to = recent_period(months, n)
    if not (a_from and a_to):
        earlier = [m for m in months if b_from and m < b_from]
        a_from, a_to = (earlier[-n], earlier[-1]) if earlier else (b_from, b_to)
        if len(earlier) < n and earlier:
            a_from = earlier[0]
    return (a_from, a_to), (b_from, b_to)


def meeting_change(
    before: HotspotLayer,
    after: HotspotLayer,
    incidents_before: gpd.GeoDataFrame,
    incidents_after: gpd.GeoDataFrame,
    top: int = 10,
) -> pd.DataFrame:
    """The later period's top hotspots with their incidents in both periods and the change.

    One rule for change: :func:`~geo_ssgp.hotspots.change.compare_periods` (a later hotspot
    is ``new`` when it overlaps no hotspot of the earlier period; the change in counts inside
    its polygon is tested per month with the exact two-Poisson test, ``p_change``).

    Parameters
    ----------
    before, after : HotspotLayer
        Layers of the earlier and later period (same method and settings).
    incidents_before, incidents_after : geopandas.GeoDataFrame
        The incidents of each period (same filters as the layers).
    top : int
        Hotspots of the later period listed, by rank.

    Returns
    -------
    pandas.DataFrame
        :data:`CHANGE_COLUMNS`, one row per listed hotspot.
    """
    later = after.hotspots
    if later.empty:
        return pd.DataFrame(columns=CHANGE_COLUMNS)
    table = compare_periods(before, after, incidents_before, incidents_after)
    table = table[table["status"] != "gone"].sort_values("rank").head(top)
    snap = later.set_index("rank")["single_snap_point"] if "single_snap_point" in later else None
    ranks = table["rank"].astype(int).to_numpy()
    before_months = period_months(before.parameters) or 1
    after_months = period_months(after.parameters) or 1
    return pd.DataFrame(
        {
            "rank": ranks,
            "label": table["label"].astype(str).to_numpy(),
            "before": table["n_before"].astype(int).to_numpy(),
            "after": table["n_after"].astype(int).to_numpy(),
            "change": table["change"].astype(int).to_numpy(),
            "change_pct": table["change_pct"].to_numpy(dtype=float),
            "before_per_month": table["n_before"].to_numpy(dtype=float) / before_months,
            "after_per_month": table["n_after"].to_numpy(dtype=float) / after_months,
            "p_change": table["p_change"].to_numpy(dtype=float),
            "p_adjusted": table["p_adjusted"].to_numpy(dtype=float),
            "change_class": table["change_class"].astype(str).to_numpy(),
            "new": (table["status"] == "new").to_numpy(),
            "single_snap_point": (
                snap.reindex(ranks).fillna(False).astype(bool).to_numpy()
                if snap is not None
                else np.zeros(len(ranks), dtype=bool)
            ),
        }
    )


#: Share of a hotspot's area that must lie inside a place for the hotspot to be the place's.
INSIDE_SHARE = 0.5


def area_hotspots(layer: HotspotLayer, geometry: Any, top: int = 8) -> list[dict]:
    """Hotspots of a place (a PCSO's ward or LSOA), strongest first, numbered as on its map.

    Parameters
    ----------
    layer : HotspotLayer
    geometry : shapely geometry
        The place's outline, EPSG:27700.
    top : int
        At most this many.

    Returns
    -------
    list of dict
        ``number`` (1, 2, ... in rank order, the number drawn on the map of
        :func:`geo_ssgp.maps.build_area_map`), ``rank`` (in the district), ``label``,
        ``n_incidents``, ``single_snap_point`` (JSON-ready).
    """
    spots = place_content(geometry, layer, None)[0].hotspots.sort_values("rank").head(top)
    if spots.empty:
        return []
    columns = ["rank", "label", "n_incidents", "single_snap_point"]
    rows = json_safe(spots[columns].to_dict("records"))
    return [{"number": i, **row} for i, row in enumerate(rows, start=1)]


def area_change(incidents: gpd.GeoDataFrame, geometry: Any, months: list[str], n: int = 3) -> dict:
    """A PCSO's change: the last ``n`` months against the ``n`` before, tested, in plain words.

    Parameters
    ----------
    incidents : geopandas.GeoDataFrame
        Incidents (EPSG:27700) with ``month``.
    geometry : shapely geometry
        The place (ward or LSOA), EPSG:27700.
    months : list of str
        Months with data, ascending.
    n : int
        Months in each period.

    Returns
    -------
    dict
        ``before``, ``after`` (counts), ``before_period``, ``after_period`` (``from``, ``to``),
        ``p_value``, ``change_class`` (:func:`geo_ssgp.hotspots.change.change_test`, one
        place, no adjustment) and ``words``; empty without ``2 n`` months of data.
    """
    if len(months) < 2 * n:
        return {}
    series = monthly_series(incidents, months[-2 * n :], geometry)
    before, after = int(series.iloc[:n].sum()), int(series.iloc[n:].sum())
    row = change_test([before], [after], n, n).iloc[0]
    direction = "up" if after > before else "down" if after < before else "unchanged"
    if row["change_class"] == NO_CHANGE:
        verdict = "within normal variation"
    else:
        verdict = "a real rise" if row["change_class"] == INCREASE else "a real fall"
    p = row["p_value"]
    return {
        "before": before,
        "after": after,
        "before_period": {"from": months[-2 * n], "to": months[-n - 1]},
        "after_period": {"from": months[-n], "to": months[-1]},
        "p_value": None if pd.isna(p) else float(p),
        "change_class": row["change_class"],
        "words": f"{direction} on the {n} months before: {verdict}"
        + ("" if pd.isna(p) else f" (exact test, p = {p:.2g})"),
    }


def area_focus(pack: AreaPack, place: focus.Place, ref: str) -> dict:
    """A search result shown on a PCSO page: its map feature and whether it is in the area.

    Parameters
    ----------
    pack : AreaPack
    place : geo_ssgp.focus.Place
        The ward or LSOA of the page.
    ref : str
        The result's ``<kind>:<id>`` (:func:`geo_ssgp.gazetteer.resolve_focus`).

    Returns
    -------
    dict
        ``found`` (:class:`~geo_ssgp.gazetteer.PlaceFocus`), ``feature`` (its GeoJSON
        Feature, WGS84, for the map) and ``elsewhere``: True when no part of it lies in
        the page's area (a street is in the area when any of its lines touches it).

    Raises
    ------
    BadInput, NotFound
        For a malformed or unknown reference.
    """
    found = gazetteer.resolve_focus(pack, ref)
    return {
        "found": found,
        "feature": found.feature(),
        "elsewhere": not found.lies_in(place.geometry),
    }


def place_content(
    geometry: Any, layer: HotspotLayer | None, incidents: gpd.GeoDataFrame | None
) -> tuple[HotspotLayer | None, gpd.GeoDataFrame | None]:
    """The hotspots of a place and the incidents inside it (or on its edge).

    A hotspot belongs to the place when at least :data:`INSIDE_SHARE` of its area lies inside
    (a point or line hotspot: when it touches the place), so a grid cell that only grazes
    the boundary stays with the neighbouring ward.

    Parameters
    ----------
    geometry : shapely geometry
        The place (a PCSO's ward or LSOA), EPSG:27700.
    layer : HotspotLayer, optional
    incidents : geopandas.GeoDataFrame, optional

    Returns
    -------
    (HotspotLayer or None, GeoDataFrame or None)
        The layer with only the place's hotspots (same method and parameters), and the
        incidents intersecting it.
    """
    if layer is not None:
        spots = layer.hotspots
        area = spots.geometry.area
        inside = spots.geometry.intersection(geometry).area
        mine = np.where(area > 0, inside >= INSIDE_SHARE * area, spots.intersects(geometry))
        layer = HotspotLayer(layer.method, spots[mine], layer.parameters)
    if incidents is not None:
        incidents = incidents[incidents.intersects(geometry)]
    return layer, incidents


#: Last words that make a police.uk location a street even when OpenStreetMap lacks its name.
STREET_WORDS = frozenset(
    "road street lane way avenue close drive crescent place square terrace walk hill row "
    "parade grove gardens court mews green rise vale view park".split()
)


@lru_cache(maxsize=4)
def street_names(pack: AreaPack) -> frozenset[str]:
    """The pack's street names (OpenStreetMap ``[streets]``), lower case; empty without any."""
    if not has_streets(pack):
        return frozenset()
    return frozenset(load_streets(pack)["name"].dropna().str.lower())


def streets_and_places(rows: list[dict], pack: AreaPack) -> tuple[list[dict], list[dict]]:
    """Split a summary's ``top_streets`` into streets and places (place-type locations).

    police.uk names locations "On or near <street>" or, for some snap points, "On or near
    <place type>" ("Supermarket", "Parking Area", "Hospital"). A location is a street when
    the pack's street layer has its name or its last word is a street word
    (:data:`STREET_WORDS`); anything else is a place.

    Parameters
    ----------
    rows : list of dict
        ``street`` and ``incidents`` (e.g. ``summary["top_streets"]``).
    pack : AreaPack

    Returns
    -------
    (list of dict, list of dict)
        Streets and places, each in the given order.
    """
    known = street_names(pack)

    def is_street(name: str) -> bool:
        words = name.lower().split()
        return name.lower() in known or bool(words and words[-1] in STREET_WORDS)

    streets = [r for r in rows if is_street(str(r["street"]))]
    places = [r for r in rows if not is_street(str(r["street"]))]
    return streets, places


#: What district-against-county comparisons count (the same sources on both sides).
COMPARISON_NOTE = (
    "District and county both count police.uk records only: local logs cover the district "
    "alone, so adding them would inflate the district against the county."
)


def district_county_summary(incidents: pd.DataFrame, pack: AreaPack, start=None, end=None) -> dict:
    """District against county rates from police.uk records only (:data:`COMPARISON_NOTE`).

    Parameters
    ----------
    incidents : pandas.DataFrame
        Geocoded incidents inside and outside the area, any sources.
    pack : AreaPack
    start, end : str, optional
        Period, ``YYYY-MM``.

    Returns
    -------
    dict
        :func:`geo_ssgp.areas.district_summary` of the police.uk rows, its ``notes`` ending
        with :data:`COMPARISON_NOTE`.
    """
    police = incidents[incidents["source"] != "local"] if "source" in incidents else incidents
    summary = areas.district_summary(police, pack, start=start, end=end)
    return {**summary, "notes": [*summary.get("notes", []), COMPARISON_NOTE]}


#: Cell prefixes a spreadsheet would run as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: Any) -> Any:
    """Text that a spreadsheet shows as text: a leading ``= + - @`` gets an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def rejected_rows(quarantine: pd.DataFrame, file_name: str) -> pd.DataFrame:
    """The rows of one file that were not stored, with row numbers and reasons, CSV-safe.

    Parameters
    ----------
    quarantine : pandas.DataFrame
        A store's quarantine table (:data:`geo_ssgp.schema.QUARANTINE_COLUMNS`).
    file_name : str

    Returns
    -------
    pandas.DataFrame
        ``row`` (1 = the first row under the header, as a spreadsheet shows it less one),
        ``reason``, ``detail`` and the row's original columns, in file order; every text
        cell starting with ``= + - @`` has a leading apostrophe.
    """
    rows = quarantine[quarantine["source_file"] == file_name].sort_values("source_row")
    original = pd.DataFrame(
        [json.loads(text) if text else {} for text in rows["original"]], index=rows.index
    )
    out = pd.concat(
        [
            pd.DataFrame(
                {
                    "row": rows["source_row"].astype(int) + 1,
                    "reason": rows["reason"],
                    "detail": rows["detail"],
                },
                index=rows.index,
            ),
            original,
        ],
        axis=1,
    )
    return out.map(csv_safe).reset_index(drop=True)


def crime_group(crime_types: tuple[str, ...] | list[str]) -> str:
    """The group (``asb``, ``violence``, ``crime``) whose types these are exactly, or ``""``."""
    wanted = sorted(crime_types)
    return next((g for g, types in CRIME_GROUPS.items() if sorted(types) == wanted), "")


@dataclass
class MeetingInputs:
    """How a meeting pack gets its layers, incidents and rates (the app passes cached ones).

    Attributes
    ----------
    layer : callable
        ``layer(method, filters) -> HotspotLayer`` (may raise ``NotEnoughData``).
    incidents : callable
        ``incidents(filters) -> GeoDataFrame`` of the filtered incidents.
    rates : callable
        ``rates(filters) -> dict``: :func:`geo_ssgp.areas.district_summary` for the period.
    area_stats : callable
        ``area_stats(filters) -> GeoDataFrame`` of LSOA statistics.
    months : list of str
        Months with data.
    emerging : callable, optional
        ``emerging(filters) -> dict`` of emerging hotspot category counts and warnings;
        the pack omits the section without it.
    """

    layer: Callable[[str, Filters], HotspotLayer]
    incidents: Callable[[Filters], gpd.GeoDataFrame]
    rates: Callable[[Filters], dict]
    area_stats: Callable[[Filters], gpd.GeoDataFrame]
    months: list[str] = field(default_factory=list)
    emerging: Callable[[Filters], dict] | None = None


def direct_inputs(
    incidents: gpd.GeoDataFrame, pack: AreaPack, all_incidents: gpd.GeoDataFrame | None = None
) -> MeetingInputs:
    """Meeting inputs computed directly from an incidents table (CLI and notebook).

    Parameters
    ----------
    incidents : geopandas.GeoDataFrame
        Geocoded incidents (rows with ``status != "ok"`` are left out of layers and stats).
    pack : AreaPack
    all_incidents : geopandas.GeoDataFrame, optional
        Incidents inside and outside the area (county rates); defaults to ``incidents``.
    """
    inside = inside_area(incidents)
    everything = incidents if all_incidents is None else all_incidents

    def rates(f: Filters) -> dict:
        return json_safe(district_county_summary(everything, pack, start=f.start, end=f.end))

    def stats(f: Filters) -> gpd.GeoDataFrame:
        return areas.area_stats_for(inside, pack, f)

    def emerging(f: Filters) -> dict:
        result = pack_emerging(inside, pack, f)
        cube = result.parameters["cube"]
        return {
            "counts": result.category_counts(),
            "warnings": result.warnings,
            "steps": cube["steps"],
            "cell_size_m": cube["cell_size_m"],
        }

    return MeetingInputs(
        layer=lambda method, f: hotspot_layer(method, inside, pack, f),
        incidents=lambda f: f.apply(inside),
        rates=rates,
        area_stats=stats,
        months=data_months(inside),
        emerging=emerging,
    )


def meeting_context(
    inputs: MeetingInputs,
    method: str,
    before: Filters,
    after: Filters,
    top: int = 10,
) -> dict:
    """Everything the meeting page and report show, except the maps.

    Parameters
    ----------
    inputs : MeetingInputs
    method : str
        Resolved hotspot method name.
    before, after : Filters
        The two periods (same crime types).
    top : int
        Hotspots in the change table.

    Returns
    -------
    dict
        ``method``, ``crime_types``, ``group``, ``before``, ``after``, ``months``, ``change``
        (records of :func:`meeting_change`, empty when the method cannot run), ``rates``,
        ``period_note`` (equal periods, or compared per month), ``trends`` (series with a
        Mann-Kendall test and chart geometry: the chosen crime types and the knife-crime
        proxy over every month with data), ``knife_note``, ``emerging`` (category
        counts over every month, or ``None``) and ``bins`` (:func:`meeting_bins`, the class
        breaks both period maps share).
    """
    try:
        change = meeting_change(
            inputs.layer(method, before),
            inputs.layer(method, after),
            inputs.incidents(before),
            inputs.incidents(after),
            top=top,
        )
    except NotEnoughData:
        change = pd.DataFrame(columns=CHANGE_COLUMNS)
    every_month = after.replace(start=None, end=None)
    return {
        "method": method,
        "crime_types": list(after.crime_types),
        "group": crime_group(after.crime_types),
        "before": before,
        "after": after,
        "months": inputs.months,
        "change": change,
        "rates": [inputs.rates(before), inputs.rates(after)],
        "period_note": _period_note(before, after),
        "trends": meeting_trends(inputs, every_month),
        "knife_note": KNIFE_NOTE,
        "emerging": inputs.emerging(every_month) if inputs.emerging else None,
        "bins": meeting_bins(inputs, before, after),
    }


def _period_note(before: Filters, after: Filters) -> str:
    """Equal periods, or the note that unequal ones are compared per month."""
    lengths = [period_months({"period": {"from": f.start, "to": f.end}}) for f in (before, after)]
    return period_note(*lengths) if None not in lengths else ""


def meeting_trends(inputs: MeetingInputs, filters: Filters) -> list[dict]:
    """District trend charts: the chosen crime types and the knife-crime proxy.

    Parameters
    ----------
    inputs : MeetingInputs
    filters : Filters
        Crime types (no period: every month with data).

    Returns
    -------
    list of dict
        :func:`geo_ssgp.hotspots.trends.place_trend` plus ``chart``
        (:func:`line_chart`) for each series.
    """
    what = ", ".join(filters.crime_types) if filters.crime_types else "all incidents"
    series = [
        place_trend(inputs.incidents(filters), inputs.months, f"District: {what}"),
        place_trend(
            inputs.incidents(filters.replace(crime_types=KNIFE_PROXY)),
            inputs.months,
            "District: knife-crime proxy",
        ),
    ]
    for item in series:
        item["chart"] = line_chart(item["months"], item["counts"])
    return series


def selection_trend(
    incidents: gpd.GeoDataFrame,
    pack: AreaPack,
    selection: focus.Selection | None,
    filters: Filters,
) -> dict:
    """Monthly counts inside a place with the Mann-Kendall test and Sen's slope.

    One function for the district, a ward, an LSOA, a focus area and a hotspot (CLI
    ``geo-ssgp trend``, ``/api/trends``, the PCSO page). An LSOA selection counts incidents
    geocoded to its LSOAs, any other selection the points inside its outline.

    Parameters
    ----------
    incidents : geopandas.GeoDataFrame
        Geocoded incidents (EPSG:27700); rows with ``status != "ok"`` are left out.
    pack : AreaPack
    selection : focus.Selection or None
        The place; ``None`` for the whole district.
    filters : Filters
        Crime types, sources, night-time window; ``start``/``end`` bound the months (default:
        every month with data).

    Returns
    -------
    dict
        :func:`geo_ssgp.hotspots.trends.place_trend` (``label``, ``months``, ``counts``,
        ``tau``, ``p_value``, ``slope_per_month``, ``trend``, ``words``, ...) plus ``kind``,
        ``crime_types``, ``knife_note`` (the proxy statement when the crime types are the
        knife-crime proxy, else ``None``) and ``chart`` (:func:`line_chart`).
    """
    inside = inside_area(incidents)
    chosen = filters.apply(inside)
    months = [
        m
        for m in data_months(filters.replace(start=None, end=None).apply(inside))
        if (filters.start or m) <= m <= (filters.end or m)
    ]
    place, kind, label = None, "district", pack.title
    if selection is not None:
        kind, label = selection.kind, selection.label
        if selection.match == "codes":
            chosen = chosen[chosen[f"{pack.primary_lsoa}cd"].isin(selection.lsoa_codes)]
        else:
            place = selection.geometry
    what = ", ".join(filters.crime_types) if filters.crime_types else "all incidents"
    item = place_trend(chosen, months, f"{label}: {what}", place)
    knife = bool(filters.crime_types) and set(filters.crime_types) == set(KNIFE_PROXY)
    item.update(
        kind=kind,
        crime_types=list(filters.crime_types),
        knife_note=KNIFE_NOTE if knife else None,
        chart=line_chart(item["months"], item["counts"]),
    )
    return item


def line_chart(months: list[str], counts: list[int], width: int = 640, height: int = 220) -> dict:
    """Geometry of a labelled line chart (drawn as SVG by the ``_trend_chart.html`` template).

    Parameters
    ----------
    months : list of str
        x values (``YYYY-MM``).
    counts : list of int
        y values (incidents per month).
    width, height : int
        SVG size in pixels (axes inside a fixed margin).

    Returns
    -------
    dict
        ``width``, ``height``, ``left``, ``bottom``, ``points`` (``"x,y x,y ..."``),
        ``dots`` (x, y, month, count), ``x_ticks`` and ``y_ticks`` (position, label).
    """
    left, right, top, bottom = 56, 12, 12, height - 40
    top_value = max(max(counts, default=0), 1)
    step = _nice_step(top_value / 4)
    y_max = step * int(np.ceil(top_value / step))
    n = max(len(months) - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        x = left + (width - left - right) * i / n
        return round(x, 1), round(bottom - (bottom - top) * v / y_max, 1)

    dots = [(*xy(i, v), m, v) for i, (m, v) in enumerate(zip(months, counts, strict=True))]
    every = max(1, int(np.ceil(len(months) / 8)))
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": width - right,
        "bottom": bottom,
        "top": top,
        "points": " ".join(f"{x},{y}" for x, y, _, _ in dots),
        "dots": dots,
        "x_ticks": [(x, m) for i, (x, _, m, _) in enumerate(dots) if i % every == 0],
        "y_ticks": [(xy(0, v)[1], f"{v:,.0f}") for v in np.arange(0, y_max + step / 2, step)],
    }


def _night_hours() -> np.ndarray:
    """7 x 24 booleans: which day-of-week hours the settings' night-time window covers."""
    monday = pd.Timestamp("2025-06-02")  # a Monday; any week gives the same answer
    week = pd.DataFrame({"occurred_at": monday + pd.to_timedelta(np.arange(7 * 24), unit="h")})
    week["time_known"] = True
    return night_time_mask(week, *night_window()).reshape(7, 24)


def day_hour_chart(incidents: pd.DataFrame, cell: int = 22) -> dict:
    """Day-of-week x hour counts and the geometry of their heat grid (``_day_hour_chart.html``).

    Only records with a clock time (local logs) are counted; police.uk records carry the
    month only, and ``note`` says how many records had no time.

    Parameters
    ----------
    incidents : pandas.DataFrame
        With ``occurred_at`` and ``time_known`` (records without them count as untimed).
    cell : int
        Side of one hour cell in pixels.

    Returns
    -------
    dict
        ``days``, ``hours``, ``counts`` (7 lists of 24), ``timed``, ``without_time``,
        ``in_window`` and ``window`` (the night-time economy window of the settings),
        ``note``, and the SVG geometry: ``width``, ``height``, ``left``, ``top``, ``cell``
        and ``cells`` (x, y, day, hour, count, shade 0-5, in the night window).
    """
    table = day_hour_table(incidents)
    scope = night_scope(incidents)
    days, hours, in_window = list(table.index), list(table.columns), _night_hours()
    top_count = max(int(table.to_numpy().max(initial=0)), 1)
    left, top = 40, 22
    cells = [
        (left + h * cell, top + d * cell, days[d], h, int(table.iat[d, h]),
         int(np.ceil(5 * table.iat[d, h] / top_count)), bool(in_window[d, h]))
        for d in range(7)
        for h in hours
    ]
    return {
        "days": days,
        "hours": hours,
        "counts": table.to_numpy().tolist(),
        "timed": int(table.to_numpy().sum()),
        "without_time": scope["without_time"],
        "in_window": scope["in_window"],
        "window": scope["window"],
        "note": scope["note"],
        "width": left + 24 * cell + 4,
        "height": top + 7 * cell + 4,
        "left": left,
        "top": top,
        "cell": cell,
        "cells": cells,
    }


def _nice_step(raw: float) -> float:
    """1, 2 or 5 times a power of ten, at least ``raw``."""
    power = 10 ** np.floor(np.log10(max(raw, 1e-9)))
    return float(next(m * power for m in (1, 2, 5, 10) if m * power >= raw))


def meeting_bins(inputs: MeetingInputs, before: Filters, after: Filters, k: int = 5) -> list[float]:
    """Class breaks of the LSOA counts shared by both meeting maps.

    The one implementation of the meeting's breaks: quantiles (``mapclassify.Quantiles``)
    of the LSOA counts of both periods together, so a colour means the same count on both
    maps.

    Parameters
    ----------
    inputs : MeetingInputs
    before, after : Filters
        The two periods.
    k : int
        Number of classes (fewer when there are fewer distinct counts).

    Returns
    -------
    list of float
        Upper class bounds, increasing; the last is the largest count of either period.
    """
    counts = pd.concat([inputs.area_stats(f)["count"] for f in (before, after)])
    values = pd.to_numeric(counts, errors="coerce").dropna().to_numpy(dtype=float)
    if values.size == 0:
        return [0.0]
    k = max(1, min(k, len(np.unique(values))))
    if k == 1:
        return [float(values.max())]
    return [round(float(b), 2) for b in mapclassify.Quantiles(values, k=k).bins]


def meeting_map_html(
    inputs: MeetingInputs,
    pack: AreaPack,
    method: str,
    filters: Filters,
    *,
    bins: list[float] | None = None,
    tiles: str | None = None,
    standalone: bool = False,
) -> str:
    """One meeting period's map: the hotspot layer over LSOA counts and ward outlines.

    ``bins`` (from :func:`meeting_bins`) gives both periods' maps the same classes.
    """
    try:
        layer = inputs.layer(method, filters)
    except NotEnoughData:
        layer = None
    wards = load_layer(pack, "ward")
    stats = inputs.area_stats(filters)
    fmap = maps.build_meeting_map(
        pack, stats, layer, wards, method=method, tiles=tiles, bins=bins
    )
    return maps.render_standalone(fmap) if standalone else maps.render(fmap)


def meeting_difference(
    inputs: MeetingInputs, pack: AreaPack, before: Filters, after: Filters
) -> gpd.GeoDataFrame:
    """Tested change per LSOA between the meeting's periods (the difference map's data).

    :func:`geo_ssgp.hotspots.change.pack_change` with ``unit="lsoa"``: the exact test of the
    rate per month, BH-adjusted over the LSOAs (unequal periods are compared per month).
    """
    pooled = after.replace(start=None, end=None)
    return pack_change(inputs.incidents(pooled), pack, before, after, unit="lsoa")


def difference_map_html(
    change: gpd.GeoDataFrame,
    pack: AreaPack,
    *,
    tiles: str | None = None,
    standalone: bool = False,
) -> str:
    """The meeting's difference map (:func:`geo_ssgp.maps.build_difference_map`) as HTML."""
    fmap = maps.build_difference_map(pack, change, load_layer(pack, "ward"), tiles=tiles)
    return maps.render_standalone(fmap) if standalone else maps.render(fmap)


def meeting_maps(
    inputs: MeetingInputs,
    pack: AreaPack,
    method: str,
    before: Filters,
    after: Filters,
    *,
    tiles: str | None = None,
    standalone: bool = False,
) -> list[str]:
    """The meeting report's three maps: both periods on common classes, then the difference.

    Returns
    -------
    list of str
        HTML of the earlier and later period maps (classes from :func:`meeting_bins`) and
        of the difference map (:func:`meeting_difference`).
    """
    bins = meeting_bins(inputs, before, after)
    periods = [
        meeting_map_html(
            inputs, pack, method, f, bins=bins, tiles=tiles, standalone=standalone
        )
        for f in (before, after)
    ]
    change = meeting_difference(inputs, pack, before, after)
    return [*periods, difference_map_html(change, pack, tiles=tiles, standalone=standalone)]


def _templates(settings: Settings) -> jinja2.Environment:
    """The app's Jinja2 templates (autoescaped: text from data is escaped)."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(settings.templates_dir),
        autoescape=jinja2.select_autoescape(["html"]),
    )


def meeting_report(
    context: dict,
    maps_html: list[str],
    pack: AreaPack,
    settings: Settings,
    *,
    methods: dict[str, str],
    threshold: int | None = None,
    user: Any = None,
) -> str:
    """The meeting view as one self-contained HTML document (assets inlined) to circulate.

    Parameters
    ----------
    context : dict
        :func:`meeting_context` (with ``change`` as records).
    maps_html : list of str
        The standalone maps (:func:`meeting_maps`): both periods, then the difference map.
    pack : AreaPack
    settings : Settings
        Supplies the templates and the app stylesheet.
    methods : dict
        Method name -> title.
    threshold : int, optional
        Suppression threshold shown for suppressed counts.
    user : object, optional
        The viewer (shown in the page header when given).

    Returns
    -------
    str
        HTML.
    """
    template = _templates(settings).get_template("meeting_report.html")
    return template.render(
        **context,
        methods=methods,
        threshold=threshold or settings.suppress_below,
        user=user,
        pack=pack,
        attribution=PAGE_ATTRIBUTION,
        maps=maps_html,
        css=(settings.static_dir / "app" / "app.css").read_text(encoding="utf-8"),
        generated=dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        year=dt.date.today().year,
    )


def render_pdf(html: str, out: Path, settings: Settings, wait_ms: int = 8000) -> Path:
    """Print a self-contained report to PDF with headless Chromium (Leaflet maps drawn).

    Chromium's ``--virtual-time-budget`` lets the maps' scripts run before printing; the
    report has every asset inlined, so nothing is fetched.

    Parameters
    ----------
    html : str
        The report (:func:`meeting_report`).
    out : pathlib.Path
        PDF file to write.
    settings : Settings
        ``chromium``: the browser executable.
    wait_ms : int
        Virtual time the page gets to draw.

    Returns
    -------
    pathlib.Path
    """
    if not Path(settings.chromium).exists():
        raise AssetError(f"no Chromium at {settings.chromium}; set GEO_SSGP_CHROMIUM")
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "report.html"
        page.write_text(html, encoding="utf-8")
        command = [
            str(settings.chromium),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
            f"--virtual-time-budget={wait_ms}",
            f"--print-to-pdf={Path(out).resolve()}",
            page.as_uri(),
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=180)
    if done.returncode != 0 or not Path(out).exists():
        raise AssetError(f"Chromium could not print the report: {done.stderr.strip()[-300:]}")
    return Path(out)


def report_filename(pack: AreaPack, after: Filters) -> str:
    """File name of a meeting report: pack and later period."""
    return f"meeting-report-{pack.name}-{after.start or 'all'}_{after.end or 'all'}.html"


__all__ = [
    "CHANGE_COLUMNS",
    "day_hour_chart",
    "selection_trend",
    "line_chart",
    "meeting_trends",
    "MeetingInputs",
    "area_change",
    "area_hotspots",
    "crime_group",
    "data_months",
    "direct_inputs",
    "meeting_change",
    "meeting_context",
    "meeting_bins",
    "meeting_difference",
    "difference_map_html",
    "meeting_maps",
    "meeting_map_html",
    "meeting_periods",
    "meeting_report",
    "place_content",
    "hotspot_layer",
    "recent_period",
    "render_pdf",
    "report_filename",
]
