"""Hotspot labels: street names from location text, wards, places, city centre, real data."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import MultiPolygon, Point, box

from geo_ssgp.config import CRS_BNG, get_settings
from geo_ssgp.errors import BadInput
from geo_ssgp.hotspots.label import (
    CityCentre,
    area_names,
    city_centre,
    is_generic_place,
    label_hotspots,
    segment_label,
    street_name,
)
from geo_ssgp.pack import load_layer, load_pack, load_points

# Police.uk snap point of "On or near Widden Street" (2025 files) and the NPTG reference
# points of Tredworth and Saintbridge, in British National Grid metres.
WIDDEN = (383846.0, 218105.0)
TREDWORTH = (383866.0, 217027.0)
SAINTBRIDGE = (385138.0, 216703.0)
GATE_STREETS = ["Northgate Street", "Southgate Street", "Eastgate Street", "Westgate Street"]


def _incidents(rows: list[tuple[str | None, float, float]], **extra) -> gpd.GeoDataFrame:
    text, x, y = zip(*rows, strict=True)
    return gpd.GeoDataFrame(
        {"location_text": list(text), **extra},
        geometry=gpd.points_from_xy(x, y),
        crs=CRS_BNG,
    )


def _square(x: float, y: float, half: float = 100.0):
    return box(x - half, y - half, x + half, y + half)


def _hotspots(*geoms, index=None) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=list(geoms), crs=CRS_BNG, index=index)


def _manifest_variant(tmp_path, name: str, edit) -> object:
    """Load a copy of the Gloucester manifest after ``edit(text) -> text``."""
    text = (get_settings().packs_dir / "gloucester.toml").read_text(encoding="utf-8")
    path = tmp_path / f"{name}.toml"
    path.write_text(edit(text), encoding="utf-8")
    return load_pack(get_settings(pack=str(path)))


def _without_section(text: str, header: str) -> str:
    """Remove a ``[header]`` table (up to the next table header) from TOML text."""
    pattern = re.compile(rf"^\[{re.escape(header)}\]\n(?:(?!\[).*\n?)*", re.MULTILINE)
    out, n = pattern.subn("", text)
    assert n == 1, header
    return out


# --------------------------------------------------------------------------------------
# street_name / is_generic_place


def test_street_name_strips_prefix_and_anything_address_like():
    text = pd.Series(
        [
            "On or near Widden Street",
            "On or near St John'S Lane",
            "Flat 3, 12-14 Widden Street, GL1 4AB",
            "outside 23a Barton Street",
            "On or near A38",
            "On or near Parking Area",
        ],
        index=list("abcdef"),
    )
    out = street_name(text)
    assert out.index.tolist() == list("abcdef")
    assert out.tolist() == [
        "Widden Street",
        "St John's Lane",
        "Widden Street",
        "Barton Street",
        "A38",
        "Parking Area",
    ]


def test_street_name_missing_for_no_place():
    out = street_name(pd.Series(["On or near No Location", None, "", "On or near Hyde Close"]))
    assert out.isna().tolist() == [True, True, True, False]
    assert street_name(pd.Series([None, None], dtype=object)).isna().all()


def test_is_generic_place():
    names = pd.Series(["Shopping Area", "Park/Open Space", "parking area", "Park Road", None])
    assert is_generic_place(names).tolist() == [True, True, True, False, False]


# --------------------------------------------------------------------------------------
# Constructed hotspots at real Gloucester coordinates


def _widden_tredworth_rows(x: float, y: float) -> list:
    inside = [("On or near Widden Street", x + dx, y + 10) for dx in (-20, 0, 20)]
    inside += [("On or near Tredworth Road", x + dx, y - 30) for dx in (-10, 10)]
    outside = [("On or near Barton Street", x + 1000, y + dy) for dy in (0, 5, 10, 15)]
    outside += [("On or near Tredworth Road", x - 400, y)] * 3
    return inside + outside


@pytest.mark.parametrize(
    ("centre", "near"),
    [(WIDDEN, "Barton"), (TREDWORTH, "Tredworth")],
)
def test_constructed_square_label(pack, centre, near):
    incidents = _incidents(_widden_tredworth_rows(*centre))
    labels = label_hotspots(_hotspots(_square(*centre)), incidents, pack)
    assert labels.tolist() == [
        f"Barton and Tredworth: Widden Street / Tredworth Road (near {near})"
    ]


def test_top_streets_limits_and_orders_names(pack):
    x, y = TREDWORTH
    rows = _widden_tredworth_rows(x, y) + [("On or near Ryecroft Street", x, y)]
    hot = _hotspots(_square(x, y))
    assert label_hotspots(hot, _incidents(rows), pack, top_streets=1).iloc[0] == (
        "Barton and Tredworth: Widden Street (near Tredworth)"
    )
    three = label_hotspots(hot, _incidents(rows), pack, top_streets=3).iloc[0]
    assert three == (
        "Barton and Tredworth: Widden Street / Tredworth Road / Ryecroft Street (near Tredworth)"
    )
    with pytest.raises(BadInput, match="top_streets"):
        label_hotspots(hot, _incidents(rows), pack, top_streets=0)


def test_generic_place_kinds_rank_but_never_displace_the_street(pack):
    x, y = TREDWORTH
    rows = [("On or near Shopping Area", x, y)] * 5 + [("On or near Parking Area", x, y)] * 4
    rows += [("On or near Widden Street", x + 5, y)]
    hot = _hotspots(_square(x, y))
    two = label_hotspots(hot, _incidents(rows), pack).iloc[0]
    assert two == "Barton and Tredworth: shopping area / Widden Street (near Tredworth)"
    one = label_hotspots(hot, _incidents(rows), pack, top_streets=1).iloc[0]
    assert one == "Barton and Tredworth: Widden Street (near Tredworth)"
    only_generic = label_hotspots(hot, _incidents(rows[:9]), pack).iloc[0]
    assert only_generic == "Barton and Tredworth: shopping area (near Tredworth)"


def test_locality_used_when_no_named_place_is_near(pack):
    x, y = SAINTBRIDGE
    rows = [("On or near Painswick Road", x, y)] * 2
    labels = label_hotspots(_hotspots(_square(x, y)), _incidents(rows), pack)
    assert labels.tolist() == ["Abbeydale: Painswick Road (near Saintbridge)"]
    # 700 m east the locality's point lies more than NEAR_EDGE_M (250 m) from the hotspot
    off = _hotspots(_square(x + 700, y))
    far = label_hotspots(off, _incidents([("On or near Painswick Road", x + 700, y)]), pack)
    assert "near" not in far.iloc[0]


def test_ward_is_the_one_holding_most_of_the_area(pack):
    wards = load_layer(pack, "ward").set_index("name").geometry
    bt = wards["Barton and Tredworth"].representative_point()
    wg = wards["Westgate"].representative_point()
    big_bt = MultiPolygon([_square(bt.x, bt.y, 100), _square(wg.x, wg.y, 10)])
    big_wg = MultiPolygon([_square(bt.x, bt.y, 10), _square(wg.x, wg.y, 100)])
    rows = [("On or near Widden Street", bt.x, bt.y), ("On or near Hempsted Lane", wg.x, wg.y)]
    labels = label_hotspots(_hotspots(big_bt, big_wg), _incidents(rows), pack, centre=None)
    assert labels.str.split(":").str[0].tolist() == ["Barton and Tredworth", "Westgate"]


def test_city_centre_term_and_landmark(pack):
    incidents = _incidents(
        [
            (f"On or near {s}", x, y)
            for s, x, y in zip(
                GATE_STREETS,
                (383308, 382911, 383386, 382710),
                (218702, 218228, 218365, 218866),
                strict=True,
            )
        ]
    )
    centre = city_centre(pack, incidents)
    assert centre is not None and centre.name == "city centre" and centre.radius_m == 600
    assert centre.point.x == pytest.approx(np.mean([383308, 382911, 383386, 382710]))
    assert centre.point.y == pytest.approx(np.mean([218702, 218228, 218365, 218866]))
    park = load_points(pack, "places").query("name == 'Gloucester Park'").geometry.iloc[0]
    hot = _hotspots(_square(centre.point.x, centre.point.y), _square(park.x - 60, park.y + 60))
    rows = [("On or near Eastgate Street", centre.point.x, centre.point.y)] * 2
    rows += [("On or near Park Road", park.x - 60, park.y + 60)]
    labels = label_hotspots(hot, _incidents(rows), pack, centre=centre)
    # "Westgate" (a stop on Westgate Street, 323 m) is also the ward: not repeated; the
    # Docks stops on Southgate Street (353 m) are the nearest other named place.
    assert labels.iloc[0] == "Westgate: Eastgate Street (city centre, near Gloucester Docks)"
    assert labels.iloc[1].endswith("(near Gloucester Park)")
    assert "city centre" not in labels.iloc[1]
    plain = label_hotspots(hot, _incidents(rows), pack, centre=None)
    assert "city centre" not in plain.iloc[0]
    moved = CityCentre("city centre", Point(park.x, park.y), 100.0)
    other = label_hotspots(hot, _incidents(rows), pack, centre=moved)
    assert other.iloc[1] == "Westgate: Park Road (city centre, near Gloucester Park)"


def test_city_centre_is_judged_where_the_incidents_are(pack):
    # A 2 km strip running east from beside the centre: its representative point is ~1 km
    # away, so only the incidents' mean point decides whether it is "in" the centre.
    centre = CityCentre("city centre", Point(383079.0, 218540.0), 600.0)
    hot = _hotspots(box(383150, 218500, 385150, 218560))
    west = _incidents([("On or near London Road", 383200.0, 218530.0)] * 3)
    east = _incidents([("On or near London Road", 385100.0, 218530.0)] * 3)
    assert label_hotspots(hot, west, pack, centre=centre).iloc[0] == (
        "Elmbridge: London Road (city centre)"
    )
    assert label_hotspots(hot, east, pack, centre=centre).iloc[0] == (
        "Elmbridge: London Road (near Wotton)"
    )
    with pytest.raises(ValueError, match="centre"):
        label_hotspots(hot, west, pack, centre="centre")


def test_place_near_the_polygon_edge(pack):
    # The "The Park" stop (383430, 217829) is 149 m from the top edge but 510 m from
    # the incidents; St Pauls (NPTG, 383200, 217340) is 180 m from the west edge.
    hot = _hotspots(box(383380, 217300, 383560, 217680))
    incidents = _incidents([("On or near Ryecroft Street", 383470.0, 217320.0)] * 3)
    edge = label_hotspots(hot, incidents, pack, centre=None)
    assert edge.iloc[0] == "Barton and Tredworth: Ryecroft Street (near Gloucester Park)"
    # within 100 m of the edge there is neither a place nor a locality's point
    tight = label_hotspots(hot, incidents, pack, centre=None, edge_m=100)
    assert tight.iloc[0] == "Barton and Tredworth: Ryecroft Street"


def test_city_centre_from_stops_pinned_or_absent(pack, tmp_path):
    stops = load_points(pack, "stops")
    gate = stops[stops["street"].isin(GATE_STREETS)]
    means = gate.get_coordinates().groupby(gate["street"].to_numpy()).mean()
    assert len(means) >= 2
    derived = city_centre(pack, _incidents([("On or near Hyde Close", 384000.0, 218800.0)]))
    assert derived.point.x == pytest.approx(means["x"].mean())
    assert derived.point.y == pytest.approx(means["y"].mean())
    assert city_centre(pack) == derived
    # Incidents naming only three of the four streets do not move the centre off the stops.
    three = _incidents([(f"On or near {s}", 383000.0, 218500.0) for s in GATE_STREETS[:3]])
    assert city_centre(pack, three) == derived

    pinned = _manifest_variant(
        tmp_path, "pinned", lambda t: t + "easting = 383170\nnorthing = 218560\n"
    )
    got = city_centre(pinned, None)
    assert (got.point.x, got.point.y, got.name) == (383170.0, 218560.0, "city centre")

    bare = _manifest_variant(tmp_path, "bare", lambda t: _without_section(t, "places.city_centre"))
    assert city_centre(bare) is None
    hot = _hotspots(_square(got.point.x, got.point.y))
    rows = [("On or near Eastgate Street", got.point.x, got.point.y)]
    assert "city centre" not in label_hotspots(hot, _incidents(rows), bare).iloc[0]


def test_no_ward_layer_falls_back_to_incident_ward_names(pack, tmp_path):
    no_wards = _manifest_variant(tmp_path, "nowards", lambda t: _without_section(t, "layers.ward"))
    assert not no_wards.has("layers", "ward")
    x, y = TREDWORTH
    rows = [("On or near Widden Street", x, y)] * 3
    wards = ["Barton and Tredworth", "Moreland", "Barton and Tredworth"]
    incidents = _incidents(rows, ward_nm=wards)
    labels = label_hotspots(_hotspots(_square(x, y)), incidents, no_wards)
    assert labels.tolist() == ["Barton and Tredworth: Widden Street (near Tredworth)"]


def test_naptan_streets_when_incidents_have_no_location_text(pack):
    stops = load_points(pack, "stops")
    spa = stops[(stops["name"] == "Spa Road") & (stops["street"] == "Southgate Street")]
    x, y = spa.get_coordinates().mean()
    local = gpd.GeoDataFrame(geometry=gpd.points_from_xy([x], [y]), crs=CRS_BNG)
    inside = label_hotspots(_hotspots(_square(x, y, 60)), local, pack, centre=None)
    assert inside.tolist() == ["Westgate: Southgate Street (near Gloucester Docks)"]
    # No stop inside a 10 m square beside the stops: the nearest stop's street is used.
    beside = _hotspots(_square(x + 40, y, 5))
    near = label_hotspots(beside, local, pack, centre=None, stop_m=300)
    assert near.iloc[0].startswith("Westgate: Southgate Street")
    none = label_hotspots(beside, local, pack, centre=None, stop_m=1)
    assert none.iloc[0] == "Westgate (near Gloucester Docks)"


def test_snap_point_marking_and_index_alignment(pack):
    x, y = TREDWORTH
    rows = [("On or near Widden Street", x, y)] * 4 + [("On or near Tredworth Road", x + 300, y)]
    rows += [("On or near Tredworth Road", x + 310, y)]
    hot = _hotspots(_square(x, y, 50), _square(x + 305, y, 50), index=["h7", "h3"])
    labels = label_hotspots(hot, _incidents(rows), pack, mark_snap_points=True)
    assert labels.index.tolist() == ["h7", "h3"]
    assert labels["h7"].endswith(" [snap point]")
    assert not labels["h3"].endswith(" [snap point]")
    hot["single_snap_point"] = [False, True]
    flagged = label_hotspots(hot, _incidents(rows), pack, mark_snap_points=True)
    assert [v.endswith(" [snap point]") for v in flagged] == [False, True]
    assert not label_hotspots(hot, _incidents(rows), pack).str.contains("snap").any()
    empty = label_hotspots(hot.iloc[:0], _incidents(rows), pack)
    assert empty.empty and empty.name == "label"
    no_incidents = label_hotspots(hot, _incidents(rows).iloc[:0], pack)
    assert no_incidents.index.tolist() == ["h7", "h3"]
    # No incidents at all: the streets come from the nearest NaPTAN stops.
    assert no_incidents.tolist() == [
        "Barton and Tredworth: Tredworth Road (near Tredworth)",
        "Matson, Robinswood and White City: Tredworth Road (near Barton)",
    ]


def test_label_never_carries_house_numbers_or_postcodes(pack):
    x, y = TREDWORTH
    rows = [("12 Widden Street, GL1 4AB", x, y), ("Flat 2, 7a Widden Street", x + 5, y)]
    label = label_hotspots(_hotspots(_square(x, y)), _incidents(rows), pack).iloc[0]
    assert label == "Barton and Tredworth: Widden Street (near Tredworth)"


def test_hotspots_in_wgs84_are_projected(pack):
    x, y = WIDDEN
    hot = _hotspots(_square(x, y)).to_crs("EPSG:4326")
    incidents = _incidents(_widden_tredworth_rows(x, y)).to_crs("EPSG:4326")
    label = label_hotspots(hot, incidents, pack).iloc[0]
    assert label == "Barton and Tredworth: Widden Street / Tredworth Road (near Barton)"


# --------------------------------------------------------------------------------------
# Real data: 2025-01..09 Gloucester police.uk rows


def _gloucester_rows(result, pack) -> gpd.GeoDataFrame:
    """Gloucester rows of the nine police.uk street CSVs (LSOA 2021 code in the pack)."""
    incidents = result.incidents
    codes = set(load_layer(pack, "lsoa21")["code"])
    return incidents[incidents["source_lsoa"].isin(codes)].reset_index(drop=True)


def _grid_cells(incidents: gpd.GeoDataFrame, cell: float) -> gpd.GeoDataFrame:
    """Incident count per occupied grid cell, busiest first (ties by position)."""
    xy = incidents.get_coordinates()
    ij = pd.DataFrame({"i": np.floor(xy["x"] / cell), "j": np.floor(xy["y"] / cell)})
    counts = ij.groupby(["i", "j"]).size().rename("n").reset_index()
    counts = counts.sort_values(["n", "i", "j"], ascending=[False, True, True], ignore_index=True)
    geoms = shapely.box(
        counts["i"] * cell, counts["j"] * cell, (counts["i"] + 1) * cell, (counts["j"] + 1) * cell
    )
    return gpd.GeoDataFrame(counts, geometry=geoms, crs=CRS_BNG)


@pytest.fixture(scope="session")
def gloucester_incidents(sample_result, pack):
    return _gloucester_rows(sample_result, pack)


@pytest.fixture(scope="session")
def grid250(gloucester_incidents):
    return _grid_cells(gloucester_incidents, 250.0)


@pytest.fixture(scope="session")
def top10_labels(grid250, gloucester_incidents, pack):
    top = grid250.head(10)
    return top, label_hotspots(top, gloucester_incidents, pack)


def test_real_sample_size(gloucester_incidents):
    assert len(gloucester_incidents) == 14331


def test_real_top10_name_the_places_people_know(top10_labels):
    top, labels = top10_labels
    print("\n".join(f"{n:4d}  {label}" for n, label in zip(top["n"], labels, strict=True)))
    assert labels.index.equals(top.index)
    assert labels.str.contains("city centre").sum() >= 5
    assert labels.str.contains("Gloucester Park").any()
    assert labels.str.contains("Kingsholm").any()
    assert labels.iloc[0] == "Westgate: bus/coach station / Spread Eagle Road (city centre)"
    assert labels.str.contains(
        "Westgate: Park Road / Wellington Street (city centre, near Gloucester Park)",
        regex=False,
    ).any()


def test_real_labels_start_with_an_intersecting_ward(top10_labels, pack):
    top, labels = top10_labels
    wards = load_layer(pack, "ward")
    pairs = gpd.sjoin(top[["geometry"]], wards[["name", "geometry"]], predicate="intersects")
    for idx, label in labels.items():
        ward = label.split(":")[0]
        assert ward in set(pairs.loc[[idx], "name"]), label
    # Street names only: no house numbers (road numbers like A38 keep their letter).
    assert not labels.str.contains(r"(?<![A-Z])\d", regex=True).any()


def test_real_widden_street_cell_names_barton_and_tredworth(grid250, gloucester_incidents, pack):
    widden = gloucester_incidents[
        gloucester_incidents["location_text"] == "On or near Widden Street"
    ]
    assert len(widden) == 19
    cells = grid250[grid250.intersects(widden.geometry.union_all())]
    assert len(cells) == 1
    label = label_hotspots(cells, gloucester_incidents, pack).iloc[0]
    assert label == "Barton and Tredworth: parking area / Widden Street (near Barton)"
    # Its rank among the 250 m cells of the period (for the record: not a top-10 cell).
    assert int(cells.index[0]) + 1 == 51


# --------------------------------------------------------------------------------------------
# labels that are true: a named street holds its share of the hotspot's incidents


def test_named_street_needs_its_share_of_the_incidents(pack):
    x, y = WIDDEN
    rows = [("On or near Widden Street", x, y)] * 19 + [("On or near Tredworth Road", x, y)]
    hot = _hotspots(_square(x, y))
    assert label_hotspots(hot, _incidents(rows), pack).iloc[0].startswith(
        "Barton and Tredworth: Widden Street ("
    )  # Tredworth Road holds 1 of 20 (5%): not named
    both = label_hotspots(hot, _incidents(rows), pack, min_share=0.05).iloc[0]
    assert "Widden Street / Tredworth Road" in both


@pytest.mark.slow
def test_real_top_20_labels_name_only_streets_holding_their_share(pack, sample_ok):
    from geo_ssgp.hotspots import run_method
    from geo_ssgp.hotspots.label import MIN_STREET_SHARE

    layer = run_method("default", sample_ok, pack)
    top = layer.hotspots.sort_values("rank").head(20)
    assert len(top) == 20
    streets = street_name(sample_ok["location_text"]).str.casefold()
    checked = 0
    for spot in top.itertuples():
        inside = sample_ok.geometry.intersects(spot.geometry).to_numpy()
        head = spot.label.split(" (")[0]
        named = head.split(": ", 1)[1].split(" / ") if ": " in head else []
        for name in named:
            share = (streets[inside] == name.casefold()).mean()
            assert share >= MIN_STREET_SHARE, (spot.rank, spot.label, name, share)
            checked += 1
    assert checked >= 20


def test_segment_label_names_ward_and_street():
    labels = segment_label(
        pd.Series(["Westgate", "Kingsholm and Wotton", ""]),
        pd.Series(["Northgate Street", None, "Bristol Road"]),
        pd.Series(["primary", "footway", "primary"]),
    )
    assert list(labels) == [
        "Westgate: Northgate Street",
        "Kingsholm and Wotton: unnamed footway",
        "Bristol Road",
    ]


def test_area_names_give_the_ward_and_the_place_near_a_polygon(pack):
    places = load_points(pack, "places")
    park = places.query("name == 'Gloucester Park'").geometry.iloc[0]
    squares = _hotspots(
        _square(park.x, park.y, 50),  # the park inside
        _square(park.x + 300, park.y, 100),  # edge 200 m from the park, other places nearer
        _square(0, 0),  # far outside the pack
        index=[7, 8, 9],
    )
    names = area_names(squares, pack)
    assert list(names.index) == [7, 8, 9]
    assert names.loc[7, "place"] == "Gloucester Park"
    assert names.loc[7, "ward"] in {"Barton and Tredworth", "Westgate"}
    chosen = places.loc[places["name"] == names.loc[8, "place"]].geometry
    assert chosen.distance(squares.geometry.loc[8]).min() <= 250
    assert names.loc[9, "ward"] is None and names.loc[9, "place"] is None
    # the ward holds most of the polygon: the same rule as the LSOA-to-ward lookup
    from geo_ssgp.pack import lsoa_wards

    lsoas = load_layer(pack, "lsoa21")
    wards = lsoa_wards(pack, "lsoa21")["ward_nm"]
    assert list(area_names(lsoas, pack)["ward"]) == list(lsoas["code"].map(wards))
    assert area_names(lsoas.iloc[:0], pack).empty
