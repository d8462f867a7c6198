"""The OpenAPI document describes every data route's 200 response, and errors map once."""

from __future__ import annotations

import pytest

from geo_ssgp.api.errors import STATUS, error_body, status_of
from geo_ssgp.errors import (
    AlreadyStored,
    AssetError,
    BadInput,
    Forbidden,
    IngestError,
    NotEnoughData,
    NotFound,
    PackError,
    StaleWrite,
    StillComputing,
)

ANALYST = {"Authorization": "Bearer dev-analyst"}

GEOJSON_ROUTES = ["/api/areas", "/api/hotspots", "/api/incidents"]


@pytest.fixture(scope="module")
def spec(client):
    return client.get("/openapi.json").json()


def _ok_content(spec: dict, path: str, verb: str) -> dict:
    return spec["paths"][path][verb]["responses"]["200"]["content"]


def test_every_data_route_documents_a_schema_for_200(spec):
    data_routes = [
        (path, verb)
        for path, verbs in spec["paths"].items()
        if path.startswith("/api/")
        for verb in verbs
        if "200" in verbs[verb]["responses"]
    ]
    assert len(data_routes) >= 12
    for path, verb in data_routes:
        content = _ok_content(spec, path, verb)
        assert content, f"{verb} {path} has no 200 content"
        for media, body in content.items():
            schema = body["schema"]
            assert schema, f"{verb} {path} {media}: 200 schema is empty"
            assert schema != {"type": "string"} or media != "application/json", (
                f"{verb} {path}: JSON documented as a bare string"
            )
            ref = schema.get("$ref") or schema.get("items", {}).get("$ref")
            if ref:
                assert ref.rsplit("/", 1)[-1] in spec["components"]["schemas"], ref


@pytest.mark.parametrize("path", GEOJSON_ROUTES)
def test_geojson_routes_are_documented_and_served_as_geojson(spec, client, path):
    content = _ok_content(spec, path, "get")
    assert list(content) == ["application/geo+json"]
    ref = content["application/geo+json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    component = spec["components"]["schemas"][ref]
    assert {"type", "features"} <= set(component["properties"])
    r = client.get(path + "?from=2025-09&to=2025-09", headers=ANALYST)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/geo+json"
    assert r.json()["type"] == "FeatureCollection"


def test_error_table_maps_each_typed_error_once():
    assert STATUS == {
        AlreadyStored: 409,
        BadInput: 422,
        NotEnoughData: 422,
        NotFound: 404,
        Forbidden: 403,
        StaleWrite: 412,
        StillComputing: 503,
        IngestError: 400,
        PackError: 500,
        AssetError: 500,
    }
    assert status_of(NotFound("no focus area 9")) == 404
    body = error_body(BadInput("'x' is not a month", param="from"), 422)
    assert body == {
        "detail": [{"loc": ["query", "from"], "msg": "'x' is not a month", "type": "value_error"}]
    }
    assert error_body(IngestError("a.csv: binary content"), 400) == {
        "detail": "a.csv: binary content"
    }


def test_unknown_focus_area_and_place_are_404(client):
    r = client.get("/api/focus-areas/99999", headers=ANALYST)
    assert r.status_code == 404 and r.json() == {"detail": "no focus area 99999"}
    r = client.get("/area/Atlantis", cookies={"token": "dev-pcso"})
    assert r.status_code == 404 and "no ward or LSOA 'Atlantis'" in r.text
