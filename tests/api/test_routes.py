"""HTTP API and pages through FastAPI's TestClient, on the real Gloucester sample.

One app per module (ingesting the sample takes a couple of seconds) on its own temporary
store; a local log with an XSS payload as location text is uploaded once and shared.
"""

from __future__ import annotations

import io
import json
import re

import pandas as pd
import pyogrio
import pytest
from fastapi.testclient import TestClient

from geo_ssgp import maps, pipeline
from geo_ssgp.api.auth import User
from geo_ssgp.filters import Filters
from geo_ssgp.maps.format import js_json
from geo_ssgp.maps.streets import street_data, street_url, street_version
from geo_ssgp.pack import load_layer

ANALYST = {"Authorization": "Bearer dev-analyst"}
PCSO = {"Authorization": "Bearer dev-pcso"}
VIEWER = {"Authorization": "Bearer dev-viewer"}
XSS = "<img src=x onerror=alert(1)>"
LOCAL_LOG = (
    "ref,date,type,lon,lat,location\n"
    f"X1,2025-08-03,ASB,-2.22124,51.88177,{XSS}\n"  # inside E01022313 (Longlevens)
    "X2,2025-08-04,Burglary,,,Nowhere\n"
    "X3,2025-08-05,Juggling,-2.2400,51.8600,Somewhere\n"
)


@pytest.fixture(scope="module")
def uploaded(client):
    r = client.post(
        "/api/uploads", headers=ANALYST, files={"file": ("../my log.csv", LOCAL_LOG, "text/csv")}
    )
    assert r.status_code == 200, r.text
    return r.json()


# --------------------------------------------------------------------------------------------
# health, access


def test_health_needs_no_token_and_reports_the_sample(client, svc):
    r = client.get("/api/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok" and body["pack"] == "gloucester"
    assert body["months"] == {"first": "2025-01", "last": "2025-09"}
    assert body["incidents"] == len(pipeline.analysed_incidents(svc.store)) > 14000


@pytest.mark.parametrize("path", ["/api/areas", "/api/hotspots", "/api/incidents",
                                  "/api/focus-areas", "/api/meta", "/api/candidates"])
def test_data_routes_need_a_valid_token(client, path):
    r = client.get(path)
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    assert client.get(path, headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_token_cookie_and_query_parameter_work(client):
    with TestClient(client.app) as linked:  # ?token= is exchanged for a session cookie
        assert linked.get("/api/meta?token=dev-pcso").json()["role"] == "pcso"
    with TestClient(client.app, cookies={"token": "dev-viewer"}) as browser_like:
        assert browser_like.get("/api/meta").json()["role"] == "viewer"
    assert client.get("/api/meta", headers=ANALYST).json()["role"] == "analyst"


def test_openapi_documents_every_route(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path in ["/api/health", "/api/areas", "/api/hotspots", "/api/incidents",
                 "/api/focus-areas", "/api/focus-areas/{focus_id}",
                 "/api/focus-areas/{focus_id}/summary", "/api/focus-areas/{focus_id}/export",
                 "/api/uploads", "/api/candidates", "/api/selection/summary"]:
        assert path in paths
    params = {p["name"] for p in paths["/api/areas"]["get"]["parameters"]}
    assert {"from", "to", "crime_type", "source", "level"} <= params


# --------------------------------------------------------------------------------------------
# layers


def test_areas_geojson_with_statistics(client, svc):
    r = client.get("/api/areas?from=2025-01&to=2025-03", headers=ANALYST)
    assert r.status_code == 200
    doc = r.json()
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) == 82
    props = doc["features"][0]["properties"]
    assert {"code", "name", "count", "population", "rate_per_1000", "imd_decile"} <= set(props)
    total = sum(f["properties"]["count"] for f in doc["features"])
    inc = pipeline.analysed_incidents(svc.store)
    months = inc["month"].dt.strftime("%Y-%m")
    assert total == int(months.between("2025-01", "2025-03").sum())
    assert doc["parameters"]["start"] == "2025-01" and doc["parameters"]["end"] == "2025-03"
    wards = client.get("/api/areas?level=ward", headers=ANALYST).json()
    assert len(wards["features"]) == 18


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=2025-13", "'2025-13' is not a month"),
        ("to=June", "'June' is not a month"),
        ("from=2025-06&to=2025-01", "is after 'to'"),
        ("crime_type=juggling", "unknown crime type 'juggling'"),
        ("source=twitter", "unknown source 'twitter'"),
    ],
)
def test_bad_filters_get_422_with_a_message(client, query, message):
    r = client.get(f"/api/areas?{query}", headers=ANALYST)
    assert r.status_code == 422
    assert message in json.dumps(r.json())


