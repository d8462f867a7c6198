"""Space-time overlays: emerging hot/cold-spot categories and tested change between periods.

:func:`add_emerging_layer` draws the places of an emerging hotspot analysis
(:func:`geo_ssgp.hotspots.emerging.pack_emerging`) coloured by category, with a legend of the
categories present; :func:`add_change_layer` draws a tested change table
(:func:`geo_ssgp.hotspots.change.pack_change`) coloured by change class, significant places
only unless asked. Both draw what they are given: every statistic comes from ``hotspots/``.
Tooltips carry the figures an analyst decides on (category with its trend; counts before and
after with the adjusted p), popups the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import folium
import geopandas as gpd
import pandas as pd

from geo_ssgp.maps.codec import to_page_crs
from geo_ssgp.maps.elements import (
    VectorLayer,
    add_legend,
    add_vector,
    attribute,
    ensure_setup,
    inline_data,
    legend_spec,
)
from geo_ssgp.maps.format import as_float, int_text, num_text, text

#: Colours of the emerging categories (hot reds, cold blues), as ArcGIS's legend orders them.
EMERGING_COLOURS = {
    "new hot spot": "#fcae91",
    "consecutive hot spot": "#fb6a4a",
    "intensifying hot spot": "#a50f15",
    "persistent hot spot": "#de2d26",
    "diminishing hot spot": "#fc9272",
    "sporadic hot spot": "#e7298a",
    "oscillating hot spot": "#ae017e",
    "historical hot spot": "#7a0177",
    "emerging hot spot": "#fb6a4a",
    "former hot spot": "#7a0177",
    "intermittent hot spot": "#e7298a",
    "new cold spot": "#bdd7e7",
    "consecutive cold spot": "#6baed6",
    "intensifying cold spot": "#08519c",
    "persistent cold spot": "#3182bd",
    "diminishing cold spot": "#9ecae1",
    "sporadic cold spot": "#41b6c4",
    "oscillating cold spot": "#1d91c0",
    "historical cold spot": "#253494",
    "emerging cold spot": "#6baed6",
    "former cold spot": "#253494",
    "intermittent cold spot": "#41b6c4",
}
#: Colours of the change classes.
CHANGE_COLOURS = {
    "significant increase": "#d7301f",
    "significant decrease": "#2b8cbe",
    "no significant change": "#bdbdbd",
}

#: A shown field: column, alias, and how its values become escaped text.
Field = tuple[str, str, Callable[[pd.Series], pd.Series]]


def p_text(values: pd.Series) -> pd.Series:
    """p-values as escaped text with two significant digits (``0.0031``, ``< 0.0001``)."""
    nums = as_float(values)
    out = nums.map(lambda v: "–" if pd.isna(v) else "< 0.0001" if v < 1e-4 else f"{v:.2g}")
    return text(out)


def _category_layer(
    fmap: folium.Map,
    places: gpd.GeoDataFrame,
    column: str,
    colours: dict[str, str],
    fields: Sequence[Field],
    n_tooltip: int,
    names: tuple[str, str],
    notes: list[str],
    show: bool,
) -> VectorLayer:
    """Polygons coloured by a category column, with a swatch legend of the categories drawn.

    ``fields[:n_tooltip]`` make the tooltip, all ``fields`` the popup; ``names`` is the
    (layer control / legend title, layer id) pair.
    """
    ensure_setup(fmap)
    title, layer_id = names
    fields = [f for f in fields if f[0] in places]
    present = [c for c in colours if c in set(places[column])]
    classes = places[column].map({c: i for i, c in enumerate(present)}).to_numpy()
    props = pd.DataFrame({key: shown(places[key]) for key, _, shown in fields})
    data_js, keep = inline_data(to_page_crs(places.geometry), props)
    style = {"weight": 0.6, "color": "#555", "fillOpacity": 0.7}
    tips = fields[:n_tooltip]
    spec = {
        "styles": [{**style, "fillColor": colours[c]} for c in present],
        "classes": classes[keep].astype(int).tolist(),
        "tooltip": {
            "fields": [k for k, _, _ in tips],
            "aliases": [a for _, a, _ in tips],
            "options": {"sticky": True},
        },
        "popup": {"fields": [k for k, _, _ in fields], "aliases": [a for _, a, _ in fields]},
    }
    layer = add_vector(fmap, data_js, spec, title, layer_id, "hotspots", show=show)
    swatches = [(colours[c], c) for c in present]
    if not swatches:
        notes = ["nothing to draw for these filters", *notes]
    add_legend(fmap, layer, legend_spec(title, swatches, None, notes))
    attribute(fmap, "police")
    return layer


def _as_str(values: pd.Series) -> pd.Series:
    return text(values.astype(str))


def add_emerging_layer(
    fmap: folium.Map,
    locations: gpd.GeoDataFrame,
    parameters: dict,
    show: bool = True,
    layer_id: str = "emerging",
    warnings: Sequence[str] = (),
    name: str = "Emerging hotspots",
) -> VectorLayer:
    """Emerging hot/cold-spot categories (places with a pattern), with the category legend.

    Parameters
    ----------
    fmap : folium.Map
    locations : geopandas.GeoDataFrame
        :attr:`geo_ssgp.hotspots.emerging.EmergingHotspots.locations` (EPSG:27700).
    parameters : dict
        The result's parameters (scheme and cube are named in the legend).
    show : bool
    layer_id : str
    warnings : sequence of str
        The result's warnings (e.g. fewer than 10 time steps), shown in the legend.
    name : str
        Layer control name and legend title.

    Returns
    -------
    VectorLayer
        Places with ``"no pattern"`` are not drawn. Tooltips: category, place, trend tau
        and p; popups add the hot and cold steps and the incidents.
    """
    shown = locations[locations["category"] != "no pattern"]
    cube = parameters.get("cube", {})
    period = cube.get("period", {})
    notes = [
        *warnings,
        f"{len(shown):,} of {len(locations):,} places have a pattern "
        f"({parameters.get('scheme', 'arcgis')} categories)",
        f"{cube.get('steps', '?')} steps of a {cube.get('step', 'month')}, "
        f"{period.get('from', '')} to {period.get('to', '')}",
        "Gi* on space-time windows (BH-adjusted), Mann-Kendall trend of the z-scores",
    ]
    fields: list[Field] = [
        ("category", "Category", _as_str),
        ("label", "Place", _as_str),
        ("trend_tau", "Trend tau", lambda v: num_text(v, 2)),
        ("trend_p", "Trend p", p_text),
        ("n_hot", "Hot steps", int_text),
        ("n_cold", "Cold steps", int_text),
        ("total", "Incidents", int_text),
    ]
    return _category_layer(
        fmap, shown, "category", EMERGING_COLOURS, fields, 4, (name, layer_id), notes, show
    )


def add_change_layer(
    fmap: folium.Map,
    table: gpd.GeoDataFrame,
    significant_only: bool = True,
    show: bool = True,
    layer_id: str = "change",
    name: str = "Change",
) -> VectorLayer:
    """Tested change between two periods; by default only significant places are drawn.

    Parameters
    ----------
    fmap : folium.Map
    table : geopandas.GeoDataFrame
        :func:`geo_ssgp.hotspots.change.pack_change` output (EPSG:27700).
    significant_only : bool
        Leave out "no significant change" places (the legend says so).
    show : bool
    layer_id : str
    name : str
        Layer control name and legend title.

    Returns
    -------
    VectorLayer
        Tooltips: change class, place, before, after and the adjusted p; popups add the
        counts per month and the unadjusted p.
    """
    params = table.attrs.get("parameters", {})
    changed = table["change_class"] != "no significant change"
    shown = table[changed] if significant_only else table
    before, after = params.get("before", {}), params.get("after", {})
    notes = [
        f"{before.get('from')} to {before.get('to')} against {after.get('from')} to "
        f"{after.get('to')}; {params.get('note', '')}",
        "Exact test of the rate per month, Benjamini-Hochberg adjusted",
    ]
    if significant_only:
        notes.append(f"significant places only: {int(changed.sum()):,} of {len(table):,}")
    place = "label" if "label" in shown else "code"
    fields: list[Field] = [
        ("change_class", "Change", _as_str),
        (place, "Place", _as_str),
        ("before", "Before", int_text),
        ("after", "After", int_text),
        ("p_adjusted", "Adjusted p", p_text),
        ("before_per_month", "Before per month", num_text),
        ("after_per_month", "After per month", num_text),
        ("p_value", "p", p_text),
    ]
    return _category_layer(
        fmap, shown, "change_class", CHANGE_COLOURS, fields, 5, (name, layer_id), notes, show
    )


__all__ = [
    "CHANGE_COLOURS",
    "EMERGING_COLOURS",
    "add_change_layer",
    "add_emerging_layer",
    "p_text",
]
