"""Whole maps: the analyst, area and meeting maps, and the naive benchmark baseline."""

from __future__ import annotations

import html
import importlib.util

import folium
import geopandas as gpd
import numpy as np
import pytest
from maps_testkit import (
    ROOT,
    assert_served_locally,
    data_of,
    decode,
    layer_control_names,
    legends,
    small_areas,
    small_hotspots,
    small_incidents,
    small_wards,
)

from geo_ssgp import maps, reports
from geo_ssgp.config import ATTRIBUTION, CRS_BNG, CRS_WGS84
from geo_ssgp.maps.elements import LazyLayer, Register, SnapPointCluster, VectorLayer
from geo_ssgp.maps.format import js_json


def _naive_map():
    """``benchmarks/naive_map.py``'s ``naive_map`` (benchmarks are scripts, not a package)."""
    spec = importlib.util.spec_from_file_location("naive_map", ROOT / "benchmarks" / "naive_map.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.naive_map


def _layers(fmap: folium.Map) -> list[tuple[str, str, bool, str]]:
    """(type, name, shown, registered id) of each layer on a map, in order."""
    out = []
    for child in fmap._children.values():
        if isinstance(child, folium.map.Layer) and child.control:
            ids = [c.layer_id for c in child._children.values() if isinstance(c, Register)]
            out.append((type(child).__name__, child.layer_name, child.show, ids[0]))
    return out


# ------------------------------------------------------------------------------------------
# Analyst map (real sample)
# ------------------------------------------------------------------------------------------


def test_analyst_map_layers_and_size(analyst, real, vendor):
    fmap, page = analyst
    assert layer_control_names(page) == [
        "Streets",
        "LSOA: incidents",
        "LSOA: incidents per 1,000 residents",
        "LSOA: IMD decile",
        "KDE surface",
        "Hotspots: grid-count",
        "Hotspots: kde",
        "Hotspots: hdbscan",
        "Incidents",
        "Wards",
    ]
    shown = {
        c.layer_name
        for c in fmap._children.values()
        if isinstance(c, folium.map.Layer) and c.control and c.show
    }
    assert shown == {
        "Streets",
        "LSOA: incidents per 1,000 residents",
        "Hotspots: grid-count",
        "Wards",
    }
    assert_served_locally(page, vendor)
    assert len(page.encode()) <= 1_000_000
    # One marker per snap point carrying every incident.
    cluster = next(c for c in fmap._children.values() if isinstance(c, SnapPointCluster))
    assert sum(cluster.data["n"]) == len(real["incidents"])
    assert len(cluster.data["n"]) == real["incidents"].geometry.apply(lambda p: p.wkb).nunique()
    for key in ("ons", "police", "imd", "osm"):
        assert html.escape(ATTRIBUTION[key]) in maps.attribution_lines(fmap)
    assert html.escape(ATTRIBUTION["lsoa11"]) not in maps.attribution_lines(fmap)
    hotspot_legends = [lg for lg in legends(page) if lg["title"].startswith("Hotspots")]
    assert len(hotspot_legends) == 3
    grid = dict(hotspot_legends[0]["table"]) | dict(hotspot_legends[0]["more"])
    assert grid["Method"] == "grid-count" and grid["Cell size (m)"] == "50"
    assert grid["Period"] == "from=2025-01, to=2025-09"


def test_analyst_map_area_features_match_area_stats(analyst, real):
    fmap, _ = analyst
    rate = next(
        c
        for c in fmap._children.values()
        if getattr(c, "layer_name", "") == "LSOA: incidents per 1,000 residents"
    )
    feats = decode(data_of(rate))
    areas = real["areas"]
    assert [f["properties"]["code"] for f in feats] == list(areas["code"])
    counts = [int(f["properties"]["count"].replace(",", "")) for f in feats]
    assert counts == areas["count"].tolist()
    # Shapes survive simplification: areas within 0.5 %.
    got = gpd.GeoSeries([f["geometry"] for f in feats], crs=CRS_WGS84).to_crs(CRS_BNG).area
    np.testing.assert_allclose(got.to_numpy(), areas.area.to_numpy(), rtol=5e-3)


def test_lazy_layers_are_listed_but_carry_no_data(pack, real, analyst, vendor):
    """A layer given as a URL is in the layer control, off, registered, fetched when shown."""
    layers = {"grid-count": real["layers"]["grid-count"], "kde": "/layer/kde?from=2025-01"}
    fmap = maps.build_analyst_map(
        pack, real["areas"], real["wards"], layers, "grid-count", surface="/layer/surface",
        street_segments="/layer/segments",
    )
    page = maps.render(fmap)
    names = layer_control_names(page)
    assert names[names.index("KDE surface"):names.index("Wards")] == [
        "KDE surface", "Hotspots: grid-count", "Hotspots: kde", "Streets: incidents per km"
    ]
    lazy = [c for c in fmap._children.values() if isinstance(c, LazyLayer)]
    assert [(c.layer_name, c.url, c.show) for c in lazy] == [
        ("KDE surface", "/layer/surface", False),
        ("Hotspots: kde", "/layer/kde?from=2025-01", False),
        ("Streets: incidents per km", "/layer/segments", False),
    ]
    assert 'window.geoSsgp.lazyVector("/layer/kde?from=2025-01")' in page
    registered = [r.layer_id for c in lazy for r in c._children.values() if isinstance(r, Register)]
    assert registered == ["surface", "hotspots:kde", "street-segments"]
    # Only the default layer's legend and data are in the page; the full map is much larger.
    assert [lg["title"] for lg in legends(page) if lg["title"].startswith("Hotspots")] == [
        "Hotspots: grid-count"
    ]
    assert len(page) < len(analyst[1]) - 50_000
    with pytest.raises(maps.AssetError, match="standalone map must be given the layer itself"):
        maps.render_standalone(fmap)


def test_layer_documents_are_what_the_map_draws(analyst, real):
    """hotspot_document/surface_document give the data, spec and legend drawn at once."""
    _, page = analyst
    kde = real["layers"]["kde"]
    docs = [
        maps.hotspot_document(kde, "Hotspots: kde", maps.hotspot_colour(1)),
        maps.surface_document(kde.surface, maps.surface_column(kde.surface)),
    ]
    for doc in docs:
        assert f"window.geoSsgp.decode({js_json(doc['data'])})" in page
        assert js_json(doc["spec"]) in page and js_json(doc["legend"]) in page
    assert len(docs[0]["data"]["f"]) == len(kde.hotspots) > 0
    note = maps.note_document("Hotspots: kde", "KDE needs at least two incidents")
    assert note["data"]["f"] == [] and note["legend"]["notes"] == [
        "KDE needs at least two incidents"
    ]


def test_default_method_must_be_a_layer(pack):
    with pytest.raises(ValueError, match="default_method 'kde' is not one of"):
        maps.build_analyst_map(
            pack, small_areas(), small_wards(), {"gistar": small_hotspots()}, "kde"
        )


# ------------------------------------------------------------------------------------------
# Area map (PCSO)
# ------------------------------------------------------------------------------------------


def test_area_map_keeps_only_what_is_inside(pack, real, vendor):
    ward = real["wards"][real["wards"]["name"] == "Westgate"]
    layer = real["layers"]["grid-count"]
    shown, incidents = reports.place_content(ward.geometry.iloc[0], layer, real["incidents"])
    fmap = maps.build_area_map(pack, ward, incidents, shown)
    page = maps.render(fmap)
    assert_served_locally(page, vendor)
    assert layer_control_names(page) == ["Streets", "Westgate", "Hotspots: grid-count", "Incidents"]
    cluster = next(c for c in fmap._children.values() if isinstance(c, SnapPointCluster))
    inside = real["incidents"].intersects(ward.geometry.iloc[0])
    assert sum(cluster.data["n"]) == int(inside.sum()) > 0
    hot = next(
        c for c in fmap._children.values() if getattr(c, "layer_name", "") == "Hotspots: grid-count"
    )
    cells = layer.hotspots.geometry
    inside = cells.intersection(ward.geometry.iloc[0]).area >= 0.5 * cells.area
    touching = int(cells.intersects(ward.geometry.iloc[0]).sum())
    assert len(decode(data_of(hot))) == int(inside.sum()) < touching < len(layer.hotspots)
    numbers = next(
        c for c in fmap._children.values() if getattr(c, "layer_name", "") == "Hotspot numbers"
    )
    labels = [f["properties"]["number"] for f in decode(data_of(numbers))]
    assert labels == [str(i) for i in range(1, int(inside.sum()) + 1)]


# ------------------------------------------------------------------------------------------
# Meeting map
# ------------------------------------------------------------------------------------------


def _meeting_by_hand(pack, areas, layer, wards, method):
    """What ``Service.meeting_map`` composed before ``build_meeting_map`` existed."""
    fmap = maps.base_map(pack)
    maps.add_area_layer(fmap, areas, "count", name="LSOA: incidents", show=True)
    if layer is not None:
        maps.add_hotspot_layer(fmap, layer, show=True, layer_id=f"hotspots:{method}")
    maps.add_ward_layer(fmap, wards)
    folium.LayerControl(collapsed=False).add_to(fmap)
    return fmap


@pytest.mark.parametrize("with_hotspots", [True, False])
def test_meeting_map_is_the_service_composition(pack, vendor, with_hotspots):
    areas, wards = small_areas(), small_wards()
    layer = small_hotspots() if with_hotspots else None
    fmap = maps.build_meeting_map(pack, areas, layer, wards, method="kde")
    expected = _meeting_by_hand(pack, areas, layer, wards, "kde")
    assert _layers(fmap) == _layers(expected)
    page = maps.render(fmap)
    assert_served_locally(page, vendor)
    names = ["Streets", "LSOA: incidents", "Hotspots: gistar", "Wards"]
    assert layer_control_names(page) == (names if with_hotspots else names[:2] + names[3:])
    layers = _layers(fmap)
    assert all(shown for _, _, shown, _ in layers)
    ids = [layer_id for *_, layer_id in layers]
    assert ids == ["streets", "areas:count"] + (["hotspots:kde"] if with_hotspots else []) + [
        "wards"
    ]
    assert [kind for kind, *_ in layers[1:]] == [VectorLayer.__name__] * (len(layers) - 1)
    assert maps.attribution_lines(fmap) == maps.attribution_lines(expected)
    assert len(legends(page)) == len(legends(maps.render(expected)))
    standalone = maps.render_standalone(fmap)
    assert maps.external_assets(standalone) == [] and "geoSsgp.init" in standalone


def test_meeting_map_on_the_real_sample(pack, real, vendor):
    fmap = maps.build_meeting_map(
        pack,
        real["areas"],
        real["layers"]["grid-count"],
        real["wards"],
        method="grid-count",
        tiles="OpenStreetMap",
    )
    page = maps.render(fmap)
    assert layer_control_names(page) == [
        "Streets",
        "LSOA: incidents",
        "Hotspots: grid-count",
        "Wards",
    ]
    assert "tile.openstreetmap.org" in page and maps.external_assets(page) == []
    area = next(
        c for c in fmap._children.values() if getattr(c, "layer_name", "") == "LSOA: incidents"
    )
    assert len(decode(data_of(area))) == len(real["areas"])


# ------------------------------------------------------------------------------------------
# Benchmark baseline
# ------------------------------------------------------------------------------------------


def test_naive_baseline_uses_cdn_and_one_marker_per_incident():
    incidents = small_incidents()
    fmap = _naive_map()(incidents)
    page = fmap.get_root().render()
    assert maps.external_assets(page)
    assert page.count("L.marker(") == len(incidents)
    assert "<img" not in page
    assert not hasattr(maps, "naive_map")


def test_analyst_lazy_layer_ids_and_their_methods():
    """The analyst map lists the surface, every method but the default and the segments as
    on-demand layers, and each id names the method it draws."""
    ids = maps.analyst_lazy_layer_ids(["grid-count", "kde", "gistar"], "grid-count", True)
    assert ids == ["surface", "hotspots:kde", "hotspots:gistar", "street-segments"]
    assert maps.analyst_lazy_layer_ids(["grid-count", "lisa"], "grid-count", False) == [
        "hotspots:lisa"
    ]
    assert [maps.lazy_layer_method(i) for i in ids] == ["kde", "kde", "gistar", None]


def test_analyst_layer_document_notes_what_could_not_be_drawn():
    """A method that could not run and a selection with no busy segment give empty layers
    whose legends say why, under the names the layer control shows."""
    doc = maps.analyst_layer_document("hotspots:kde", "needs two incidents", ["grid-count", "kde"])
    assert doc["legend"]["title"] == "Hotspots: kde"
    assert "needs two incidents" in str(doc["legend"])
    empty = maps.analyst_layer_document("street-segments", None, ["grid-count"])
    assert "No street segment holds enough" in str(empty["legend"])
