"""Browser and transport hardening (:mod:`geo_ssgp.api.security`, :mod:`geo_ssgp.api.auth`).

On an app with an empty store (nothing here needs incidents): security headers, ``?token=``
links exchanged for server-side sessions, logout that ends the session on the server, the
Origin check on cookie-authenticated writes, the failed-authentication limit (429) and
bodies bounded before they are read.
"""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from geo_ssgp.api import create_app
from geo_ssgp.api.security import RedactTokens, redact_tokens
from geo_ssgp.config import get_settings

ANALYST = {"Authorization": "Bearer dev-analyst"}
LIMIT = 5


@pytest.fixture(scope="module")
def small_app(tmp_path_factory):
    settings = get_settings(
        store_dir=tmp_path_factory.mktemp("sec-store"),
        auth_failures_per_minute=LIMIT,
        max_upload_bytes=10_000,
        max_body_bytes=2_048,
    )
    return create_app(settings, load_sample=False)


@pytest.fixture
def web(small_app):
    with TestClient(small_app) as c:
        yield c
    small_app.state.auth.limiter._failures.clear()


@pytest.mark.parametrize("path", ["/login", "/api/health", "/api/meta", "/static/app/app.css"])
def test_every_response_carries_the_security_headers(web, path):
    r = web.get(path)
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "SAMEORIGIN"
    assert r.headers["referrer-policy"] == "same-origin"
    policy = r.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'self'" in policy
    assert "script-src 'self' 'unsafe-hashes'" in policy  # no inline scripts on pages


def test_a_token_link_becomes_a_session_and_a_clean_url(web):
    r = web.get("/api/meta?token=dev-pcso&x=1", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/api/meta?x=1"
    cookie = r.headers["set-cookie"].lower()
    assert cookie.startswith("session=") and "httponly" in cookie and "samesite=strict" in cookie
    assert "dev-pcso" not in cookie
    assert web.get("/api/meta").json()["role"] == "pcso"
    bad = web.get("/api/meta?token=wrong", follow_redirects=False)
    assert bad.status_code == 303 and "set-cookie" not in bad.headers


def test_logout_ends_the_session_on_the_server(small_app):
    with TestClient(small_app) as browser:
        browser.post("/login", data={"token": "dev-viewer", "next": "/"}, follow_redirects=False)
        sid = browser.cookies["session"]
        assert browser.get("/api/meta").json()["role"] == "viewer"
        browser.get("/logout", follow_redirects=False)
    with TestClient(small_app, cookies={"session": sid}) as replay:
        assert replay.get("/api/meta").status_code == 401


def test_cookie_authenticated_writes_need_this_sites_origin(small_app):
    body = {"name": "x", "selection": {"lsoa_codes": ["E01022313"]}}
    with TestClient(small_app) as browser:
        browser.post("/login", data={"token": "dev-analyst", "next": "/"})
        other_port = browser.post("/api/focus-areas", json=body,
                                  headers={"Origin": "http://testserver:9999"})
        assert other_port.status_code == 403 and "cross-site" in other_port.json()["detail"]
        assert browser.post("/api/focus-areas", json=body).status_code == 403  # no Origin
        same = browser.post("/api/focus-areas", json=body, headers={"Origin": "http://testserver"})
        assert same.status_code == 201
    # bearer tokens carry no ambient credentials: no Origin needed
    with TestClient(small_app) as script:
        assert script.post("/api/focus-areas", json=body, headers=ANALYST).status_code == 201


def test_failed_authentication_is_rate_limited(web):
    for _ in range(LIMIT):
        assert web.get("/api/meta", headers={"Authorization": "Bearer guess"}).status_code == 401
    r = web.get("/api/meta", headers={"Authorization": "Bearer guess"})
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    # while blocked, even a right guess is not confirmed
    assert web.get("/api/meta", headers=ANALYST).status_code == 429
    assert web.post("/login", data={"token": "dev-analyst"}).status_code == 429


def test_uploads_are_checked_before_the_body_is_read(web):
    huge = {"Content-Length": str(10**9), "Content-Type": "multipart/form-data; boundary=x"}
    r = web.post("/api/uploads", headers=huge, content=b"--x--")
    assert r.status_code == 401  # the 1 GB the header announces is never read
    viewer = web.post("/api/uploads", headers={"Authorization": "Bearer dev-viewer"},
                      files={"file": ("a.csv", "x")})
    assert viewer.status_code == 403
    too_big = web.post("/api/uploads", headers={**ANALYST, **huge}, content=b"--x--")
    assert too_big.status_code == 413


def test_a_streamed_body_past_its_limit_is_cut_off(web):
    def chunks():
        yield b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'
        for _ in range(200):  # 200 kB, past 10 kB + 64 kB of form overhead
            yield b"a" * 1024

    r = web.post("/api/uploads", headers={**ANALYST,
                                          "Content-Type": "multipart/form-data; boundary=x"},
                 content=chunks())
    assert r.status_code == 413 and "larger than" in r.json()["detail"]
    big_json = web.post("/api/selection/summary", headers=ANALYST,
                        json={"selection": {"ward": "x" * 5000}})
    assert big_json.status_code == 413


def test_login_page_lists_dev_tokens_only_in_development_mode(tmp_path):
    dev = create_app(get_settings(store_dir=tmp_path / "a", dev=True), load_sample=False)
    prod = create_app(get_settings(store_dir=tmp_path / "b", dev=False, tokens="k:analyst"),
                      load_sample=False)
    assert "dev-analyst" in TestClient(dev).get("/login").text
    assert "dev-analyst" not in TestClient(prod).get("/login").text
    assert TestClient(prod).get("/api/meta", headers=ANALYST).status_code == 401


def test_tokens_never_reach_the_access_log():
    record = logging.LogRecord("uvicorn.access", logging.INFO, "", 0, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5", "GET", "/area?x=1&token=s3cret", "1.1", 303), None)
    RedactTokens().filter(record)
    assert "s3cret" not in record.getMessage() and "token=[redacted]" in record.getMessage()
    assert redact_tokens("/?TOKEN=abc&b=2") == "/?TOKEN=[redacted]&b=2"
