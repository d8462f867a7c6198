"""``/docs`` serves Swagger UI from the app's own pinned copy: no CDN, no validator."""

from __future__ import annotations

import re

from geo_ssgp.maps import external_assets


def test_docs_page_links_only_local_assets(client):
    response = client.get("/docs")
    assert response.status_code == 200
    page = response.text
    assert external_assets(page) == []
    assert "cdn.jsdelivr.net" not in page and "fastapi.tiangolo.com" not in page
    assert '"validatorUrl": null' in page
    links = re.findall(r'(?:src|href)="(/static/[^"]+)"', page)
    assert sorted(links) == [
        "/static/vendor/swagger-ui/favicon-32x32.png",
        "/static/vendor/swagger-ui/swagger-ui-bundle.js",
        "/static/vendor/swagger-ui/swagger-ui.css",
    ]
    for link in links:
        assert client.get(link).status_code == 200, link
    assert "'/openapi.json'" in page or '"/openapi.json"' in page


def test_redoc_from_a_cdn_is_switched_off(client):
    assert client.get("/redoc").status_code == 404
