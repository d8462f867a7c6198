"""Focus areas: selections, summaries, comparison, ranking and exports.

Constructed incidents sit at known points inside real Gloucester LSOAs, so every count, rate
and share has a known answer; one test checks the real sample against the geocoder.
"""

from __future__ import annotations

import io
import json
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from shapely.geometry import Point, mapping

from geo_ssgp import areas, focus
from geo_ssgp.config import CRS_BNG, CRS_WGS84
from geo_ssgp.pack import load_layer, lsoa_wards, population

A, B, C = "E01022313", "E01032937", "E01022276"  # Longlevens, Westgate (centre), Abbeydale


@pytest.fixture(scope="module")
def lsoas(pack):
    return load_layer(pack, "lsoa21").set_index("code")


def _incidents(lsoas, rows):
    """rows: (lsoa, month, crime_type, street, restricted); points at the LSOA's inner point."""
    points = lsoas.geometry.representative_point()
    frame = pd.DataFrame(rows, columns=["lsoa21cd", "month", "crime_type", "street", "restricted"])
    return gpd.GeoDataFrame(
        {
            "incident_id": [f"t{i}" for i in range(len(frame))],
            "source": np.where(frame["restricted"], "local", "police-uk"),
            "month": pd.to_datetime(frame["month"]),
            "crime_type": frame["crime_type"],
            "location_text": "On or near " + frame["street"],
            "restricted": frame["restricted"].astype(bool),
            "snap_point": ~frame["restricted"].astype(bool),
            "lsoa21cd": frame["lsoa21cd"],
            "lad_cd": "E07000081",
            "ward_nm": "",
            "status": "ok",
        },
        geometry=points.reindex(frame["lsoa21cd"]).to_numpy(),
        crs=CRS_BNG,
    )


@pytest.fixture(scope="module")
def incidents(lsoas):
    rows = []
    # LSOA A: 6 incidents, 4 ASB (Jan-Mar) + 2 burglary (Jul, Aug) on two streets.
    for month in ("2025-01", "2025-02", "2025-03", "2025-03"):
        rows.append((A, month, "Anti-social behaviour", "Milford Close", False))
    rows += [(A, "2025-07", "Burglary", "Gifford Close", False)]
    rows += [(A, "2025-08", "Burglary", "Milford Close", True)]
    # LSOA B: 3 incidents; LSOA C: 1 incident.
    for month in ("2025-04", "2025-05", "2025-06"):
        rows.append((B, month, "Shoplifting", "Shopping Area", False))
    rows += [(C, "2025-09", "Drugs", "Some Road", False)]
    return _incidents(lsoas, rows)


# --------------------------------------------------------------------------------------------
# selections


def test_selection_from_codes_is_union_of_lsoas(pack, lsoas):
    sel = focus.selection_from(pack, lsoa_codes=[B, A, A])
    assert sel.kind == "lsoa" and sel.match == "codes"
    assert sel.lsoa_codes == sorted([A, B])
    expected = lsoas.loc[A].geometry.area + lsoas.loc[B].geometry.area
    assert sel.geometry.area == pytest.approx(expected, rel=1e-9)


def test_selection_from_unknown_code_names_it(pack):
    with pytest.raises(ValueError, match="E01999999"):
        focus.selection_from(pack, lsoa_codes=[A, "E01999999"])


def test_selection_needs_exactly_one_selector(pack):
    with pytest.raises(ValueError, match="exactly one"):
        focus.selection_from(pack)
    with pytest.raises(ValueError, match="exactly one"):
        focus.selection_from(pack, lsoa_codes=[A], ward="Westgate")


def test_ward_selection_covers_the_lsoas_mostly_inside_it(pack):
    sel = focus.selection_from(pack, ward="westgate")  # case-insensitive name
    wards = lsoa_wards(pack, "lsoa21")
    west = wards[wards["ward_nm"] == "Westgate"].index
    assert sel.kind == "ward" and sel.label == "Westgate" and sel.match == "geometry"
    assert set(sel.lsoa_codes) == set(west)
    by_code = focus.selection_from(pack, ward="E05010967")
    assert by_code.geometry.equals(sel.geometry)


def test_unknown_ward_suggests_close_names(pack):
    with pytest.raises(ValueError, match="did you mean Westgate"):
        focus.selection_from(pack, ward="Westgat")


def test_drawn_polygon_in_wgs84_selects_the_lsoa_it_covers(pack, lsoas):
    outline = gpd.GeoSeries([lsoas.loc[A].geometry.buffer(5)], crs=CRS_BNG).to_crs(CRS_WGS84)
    feature = {"type": "Feature", "properties": {}, "geometry": mapping(outline.iloc[0])}
    sel = focus.selection_from(pack, polygon=feature)
    assert sel.kind == "polygon" and sel.match == "geometry"
    assert sel.lsoa_codes == [A]
    assert sel.geometry.area == pytest.approx(lsoas.loc[A].geometry.buffer(5).area, rel=1e-3)


