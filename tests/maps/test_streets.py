"""The street base layer: lines by road class, labels along the lines, attribution, real pack."""

from __future__ import annotations

import dataclasses
import html
import json

import folium
import geopandas as gpd
import numpy as np
from maps_testkit import X0, XSS, XSS_ESCAPED, Y0, data_of, decode, layer_control_names
from shapely.geometry import LineString, MultiLineString

from geo_ssgp import maps
from geo_ssgp.config import ATTRIBUTION, CRS_BNG
from geo_ssgp.maps.elements import Legend
from geo_ssgp.maps.streets import (
    LABEL_MIN_M,
    ROAD_STYLES,
    STREETS_PATH,
    add_segment_layer,
    road_group,
    street_data,
    street_url,
    street_version,
)
from geo_ssgp.pack import load_streets

OSM = html.escape(ATTRIBUTION["osm"])


def small_streets_pack(pack, tmp_path):
    """The real pack with three known streets in place of its OSM layer."""
    streets = gpd.GeoDataFrame(
        {
            "name": ["East Street", "North Street", XSS],
            "highway": ["primary", "residential", "footway"],
            "ref": ["A38", None, None],
        },
        geometry=[
            LineString([(X0, Y0), (X0 + 400, Y0)]),  # west to east: label upright (0 deg)
            MultiLineString([[(X0, Y0), (X0, Y0 + 300)], [(X0 + 5, Y0), (X0 + 5, Y0 + 30)]]),
            LineString([(X0, Y0), (X0 + 200, Y0 - 200)]),  # down to the south-east: 45 deg
        ],
        crs=CRS_BNG,
    ).to_crs("EPSG:4326")
    streets.to_file(tmp_path / "streets.geojson", driver="GeoJSON")
    entry = {**pack.streets, "file": str(tmp_path / "streets.geojson")}
    return dataclasses.replace(pack, manifest=tmp_path / "small.toml", streets=entry)


def decode_lines(text: str, lens: list[int]) -> list[np.ndarray]:
    ints = np.array(maps.decode_ints(text)).reshape(-1, 2)
    out, k = [], 0
    for n in lens:
        out.append(np.cumsum(ints[k : k + n], axis=0) / 10**maps.DECIMALS)
        k += n
    return out


def test_road_classes_group_osm_highway_values():
    assert road_group("primary") == "major" and road_group("tertiary") == "secondary"
    assert road_group("footway") == "path" and road_group("residential") == "minor"
    assert road_group(None) == "minor" and road_group("busway") == "minor"


def test_street_data_lines_labels_and_escaping(pack, tmp_path):
    data = json.loads(street_data(small_streets_pack(pack, tmp_path)))
    colours = [c["color"] for c in data["classes"]]
    assert colours == [ROAD_STYLES[g][1] for g in ("major", "minor", "path")]
    # One line per part: primary 1, residential 2 (the MultiLineString's parts), footway 1.
    assert [len(lens) for _, lens in data["lines"]] == [1, 2, 1]
    (east,) = decode_lines(*data["lines"][0])
    assert east.shape == (2, 2) and east[1, 0] > east[0, 0]  # lon grows to the east
    assert abs(east[0, 1] - east[1, 1]) < 2e-5  # same latitude
    # Labels: the 30 m part of North Street is shorter than LABEL_MIN_M and gets none.
    assert LABEL_MIN_M > 30
    names = [data["names"][label[3]] for label in data["labels"]]
    assert sorted(names) == sorted(["East Street", "North Street", XSS_ESCAPED])
    angles = {data["names"][label[3]]: label[2] for label in data["labels"]}
    assert angles["East Street"] == 0
    assert abs(angles["North Street"]) == 90
    assert angles[XSS_ESCAPED] == 45  # clockwise on screen, text never upside down
    assert XSS not in street_data(small_streets_pack(pack, tmp_path))


def test_base_map_draws_streets_with_odbl_attribution(pack):
    fmap = maps.base_map(pack)
    assert OSM in maps.attribution_lines(fmap)
    folium.LayerControl().add_to(fmap)
    page = maps.render(fmap)
    assert "window.geoSsgp.streets(" in page and "Streets" in layer_control_names(page)
    no_streets = maps.render(maps.base_map(pack, streets=False))
    assert "geoSsgp.streets(" not in no_streets
    assert json.dumps(OSM) not in no_streets


