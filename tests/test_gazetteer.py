"""Offline place search on the Gloucester pack: streets, postcodes, places -> ward and LSOA."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from geo_ssgp.config import CRS_BNG, CRS_WGS84
from geo_ssgp.errors import BadInput, NotFound
from geo_ssgp.gazetteer import KINDS, gazetteer, resolve_focus, search_places
from geo_ssgp.pack import load_layer, load_streets


def _where(matches: list[dict]) -> list[tuple]:
    return [(m["kind"], m["name"], m["ward_nm"]) for m in matches]


def test_a_street_is_found_in_the_ward_it_runs_through(pack):
    found = search_places(pack, "widden")
    assert _where(found) == [("street", "Widden Street", "Barton and Tredworth")]
    assert found[0]["ward_cd"] == "E05010953"
    # its LSOA is one of the ward's LSOAs, and the point is in Gloucester
    lsoa = load_layer(pack, "lsoa21").set_index("code").loc[found[0]["lsoa_cd"]]
    assert lsoa["name"] == found[0]["lsoa_nm"]
    assert -2.35 < found[0]["lon"] < -2.15 and 51.80 < found[0]["lat"] < 51.90


def test_a_long_street_is_listed_once_per_ward(pack):
    found = search_places(pack, "Bristol Road", limit=50)
    found = [m for m in found if m["name"] == "Bristol Road"]
    wards = [m["ward_nm"] for m in found]
    assert len(wards) == len(set(wards)) >= 3 and "Podsmead" in wards


def test_postcodes_in_any_case_and_spacing(pack):
    assert _where(search_places(pack, "gl11ad")) == [("postcode", "GL1 1AD", "Westgate")]
    assert search_places(pack, "GL1 1AD")[0]["lsoa_cd"] == "E01032937"
    partial = search_places(pack, "gl1 1a")
    assert len(partial) == 12 and all(m["name"].startswith("GL1 1A") for m in partial)


def test_places_localities_and_wards_best_match_first(pack):
    found = search_places(pack, "Kingsholm")
    assert _where(found[:3]) == [
        ("place", "Kingsholm", "Kingsholm and Wotton"),
        ("locality", "Kingsholm", "Kingsholm and Wotton"),
        ("ward", "Kingsholm and Wotton", "Kingsholm and Wotton"),
    ]
    assert found[2]["lsoa_cd"] is None  # a ward links to its own page
    assert all(m["name"].casefold().startswith("kingsholm") for m in found)
    assert _where(search_places(pack, "gloucester park")) == [
        ("place", "Gloucester Park", "Barton and Tredworth")
    ]


def test_nothing_found_and_too_short(pack):
    assert search_places(pack, "xyzzy") == []
    with pytest.raises(BadInput) as err:
        search_places(pack, " a ")
    assert err.value.param == "q" and "at least 2 characters" in err.value.message


def test_the_gazetteer_holds_only_entries_inside_the_wards(pack):
    table = gazetteer(pack)
    assert set(table["kind"]) == set(KINDS)
    assert table["ward_cd"].notna().all()
    assert set(table["ward_cd"]) <= set(load_layer(pack, "ward")["code"])
    counts = table["kind"].value_counts()
    assert counts["ward"] == 18 and counts["street"] > 1000 and counts["postcode"] > 3000


# ---- a chosen result on a map: ref -> geometry ---------------------------------------------


def test_every_entry_has_a_unique_ref_that_resolves_to_itself(pack):
    table = gazetteer(pack)
    assert table["ref"].is_unique
    assert table["ref"].str.split(":").str[0].isin(KINDS).all()
    for kind in KINDS:
        entry = table[table["kind"] == kind].iloc[0]
        found = resolve_focus(pack, entry["ref"])
        assert (found.kind, found.name, found.ward_cd) == (kind, entry["name"], entry["ward_cd"])


def test_a_street_resolves_to_its_osm_lines_touching_its_ward(pack):
    ref = search_places(pack, "widden")[0]["ref"]
    assert ref == "street:E05010953:Widden Street"
    found = resolve_focus(pack, ref)
    assert found.geometry.geom_type in ("LineString", "MultiLineString")
    streets = load_streets(pack)
    widden = streets[streets["name"] == "Widden Street"]
    # every OSM piece of Widden Street (all in Barton and Tredworth), nothing else
    assert found.geometry.length == pytest.approx(widden.geometry.length.sum(), rel=1e-6)
    assert 200 < found.geometry.length < 400  # metres, EPSG:27700 (about 260 m)
    ward = load_layer(pack, "ward").set_index("code").loc["E05010953", "geometry"]
    assert found.lies_in(ward)
    assert found.shows == "the street's OpenStreetMap line(s) in Barton and Tredworth ward"


def test_a_street_in_several_wards_resolves_to_the_lines_of_that_ward(pack):
    refs = [m["ref"] for m in search_places(pack, "Bristol Road", limit=50)
            if m["name"] == "Bristol Road"]
    wards = load_layer(pack, "ward").set_index("code").geometry
    lengths = []
    for ref in refs:
        found = resolve_focus(pack, ref)
        lines = shapely.get_parts(found.geometry)
        assert shapely.intersects(lines, wards[found.ward_cd]).all()
        lengths.append(found.geometry.length)
    total = load_streets(pack).query("name == 'Bristol Road'").geometry.length.sum()
    assert len(refs) >= 3 and all(length < total for length in lengths)


def test_a_postcode_resolves_to_its_centre_point_said_not_a_boundary(pack):
    match = search_places(pack, "GL1 1AD")[0]
    found = resolve_focus(pack, "postcode:gl1 1ad")  # any case and spacing
    assert found.ref == match["ref"] == "postcode:GL11AD"
    assert found.geometry.geom_type == "Point" and found.label == "GL1 1AD (postcode centre)"
    assert "centre point" in found.shows and "not a boundary" in found.shows
    feature = found.feature()
    lon, lat = feature["geometry"]["coordinates"]
    assert (lon, lat) == pytest.approx((match["lon"], match["lat"]), abs=2e-6)
    assert feature["properties"]["ward_nm"] == "Westgate"
    back = gpd.GeoSeries([shapely.Point(lon, lat)], crs=CRS_WGS84).to_crs(CRS_BNG).iloc[0]
    assert back.distance(found.geometry) < 0.5  # metres


def test_a_ward_resolves_to_its_boundary_and_a_place_to_its_point(pack):
    ward = resolve_focus(pack, "ward:E05010953")
    assert ward.geometry.geom_type in ("Polygon", "MultiPolygon")
    assert ward.label == "Barton and Tredworth ward" and ward.lsoa_cd is None
    place = resolve_focus(pack, "place:Gloucester Park")
    assert place.geometry.geom_type == "Point" and place.lies_in(ward.geometry)
    assert not place.lies_in(resolve_focus(pack, "ward:E05010967").geometry)  # Westgate


@pytest.mark.parametrize(
    ("ref", "error", "words"),
    [
        ("street:E05010953:Nowhere Lane", NotFound, "no street 'Nowhere Lane' in ward E05010953"),
        ("postcode:GL99 9ZZ", NotFound, "no postcode 'GL999ZZ'"),
        ("ward:E05999999", NotFound, "no ward 'E05999999'"),
        ("Widden Street", BadInput, "give <kind>:<id>"),
        ("planet:Mars", BadInput, "kind one of postcode, ward, street, place, locality"),
        ("place:", BadInput, "give <kind>:<id>"),
        ("place:" + "x" * 300, BadInput, "give <kind>:<id>"),
    ],
)
def test_an_unknown_or_malformed_ref_says_what_is_wrong(pack, ref, error, words):
    with pytest.raises(error) as err:
        resolve_focus(pack, ref)
    assert err.value.param == "focus" and words in err.value.message