def test_unknown_level_is_rejected(client):
    r = client.get("/api/areas?level=msoa", headers=ANALYST)
    assert r.status_code == 422


def test_viewer_gets_small_counts_suppressed(client, svc):
    query = "/api/areas?from=2025-09&to=2025-09&crime_type=Robbery"
    full = {f["properties"]["code"]: f["properties"]
            for f in client.get(query, headers=ANALYST).json()["features"]}
    view = client.get(query, headers=VIEWER).json()
    small = {c for c, p in full.items() if 0 < p["count"] < svc.settings.suppress_below}
    assert small, "the test period must have small counts"
    assert view["suppress_below"] == 3
    for f in view["features"]:
        p = f["properties"]
        if p["code"] in small:
            assert p["count"] is None and p["rate_per_1000"] is None and p["suppressed"] is True
        else:
            assert p["count"] == full[p["code"]]["count"] and p["suppressed"] is False


def test_hotspots_geojson_carries_parameters(client):
    r = client.get("/api/hotspots?from=2025-07&to=2025-09", headers=ANALYST)
    assert r.status_code == 200
    doc = r.json()
    assert doc["method"] == "grid-count"
    assert doc["parameters"]["period"] == {"from": "2025-07", "to": "2025-09"}
    ranks = [f["properties"]["rank"] for f in doc["features"]]
    assert ranks == sorted(ranks) and ranks[0] == 1
    kde = client.get("/api/hotspots?method=kde&crime_type=asb", headers=PCSO).json()
    assert kde["method"] == "kde"
    assert kde["parameters"]["filters"]["crime_types"] == ["Anti-social behaviour"]


def test_unknown_hotspot_method_is_422_with_choices(client):
    r = client.get("/api/hotspots?method=magic", headers=ANALYST)
    assert r.status_code == 422
    assert "unknown hotspot method 'magic'" in r.text and "grid-count" in r.text


def test_layers_are_cached_by_parameters(client, svc):
    url = "/api/hotspots?method=dbscan&from=2025-02&to=2025-04"
    client.get(url, headers=ANALYST)
    misses = svc.cache.misses
    assert client.get(url, headers=ANALYST).status_code == 200
    assert svc.cache.misses == misses  # warm: nothing recomputed
    client.get(url.replace("2025-04", "2025-05"), headers=ANALYST)
    assert svc.cache.misses > misses


# --------------------------------------------------------------------------------------------
# uploads and restricted records


def test_upload_reports_balance_by_reason(uploaded):
    assert uploaded["file"] == "my_log.csv"
    assert (uploaded["in"], uploaded["accepted"], uploaded["quarantined"]) == (3, 1, 2)
    assert uploaded["by_reason"] == {"no_location": 1, "unknown_crime_type": 1}
    assert uploaded["skipped"] is False


def test_upload_reports_rows_outside_the_district(client):
    """A row far outside the district is stored but said to be in no map or rate."""
    log = (
        "ref,date,type,lon,lat,location\n"
        "O1,2025-07-12,Burglary,-2.24370,51.86510,Westgate Street\n"
        "O2,2025-07-12,Burglary,-1.61780,54.97830,Newcastle\n"
    )
    r = client.post("/api/uploads", headers=ANALYST, files={"file": ("far.csv", log)})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["in"], body["accepted"], body["outside"]) == (2, 2, 1)
    assert body["message"] == (
        "2 rows: 1 stored in the area, 1 outside the area (stored, left out of area "
        "statistics), 0 rejected"
    )


def test_same_upload_again_is_skipped(client, uploaded):
    r = client.post("/api/uploads", headers=ANALYST, files={"file": ("again.csv", LOCAL_LOG)})
    assert r.status_code == 200
    assert r.json()["skipped"] is True and "already stored" in r.json()["message"]


def test_restricted_incidents_only_for_analysts(client, uploaded):
    query = "/api/incidents?from=2025-08&to=2025-08&crime_type=asb"
    analyst = client.get(query, headers=ANALYST).json()
    local = [f["properties"] for f in analyst["features"] if f["properties"]["restricted"]]
    assert [p["location_text"] for p in local] == [XSS]
    assert analyst["restricted_included"] is True
    for headers in (PCSO, VIEWER):
        other = client.get(query, headers=headers).json()
        assert not any(f["properties"]["restricted"] for f in other["features"])
        assert other["count"] == analyst["count"] - 1
        assert XSS not in json.dumps(other)


