"""Offline place search on the Gloucester pack: streets, postcodes, places -> ward and LSOA."""

from __future__ import annotations

import pytest

from geo_ssgp.errors import BadInput
from geo_ssgp.gazetteer import KINDS, gazetteer, search_places
from geo_ssgp.pack import load_layer


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