def test_served_map_fetches_streets_and_standalone_embeds_them(pack):
    """A served page names the cached street document; a standalone file carries the data."""
    fmap = maps.base_map(pack)
    page = maps.render(fmap)
    url = f"{STREETS_PATH}?v={street_version(pack)}"
    assert street_url(pack) == url
    assert f'window.geoSsgp.streets("{url}");' in page
    assert "Westgate Street" not in page and "labelZoom" not in page
    assert '<script src="/static/app/streets.js"></script>' in page
    # Fetched while the scripts load (the fetch's credentials mode: same-origin).
    preload = f'<link rel="preload" href="{url}" as="fetch" crossorigin="anonymous">'
    assert page.count(preload) == 1 and page.index(preload) < page.index("leaflet.js")
    standalone = maps.render_standalone(fmap)
    assert f"window.geoSsgp.streets({street_data(pack)});" in standalone
    assert STREETS_PATH not in standalone and "preload" not in standalone
    # Rendering standalone leaves the map served as before.
    again = maps.render(fmap)
    assert f'window.geoSsgp.streets("{url}");' in again and "labelZoom" not in again
    assert len(street_version(pack)) == 16


def test_street_version_follows_the_data(pack, tmp_path):
    small = small_streets_pack(pack, tmp_path)
    assert street_version(small) != street_version(pack)
    assert street_version(small) == street_version(small_streets_pack(pack, tmp_path))


def test_real_streets_are_compact_and_complete(pack):
    text = street_data(pack)
    data = json.loads(text)
    n_parts = part_count(load_streets(pack))
    assert sum(len(lens) for _, lens in data["lines"]) == n_parts
    assert len(text) < 300_000  # 1.5 MB of GeoJSON sent as about 0.24 MB
    assert {"Westgate Street", "Northgate Street", "Barton Street"} <= set(data["names"])


def part_count(streets: gpd.GeoDataFrame) -> int:
    parts = streets.explode(index_parts=False)
    return int((~parts.geometry.is_empty).sum())


def small_busiest_segments() -> gpd.GeoDataFrame:
    """Three segments as :func:`geo_ssgp.streets.busiest_segments` gives them."""
    top = gpd.GeoDataFrame(
        {
            "segment_id": ["seg-a", "seg-b", "seg-c"],
            "name": ["East Street", XSS, None],
            "ward_nm": ["Westgate", "Kingsholm", "Westgate"],
            "n_incidents": [40, 12, 3],
            "length_m": [50.0, 40.0, 60.0],
            "per_km": [800.0, 300.0, 50.0],
            "street_share": [0.01, 0.018, 0.03],
            "incident_share": [0.4, 0.52, 0.55],
        },
        geometry=[LineString([(X0, Y0 + 10 * i), (X0 + 50, Y0 + 10 * i)]) for i in range(3)],
        crs=CRS_BNG,
    )
    top.attrs = {"street_share": 0.05, "min_incidents": 3, "incident_share": 0.58}
    return top


def test_segment_layer_draws_lines_by_incidents_per_km_with_the_osm_credit(pack):
    fmap = maps.base_map(pack, streets=False)
    layer = add_segment_layer(fmap, small_busiest_segments(), k=3)
    assert layer.layer_name == "Streets: incidents per km" and not layer.show
    feats = decode(data_of(layer))
    assert [f["geometry"].geom_type for f in feats] == ["MultiLineString"] * 3
    first, second, third = (f["properties"] for f in feats)
    assert (first["name"], first["incidents"], first["per_km"]) == ("East Street", "40", "800.0")
    assert first["street_share"] == "1.0%" and first["incident_share"] == "40.0%"
    assert second["name"] == XSS_ESCAPED and third["name"] == "(unnamed)"
    # three quantile classes, darker for more incidents per km
    assert layer.spec["classes"] == [2, 1, 0]
    assert len({s["color"] for s in layer.spec["styles"]}) == 3
    legend = next(c for c in layer._children.values() if isinstance(c, Legend)).content
    assert legend["notes"][0] == (
        "The busiest 5% of street length (by incidents per km) holds 58.0% of the incidents "
        "on streets; drawn: its 3 segments with at least 3 incidents."
    )
    assert OSM in maps.attribution_lines(fmap)
    folium.LayerControl().add_to(fmap)
    page = maps.render(fmap)
    assert "Streets: incidents per km" in layer_control_names(page) and XSS not in page
