"""The page frame every storage page shares: strict-CSP-friendly markup, htmx configured without eval,
error pages, accessibility landmarks (issue 3, and what issue 5 builds on)."""

from __future__ import annotations

import json
import re

import pytest

from dashboard.accounts.roles import Role
from tests.storage_helpers import HTMX, storage_named

pytestmark = pytest.mark.django_db


def pages(client, uuid: str) -> dict[str, str]:
    urls = [
        "/storages/",
        f"/storages/{uuid}/",
        f"/storages/{uuid}/card/",
        f"/storages/{uuid}/edit/",
        f"/storages/{uuid}/disable/",
        f"/storages/{'0' * 32}/",
        "/storages/?q=zzz",
    ]
    html = {url: client.get(url).content.decode() for url in urls}
    html["edit-errors"] = client.post(f"/storages/{uuid}/edit/", {"name": ""}, **HTMX).content.decode()
    return html


def test_no_page_or_fragment_carries_inline_scripts_styles_or_event_handlers(login_as, zstack_settings):
    client = login_as(Role.ADMIN)
    uuid = storage_named(zstack_settings, "bs-prod-bj-01")["uuid"]
    for url, html in pages(client, uuid).items():
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), url
        assert "<style" not in html and " style=" not in html, url
        assert not re.search(r"\son[a-z]+=", html), url
        assert "hx-on" not in html and "js:" not in html, url


def test_htmx_is_served_locally_and_configured_without_eval_or_inline_indicator_styles(login_as, zstack_settings):
    html = login_as(Role.VIEWER).get("/storages/").content.decode()
    assert '<script src="/static/vendor/htmx-2.0.8.min.js" defer></script>' in html
    assert '<script src="/static/js/app.js" defer></script>' in html
    config = json.loads(re.search(r"<meta name=\"htmx-config\" content='([^']+)'>", html).group(1))
    assert config["allowEval"] is False and config["includeIndicatorStyles"] is False
    assert "style" not in config["attributesToSettle"]  # settling a style attribute would break the CSP
    assert re.search(r'<meta name="csrf-token" content="[^"]+">', html)


def test_pages_are_served_with_a_strict_content_security_policy(login_as, zstack_settings):
    response = login_as(Role.VIEWER).get("/storages/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "unsafe-eval" not in policy


def test_the_frame_has_a_favicon_skip_link_main_landmark_and_live_region(login_as, zstack_settings):
    html = login_as(Role.VIEWER).get("/storages/").content.decode()
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in html
    assert 'href="#main"' in html and '<main id="main"' in html
    assert 'aria-live="polite"' in html
    assert "<title>Backup storages · ImageStore Storage Console</title>" in html


def test_static_assets_exist(client):
    from django.contrib.staticfiles import finders

    for path in ("css/app.css", "js/app.js", "favicon.svg", "vendor/htmx-2.0.8.min.js"):
        assert finders.find(path), path


def test_the_page_language_follows_the_browser(login_as, zstack_settings):
    client = login_as(Role.VIEWER)
    html = client.get("/storages/", HTTP_ACCEPT_LANGUAGE="zh-Hans").content.decode()
    assert '<html lang="zh-hans">' in html


def test_the_404_page_is_our_own_and_does_not_echo_the_exception(login_as, zstack_settings):
    response = login_as(Role.VIEWER).get("/storages/nothing/here/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Not found" in html and "Resolver404" not in html and "<main" in html
