"""The Reclaim space action on the card (issue 12): admin only, confirmed first (with and without JavaScript),
one job per submission, audited, and the card shows the bytes freed."""

from __future__ import annotations

import pytest

from dashboard.accounts.roles import Role
from dashboard.audit.models import AuditEvent
from tests.storage_helpers import HTMX, action_data, body_of, storage_named, zstack_requests

pytestmark = pytest.mark.django_db
FREED = 1_288_490_189  # 1.2 GiB


def reclaims(sim) -> list[dict]:
    return [r for r in zstack_requests(sim, "PUT") if body_of(r) == {"reclaimSpaceFromImageStore": {}}]


def test_anonymous_post_is_redirected_to_login(client, uuid):
    response = client.post(f"/storages/{uuid}/reclaim/", action_data(uuid, "reclaim"))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("role", [Role.VIEWER, Role.AUDITOR])
def test_non_admins_get_403_their_refusal_is_audited_and_nothing_reaches_zstack(login_as, zstack_settings, uuid, role):
    client = login_as(role)
    zstack_settings.clear_requests()
    assert client.get(f"/storages/{uuid}/reclaim/").status_code == 403
    assert client.post(f"/storages/{uuid}/reclaim/", action_data(uuid, "reclaim")).status_code == 403
    assert client.post(f"/storages/{uuid}/reclaim/", action_data(uuid, "reclaim"), **HTMX).status_code == 403
    assert reclaims(zstack_settings) == []
    refused = AuditEvent.objects.filter(storage_uuid=uuid, action="storage.reclaim", outcome="refused")
    assert refused.count() == 2  # the POSTs; a GET asks for nothing


@pytest.mark.parametrize("role", [Role.VIEWER, Role.AUDITOR])
def test_non_admins_are_not_offered_the_button(login_as, uuid, role):
    html = login_as(role).get(f"/storages/{uuid}/").content.decode()
    assert f"/storages/{uuid}/reclaim/" not in html


def test_reclaim_asks_for_confirmation_first_with_a_page_that_works_without_javascript(login_as, zstack_settings, uuid):
    client = login_as(Role.ADMIN)
    card = client.get(f"/storages/{uuid}/card/").content.decode()
    assert f'href="/storages/{uuid}/reclaim/"' in card and "Reclaim space…" in card
    zstack_settings.clear_requests()
    page = client.get(f"/storages/{uuid}/reclaim/")
    html = page.content.decode()
    assert page.status_code == 200 and "<html" in html
    assert f'<form method="post" action="/storages/{uuid}/reclaim/"' in html
    assert "Reclaim space on “bs-prod-bj-01”?" in html
    assert [r["path"] for r in zstack_requests(zstack_settings)] == [f"/zstack/v1/backup-storage/image-store/{uuid}"]
    fragment = client.get(f"/storages/{uuid}/reclaim/", **HTMX).content.decode()
    assert fragment.lstrip().startswith(f'<section id="storage-confirm-{uuid}"')
    assert f'hx-post="/storages/{uuid}/reclaim/"' in fragment and "<html" not in fragment
    assert "HX-Request" in client.get(f"/storages/{uuid}/reclaim/")["Vary"]


def test_confirmed_reclaim_sends_one_job_and_the_card_shows_the_bytes_freed(login_as, zstack_settings, uuid):
    client = login_as(Role.ADMIN)
    zstack_settings.set_reclaimable(uuid, FREED)
    zstack_settings.clear_requests()
    data = action_data(uuid, "reclaim")
    html = client.post(f"/storages/{uuid}/reclaim/", data, **HTMX).content.decode()
    again = client.post(f"/storages/{uuid}/reclaim/", data, **HTMX).content.decode()  # a double click
    [put] = reclaims(zstack_settings)
    assert put["path"] == f"/zstack/v1/backup-storage/image-store/{uuid}/actions"
    assert html.lstrip().startswith(f'<section id="storage-card-{uuid}"')
    assert "Freed 1.2 GiB." in html
    assert "already submitted" in again and "Freed 1.2 GiB." in again
    events = AuditEvent.objects.filter(storage_uuid=uuid, action="storage.reclaim").order_by("sequence")
    assert [e.outcome for e in events] == ["attempted", "succeeded"]
    assert events.last().changes[0]["after"] == FREED


def test_plain_reclaim_redirects_to_the_detail_page_which_says_what_was_freed(login_as, zstack_settings, uuid):
    client = login_as(Role.ADMIN)
    zstack_settings.set_reclaimable(uuid, FREED)
    response = client.post(f"/storages/{uuid}/reclaim/", action_data(uuid, "reclaim"))
    assert response.status_code == 302 and response["Location"] == f"/storages/{uuid}/"
    assert "Freed 1.2 GiB." in client.get(response["Location"]).content.decode()


def test_a_failed_reclaim_shows_zstacks_error_in_the_card(login_as, zstack_settings):
    uuid = storage_named(zstack_settings, "上海备份存储")["uuid"]  # Disconnected
    client = login_as(Role.ADMIN)
    html = client.post(f"/storages/{uuid}/reclaim/", action_data(uuid, "reclaim"), **HTMX).content.decode()
    assert "SYS.1006" in html and "Reclaiming space did not take effect" in html
    assert "Freed" not in html


def test_a_reclaim_button_from_another_action_sends_nothing(login_as, zstack_settings, uuid):
    client = login_as(Role.ADMIN)
    zstack_settings.clear_requests()
    html = client.post(f"/storages/{uuid}/reclaim/", action_data(uuid, "reconnect"), **HTMX).content.decode()
    assert "This button had expired" in html and reclaims(zstack_settings) == []


def test_reclaim_on_an_unknown_uuid_gives_404(login_as, zstack_settings):
    client = login_as(Role.ADMIN)
    assert client.post(f"/storages/{'0' * 32}/reclaim/", action_data("0" * 32, "reclaim")).status_code == 404
    assert client.get(f"/storages/{'0' * 32}/reclaim/").status_code == 404


def test_the_audit_log_names_the_action_and_shows_the_bytes_freed(login_as, zstack_settings, uuid):
    zstack_settings.set_reclaimable(uuid, FREED)
    login_as(Role.ADMIN).post(f"/storages/{uuid}/reclaim/", action_data(uuid, "reclaim"))
    html = login_as(Role.AUDITOR, "auditor-2").get("/audit/").content.decode()
    assert "Reclaim space" in html and "Space freed (bytes)" in html and str(FREED) in html
