"""Site-wide behaviour: health check, login requirement, language switching before login, browser time zone."""

import os
import subprocess
import sys

import pytest
from django.urls import reverse

from dashboard.accounts.actor import Actor
from dashboard.accounts.roles import Role, assign_role
from dashboard.audit import log as audit


def test_healthz_answers_without_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"


@pytest.mark.django_db
def test_an_anonymous_visitor_is_sent_to_the_login_page(client):
    response = client.get("/storages/")
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.django_db
def test_the_language_can_be_switched_on_the_login_page_before_logging_in(client):
    response = client.post(reverse("set_language"), {"language": "zh-hans", "next": "/accounts/login/"})
    assert response.status_code == 302
    assert response.url == "/accounts/login/"
    assert response.cookies["django_language"].value == "zh-hans"


@pytest.mark.django_db
def test_audit_times_are_shown_in_the_browser_time_zone(client, django_user_model):
    auditor = django_user_model.objects.create_user("tz-auditor")
    assign_role(auditor, Role.AUDITOR)
    event = audit.record(
        actor=Actor.system(),
        action=audit.Action.RECONNECT,
        storage_uuid="a" * 32,
        storage_name="bs",
        outcome=audit.Outcome.REFUSED,
    )
    client.force_login(auditor)

    client.cookies["tz"] = "Asia/Tokyo"
    tokyo = client.get("/audit/").content.decode()
    client.cookies["tz"] = "America/New_York"
    new_york = client.get("/audit/").content.decode()

    utc = event.timestamp
    assert f"{(utc.hour + 9) % 24:02d}:{utc.minute:02d}" in tokyo
    assert f"{(utc.hour + 9) % 24:02d}:{utc.minute:02d}" not in new_york


def _import_settings(**env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "ZSTACK_"))}
    return subprocess.run(
        [sys.executable, "-c", "import dashboard.settings"],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_settings_refuse_to_start_without_a_secret_key():
    result = _import_settings(ZSTACK_PASSWORD="x")
    assert result.returncode != 0 and "DJANGO_SECRET_KEY" in result.stderr


def test_production_settings_need_no_zstack_password_for_commands_that_never_call_zstack():
    result = _import_settings(DJANGO_SECRET_KEY="k" * 50)
    assert result.returncode == 0, result.stderr


@pytest.mark.django_db
def test_without_a_zstack_password_pages_say_so_and_zstack_is_not_asked(login_as, zstack_settings, settings):
    settings.ZSTACK_PASSWORD = ""
    response = login_as(Role.VIEWER).get("/storages/")
    assert response.status_code == 503
    assert "ZSTACK_PASSWORD" in response.content.decode()
    assert [r for r in zstack_settings.requests() if r["path"].endswith("/accounts/login")] == []


def test_production_settings_start_with_both_and_debug_stays_off():
    result = _import_settings(DJANGO_SECRET_KEY="k" * 50, ZSTACK_PASSWORD="x")
    assert result.returncode == 0, result.stderr
    check = subprocess.run(
        [sys.executable, "-c", "import dashboard.settings as s; print(s.DEBUG, s.SESSION_COOKIE_SECURE)"],
        env={
            "DJANGO_SECRET_KEY": "k" * 50,
            "AUDIT_SIGNING_KEY": "a" * 40,
            "ZSTACK_PASSWORD": "x",
            "PATH": "/usr/bin:/bin",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.stdout.split() == ["False", "True"], check.stderr
