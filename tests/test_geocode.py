"""Geocoding onto LSOA / ward / district polygons: constructed cases and the real sample."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point, Polygon, box

from geo_ssgp.config import get_settings
from geo_ssgp.geocode import (
    MEMORY_COLUMNS,
    SNAP_DISTANCE_M,
    geocode,
    inside_area,
    lsoa_agreement,
    map_point_memory,
    recall_map_points,
)
from geo_ssgp.incidents import read_incidents
from geo_ssgp.pack import load_layer, load_pack
from geo_ssgp.schema import EDGE_TOLERANCE_M, GEOCODE_COLUMNS

X0, Y0 = 380_000.0, 215_000.0  # origin of the constructed pack (BNG metres)


def _sq(x1, y1, x2, y2, hole=None):
    shell = box(X0 + x1, Y0 + y1, X0 + x2, Y0 + y2)
    if hole is None:
        return shell
    return Polygon(shell.exterior.coords, [box(*(np.add(hole, [X0, Y0, X0, Y0]))).exterior.coords])


def _pt(x, y):
    return Point(X0 + x, Y0 + y)


def _write_layer(path, rows, code="CD", name="NM"):
    gdf = gpd.GeoDataFrame(
        {code: [r[0] for r in rows], name: [r[1] for r in rows]},
        geometry=[r[2] for r in rows],
        crs="EPSG:27700",
    )
    gdf.to_file(path, driver="GPKG")


def build_pack(tmp_path, *, lsoa21=True, ward=True, lookups=False):
    """A small area pack in BNG.

    District E07000001 "Alpha" = [0,300]x[0,400], E07000002 "Beta" = [300,600]x[0,400].
    LSOA A E01000001 = [0,150]x[0,190] with a hole [50,100]x[50,100] filled by
    E01000003; LSOA 2011 E01000002 = [150,300]x[0,190], split in 2021 into E01000004
    (y < 95) and E01000005 (y > 95). The strip y in [190, 400] of Alpha has no LSOA.
    Wards: E05000001 = [0,150]x[0,400], E05000002 = [150,300]x[0,400].
    """
    a = ("E01000001", "Alpha 001A", _sq(0, 0, 150, 190, hole=(50, 50, 100, 100)))
    h = ("E01000003", "Alpha 001C", _sq(50, 50, 100, 100))
    _write_layer(
        tmp_path / "lsoa11.gpkg", [a, ("E01000002", "Alpha 001B", _sq(150, 0, 300, 190)), h]
    )
    b1 = ("E01000004", "Alpha 001D", _sq(150, 0, 300, 95))
    b2 = ("E01000005", "Alpha 001E", _sq(150, 95, 300, 190))
    _write_layer(tmp_path / "lsoa21.gpkg", [a, h, b1, b2])
    _write_layer(
        tmp_path / "ward.gpkg",
        [("E05000001", "West", _sq(0, 0, 150, 400)), ("E05000002", "East", _sq(150, 0, 300, 400))],
    )
    _write_layer(
        tmp_path / "district.gpkg",
        [("E07000001", "Alpha", _sq(0, 0, 300, 400)), ("E07000002", "Beta", _sq(300, 0, 600, 400))],
    )
    pd.DataFrame(
        {
            "L11": ["E01000001", "E01000002", "E01000003"],
            "L21": ["E01000001", "E01000004", "E01000003"],
            "L21NM": ["Alpha 001A", "Alpha 001D", "Alpha 001C"],
            "LAD": ["E07000001"] * 3,
        }
    ).to_csv(tmp_path / "bestfit.csv", index=False)
    pd.DataFrame(
        {
            "L11": ["E01000001", "E01000002", "E01000003"],
            "WD": ["E05000101", "E05000102", "E05000101"],
            "WDNM": ["Old West", "Old East", "Old West"],
            "LAD": ["E07000001"] * 3,
        }
    ).to_csv(tmp_path / "wards11.csv", index=False)
    text = [
        "[pack]",
        'name = "test"',
        'district_codes = ["E07000001"]',
        'county_name = "Testshire"',
        'county_district_codes = ["E07000001", "E07000002"]',
        '[layers.lsoa11]\nfile = "lsoa11.gpkg"\ncode = "CD"\nname = "NM"',
        '[layers.district]\nfile = "district.gpkg"\ncode = "CD"\nname = "NM"',
    ]
    if lsoa21:
        text.append('[layers.lsoa21]\nfile = "lsoa21.gpkg"\ncode = "CD"\nname = "NM"')
    if ward:
        text.append('[layers.ward]\nfile = "ward.gpkg"\ncode = "CD"\nname = "NM"')
    if lookups:
        text.append(
            '[lookups.lsoa11_lsoa21_bestfit]\nfile = "bestfit.csv"\n'
            'lsoa11 = "L11"\nlsoa21 = "L21"\nlsoa21_name = "L21NM"\nlad = "LAD"'
        )
        text.append(
            '[lookups.lsoa11_ward]\nfile = "wards11.csv"\nlsoa11 = "L11"\n'
            'ward_code = "WD"\nward_name = "WDNM"\nlad = "LAD"'
        )
    manifest = tmp_path / "test.toml"
    manifest.write_text("\n".join(text) + "\n", encoding="utf-8")
    return load_pack(get_settings(data_dir=tmp_path, pack=str(manifest)))


def _points(points, index=None):
    return gpd.GeoDataFrame(
        {"incident_id": [f"i{k}" for k in range(len(points))]},
        geometry=list(points),
        crs="EPSG:27700",
        index=index,
    )


# ---------------------------------------------------------------------------------------
# Constructed pack


@pytest.fixture(scope="module")
def small_pack(tmp_path_factory):
    return build_pack(tmp_path_factory.mktemp("pack"))


CASES = {
    # label: (x, y, lsoa21, lsoa11, ward, lad, status, ambiguous, edge distance)
    "interior": (20, 20, "E01000001", "E01000001", "E05000001", "E07000001", "ok", False, 20.0),
    "shared_edge": (150, 40, "E01000001", "E01000001", "E05000001", "E07000001", "ok", True, 0.0),
    "hole": (75, 75, "E01000003", "E01000003", "E05000001", "E07000001", "ok", False, 25.0),
    "near_hole_edge": (75, 52, "E01000003", "E01000003", "E05000001", "E07000001", "ok", True, 2.0),
    "split_part": (200, 150, "E01000005", "E01000002", "E05000002", "E07000001", "ok", False, 40),
    "gap_snapped": (100, 195, "E01000001", "E01000001", "E05000001", "E07000001", "ok", True, 5),
    "gap_tie": (150, 196, "E01000001", "E01000001", "E05000001", "E07000001", "ok", True, 6.0),
    "gap_too_far": (100, 350, None, None, None, "E07000001", "outside_area", False, np.nan),
    "other_district": (450, 100, None, None, None, "E07000002", "outside_area", False, np.nan),
    "outside_county": (2000, 2000, None, None, None, None, "outside_area", False, np.nan),
}


@pytest.fixture(scope="module")
def small_result(small_pack):
    pts = [_pt(c[0], c[1]) for c in CASES.values()]
    incidents = _points(pts, index=pd.Index([10 * k + 7 for k in range(len(pts))]))
    return incidents, geocode(incidents, small_pack)


@pytest.mark.parametrize("label", list(CASES))
def test_constructed_case(small_result, label):
    _, out = small_result
    x, y, l21, l11, ward, lad, status, ambiguous, edge = CASES[label]
    row = out.iloc[list(CASES).index(label)]

    def same(value, expected):
        return pd.isna(value) if expected is None else value == expected

    assert same(row["lsoa21cd"], l21)
    assert same(row["lsoa11cd"], l11)
    assert same(row["ward_cd"], ward)
    assert same(row["lad_cd"], lad)
    assert row["status"] == status
    assert bool(row["ambiguous"]) is ambiguous
    if np.isnan(edge):
        assert np.isnan(row["edge_distance_m"])
    else:
        assert row["edge_distance_m"] == pytest.approx(edge, abs=1e-6)


def test_names_carried(small_result):
    _, out = small_result
    row = out.iloc[list(CASES).index("split_part")]
    assert (row["lsoa21nm"], row["lsoa11nm"], row["ward_nm"]) == (
        "Alpha 001E",
        "Alpha 001B",
        "East",
    )
    outside = out[out["status"] == "outside_area"]
    assert outside[["lsoa21nm", "lsoa11nm", "ward_nm"]].isna().all().all()


def test_output_shape_index_and_input_untouched(small_result):
    incidents, out = small_result
    assert list(out.columns) == list(incidents.columns) + GEOCODE_COLUMNS
    assert out.index.equals(incidents.index)
    assert "status" not in incidents.columns
    assert out.crs == incidents.crs
    assert out["edge_distance_m"].dtype == np.float64
    assert out["ambiguous"].dtype == bool
    assert out.attrs["geocode"]["pack"] == "test"
    assert out.attrs["geocode"]["snap_distance_m"] == SNAP_DISTANCE_M


def test_wgs84_input_is_reprojected(small_pack):
    inner = [_pt(20, 20), _pt(75, 75), _pt(200, 150), _pt(450, 100)]
    bng = geocode(_points(inner), small_pack)
    wgs = geocode(_points(inner).to_crs("EPSG:4326"), small_pack)
    for col in ("lsoa21cd", "lsoa11cd", "ward_cd", "lad_cd", "status"):
        assert list(wgs[col].fillna("-")) == list(bng[col].fillna("-"))
    assert np.allclose(wgs["edge_distance_m"], bng["edge_distance_m"], atol=1e-3, equal_nan=True)


def test_missing_crs_and_geometry(small_pack):
    no_crs = gpd.GeoDataFrame({"a": [1]}, geometry=[_pt(20, 20)])
    with pytest.raises(ValueError, match="no CRS"):
        geocode(no_crs, small_pack)
    holes = _points([_pt(20, 20), None, Point()])
    out = geocode(holes, small_pack)
    assert list(out["status"]) == ["ok", "outside_area", "outside_area"]
    assert out["lad_cd"].isna().tolist() == [False, True, True]


def test_empty_input(small_pack):
    out = geocode(_points([]), small_pack)
    assert len(out) == 0 and list(out.columns)[-len(GEOCODE_COLUMNS) :] == GEOCODE_COLUMNS


def test_pack_without_lsoa21_and_ward_polygons_uses_lookups(tmp_path):
    pack = build_pack(tmp_path, lsoa21=False, ward=False, lookups=True)
    assert pack.primary_lsoa == "lsoa11"
    out = geocode(_points([_pt(20, 20), _pt(200, 150), _pt(75, 75), _pt(450, 100)]), pack)
    assert out["lsoa11cd"].tolist()[:3] == ["E01000001", "E01000002", "E01000003"]
    # best fit: the split 2011 LSOA maps to one 2021 part only
    assert out["lsoa21cd"].tolist()[:3] == ["E01000001", "E01000004", "E01000003"]
    assert out["lsoa21nm"].tolist()[:3] == ["Alpha 001A", "Alpha 001D", "Alpha 001C"]
    assert out["ward_cd"].tolist()[:3] == ["E05000101", "E05000102", "E05000101"]
    assert out["ward_nm"].tolist()[:3] == ["Old West", "Old East", "Old West"]
    assert out["status"].tolist() == ["ok", "ok", "ok", "outside_area"]
    assert pd.isna(out["ward_cd"].iloc[3]) and out["lad_cd"].iloc[3] == "E07000002"
    # the edge distance is measured on the primary (2011) layer
    assert out["edge_distance_m"].iloc[1] == pytest.approx(40.0)


def test_agreement_on_constructed_labels(small_pack):
    pts = [_pt(20, 20), _pt(200, 150), _pt(200, 50), _pt(75, 75), _pt(450, 100), _pt(20, 30)]
    incidents = _points(pts)
    incidents["source_lsoa"] = ["E01000001", "E01000005", "E01000005", "", "E01000009", ""]
    incidents["source_lsoa_name"] = [
        "Alpha 001A", "Alpha 001E", "Alpha 001E", "Alpha 001C", "Beta 001A", "",
    ]  # fmt: skip
    out = geocode(incidents, small_pack)
    report = lsoa_agreement(out)  # the pack is found through attrs
    # compared: rows 0-2 on code, row 3 on name; row 4 is Beta, row 5 has no label
    assert (report.n_compared, report.n_agree) == (4, 3)
    assert report.compared_on == {"code": 3, "name": 1}
    assert report.share == pytest.approx(0.75)
    dis = report.disagreements
    assert dis.index.tolist() == [2]
    assert dis.iloc[0][["source_lsoa", "ours_cd"]].tolist() == ["E01000005", "E01000004"]
    assert dis.iloc[0]["edge_distance_m"] == pytest.approx(45.0)
    assert dis.iloc[0]["distance_to_source_m"] == pytest.approx(45.0)
    assert report.near_edge() == {5.0: 0, 20.0: 0, 50.0: 1}
    assert report.to_dict()["n_disagree"] == 1
    out.attrs = {}
    with pytest.raises(ValueError, match="pass pack="):
        lsoa_agreement(out)
    assert lsoa_agreement(out, pack=small_pack).n_agree == 3
    with pytest.raises(ValueError, match="level"):
        lsoa_agreement(out, level="ward", pack=small_pack)


def _labelled(rows):
    """Police.uk-like rows ``(x, y, month, source_lsoa, snap_point)`` on the small pack."""
    return gpd.GeoDataFrame(
        {
            "incident_id": [f"r{k}" for k in range(len(rows))],
            "month": pd.to_datetime([r[2] for r in rows]),
            "source_lsoa": [r[3] for r in rows],
            "snap_point": [r[4] for r in rows],
        },
        geometry=[_pt(r[0], r[1]) for r in rows],
        crs="EPSG:27700",
    )


#: Map point 5 m south of the E01000004 / E01000005 edge (y = 95), inside E01000004.
EDGE_POINT = (200, 90)


def test_map_point_memory_learns_police_uk_codes_per_point_and_month():
    history = _labelled(
        [
            (*EDGE_POINT, "2025-01", "E01000005", True),
            (*EDGE_POINT, "2025-01", "E01000005", True),
            (*EDGE_POINT, "2025-03", "E01000004", True),
            (*EDGE_POINT, "2025-01", "", True),  # no code: not learnt
            (*EDGE_POINT, "2025-01", "E01000001", False),  # not a map point: not learnt
        ]
    )
    memory = map_point_memory(history, None, pd.DataFrame({"a": [1]}))
    assert list(memory.columns) == MEMORY_COLUMNS
    assert memory[["lsoa21cd", "n"]].values.tolist() == [["E01000005", 2], ["E01000004", 1]]
    assert set(memory["x"]) == {X0 + 200} and set(memory["y"]) == {Y0 + 90}
    assert map_point_memory().empty and list(map_point_memory().columns) == MEMORY_COLUMNS


def test_recall_uses_earlier_months_of_the_same_map_point_in_the_band_only(small_pack):
    history = _labelled(
        [(*EDGE_POINT, "2025-01", "E01000005", True)] * 2
        + [(*EDGE_POINT, "2025-03", "E01000004", True)] * 5
        + [
            (200, 50, "2025-01", "E01000005", True),  # 45 m from the edge
            (250, 92, "2025-01", "E01000001", True),  # that LSOA is 100 m away
            (260, 92, "2025-01", "E01999999", True),  # not an LSOA of the pack
        ]
    )
    cases = {
        # label: (x, y, month, snap point, expected LSOA 2021, expected rule)
        "earlier month": (*EDGE_POINT, "2025-02", True, "E01000005", "map_point"),
        "same month only": (*EDGE_POINT, "2025-01", True, "E01000004", "polygon"),
        "majority of earlier months": (*EDGE_POINT, "2025-04", True, "E01000004", "map_point"),
        "not a map point": (*EDGE_POINT, "2025-02", False, "E01000004", "polygon"),
        "outside the band": (200, 50, "2025-02", True, "E01000004", "polygon"),
        "code too far away": (250, 92, "2025-02", True, "E01000004", "polygon"),
        "code not in the pack": (260, 92, "2025-02", True, "E01000004", "polygon"),
        "never seen": (210, 90, "2025-02", True, "E01000004", "polygon"),
    }
    batch = _labelled([(x, y, m, "", snap) for x, y, m, snap, _, _ in cases.values()])
    geocoded = geocode(batch, small_pack)
    out = recall_map_points(geocoded, map_point_memory(history, geocoded), small_pack)
    assert dict(zip(cases, out["lsoa21cd"], strict=True)) == {k: c[4] for k, c in cases.items()}
    assert dict(zip(cases, out["lsoa_rule"], strict=True)) == {k: c[5] for k, c in cases.items()}
    first = out.iloc[0]
    assert (first["lsoa21nm"], first["lsoa11cd"], first["ward_cd"]) == (
        "Alpha 001E", "E01000002", "E05000002",
    )  # fmt: skip
    assert first["edge_distance_m"] == pytest.approx(5.0) and first["ambiguous"]
    assert out.attrs["geocode"]["map_point_rows"] == 2
    # the input is not changed; rows are matched by position (a repeated index is fine)
    assert (geocoded["lsoa_rule"] == "polygon").all()
    repeated = geocoded.set_axis([7] * len(geocoded))
    again = recall_map_points(repeated, map_point_memory(history), small_pack)
    assert again["lsoa21cd"].tolist() == out["lsoa21cd"].tolist()


def test_recall_without_lsoa21_polygons_is_a_no_op(tmp_path):
    pack = build_pack(tmp_path, lsoa21=False, ward=False, lookups=True)
    history = _labelled([(*EDGE_POINT, "2025-01", "E01000005", True)])
    batch = geocode(_labelled([(*EDGE_POINT, "2025-02", "", True)]), pack)
    out = recall_map_points(batch, map_point_memory(history), pack)
    assert out["lsoa21cd"].tolist() == ["E01000004"] and out["lsoa_rule"].tolist() == ["polygon"]


# ---------------------------------------------------------------------------------------
# Real sample (Gloucester pack)


@pytest.fixture(scope="module")
def street(sample_result, sample_geocoded):
    """The nine 2025 police.uk street files, ingested and geocoded once per session."""
    return sample_result.incidents, sample_geocoded


@pytest.fixture(scope="module")
def raw_street(sample_csv_rows):
    """The same files read independently with pandas (rows with a location)."""
    return sample_csv_rows


def test_real_every_gloucester_row_ok(street, raw_street):
    incidents, out = street
    assert len(out) == len(raw_street) == 43_590
    assert out.index.equals(incidents.index)
    glos = out["source_lsoa_name"].str.startswith("Gloucester ")
    assert glos.sum() == raw_street["LSOA name"].str.startswith("Gloucester ").sum() == 14_331
    assert (out.loc[glos, "status"] == "ok").all()
    assert (out.loc[glos, "lad_cd"] == "E07000081").all()
    ok = out["status"] == "ok"
    assert (out.loc[ok, "lad_cd"] == "E07000081").all()
    assert out.loc[ok, ["lsoa21cd", "lsoa11cd", "ward_cd"]].notna().all().all()
    # the 196 rows located outside Gloucestershire have no district at all
    assert out["lad_cd"].isna().sum() == 196


def test_real_lsoa21_agreement(street):
    _, out = street
    report = lsoa_agreement(out, level="lsoa21")
    glos = out["source_lsoa_name"].str.startswith("Gloucester ")
    expected_agree = int((out.loc[glos, "lsoa21cd"] == out.loc[glos, "source_lsoa"]).sum())
    assert report.n_compared == 14_331
    assert report.n_agree == expected_agree
    assert report.share >= 0.984
    # every disagreement is a point close to a generalised LSOA boundary
    assert (report.disagreements["edge_distance_m"] < 20).all()
    near = report.near_edge()
    assert near[50.0] == report.n_compared - report.n_agree
    assert near[5.0] < near[20.0]


def test_real_outside_district_rows_kept(street, pack):
    _, out = street
    outside = out[out["status"] == "outside_area"]
    assert len(outside) == 43_590 - 14_333
    assert outside[["lsoa21cd", "lsoa11cd", "ward_cd"]].isna().all().all()
    # six Stroud-labelled points lie in Gloucester LSOA polygon E01022338 but 8.5 m outside
    # the Gloucester district polygon: outside the area, district Stroud
    lsoa = load_layer(pack, "lsoa21").set_index("code").geometry
    inside_lsoa = outside.geometry.intersects(lsoa["E01022338"])
    assert inside_lsoa.sum() == 6
    assert (outside.loc[inside_lsoa, "lad_cd"] == "E07000082").all()
    assert (outside.loc[inside_lsoa, "source_lsoa_name"] == "Stroud 001B").all()


def _shared_edge_point(layer):
    """A shared-edge midpoint of two real LSOA polygons that lies exactly on both."""
    rows = []
    for code, geom in zip(layer["code"], layer.geometry, strict=True):
        for ring in shapely.get_rings(shapely.get_parts(geom)):
            xy = shapely.get_coordinates(ring)
            for a, b in zip(xy[:-1], xy[1:], strict=True):
                rows.append((code, *sorted([tuple(a), tuple(b)])))
    segs = pd.DataFrame(rows, columns=["code", "p", "q"])
    shared = segs[segs.duplicated(["p", "q"], keep=False)].sort_values(["p", "q", "code"])
    for (p, q), group in shared.groupby(["p", "q"], sort=False):
        mid = Point((p[0] + q[0]) / 2, (p[1] + q[1]) / 2)
        owners = layer[layer.intersects(mid)]
        if len(owners) == 2 and set(owners["code"]) == set(group["code"]):
            return mid, sorted(owners["code"])
    raise AssertionError("no shared edge midpoint found")


def test_real_point_on_shared_edge_goes_to_lowest_code(pack):
    layer = load_layer(pack, "lsoa21")
    mid, codes = _shared_edge_point(layer)
    out = geocode(_points([mid]), pack).iloc[0]
    assert out["lsoa21cd"] == codes[0]
    assert out["ambiguous"]
    assert out["edge_distance_m"] == pytest.approx(0.0, abs=1e-6)
    assert out["status"] == "ok"


def test_real_point_in_hole_goes_to_filling_lsoa(pack):
    for level in ("lsoa21", "lsoa11"):
        layer = load_layer(pack, level).set_index("code").geometry
        holed, filler = layer["E01022345"], layer["E01022346"]
        shell = shapely.Polygon(shapely.get_exterior_ring(shapely.get_parts(holed)[0]))
        point = filler.point_on_surface()
        assert shell.contains(point) and not holed.intersects(point)
        out = geocode(_points([point]), pack).iloc[0]
        assert out[f"{level}cd"] == "E01022346"
        assert out["status"] == "ok"


def test_real_point_just_outside_district(pack):
    districts = load_layer(pack, "district").set_index("code").geometry
    lsoas = load_layer(pack, "lsoa21").union_all()
    glos = districts["E07000081"]
    ring = glos.buffer(40).difference(glos.buffer(20)).difference(lsoas.buffer(1))
    point = ring.intersection(districts["E07000083"]).point_on_surface()
    assert 20 <= glos.distance(point) <= 40
    out = geocode(_points([point]), pack).iloc[0]
    assert out["status"] == "outside_area"
    assert out["lad_cd"] == "E07000083"
    assert pd.isna(out["lsoa21cd"]) and pd.isna(out["ward_cd"]) and not out["ambiguous"]


def test_real_bng_postcodes(pack):
    """Code-Point Open postcodes (BNG eastings/northings) against the provenance figures."""
    df = pd.read_csv(pack.data_dir / "areas/postcodes_gloucester.csv", dtype=str)
    pts = gpd.points_from_xy(df["Eastings"].astype(float), df["Northings"].astype(float))
    out = geocode(gpd.GeoDataFrame(df, geometry=pts, crs="EPSG:27700"), pack)
    glos = df["Admin_district_code"] == "E07000081"
    assert glos.sum() == 3_111
    assert (out["status"] == "ok").tolist() == glos.tolist()
    # PROVENANCE: derived_lsoa21cd agrees with these polygons for 3,108 of 3,111
    assert (out.loc[glos, "lsoa21cd"] == df.loc[glos, "derived_lsoa21cd"]).sum() == 3_108
    # and the ward polygons put 3,110 of 3,111 in Code-Point's own ward
    assert (out.loc[glos, "ward_cd"] == df.loc[glos, "Admin_ward_code"]).sum() == 3_110
    assert (out.loc[glos, "lad_cd"] == "E07000081").all()


def test_real_2022_geojson_lsoa11_by_name(pack):
    path = pack.data_dir / "incidents/other/gloucester_2022-09_violence.json"
    out = geocode(read_incidents([path]).incidents, pack)
    assert (out["status"] == "ok").all() and len(out) == 730
    report = lsoa_agreement(out, level="lsoa11")
    assert report.compared_on == {"code": 0, "name": 730}
    # 709 go to the labelled polygon; one more lies exactly on its edge and the
    # lowest-code rule gives it to the neighbour: 710 in (or on) the labelled polygon,
    # and the other 20 within 7 m of it, as PROVENANCE states
    assert report.n_agree == 709
    dist = report.disagreements["distance_to_source_m"]
    assert (dist == 0).sum() == 1
    assert (dist < 7).all()
    assert len(dist) == 21


def test_real_gloucestershire_pack_on_2021_polygons(county_pack, county_geocoded):
    county, out = county_pack, county_geocoded
    assert county.has("layers", "lsoa21") and not county.has("layers", "ward")
    ok = out["status"] == "ok"
    assert ok.sum() == 43_590 - 196
    data = county.data_dir
    wards = pd.read_csv(data / "boundaries/gloucestershire_lsoa11_ward19_lad19_lookup.csv")
    best = pd.read_csv(data / "areas/lsoa11_lsoa21_bestfit_lookup_gloucestershire.csv")
    expected_ward = out.loc[ok, "lsoa11cd"].map(wards.set_index("LSOA11CD")["WD19CD"])
    best_fit = out.loc[ok, "lsoa11cd"].map(best.set_index("LSOA11CD")["LSOA21CD"])
    assert (out.loc[ok, "ward_cd"] == expected_ward).all()
    # LSOA 2021 from the county polygons: it differs from the best-fit lookup in split LSOAs
    assert 0 < (out.loc[ok, "lsoa21cd"] != best_fit).sum() < 0.1 * ok.sum()
    # the LSOA's district agrees with the district polygon except for the six
    # Stroud-labelled points that lie in Gloucester LSOA E01022338's generalised polygon
    # but just inside the Stroud district polygon
    lsoa_lad = out.loc[ok, "lsoa11cd"].map(wards.set_index("LSOA11CD")["LAD19CD"])
    differ = out.loc[ok][lsoa_lad != out.loc[ok, "lad_cd"]]
    assert len(differ) == 6
    assert set(differ["lsoa11cd"]) == {"E01022338"} and set(differ["lad_cd"]) == {"E07000082"}
    report = lsoa_agreement(out, level="lsoa21")
    assert report.n_compared == 43_590 - 196
    # 2025-01..09: 97.2% agree with police.uk's LSOA 2021 (93.5% through the best-fit
    # lookup); every disagreement lies within 20 m of a generalised (BGC) boundary
    assert report.share > 0.97 and report.near_edge()[20.0] == report.n_compared - report.n_agree


def test_real_county_map_point_memory_on_held_out_months(county_pack, county_geocoded):
    """Is the county pack's LSOA 2021 at least 98% police.uk's on months it did not learn from?

    Split: learn 2025-01..06, score 2025-07..09. Rolling: every month learns from the
    months before it only (2025-01 learns nothing), as the store's ingest does.
    """
    out = county_geocoded
    learn, score = out[out["month"] < "2025-07-01"], out[out["month"] >= "2025-07-01"]
    before = lsoa_agreement(score, pack=county_pack)
    after = lsoa_agreement(
        recall_map_points(score, map_point_memory(learn), county_pack), pack=county_pack
    )
    assert before.n_compared == after.n_compared == 14_799
    assert before.share == pytest.approx(0.973, abs=5e-4)
    assert after.share > 0.998
    assert (after.by_district["share"] > 0.99).all() and len(after.by_district) == 6
    rolling = recall_map_points(out, map_point_memory(out), county_pack)
    used = rolling["lsoa_rule"] == "map_point"
    assert used.sum() == 3_502 and rolling.attrs["geocode"]["map_point_rows"] == 3_502
    # only ambiguous map points from 2025-02 on changed; nothing else moved
    assert rolling.loc[used, "ambiguous"].all()
    assert (rolling.loc[used, "month"] > "2025-01-01").all()
    same = ["lsoa11cd", "ward_cd", "lad_cd", "status"]
    pd.testing.assert_frame_equal(rolling[same], out[same])
    assert rolling.loc[~used, "lsoa21cd"].equals(out.loc[~used, "lsoa21cd"])
    report = lsoa_agreement(rolling, pack=county_pack)
    assert report.share > 0.993 and (report.by_district["share"] > 0.98).all()
    assert lsoa_agreement(out, pack=county_pack).by_district.loc["Cheltenham", "share"] < 0.95


def test_edge_tolerance_flag(street):
    _, out = street
    ok = out[out["status"] == "ok"]
    near = ok["edge_distance_m"] < EDGE_TOLERANCE_M
    assert (ok.loc[near, "ambiguous"]).all()
    # in the real sample no point needed snapping, so ambiguous == near an edge
    assert (ok["ambiguous"] == near).all()


def test_repeated_snap_points_are_located_once_with_the_same_result(pack, sample_ok):
    """Rows sharing a snap point get what each would get alone, in any order."""
    rows = sample_ok[["incident_id", "geometry"]].iloc[:3000].copy()
    assert rows.geometry.duplicated().sum() > 500  # snap points carry many incidents
    together = geocode(rows.iloc[::-1], pack).iloc[::-1]
    alone = pd.concat([geocode(rows.iloc[[i]], pack) for i in range(0, 3000, 97)])
    pd.testing.assert_frame_equal(together.loc[alone.index], alone, check_like=True)
    expected = sample_ok.loc[rows.index, GEOCODE_COLUMNS]
    pd.testing.assert_frame_equal(together[GEOCODE_COLUMNS], expected)


def test_inside_area_keeps_the_rows_geocoded_inside_only():
    """The one rule every analysis uses: ``status == "ok"``; an un-geocoded table passes."""
    table = pd.DataFrame({"status": ["ok", "outside_area", "ok", "no_location"], "n": [1, 2, 3, 4]})
    assert inside_area(table)["n"].tolist() == [1, 3]
    plain = pd.DataFrame({"n": [1, 2]})
    assert inside_area(plain) is plain