def test_drawn_line_is_refused(pack):
    line = {"type": "LineString", "coordinates": [[-2.25, 51.86], [-2.24, 51.87]]}
    with pytest.raises(ValueError, match="Polygon or MultiPolygon"):
        focus.selection_from(pack, polygon=line)


def test_locality_is_a_circle_around_its_point(pack):
    sel = focus.selection_from(pack, locality="Tredworth", radius_m=300)
    assert sel.kind == "locality" and sel.label == "Tredworth (300 m)"
    assert sel.geometry.area == pytest.approx(math.pi * 300**2, rel=0.01)
    assert sel.geometry.centroid.distance(Point(383866, 217027)) < 1


def test_hotspot_row_keeps_rank_and_label(pack, lsoas):
    row = pd.Series({"rank": 2, "label": "Westgate: Eastgate Street", "geometry":
                     lsoas.loc[B].geometry})
    sel = focus.selection_from(pack, hotspot=row)
    assert sel.label == "#2 Westgate: Eastgate Street"
    assert sel.lsoa_codes == [B]


def test_selection_geojson_is_wgs84(pack):
    feature = focus.selection_from(pack, lsoa_codes=[A]).to_geojson()
    lon, lat = np.asarray(shapely.geometry.shape(feature["geometry"]).centroid.coords[0])
    assert -2.4 < lon < -2.1 and 51.7 < lat < 52.0
    assert feature["properties"]["lsoa_codes"] == [A]


# --------------------------------------------------------------------------------------------
# summaries


def test_summary_of_one_lsoa_against_the_district(pack, incidents, lsoas):
    s = focus.summarise(incidents, pack, [A])
    pop = population(pack, "lsoa21")
    district_pop = pop.reindex(lsoas.index).sum()
    assert s["incidents"] == 6
    assert s["district"]["incidents"] == 10
    assert s["population"] == round(pop[A])
    assert s["rate_per_1000"] == pytest.approx(6 / pop[A] * 1000)
    assert s["district"]["rate_per_1000"] == pytest.approx(10 / district_pop * 1000)
    assert s["share_of_district_incidents"] == pytest.approx(0.6)
    area_share = lsoas.loc[A].geometry.area / lsoas.geometry.area.sum()
    assert s["share_of_district_area"] == pytest.approx(area_share)
    assert s["concentration"] == pytest.approx(0.6 / area_share)
    mix = {r["crime_type"]: (r["incidents"], r["share"]) for r in s["crime_types"]}
    assert mix == {"Anti-social behaviour": (4, pytest.approx(4 / 6)),
                   "Burglary": (2, pytest.approx(2 / 6))}
    assert s["crime_types"][0]["district_share"] == pytest.approx(0.4)
    assert s["top_streets"] == [
        {"street": "Milford Close", "incidents": 5},
        {"street": "Gifford Close", "incidents": 1},
    ]
    monthly = {r["month"]: (r["incidents"], r["district"]) for r in s["monthly"]}
    assert monthly["2025-03"] == (2, 2) and monthly["2025-05"] == (0, 1)
    assert [r["month"] for r in s["monthly"]] == [f"2025-0{m}" for m in range(1, 10)]
    # last 3 months (Jul-Sep): 2 in A; the 3 before (Apr-Jun): 0 -> no percentage
    assert s["change"]["recent"] == 2 and s["change"]["previous"] == 0
    assert s["change"]["percent"] is None
    stats = areas.area_stats(incidents, pack, "lsoa21").set_index("code")
    assert s["imd_deciles"] == {str(int(stats.loc[A, "imd_decile"])): 1}
    assert s["snap_point_share"] == pytest.approx(5 / 6)
    assert [r["code"] for r in s["lsoas"]] == [A]
    assert s["lsoas"][0]["incidents"] == 6
    json.dumps(s)  # JSON-ready


def test_summary_filters_period_and_types(pack, incidents):
    s = focus.summarise(incidents, pack, [A], start="2025-03", end="2025-08",
                        crime_types=["Burglary"])
    assert s["incidents"] == 2 and s["district"]["incidents"] == 2
    assert s["period"] == {"from": "2025-07", "to": "2025-08", "months": 2,
                           "crime_types": ["Burglary"]}
    asb = focus.summarise(incidents, pack, [A, B], crime_types=["asb"])
    assert asb["incidents"] == 4


def test_geometry_selection_counts_points_inside(pack, incidents, lsoas):
    outline = lsoas.loc[A].geometry.union(lsoas.loc[C].geometry)
    s = focus.summarise(incidents, pack, outline)
    assert s["incidents"] == 7
    assert s["selection"]["match"] == "geometry"
    pop = population(pack, "lsoa21")
    assert s["population"] == pytest.approx(pop[A] + pop[C], abs=1)