def test_restricted_records_count_in_aggregates_for_everyone(client, uploaded):
    query = "/api/areas?from=2025-08&to=2025-08&crime_type=asb"
    analyst = sum(f["properties"]["count"] for f in client.get(query, headers=ANALYST).json()[
        "features"])
    incidents = client.get(query.replace("areas", "incidents"), headers=ANALYST).json()["count"]
    assert analyst == incidents


def test_method_that_cannot_run_is_422_and_the_map_still_renders(client, uploaded):
    query = "from=2025-08&to=2025-08&source=local"
    r = client.get(f"/api/hotspots?method=kde&{query}", headers=ANALYST)
    assert r.status_code == 422 and "at least two incidents" in r.text
    doc = client.get(f"/map/analyst?{query}", headers=ANALYST)
    assert doc.status_code == 200 and "Hotspots: grid-count" in doc.text
    # KDE stays listed; switched on, its layer is empty and its legend says why.
    url = f"/map/analyst/layer/hotspots:kde?{query}"
    assert f'lazyVector("{url}")' in doc.text
    kde = client.get(url, headers=ANALYST).json()
    assert kde["data"]["f"] == [] and kde["legend"]["title"] == "Hotspots: kde"
    assert "at least two incidents" in kde["legend"]["notes"][0]


LAZY = ["surface", "hotspots:kde", "hotspots:gistar", "hotspots:lisa", "hotspots:dbscan",
        "street-segments"]


def test_layers_off_at_opening_are_served_when_shown(client, svc):
    """The map computes its default layer only; each other layer's document is the content
    an all-at-once map draws (same features, styles, legend), per filters and access."""
    query = "crime_type=Anti-social+behaviour"
    doc = client.get(f"/map/analyst?{query}", headers=ANALYST).text
    urls = re.findall(r'window\.geoSsgp\.lazyVector\("([^"]+)"\)', doc)
    assert urls == [f"/map/analyst/layer/{i}?{query}" for i in LAZY]
    filters, analyst = Filters.of(crime_types="asb"), User("analyst")
    layers = {m: svc.hotspots_for(m, filters, analyst) for m in svc.settings.map_methods}
    eager = maps.render(maps.build_analyst_map(
        svc.pack, svc.area_stats_for(None, filters, analyst), load_layer(svc.pack, "ward"),
        layers, "grid-count", surface=layers["kde"].surface,
        street_segments=svc.street_layer(filters, analyst)))
    for url in urls:
        r = client.get(url, headers=ANALYST)
        assert r.status_code == 200 and r.headers["content-type"] == "application/json"
        assert r.headers["cache-control"] == "private, max-age=60"
        body = r.json()
        assert f"window.geoSsgp.decode({js_json(body['data'])})" in eager
        assert js_json(body["spec"]) in eager and js_json(body["legend"]) in eager
        assert js_json(body["data"]) not in doc
    gistar = client.get(urls[2], headers=ANALYST).json()
    assert len(gistar["data"]["f"]) == len(layers["gistar"].hotspots) > 0
    # A viewer gets the public records' layer with small counts suppressed.
    viewer = client.get(urls[2], headers=VIEWER).json()
    public = svc.hotspots_for("gistar", filters, User("viewer"))
    assert viewer == json.loads(json.dumps(
        maps.hotspot_document(public, "Hotspots: gistar", maps.hotspot_colour(2))))


@pytest.mark.parametrize("layer", ["hotspots:grid-count", "hotspots:nope", "areas:count"])
def test_only_lazy_layers_are_served(client, layer):
    r = client.get(f"/map/analyst/layer/{layer}", headers=ANALYST)
    assert r.status_code == 404 and f"no layer '{layer}' drawn on demand" in r.json()["detail"]
    assert ", ".join(LAZY) in r.json()["detail"]
    assert client.get("/map/analyst/layer/surface").status_code == 401


def test_upload_needs_analyst(client):
    files = {"file": ("a.csv", LOCAL_LOG)}
    assert client.post("/api/uploads", files=files).status_code == 401
    r = client.post("/api/uploads", headers=PCSO, files=files)
    assert r.status_code == 403 and "analyst" in r.json()["detail"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x00\x01\x02\x03binary", "binary content"),
        (b"", "empty"),
        (b"when,what\n2025-01-01,ASB\n", "missing"),
    ],
)
def test_malformed_upload_is_400_and_stores_nothing(client, svc, content, message):
    before = len(svc.store.datasets())
    r = client.post("/api/uploads", headers=ANALYST, files={"file": ("bad.csv", content)})
    assert r.status_code == 400
    assert message in r.json()["detail"]
    assert len(svc.store.datasets()) == before


