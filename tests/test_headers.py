"""Headers on every route and every error page, our own error pages (translated, no inline code),
HSTS and the SSL redirect from the environment, and `check --deploy` with the README's production
environment (issue 10)."""

from __future__ import annotations

import os
import re
import secrets
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from dashboard.accounts import views as account_views
from dashboard.accounts.roles import Role
from tests.storage_helpers import make_user
from tests.urlconf import path_for, routes

ROOT = Path(__file__).resolve().parent.parent
CJK = re.compile(r"[\u4e00-\u9fff]")


def assert_ours(response, *, private: bool) -> None:
    csp = response.get("Content-Security-Policy", "")
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, response.request["PATH_INFO"]
    assert response.get("X-Frame-Options") == "DENY"
    assert response.get("X-Content-Type-Options") == "nosniff"
    cache = {part.strip() for part in response.get("Cache-Control", "").split(",")}
    if private:
        assert {"no-store", "private"} <= cache, (response.request["PATH_INFO"], response.get("Cache-Control"))


def assert_no_inline_code(html: str) -> None:
    assert "<style" not in html and not re.search(r"\sstyle=", html)
    assert not re.search(r"\son[a-z]+=", html)
    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag, tag


# --- every route -----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", [None, Role.VIEWER, Role.ADMIN])
def test_every_route_sends_csp_frame_protection_and_for_a_logged_in_user_no_store(client, zstack_settings, role):
    uuid = zstack_settings.storages()[0]["uuid"]
    if role is not None:
        client.force_login(make_user(role))
    for name in routes():
        for method in ("get", "post"):
            response = getattr(client, method)(path_for(name, uuid))
            if name == "logout" and method == "post":
                if role is not None:
                    client.force_login(make_user(role, f"{role}-again"))
                continue  # logged out by it: the response is the anonymous redirect
            assert_ours(response, private=role is not None)


# --- error pages -------------------------------------------------------------------------------------


def _error_responses(client, language: str) -> dict[str, object]:
    """One response of each error page, as a logged-in viewer would meet it."""
    headers = {"HTTP_ACCEPT_LANGUAGE": language}
    viewer = make_user(Role.VIEWER, f"viewer-{language}")
    client.force_login(viewer)
    pages = {
        "400": client.get("/storages/", HTTP_HOST="not-ours.example", **headers),
        "403": client.get("/audit/", **headers),
        "404": client.get("/no-such-page/", **headers),
        "404 storage": client.get("/storages/" + "f" * 32 + "/", **headers),
        "405": client.get("/storages/" + "f" * 32 + "/reconnect/", **headers),
    }
    client.raise_request_exception = False
    pages["500"] = client.get("/storages/", **headers)  # failing_list makes the list view raise
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(viewer)
    pages["403 csrf"] = strict.post("/accounts/logout/", **headers)
    anonymous = Client()
    for _ in range(5):
        locked = anonymous.post("/accounts/login/", {"username": viewer.username, "password": "wrong"}, **headers)
    pages["429 lockout"] = locked
    account_views._password_checks.acquire()
    try:
        pages["503 busy"] = Client().post("/accounts/login/", {"username": "x", "password": "y"}, **headers)
    finally:
        account_views._password_checks.release()
    return pages


@pytest.fixture
def failing_list(monkeypatch):
    from dashboard.storages import selectors

    def explode(**kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(selectors, "storage_list", explode)


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_every_error_page_is_ours_translated_with_our_headers_and_no_inline_code(
    client, zstack_settings, failing_list, monkeypatch, language
):
    import threading

    monkeypatch.setattr(account_views, "_password_checks", threading.BoundedSemaphore(1))
    statuses = {
        "400": 400,
        "403": 403,
        "404": 404,
        "404 storage": 404,
        "405": 405,
        "500": 500,
        "403 csrf": 403,
        "429 lockout": 429,
        "503 busy": 503,
    }
    pages = _error_responses(client, language)
    assert set(pages) == set(statuses)
    for label, response in pages.items():
        html = response.content.decode()
        assert response.status_code == statuses[label], label
        assert 'class="error-page"' in html, label
        assert f'<html lang="{language}">' in html, label
        heading = re.search(r"<h1>(.*?)</h1>", html, re.S)[1]
        assert bool(CJK.search(heading)) == (language == "zh-hans"), (label, heading)
        assert "DEBUG" not in html and "Traceback" not in html, label
        assert_no_inline_code(html)
        # Pages before or without a logged-in user (400, 500, the login page's) need not be private.
        assert_ours(response, private=label not in {"400", "500", "429 lockout", "503 busy"})
    assert pages["405"]["Allow"] == "POST"  # require_POST's list


# --- behind TLS ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_hsts_is_sent_on_https_when_configured(client, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 3600
    settings.SECURE_HSTS_PRELOAD = True
    response = client.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https")
    assert response["Strict-Transport-Security"] == "max-age=3600; includeSubDomains; preload"


@pytest.mark.django_db
def test_hsts_is_off_by_default(client):
    assert "Strict-Transport-Security" not in client.get("/accounts/login/", secure=True)


@pytest.mark.django_db
def test_the_ssl_redirect_sends_http_to_https_but_not_the_health_check(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/accounts/login/")
    assert response.status_code == 301 and response["Location"] == "https://testserver/accounts/login/"
    assert client.get("/healthz").status_code == 200


def _readme_production_environment() -> dict[str, str]:
    """The `export` lines of the README's Production section, with its `…` placeholders filled in."""
    text = (ROOT / "README.md").read_text()
    section = text.split("### Production", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    env = {}
    for line in section.splitlines():
        if line.startswith("export "):
            for assignment in shlex.split(line)[1:]:
                key, _, value = assignment.partition("=")
                env[key] = secrets.token_urlsafe(50) if value == "…" else value
    return env


@pytest.mark.slow  # runs manage.py check --deploy in a subprocess
def test_the_deploy_check_passes_with_the_readmes_production_environment_and_nothing_silenced(tmp_path):
    env = _readme_production_environment()
    assert {"DJANGO_SECRET_KEY", "DJANGO_HSTS_SECONDS", "DJANGO_SSL_REDIRECT"} <= set(env)
    if "AUDIT_SIGNING_KEY_FILE" in env:  # the operator's key file, made here
        key_file = tmp_path / "audit-key"
        key_file.write_text(secrets.token_urlsafe(48) + "\n")
        env["AUDIT_SIGNING_KEY_FILE"] = str(key_file)
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "ZSTACK_", "DATABASE_", "REDIS_", "AUDIT_"))
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues (0 silenced)" in result.stdout