def test_empty_selection_has_zero_incidents(pack, incidents, lsoas):
    s = focus.summarise(incidents, pack, ["E01022280"])
    assert s["incidents"] == 0 and s["rate_per_1000"] == 0
    assert s["crime_types"] == [] and s["top_streets"] == []
    assert s["share_of_district_incidents"] == 0


def test_summary_on_the_real_sample_agrees_with_the_geocoder(pack, sample_ok):
    real = sample_ok
    s = focus.summarise(real, pack, focus.selection_from(pack, ward="Westgate"))
    assert s["district"]["incidents"] == len(real)
    assert s["incidents"] == int((real["ward_nm"] == "Westgate").sum())
    assert s["incidents"] > 1000
    assert s["rate_ratio"] > 1  # the city centre has more incidents per resident


# --------------------------------------------------------------------------------------------
# comparison


def test_compare_lays_summaries_side_by_side(pack, incidents):
    a = focus.summarise(incidents, pack, [A])
    b = focus.summarise(incidents, pack, [B])
    table = focus.compare({"North": a, "Centre": b})
    assert list(table.columns) == ["North", "Centre", "District"]
    assert table.loc["Incidents"].tolist() == [6, 3, 10]
    assert table.loc["Top crime type", "Centre"] == "Shoplifting"
    assert table.loc["Share of district incidents", "District"] == 1.0
    assert table.loc["LSOAs", "North"] == 1
    with pytest.raises(ValueError):
        focus.compare({})


# --------------------------------------------------------------------------------------------
# ranking


def _candidates():
    return pd.DataFrame(
        {
            "code": ["X", "Y", "Z"],
            "name": ["x", "y", "z"],
            "count": [10, 30, 20],
            "rate_per_1000": [5.0, 1.0, 3.0],
            "imd_decile": [1, 10, 4],
        }
    )


def test_rank_candidates_explains_each_component():
    trend = pd.Series([50.0, -10.0, 0.0])
    table = focus.rank_candidates(_candidates(), trend, {"count": 1, "rate": 1, "trend": 1,
                                                          "deprivation": 1})
    assert table.attrs["weights"] == {k: 0.25 for k in focus.DEFAULT_WEIGHTS}
    x = table.set_index("id").loc["X"]
    # count 10 is lowest (percentile 1/3), rate and trend highest (1.0), decile 1 -> 1.0
    assert x["count_scaled"] == pytest.approx(1 / 3)
    assert x["rate_points"] == pytest.approx(25.0)
    assert x["deprivation_scaled"] == pytest.approx(1.0)
    assert x["score"] == pytest.approx(25 / 3 + 25 + 25 + 25)
    y = table.set_index("id").loc["Y"]
    assert y["deprivation_points"] == 0 and y["count_points"] == pytest.approx(25)
    assert table["id"].tolist() == ["X", "Z", "Y"]
    assert table["position"].tolist() == [1, 2, 3]
    points = table[[f"{c}_points" for c in focus.DEFAULT_WEIGHTS]].sum(axis=1)
    np.testing.assert_allclose(points, table["score"])


def test_rank_candidates_weights_change_the_order():
    by_count = focus.rank_candidates(_candidates(), None, {"count": 1, "rate": 0,
                                                            "deprivation": 0})
    assert by_count["id"].tolist() == ["Y", "Z", "X"]
    # no trend given: its weight is dropped and the others renormalised
    assert by_count.attrs["weights"]["trend"] == 0
    assert by_count.attrs["weights"]["count"] == 1


def test_rank_candidates_refuses_bad_weights():
    with pytest.raises(ValueError, match="negative"):
        focus.rank_candidates(_candidates(), None, {"count": -1})
    with pytest.raises(ValueError, match="unknown weight"):
        focus.rank_candidates(_candidates(), None, {"size": 1})
    with pytest.raises(ValueError, match="positive weight"):
        focus.rank_candidates(_candidates(), None, {"count": 0, "rate": 0, "deprivation": 0})


def test_rank_hotspots_uses_n_incidents_and_labels(lsoas):
    spots = gpd.GeoDataFrame(
        {"rank": [1, 2], "label": ["a", "b"], "n_incidents": [5, 9]},
        geometry=[lsoas.loc[A].geometry, lsoas.loc[B].geometry],
        crs=CRS_BNG,
    )
    table = focus.rank_candidates(spots)
    assert table["id"].tolist() == ["hotspot 2", "hotspot 1"]
    assert table["name"].tolist() == ["b", "a"]
    assert table.attrs["weights"]["count"] == 1.0


