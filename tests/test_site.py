"""Site-wide behaviour: health check, login requirement, language switching before login, browser time zone."""

import pytest
from django.urls import reverse

from dashboard.audit import log as audit
from dashboard.accounts.actor import Actor
from dashboard.accounts.roles import Role, assign_role


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
    event = audit.record(actor=Actor.system(), action=audit.Action.RECONNECT, storage_uuid="a" * 32,
                         storage_name="bs", outcome=audit.Outcome.REFUSED)
    client.force_login(auditor)

    client.cookies["tz"] = "Asia/Tokyo"
    tokyo = client.get("/audit/").content.decode()
    client.cookies["tz"] = "America/New_York"
    new_york = client.get("/audit/").content.decode()

    utc = event.timestamp
    assert f"{(utc.hour + 9) % 24:02d}:{utc.minute:02d}" in tokyo
    assert f"{(utc.hour + 9) % 24:02d}:{utc.minute:02d}" not in new_york