def test_oversized_upload_is_413(client, svc):
    settings = svc.settings
    svc.settings = settings.model_copy(update={"max_upload_bytes": 100})
    try:
        before = len(svc.store.datasets())
        r = client.post("/api/uploads", headers=ANALYST,
                        files={"file": ("big.csv", LOCAL_LOG + "x" * 200)})
        assert r.status_code == 413 and "larger than 100 bytes" in r.json()["detail"]
        assert len(svc.store.datasets()) == before
    finally:
        svc.settings = settings


def test_bad_column_mapping_is_422(client):
    r = client.post("/api/uploads", headers=ANALYST, files={"file": ("m.csv", LOCAL_LOG)},
                    data={"columns": "nonsense"})
    assert r.status_code == 422


# --------------------------------------------------------------------------------------------
# selections and focus areas


def test_selection_summary_of_a_ward(client):
    r = client.post("/api/selection/summary", headers=ANALYST,
                    json={"selection": {"ward": "Westgate"}, "filters": {"from": "2025-07"}})
    assert r.status_code == 200
    s = r.json()
    assert s["selection"]["kind"] == "ward" and s["selection"]["label"] == "Westgate"
    assert s["period"]["from"] == "2025-07"
    assert 0 < s["incidents"] < s["district"]["incidents"]
    assert s["outline"]["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert s["filters"]["from"] == "2025-07"


def test_selection_by_polygon_hotspot_and_locality(client):
    square = {"type": "Polygon", "coordinates": [[[-2.25, 51.86], [-2.24, 51.86],
                                                  [-2.24, 51.87], [-2.25, 51.87],
                                                  [-2.25, 51.86]]]}
    for selection in ({"polygon": square}, {"hotspot": {"rank": 1}},
                      {"locality": "Tredworth"}, {"lsoa_codes": ["E01022313"]}):
        r = client.post("/api/selection/summary", headers=VIEWER, json={"selection": selection})
        assert r.status_code == 200, (selection, r.text)
        assert r.json()["district"]["incidents"] > 14000


@pytest.mark.parametrize(
    ("selection", "message"),
    [
        ({"ward": "Atlantis"}, "unknown ward"),
        ({"lsoa_codes": ["E01000000"]}, "unknown LSOA"),
        ({}, "exactly one"),
        ({"hotspot": {"rank": 9999}}, "no hotspot of rank 9999"),
        ({"polygon": {"type": "Point", "coordinates": [-2.2, 51.8]}}, "Polygon"),
    ],
)
def test_bad_selections_are_422(client, selection, message):
    r = client.post("/api/selection/summary", headers=ANALYST, json={"selection": selection})
    assert r.status_code == 422
    assert message in r.text


def test_viewer_summary_suppresses_small_counts(client):
    body = {"selection": {"lsoa_codes": ["E01022313"]},
            "filters": {"from": "2025-09", "to": "2025-09"}}
    full = client.post("/api/selection/summary", headers=ANALYST, json=body).json()
    view = client.post("/api/selection/summary", headers=VIEWER, json=body).json()
    small = [r for r in full["crime_types"] if 0 < r["incidents"] < 3]
    assert small
    shown = {r["crime_type"]: r for r in view["crime_types"]}
    for r in small:
        assert shown[r["crime_type"]]["incidents"] is None
        assert shown[r["crime_type"]]["suppressed"] is True
    assert all(r["incidents"] is None or r["incidents"] >= 3 or r["incidents"] == 0
               for r in view["top_streets"])


@pytest.fixture(scope="module")
def saved(client):
    r = client.post("/api/focus-areas", headers=ANALYST, json={
        "name": "Centre pilot", "notes": "first idea",
        "selection": {"ward": "Westgate"}, "filters": {"from": "2025-04", "to": "2025-09"},
    })
    assert r.status_code == 201, r.text
    return r.json()


def test_focus_area_create_and_read(client, saved):
    assert saved["name"] == "Centre pilot" and saved["kind"] == "ward"
    assert saved["filters"]["from"] == "2025-04" and len(saved["lsoa_codes"]) >= 5
    got = client.get(f"/api/focus-areas/{saved['id']}", headers=VIEWER)
    assert got.status_code == 200 and got.json()["id"] == saved["id"]
    listed = client.get("/api/focus-areas", headers=PCSO).json()
    assert saved["id"] in [a["id"] for a in listed]


def test_focus_area_writes_need_analyst(client, saved):
    body = {"name": "x", "selection": {"ward": "Westgate"}}
    assert client.post("/api/focus-areas", json=body).status_code == 401
    assert client.post("/api/focus-areas", headers=VIEWER, json=body).status_code == 403
    url = f"/api/focus-areas/{saved['id']}"
    assert client.put(url, headers=PCSO, json={"name": "y"}).status_code == 403
    assert client.delete(url, headers=VIEWER).status_code == 403
    assert client.get(url, headers=ANALYST).json()["name"] == "Centre pilot"


def test_focus_area_validation_writes_nothing(client):
    before = len(client.get("/api/focus-areas", headers=ANALYST).json())
    r = client.post("/api/focus-areas", headers=ANALYST,
                    json={"name": "", "selection": {"ward": "Westgate"}})
    assert r.status_code == 422
    r = client.post("/api/focus-areas", headers=ANALYST,
                    json={"name": "Nowhere", "selection": {"ward": "Atlantis"}})
    assert r.status_code == 422 and "unknown ward" in r.text
    assert len(client.get("/api/focus-areas", headers=ANALYST).json()) == before


def test_focus_area_update_and_delete(client):
    r = client.post("/api/focus-areas", headers=ANALYST, json={
        "name": "Temp", "selection": {"lsoa_codes": ["E01022313"]}})
    fid = r.json()["id"]
    url = f"/api/focus-areas/{fid}"
    r = client.put(url, headers=ANALYST, json={"name": "Renamed", "notes": "n2"})
    assert r.status_code == 200
    assert (r.json()["name"], r.json()["notes"], r.json()["lsoa_codes"]) == (
        "Renamed", "n2", ["E01022313"])
    r = client.put(url, headers=ANALYST,
                   json={"selection": {"lsoa_codes": ["E01022313", "E01022276"]}})
    assert sorted(r.json()["lsoa_codes"]) == ["E01022276", "E01022313"]
    assert r.json()["name"] == "Renamed"
    assert client.delete(url, headers=ANALYST).status_code == 204
    assert client.get(url, headers=ANALYST).status_code == 404
    assert client.delete(url, headers=ANALYST).status_code == 404
    assert client.put(url, headers=ANALYST, json={"name": "x"}).status_code == 404


def test_unknown_focus_area_is_404(client):
    for path in ("/api/focus-areas/99999", "/api/focus-areas/99999/summary",
                 "/api/focus-areas/99999/export"):
        r = client.get(path, headers=ANALYST)
        assert r.status_code == 404 and "no focus area 99999" in r.text


def test_focus_area_summary_uses_saved_filters(client, saved):
    r = client.get(f"/api/focus-areas/{saved['id']}/summary", headers=ANALYST)
    assert r.status_code == 200
    s = r.json()
    assert s["focus_area"]["name"] == "Centre pilot"
    assert s["period"]["from"] == "2025-04" and s["period"]["months"] == 6
    direct = client.post("/api/selection/summary", headers=ANALYST, json={
        "selection": {"ward": "Westgate"}, "filters": {"from": "2025-04", "to": "2025-09"}}).json()
    assert s["incidents"] == direct["incidents"]


def test_focus_area_exports(client, saved):
    base = f"/api/focus-areas/{saved['id']}/export"
    gj = client.get(f"{base}?format=geojson", headers=ANALYST)
    assert gj.status_code == 200 and gj.headers["content-type"] == "application/geo+json"
    assert 'filename="centre-pilot.geojson"' in gj.headers["content-disposition"]
    doc = gj.json()
    assert doc["features"][0]["properties"]["name"] == "Centre pilot"
    assert len(doc["features"]) - 1 >= len(saved["lsoa_codes"])
    csv = client.get(f"{base}?format=csv", headers=ANALYST)
    table = pd.read_csv(io.StringIO(csv.text))
    assert set(saved["lsoa_codes"]) <= set(table["code"])
    gpkg = client.get(f"{base}?format=gpkg", headers=ANALYST)
    assert gpkg.content[:15] == b"SQLite format 3"
    layers = pyogrio.list_layers(io.BytesIO(gpkg.content))
    assert sorted(layers[:, 0]) == ["focus_area", "lsoas"]
    assert client.get(f"{base}?format=shp", headers=ANALYST).status_code == 422


def test_compare_focus_areas(client, saved):
    other = client.post("/api/focus-areas", headers=ANALYST, json={
        "name": "Tredworth", "selection": {"locality": "Tredworth"}}).json()
    r = client.get(f"/api/focus-areas/compare?ids={saved['id']}&ids={other['id']}",
                   headers=VIEWER)
    assert r.status_code == 200
    t = r.json()
    assert t["columns"] == [f"Centre pilot (#{saved['id']})", f"Tredworth (#{other['id']})",
                            "District"]
    rows = {row["measure"]: row["values"] for row in t["rows"]}
    assert rows["Share of district incidents"][2] == 1.0
    assert rows["Incidents"][0] > rows["Incidents"][1]
    assert client.get(f"/api/focus-areas/compare?ids={saved['id']}",
                      headers=VIEWER).status_code == 422
    assert client.get(f"/api/focus-areas/compare?ids={saved['id']}&ids=99999",
                      headers=VIEWER).status_code == 404


# --------------------------------------------------------------------------------------------
# ranking


def test_candidates_rank_lsoas_with_explained_weights(client):
    r = client.get("/api/candidates?top=5", headers=ANALYST)
    assert r.status_code == 200
    body = r.json()
    assert body["weights"] == pytest.approx({"count": 0.35, "rate": 0.25, "trend": 0.2,
                                             "deprivation": 0.2})
    rows = body["rows"]
    assert len(rows) == 5 and [row["position"] for row in rows] == [1, 2, 3, 4, 5]
    for row in rows:
        parts = sum(row[f"{c}_points"] for c in body["weights"])
        assert row["score"] == pytest.approx(parts)
    wards = {w["name"] for w in client.get("/api/meta", headers=ANALYST).json()["wards"]}
    assert all(row["ward"] in wards for row in rows)  # LSOAs named with their ward
    assert all(set(row) >= {"name", "ward", "place"} for row in rows)
    assert any(row["place"] for row in rows)  # ... and a place near them
    only_imd = client.get("/api/candidates?w_count=0&w_rate=0&w_trend=0&w_deprivation=1",
                          headers=ANALYST).json()
    assert only_imd["weights"]["deprivation"] == 1.0
    assert only_imd["rows"][0]["imd_decile"] == 1


def test_candidates_rank_hotspots(client):
    r = client.get("/api/candidates?unit=hotspot&method=grid-count&top=3", headers=PCSO)
    assert r.status_code == 200
    rows = r.json()["rows"]
    assert rows[0]["id"].startswith("hotspot ") and rows[0]["name"]
    wards = {w["name"] for w in client.get("/api/meta", headers=PCSO).json()["wards"]}
    assert all(row["ward"] in wards for row in rows)
    bad = client.get("/api/candidates?w_count=-1", headers=ANALYST)
    assert bad.status_code == 422


# --------------------------------------------------------------------------------------------
# pages and maps


def test_pages_redirect_to_login_without_token(client):
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=%2F"
    r = client.get("/area/E05010967", follow_redirects=False)
    assert r.headers["location"] == "/login?next=%2Farea%2FE05010967"


def test_login_sets_cookie(app):
    with TestClient(app) as fresh:
        bad = fresh.post("/login", data={"token": "nope", "next": "/"}, follow_redirects=False)
        assert bad.status_code == 401 and "not valid" in bad.text
        r = fresh.post("/login", data={"token": "dev-pcso", "next": "//evil.example/"},
                       follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/"
        assert "httponly" in r.headers["set-cookie"].lower()
        assert fresh.get("/area").status_code == 200
        fresh.get("/logout")
        assert fresh.get("/area", follow_redirects=False).status_code == 303


def test_analyst_page_and_map(client):
    page = client.get("/", headers=ANALYST)
    assert page.status_code == 200
    assert 'id="map"' in page.text and "/static/app/analyst.js" in page.text
    meta = json.loads(re.search(r'id="meta">(.*?)</script>', page.text, re.S).group(1))
    assert meta["role"] == "analyst" and len(meta["wards"]) == 18 and meta["months"][0] == "2025-01"
    doc = client.get("/map/analyst", headers=ANALYST)
    assert doc.status_code == 200
    assert maps.external_assets(doc.text) == []
    assert "/static/vendor/leaflet/leaflet.js" in doc.text
    assert "LSOA: incidents per 1,000 residents" in doc.text
    assert "Contains public sector information" in doc.text


def test_street_layer_is_one_cached_compressed_document(client, svc):
    """Maps name the street document instead of carrying it; it is sent gzip with an ETag."""
    doc = client.get("/map/area/Westgate", headers=PCSO)
    url = re.search(r'window\.geoSsgp\.streets\("([^"]+)"\)', doc.text).group(1)
    assert url == street_url(svc.pack) and "labelZoom" not in doc.text
    r = client.get(url, headers={**PCSO, "Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert r.headers["content-encoding"] == "gzip"
    assert r.headers["etag"] == f'"{street_version(svc.pack)}"'
    assert r.headers["cache-control"] == "private, max-age=86400"
    assert int(r.headers["content-length"]) < len(street_data(svc.pack)) / 1.5
    assert r.json() == json.loads(street_data(svc.pack))  # httpx decompresses
    again = client.get(url, headers={**VIEWER, "If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    plain = client.get(url, headers={**ANALYST, "Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.json()["labelZoom"] == 16
    assert client.get(url).status_code == 401  # a signed-in page's fetch carries its cookie


def test_data_text_is_escaped_in_maps(client, uploaded):
    doc = client.get("/map/analyst?from=2025-08&to=2025-08&crime_type=asb", headers=ANALYST)
    assert doc.status_code == 200
    assert XSS not in doc.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in doc.text
    viewer = client.get("/map/analyst?from=2025-08&to=2025-08&crime_type=asb", headers=VIEWER)
    assert viewer.status_code == 200
    assert "onerror" not in viewer.text  # restricted record not drawn for other roles
    # hotspot labels name streets: for other roles they come from public records only
    analyst_spots = client.get("/api/hotspots?from=2025-08&to=2025-08&crime_type=asb",
                               headers=ANALYST).json()
    assert any("onerror" in f["properties"]["label"] for f in analyst_spots["features"])
    for path in ("/api/hotspots?from=2025-08&to=2025-08&crime_type=asb",
                 "/api/candidates?unit=hotspot&from=2025-08&to=2025-08&crime_type=asb&top=500",
                 "/meeting?b_from=2025-08&b_to=2025-08&crime_type=asb"):
        r = client.get(path, headers=PCSO)
        assert r.status_code == 200 and "onerror" not in r.text, path


def test_data_text_is_escaped_in_pages(client, svc, uploaded):
    local = svc.incidents()
    lsoa = local.loc[local["location_text"] == XSS, "lsoa21cd"].iloc[0]
    page = client.get(f"/area/{lsoa}", headers=ANALYST)
    assert page.status_code == 200
    assert "&lt;img src=x onerror=alert()&gt;" in page.text  # street name, escaped
    assert "<img src=x" not in page.text
    hidden = client.get(f"/area/{lsoa}", headers=PCSO)
    assert "onerror" not in hidden.text  # restricted record: not even its street


def test_area_pages(client):
    index = client.get("/area", headers=PCSO)
    assert index.status_code == 200 and index.text.count('class="tile" href="/area/E05') == 18
    page = client.get("/area/E05010967", headers=PCSO)
    assert page.status_code == 200
    assert "Westgate" in page.text and 'src="/map/area/E05010967"' in page.text
    assert "@media print" in client.get("/static/app/app.css").text
    by_name = client.get("/area/westgate", headers=PCSO)
    assert by_name.status_code == 200
    lsoa = client.get("/area/E01022313", headers=PCSO)
    assert lsoa.status_code == 200 and "Gloucester 001A" in lsoa.text
    assert client.get("/area/Atlantis", headers=PCSO).status_code == 404
    doc = client.get("/map/area/E05010967", headers=PCSO)
    assert doc.status_code == 200 and maps.external_assets(doc.text) == []
    assert XSS not in doc.text  # restricted record hidden from PCSOs


def test_meeting_page_and_report(client):
    page = client.get("/meeting", headers=VIEWER)
    assert page.status_code == 200
    assert "2025-07 to 2025-09" in page.text and "2025-04 to 2025-06" in page.text
    assert 'id="hotspot-change"' in page.text and "Gloucestershire" in page.text
    assert client.get("/meeting?method=nope", headers=VIEWER).status_code == 422
    report = client.get("/meeting/report.html", headers=VIEWER)
    assert report.status_code == 200
    assert report.headers["content-disposition"].startswith("attachment;")
    text = report.text
    assert "srcdoc=" in text and 'id="rates"' in text
    assert not re.search(r'<(script|link)[^>]+(src|href)="(/|https?:)', text)
    assert "leaflet" in text.lower()


def test_static_assets_are_served(client):
    assert client.get("/static/app/analyst.js").status_code == 200
    assert client.get("/static/vendor/leaflet/leaflet.js").status_code == 200


# --------------------------------------------------------------------------------------------
# street segments


def test_streets_route_gives_segments_and_concentration(client):
    r = client.get("/api/streets?from=2025-01&to=2025-09", headers=ANALYST)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/geo+json")
    body = r.json()
    counts = [f["properties"]["n_incidents"] for f in body["features"]]
    assert counts == sorted(counts, reverse=True) and min(counts) >= 1
    district = body["concentration"][0]
    assert district["group"] == "all" and district["n_incidents"] == sum(counts)
    assert 0.8 < district["top_5%_length"] < 0.95
    assert body["attribution"] == "© OpenStreetMap contributors (ODbL)"
    assert body["parameters"]["max_distance_m"] == 30.0
    viewer = client.get("/api/streets?from=2025-01&to=2025-09", headers=VIEWER).json()
    small = [f["properties"] for f in viewer["features"] if f["properties"]["suppressed"]]
    assert small and all(p["n_incidents"] is None for p in small)
    assert client.get("/api/streets?crime_type=juggling", headers=ANALYST).status_code == 422


def test_hotspot_accuracy_in_plain_words(client):
    """The analyst page's line on how well the default layer predicts (rolling backtest)."""
    r = client.get("/api/hotspots/accuracy?crime_type=violence&to=2025-09", headers=ANALYST)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["method"] == "grid-count"
    assert [f["test"] for f in body["folds"]] == [["2025-07", "2025-07"], ["2025-08", "2025-08"],
                                                  ["2025-09", "2025-09"]]
    one = body["coverage"]["0.01"]
    assert one["pai"] > 10 and one["baseline_pai"] > 10 and 0 < one["pei"] <= 1
    assert body["text"].startswith("Tested on 2025-07..2025-09")
    short = client.get("/api/hotspots/accuracy?to=2025-03", headers=ANALYST).json()
    assert short["text"].startswith("Not enough months to test this layer")
    assert client.get("/api/hotspots/accuracy?crime_type=magic", headers=ANALYST).status_code == 422


def test_health_gives_the_dataset_count_to_analysts_only(client, svc):
    """Anyone may see that the service is up and its public coverage; how many uploads are
    stored is for analysts (``null`` without a token and for pcso/viewer)."""
    assert client.get("/api/health").json()["datasets"] is None
    for role in ("pcso", "viewer"):
        body = client.get("/api/health", headers={"Authorization": f"Bearer dev-{role}"}).json()
        assert body["datasets"] is None
    body = client.get("/api/health", headers={"Authorization": "Bearer dev-analyst"}).json()
    assert body["datasets"] == len(svc.store.datasets()) >= 1


def test_analyst_map_draws_the_busiest_street_segments(client, svc):
    from geo_ssgp.api.auth import User
    from geo_ssgp.filters import Filters

    doc = client.get("/map/analyst?from=2025-01&to=2025-09", headers=ANALYST)
    assert doc.status_code == 200
    assert "Streets: incidents per km" in doc.text and "OpenStreetMap contributors" in doc.text
    url = "/map/analyst/layer/street-segments?from=2025-01&to=2025-09"
    assert f'lazyVector("{url}")' in doc.text  # drawn when switched on
    legend = client.get(url, headers=ANALYST).json()["legend"]
    assert legend["title"] == "Incidents per km of street"
    assert "The busiest 5% of street length (by incidents per km) holds" in legend["notes"][0]
    period = Filters.of("2025-01", "2025-09")
    top = svc.street_layer(period, User("analyst"))
    assert 0.85 < top.attrs["incident_share"] < 0.92  # measured 88.2% on the sample
    assert top["street_share"].max() <= 0.05 and (top["n_incidents"] >= 3).all()
    asb = svc.street_layer(period.replace(crime_types=("Anti-social behaviour",)), User("pcso"))
    assert len(asb) and (asb["n_incidents"] >= svc.settings.suppress_below).all()  # pcso


@pytest.mark.parametrize(
    ("headers", "analyst"), [(ANALYST, True), (PCSO, False), (VIEWER, False)]
)
def test_nav_links_the_analyst_workspace_for_analysts_only(client, headers, analyst):
    for path in ("/area", "/area/E05010967", "/meeting"):
        page = client.get(path, headers=headers)
        assert page.status_code == 200
        nav = re.search(r"<nav>(.*?)</nav>", page.text, re.S).group(1)
        links = re.findall(r'<a href="([^"]+)">([^<]+)</a>', nav)
        assert ("/", "Analyst map") in links if analyst else ("/", "Analyst map") not in links
        assert ("/area", "PCSO areas") in links and ("/meeting", "Meeting") in links
        assert "upload" not in nav.lower()
    page = client.get("/", headers=headers)
    assert ('id="t-upload"' in page.text) is analyst