def test_period_change_by_code_and_by_polygon(incidents, lsoas, pack):
    stats = areas.area_stats(incidents, pack, "lsoa21")
    by_code = focus.period_change(incidents, stats, key="lsoa21cd")
    by_code.index = stats["code"]
    # window 3: recent Jul-Sep, previous Apr-Jun. B: 0 vs 3 -> -100 %; A: 2 vs 0 -> NaN
    assert by_code[B] == pytest.approx(-100.0)
    assert np.isnan(by_code[A])
    spots = gpd.GeoDataFrame(geometry=[lsoas.loc[B].geometry, lsoas.loc[C].geometry],
                             crs=CRS_BNG)
    by_polygon = focus.period_change(incidents, spots)
    assert by_polygon.iloc[0] == pytest.approx(-100.0)
    assert np.isnan(by_polygon.iloc[1])  # C: 1 vs 0
    short = incidents[incidents["month"] >= "2025-05"]
    assert focus.period_change(short, spots).isna().all()  # fewer than 6 months


# --------------------------------------------------------------------------------------------
# exports


@pytest.fixture(scope="module")
def ward_summary(pack, incidents):
    sel = focus.selection_from(pack, lsoa_codes=[A, C])
    return sel, focus.summarise(incidents, pack, sel)


def test_export_geojson_has_outline_then_lsoas(pack, ward_summary):
    sel, summary = ward_summary
    doc = focus.export_geojson("North <pilot>", "notes", sel.geometry, summary, pack)
    kinds = [f["properties"]["feature_kind"] for f in doc["features"]]
    assert kinds == ["focus_area", "lsoa", "lsoa"]
    head = doc["features"][0]["properties"]
    assert head["name"] == "North <pilot>" and head["incidents"] == 7
    assert head["lsoa_codes"] == ",".join(sorted([A, C]))
    codes = {f["properties"]["code"]: f["properties"]["incidents"] for f in doc["features"][1:]}
    assert codes == {A: 6, C: 1}
    lon, lat = doc["features"][1]["geometry"]["coordinates"][0][0][0]
    assert -2.4 < lon < -2.1 and 51.7 < lat < 52.0


def test_export_csv_lists_lsoas_with_statistics(ward_summary):
    _, summary = ward_summary
    table = pd.read_csv(io.StringIO(focus.export_csv(summary)))
    assert list(table.columns) == ["code", "name", "ward_nm", "share_in_selection", "incidents",
                                   "population", "rate_per_1000", "imd_decile"]
    assert table.set_index("code")["incidents"].to_dict() == {A: 6, C: 1}
    assert (table["share_in_selection"] == 1).all()


def test_export_gpkg_has_two_layers_in_bng(pack, ward_summary, tmp_path):
    sel, summary = ward_summary
    data = focus.export_gpkg("North", "", sel.geometry, summary, pack)
    assert data[:16] == b"SQLite format 3\x00"
    path = tmp_path / "out.gpkg"
    path.write_bytes(data)
    assert sorted(pyogrio.list_layers(path)[:, 0]) == ["focus_area", "lsoas"]
    outline = pyogrio.read_dataframe(path, layer="focus_area")
    assert outline.crs.to_epsg() == 27700
    assert outline.loc[0, "incidents"] == 7
    assert outline.geometry.iloc[0].area == pytest.approx(sel.geometry.area, rel=1e-6)
    lsoa_rows = pyogrio.read_dataframe(path, layer="lsoas")
    assert sorted(lsoa_rows["code"]) == sorted([A, C])


def test_candidate_ranking_uses_the_sound_rate(sample_geocoded, pack):
    ranked = focus.rank_candidates(areas.area_stats(sample_geocoded, pack, "lsoa21"))
    ranked = ranked.set_index("name")
    centre = ranked.loc["Gloucester 004F"]
    assert centre["rate_basis"] == "per 1,000 workday population per year"
    assert centre["rate_per_1000"] == pytest.approx(2691 / 3981.1 * 1000 * 12 / 9, rel=1e-3)
    assert set(ranked["rate_basis"]) == {
        "per 1,000 workday population per year",
        "per 1,000 residents per year",
    }


def test_summary_of_the_city_centre_uses_workday_population(pack, sample_ok):
    centre = focus.summarise(sample_ok, pack, ["E01032937"])  # Gloucester 004F
    sound = centre["sound_rate"]
    assert sound["basis"] == "workday population" and sound["flagged_lsoas"] == ["Gloucester 004F"]
    assert "poor denominator in Gloucester 004F" in sound["note"]
    assert sound["rate_per_1000_year"] == pytest.approx(2691 / 3981.1 * 1000 * 12 / 9, rel=1e-3)
    quiet = focus.summarise(sample_ok, pack, ["E01022313"])  # Longlevens: residents are fine
    assert quiet["sound_rate"]["basis"] == "residents"
    assert quiet["sound_rate"]["rate_per_1000_year"] == pytest.approx(
        quiet["rate_per_1000"] * 12 / 9
    )
