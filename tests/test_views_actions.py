"""Card actions: Reconnect, Enable, Disable with confirmation (issue 3, "Card actions for admins")."""

from __future__ import annotations

import pytest

from dashboard.accounts.roles import Role
from dashboard.audit.models import AuditEvent
from tests.storage_helpers import (
    HTMX,
    action_data,
    body_of,
    header,
    once_the_success_is_recorded,
    storage_named,
    zstack_requests,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def disabled_uuid(zstack_settings) -> str:
    return storage_named(zstack_settings, "bs-dev-shared")["uuid"]


ACTIONS = ["reconnect", "enable", "disable"]


@pytest.mark.parametrize("action", ACTIONS)
def test_anonymous_post_is_redirected_to_login(client, uuid, action):
    response = client.post(f"/storages/{uuid}/{action}/", action_data(uuid, action))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("role", [Role.VIEWER, Role.AUDITOR])
@pytest.mark.parametrize("action", ACTIONS)
def test_non_admins_get_403_and_nothing_reaches_zstack(login_as, zstack_settings, uuid, role, action):
    client = login_as(role)
    zstack_settings.clear_requests()
    assert client.post(f"/storages/{uuid}/{action}/", action_data(uuid, action)).status_code == 403
    assert client.post(f"/storages/{uuid}/{action}/", action_data(uuid, action), **HTMX).status_code == 403
    assert zstack_requests(zstack_settings) == []
    assert AuditEvent.objects.filter(storage_uuid=uuid, outcome="refused", action=f"storage.{action}").count() == 2


@pytest.mark.parametrize("role", [Role.VIEWER, Role.AUDITOR])
def test_non_admins_get_403_for_the_disable_confirmation(login_as, uuid, role):
    assert login_as(role).get(f"/storages/{uuid}/disable/").status_code == 403


@pytest.mark.parametrize("action", ["reconnect", "enable"])
def test_actions_only_accept_post(login_as, uuid, action):
    assert login_as(Role.ADMIN).get(f"/storages/{uuid}/{action}/").status_code == 405


def test_htmx_reconnect_returns_the_card_with_the_result(login_as, zstack_settings, uuid):
    client = login_as(Role.ADMIN)
    zstack_settings.clear_requests()
    response = client.post(f"/storages/{uuid}/reconnect/", action_data(uuid, "reconnect"), **HTMX)
    html = response.content.decode()
    [put] = zstack_requests(zstack_settings, "PUT")
    assert put["path"] == f"/zstack/v1/backup-storage/image-store/{uuid}/actions"
    assert body_of(put) == {"reconnectImageStoreBackupStorage": {}}
    assert html.lstrip().startswith(f'<section id="storage-card-{uuid}"')
    assert "Reconnected." in html and header(put, "X-Job-UUID") in html
    outcomes = list(AuditEvent.objects.filter(storage_uuid=uuid).values_list("outcome", flat=True).order_by("sequence"))
    assert outcomes == ["attempted", "succeeded"]


def test_reconnect_failure_shows_the_code_message_and_correlation_id_in_the_card(login_as, zstack_settings, uuid):
    client = login_as(Role.ADMIN)
    zstack_settings.set_faults(fail_next_jobs=[{"code": "SYS.1006", "details": "ssh: connection refused"}])
    zstack_settings.clear_requests()
    html = client.post(f"/storages/{uuid}/reconnect/", action_data(uuid, "reconnect"), **HTMX).content.decode()
    [put] = zstack_requests(zstack_settings, "PUT")
    assert "SYS.1006" in html and "ssh: connection refused" in html and header(put, "X-Job-UUID") in html
    assert f'id="storage-card-{uuid}"' in html


def test_plain_reconnect_redirects_to_the_detail_page_with_a_message(login_as, zstack_settings, uuid):
    client = login_as(Role.ADMIN)
    response = client.post(f"/storages/{uuid}/reconnect/", action_data(uuid, "reconnect"))
    assert response.status_code == 302 and response["Location"] == f"/storages/{uuid}/"
    assert "Reconnected." in client.get(response["Location"]).content.decode()


def test_plain_reconnect_failure_redirects_with_the_error_message(login_as, zstack_settings, uuid):
    client = login_as(Role.ADMIN)
    zstack_settings.set_faults(fail_next_jobs=[{"code": "SYS.1006", "details": "host unreachable"}])
    response = client.post(f"/storages/{uuid}/reconnect/", action_data(uuid, "reconnect"), follow=True)
    html = response.content.decode()
    assert "SYS.1006" in html and "host unreachable" in html and "correlation id" in html


@pytest.mark.parametrize("fault", ["job fails", "job never finishes"])
def test_a_failed_action_answers_htmx_with_the_card_at_200_and_a_plain_post_with_a_redirect(
    login_as, zstack_settings, uuid, settings, fault
):
    """htmx 2 swaps only 2xx answers, and a plain post follows post/redirect/get, whatever the error."""
    client = login_as(Role.ADMIN)
    settings.ZSTACK_JOB_DEADLINE = 0.5
    for headers in (HTMX, {}):
        if fault == "job fails":
            zstack_settings.set_faults(fail_next_jobs=[{"code": "SYS.1006", "details": "host unreachable"}])
        else:
            zstack_settings.set_faults(jobs_never_finish=True)
        response = client.post(f"/storages/{uuid}/reconnect/", action_data(uuid, "reconnect"), **headers)
        if headers:
            assert response.status_code == 200 and f'id="storage-card-{uuid}"' in response.content.decode()
        else:
            assert response.status_code == 302 and response["Location"] == f"/storages/{uuid}/"


def test_disable_asks_for_confirmation_first_with_a_page_that_works_without_javascript(login_as, zstack_settings, uuid):
    client = login_as(Role.ADMIN)
    zstack_settings.clear_requests()
    page = client.get(f"/storages/{uuid}/disable/")
    html = page.content.decode()
    assert page.status_code == 200 and "<html" in html
    assert f'<form method="post" action="/storages/{uuid}/disable/"' in html
    assert zstack_requests(zstack_settings, "PUT") == []
    fragment = client.get(f"/storages/{uuid}/disable/", **HTMX).content.decode()
    assert fragment.lstrip().startswith(f'<section id="storage-confirm-{uuid}"')
    assert f'hx-post="/storages/{uuid}/disable/"' in fragment


def test_confirmed_disable_changes_the_state_and_returns_the_card(login_as, zstack_settings, uuid):
    client = login_as(Role.ADMIN)
    zstack_settings.clear_requests()
    html = client.post(f"/storages/{uuid}/disable/", action_data(uuid, "disable"), **HTMX).content.decode()
    [put] = zstack_requests(zstack_settings, "PUT")
    assert put["path"] == f"/zstack/v1/backup-storage/{uuid}/actions"
    assert body_of(put) == {"changeBackupStorageState": {"stateEvent": "disable"}}
    assert storage_named(zstack_settings, "bs-prod-bj-01")["state"] == "Disabled"
    assert "Disabled." in html and f'action="/storages/{uuid}/enable/"' in html  # the card now offers Enable


def test_plain_disable_then_enable_round_trip(login_as, zstack_settings, uuid):
    client = login_as(Role.ADMIN)
    assert client.post(f"/storages/{uuid}/disable/", action_data(uuid, "disable")).status_code == 302
    assert storage_named(zstack_settings, "bs-prod-bj-01")["state"] == "Disabled"
    response = client.post(f"/storages/{uuid}/enable/", action_data(uuid, "enable"), follow=True)
    assert "Enabled." in response.content.decode()
    assert storage_named(zstack_settings, "bs-prod-bj-01")["state"] == "Enabled"
    actions = list(AuditEvent.objects.filter(storage_uuid=uuid, outcome="succeeded").values_list("action", flat=True))
    assert sorted(actions) == ["storage.disable", "storage.enable"]


def test_enable_sends_the_enable_state_event(login_as, zstack_settings, disabled_uuid):
    client = login_as(Role.ADMIN)
    zstack_settings.clear_requests()
    client.post(f"/storages/{disabled_uuid}/enable/", action_data(disabled_uuid, "enable"), **HTMX)
    [put] = zstack_requests(zstack_settings, "PUT")
    assert body_of(put) == {"changeBackupStorageState": {"stateEvent": "enable"}}


def test_actions_on_an_unknown_uuid_give_404(login_as, zstack_settings):
    client = login_as(Role.ADMIN)
    for action in ACTIONS:
        assert client.post(f"/storages/{'0' * 32}/{action}/", action_data("0" * 32, action)).status_code == 404


def test_the_disable_confirmation_asks_zstack_only_for_the_storage(login_as, zstack_settings, uuid):
    client = login_as(Role.ADMIN)
    client.get(f"/storages/{uuid}/card/")  # logged in to ZStack already
    zstack_settings.clear_requests()
    html = client.get(f"/storages/{uuid}/disable/", **HTMX).content.decode()
    assert "Disable “bs-prod-bj-01”?" in html
    assert [r["path"] for r in zstack_requests(zstack_settings)] == [f"/zstack/v1/backup-storage/image-store/{uuid}"]


def test_the_disable_confirmation_varies_on_hx_request(login_as, uuid):
    assert "HX-Request" in login_as(Role.ADMIN).get(f"/storages/{uuid}/disable/")["Vary"]


def test_a_reconnect_that_succeeded_is_shown_as_done_even_if_zstack_fails_right_after(login_as, zstack_settings, uuid):
    """The job's answer lacks the inventory and the re-reads fail: the card says Reconnected and that it
    could not load, never that ZStack did not make the change."""
    client = login_as(Role.ADMIN)
    zstack_settings.set_faults(omit_job_inventory=True)  # docs/zstack-protocol.md §9
    busy = {
        "status": 503,
        "code": "SYS.1006",
        "details": "busy",
        "match": f"GET /zstack/v1/backup-storage/image-store/{uuid}",
    }

    # Once ZStack's job succeeded and was recorded, the card's re-read fails.
    with once_the_success_is_recorded(lambda: zstack_settings.set_faults(fail_next=[busy])):
        response = client.post(f"/storages/{uuid}/reconnect/", action_data(uuid, "reconnect"), **HTMX)
    assert zstack_settings.faults()["fail_next"] == []
    html = response.content.decode()
    assert response.status_code == 200
    assert "Reconnected." in html and "could not be loaded" in html
    assert "did not make the change" not in html and "could not be reached" not in html
    outcomes = list(AuditEvent.objects.filter(storage_uuid=uuid).values_list("outcome", flat=True).order_by("sequence"))
    assert outcomes == ["attempted", "succeeded"]
