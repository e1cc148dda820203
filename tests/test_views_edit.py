"""The edit form: /storages/<uuid>/edit/ (issue 3, "Edit")."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
import requests

from dashboard.accounts.roles import Role
from dashboard.audit.models import AuditEvent
from dashboard.storages.zstack_client import get_client
from dashboard.zstack.client import new_job_uuid
from tests.sim_helpers import run_job
from tests.storage_helpers import (
    HTMX,
    TAG_REMOVAL_FAILS,
    body_of,
    form_data,
    header,
    storage_named,
    zstack_requests,
)

pytestmark = pytest.mark.django_db

CANARY_PASSWORD = "Canary-Pw-7f3e1d"


def puts(sim) -> list[dict]:
    return zstack_requests(sim, "PUT")


class _FormValues(HTMLParser):
    """What a browser would submit from the rendered edit form: its inputs' values and textareas' texts."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.values: dict[str, str] = {}
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("name") and attrs.get("type") != "submit":
            self.values[attrs["name"]] = attrs.get("value") or ""
        elif tag == "textarea":
            self._textarea = attrs["name"]
            self.values[self._textarea] = ""

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea is not None:
            self.values[self._textarea] += data


def submitted_values(html: str) -> dict[str, str]:
    parser = _FormValues()
    parser.feed(html)
    values = parser.values
    for name in ("description", "systemTags", "userTags"):  # a browser drops the newline after <textarea>
        if values.get(name, "").startswith("\n"):
            values[name] = values[name][1:]
    return values


# --- permissions -------------------------------------------------------------------------------


def test_anonymous_user_is_redirected_to_login_for_get_and_post(client, uuid):
    for response in (client.get(f"/storages/{uuid}/edit/"), client.post(f"/storages/{uuid}/edit/", {})):
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("role", [Role.VIEWER, Role.AUDITOR, None])
def test_non_admins_get_403_for_the_form_and_the_post_and_nothing_reaches_zstack(login_as, zstack_settings, uuid, role):
    client = login_as(role)
    data = form_data(uuid, name="hijacked")
    zstack_settings.clear_requests()
    assert client.get(f"/storages/{uuid}/edit/").status_code == 403
    assert client.post(f"/storages/{uuid}/edit/", data).status_code == 403
    assert client.post(f"/storages/{uuid}/edit/", data, **HTMX).status_code == 403
    assert zstack_requests(zstack_settings) == []
    refused = AuditEvent.objects.filter(storage_uuid=uuid, outcome="refused", action="storage.update")
    assert refused.count() == 2  # the two POSTs; a GET changes nothing and is not a write attempt


def test_admin_gets_the_form_prefilled_with_exactly_the_api_field_names(login_as, uuid):
    html = login_as(Role.ADMIN).get(f"/storages/{uuid}/edit/").content.decode()
    names = set(re.findall(r'name="([^"]+)"', html))
    for field in (
        "name",
        "description",
        "hostname",
        "username",
        "password",
        "sshPort",
        "systemTags",
        "userTags",
        "loaded",
    ):
        assert field in names
    assert 'value="bs-prod-bj-01"' in html and 'value="192.0.2.11"' in html
    assert "env::prod\nowner::storage-team</textarea>" in html
    password_input = re.search(r'<input type="password"[^>]*>', html).group(0)
    assert "value=" not in password_input


def test_the_form_asks_zstack_only_for_the_storage_and_its_tags(login_as, zstack_settings, uuid):
    client = login_as(Role.ADMIN)
    client.get(f"/storages/{uuid}/")  # logged in to ZStack already
    zstack_settings.clear_requests()
    client.get(f"/storages/{uuid}/edit/", **HTMX)
    paths = sorted(r["path"] for r in zstack_requests(zstack_settings))  # read at once: in any order
    assert paths == sorted(
        [f"/zstack/v1/backup-storage/image-store/{uuid}", "/zstack/v1/system-tags", "/zstack/v1/user-tags"]
    )


def test_the_form_varies_on_hx_request_as_it_answers_a_fragment_or_a_page(login_as, uuid):
    response = login_as(Role.ADMIN).get(f"/storages/{uuid}/edit/")
    assert "HX-Request" in response["Vary"]


def test_htmx_get_returns_the_form_alone_targeting_itself(login_as, uuid):
    html = login_as(Role.ADMIN).get(f"/storages/{uuid}/edit/", **HTMX).content.decode()
    assert html.lstrip().startswith(f'<form id="storage-edit-{uuid}"')
    assert f'hx-post="/storages/{uuid}/edit/"' in html and 'hx-target="this"' in html
    assert 'hx-swap="outerHTML"' in html


def test_edit_of_an_unknown_uuid_gives_404(login_as, zstack_settings):
    client = login_as(Role.ADMIN)
    assert client.get(f"/storages/{'0' * 32}/edit/").status_code == 404


# --- the PUT ZStack receives -------------------------------------------------------------------


def test_the_put_carries_only_changed_fields_and_added_tags_go_through_create_user_tag(login_as, zstack_settings, uuid):
    client = login_as(Role.ADMIN)
    data = form_data(uuid, name="bs-renamed", userTags="env::prod\nowner::storage-team\nteam::blue")
    zstack_settings.clear_requests()
    response = client.post(f"/storages/{uuid}/edit/", data, **HTMX)
    assert response.status_code == 200
    [put] = puts(zstack_settings)
    assert put["path"] == f"/zstack/v1/backup-storage/image-store/{uuid}/actions"
    assert body_of(put) == {"updateImageStoreBackupStorage": {"name": "bs-renamed"}}  # no tags: ZStack drops them
    assert re.fullmatch(r"[0-9a-f]{32}", header(put, "X-Job-UUID"))
    [create] = zstack_requests(zstack_settings, "POST", "/user-tags")
    assert body_of(create) == {
        "params": {"resourceType": "ImageStoreBackupStorageVO", "resourceUuid": uuid, "tag": "team::blue"}
    }
    assert storage_named(zstack_settings, "bs-renamed")["uuid"] == uuid
    held = sorted(t["tag"] for t in zstack_settings.tags() if t["resourceUuid"] == uuid and t["type"] == "User")
    assert held == ["env::prod", "owner::storage-team", "team::blue"]


def test_a_new_password_is_sent_but_never_rendered_back(login_as, zstack_settings, uuid):
    client = login_as(Role.ADMIN)
    data = form_data(uuid, password=CANARY_PASSWORD, sshPort="2222")
    zstack_settings.clear_requests()
    response = client.post(f"/storages/{uuid}/edit/", data, **HTMX)
    [put] = puts(zstack_settings)
    assert body_of(put) == {"updateImageStoreBackupStorage": {"password": CANARY_PASSWORD, "sshPort": 2222}}
    assert CANARY_PASSWORD not in response.content.decode()
    assert storage_named(zstack_settings, "bs-prod-bj-01")["_password"] == CANARY_PASSWORD


def test_removed_tags_are_deleted_by_their_tag_uuid(login_as, zstack_settings, uuid):
    client = login_as(Role.ADMIN)
    tag = next(t for t in zstack_settings.tags() if t["resourceUuid"] == uuid and t["tag"] == "owner::storage-team")
    data = form_data(uuid, userTags="env::prod")
    zstack_settings.clear_requests()
    client.post(f"/storages/{uuid}/edit/", data, **HTMX)
    assert puts(zstack_settings) == []
    [delete] = zstack_requests(zstack_settings, "DELETE")
    assert delete["path"] == f"/zstack/v1/tags/{tag['uuid']}"
    assert [t["tag"] for t in zstack_settings.tags() if t["resourceUuid"] == uuid and t["type"] == "User"] == [
        "env::prod"
    ]


def test_nothing_changed_makes_no_upstream_write_and_says_so(login_as, zstack_settings, uuid):
    client = login_as(Role.ADMIN)
    data = form_data(uuid)
    zstack_settings.clear_requests()
    response = client.post(f"/storages/{uuid}/edit/", data, **HTMX)
    assert [r for r in zstack_requests(zstack_settings) if r["method"] != "GET"] == []
    assert "Nothing changed" in response.content.decode()


# --- htmx and plain paths ------------------------------------------------------------------------


def test_htmx_success_returns_the_refreshed_card_with_a_message(login_as, zstack_settings, uuid):
    response = login_as(Role.ADMIN).post(f"/storages/{uuid}/edit/", form_data(uuid, description="New words"), **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<section id="storage-card-{uuid}"')
    assert "Saved." in html and "New words" in html
    assert "data-announce" in html


def test_htmx_success_also_refreshes_the_recent_changes_out_of_band(login_as, zstack_settings, uuid):
    response = login_as(Role.ADMIN, "history-admin").post(
        f"/storages/{uuid}/edit/", form_data(uuid, description="Newer words"), **HTMX
    )
    html = response.content.decode()
    history = html[html.index('<section id="storage-history"') :]
    assert history.startswith(
        '<section id="storage-history" class="history" aria-labelledby="history-title" hx-swap-oob="true">'
    )
    assert "history-admin" in history and "Newer words" in history


def test_plain_post_redirects_to_the_detail_page_with_a_message(login_as, zstack_settings, uuid):
    client = login_as(Role.ADMIN)
    response = client.post(f"/storages/{uuid}/edit/", form_data(uuid, name="bs-plain"))
    assert response.status_code == 302 and response["Location"] == f"/storages/{uuid}/"
    page = client.get(response["Location"]).content.decode()
    assert "Saved." in page and "bs-plain" in page


# --- invalid input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("name", "x" * 256, "The name must be at most 255 characters (it has 256)."),
        ("description", "d" * 2049, "The description must be at most 2048 characters (it has 2049)."),
        ("sshPort", "70000", "SSH port must be between 1 and 65535."),
        ("sshPort", "0", "SSH port must be between 1 and 65535."),
        ("sshPort", "22.5", "SSH port must be between 1 and 65535."),
        (
            "userTags",
            "env::" + "x" * 2044,
            "Line 1 is 2049 characters long: ZStack keeps tags of at most 2048 characters.",
        ),
        ("userTags", "env::prod\nbad\ttag", "Line 2 contains a control character"),
        ("hostname", "bad host!", "valid host name or IP address"),
        ("userTags", "a\n\nb", "Line 2 is empty"),
        ("systemTags", "a\na", "Line 2 repeats"),
    ],
)
def test_invalid_input_comes_back_with_linked_errors_and_nothing_is_sent(
    login_as, zstack_settings, uuid, field, value, message
):
    client = login_as(Role.ADMIN)
    data = form_data(uuid, **{field: value, "description": "kept input"} if field != "description" else {field: value})
    zstack_settings.clear_requests()
    htmx_response = client.post(f"/storages/{uuid}/edit/", data, **HTMX)
    plain_response = client.post(f"/storages/{uuid}/edit/", data)
    assert htmx_response.status_code == 200 and plain_response.status_code == 422
    html = htmx_response.content.decode()
    assert message in html
    assert f'aria-describedby="id_{field}_error"' in html or f"id_{field}_helptext id_{field}_error" in html
    assert 'aria-invalid="true"' in html
    if field != "description":
        assert "kept input" in html
    assert zstack_requests(zstack_settings) == []
    assert AuditEvent.objects.filter(storage_uuid=uuid, outcome="invalid").count() == 2


def test_invalid_form_never_renders_the_password_back(login_as, zstack_settings, uuid):
    data = form_data(uuid, password=CANARY_PASSWORD, sshPort="0")
    html = login_as(Role.ADMIN).post(f"/storages/{uuid}/edit/", data, **HTMX).content.decode()
    assert CANARY_PASSWORD not in html


# --- upstream failures ---------------------------------------------------------------------------


def test_job_failure_keeps_the_input_and_shows_code_message_and_correlation_id(login_as, zstack_settings, uuid):
    client = login_as(Role.ADMIN)
    data = form_data(uuid, name="bs-will-fail", description="my careful words", password=CANARY_PASSWORD)
    zstack_settings.set_faults(fail_next_jobs=[{"code": "SYS.1006", "details": "the disk is on fire"}])
    zstack_settings.clear_requests()
    response = client.post(f"/storages/{uuid}/edit/", data, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<form id="storage-edit-{uuid}"')
    [put] = puts(zstack_settings)
    assert "SYS.1006" in html and "the disk is on fire" in html
    assert header(put, "X-Job-UUID") in html
    assert 'value="bs-will-fail"' in html and "my careful words" in html
    assert CANARY_PASSWORD not in html
    assert storage_named(zstack_settings, "bs-prod-bj-01")["name"] == "bs-prod-bj-01"


def test_plain_post_refused_by_zstack_as_invalid_answers_422_with_the_form_and_the_error(
    login_as, zstack_settings, uuid
):
    client = login_as(Role.ADMIN)
    zstack_settings.set_faults(fail_next_jobs=[{"code": "SYS.1007", "details": "hostname rejected"}])
    response = client.post(f"/storages/{uuid}/edit/", form_data(uuid, hostname="10.0.0.9"))
    assert response.status_code == 422  # SYS.1007: ZStack refused the input itself
    html = response.content.decode()
    assert "<html" in html and "SYS.1007" in html and 'value="10.0.0.9"' in html


@pytest.mark.slow  # polls a job until the deadline
def test_a_job_that_never_finishes_is_reported_as_timed_out(login_as, zstack_settings, uuid, settings):
    settings.ZSTACK_JOB_DEADLINE = 1.0
    client = login_as(Role.ADMIN)
    data = form_data(uuid, name="bs-slow")
    zstack_settings.set_faults(jobs_never_finish=True)
    response = client.post(f"/storages/{uuid}/edit/", data, **HTMX)
    html = response.content.decode()
    assert "not confirmed by ZStack in time" in html and 'value="bs-slow"' in html
    assert AuditEvent.objects.filter(storage_uuid=uuid, outcome="timed_out").exists()


def test_zstack_unreachable_on_save_keeps_the_input(login_as, zstack_settings, uuid, settings):
    client = login_as(Role.ADMIN)
    data = form_data(uuid, name="bs-offline")
    settings.ZSTACK_URL = "http://127.0.0.1:9"
    response = client.post(f"/storages/{uuid}/edit/", data, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "could not be reached" in html and 'value="bs-offline"' in html


def test_a_connection_lost_after_the_put_was_sent_says_the_change_may_still_complete(login_as, zstack_settings, uuid):
    client = login_as(Role.ADMIN)
    data = form_data(uuid, name="bs-unknown")
    zstack_settings.set_faults(fail_next=[{"drop": True, "match": "PUT /zstack/v1/backup-storage/"}])
    response = client.post(f"/storages/{uuid}/edit/", data)
    html = response.content.decode()
    assert response.status_code == 504
    assert "ZStack did not confirm the change" in html and "may still complete" in html
    assert "Reload to see the current state" in html and "could not be reached" not in html
    assert 'value="bs-unknown"' in html
    assert AuditEvent.objects.filter(storage_uuid=uuid, outcome="timed_out").exists()
    assert not AuditEvent.objects.filter(storage_uuid=uuid, outcome="failed").exists()


# --- partial success -----------------------------------------------------------------------------


def test_a_save_whose_tag_removal_fails_shows_the_form_with_what_was_saved_and_sends_only_the_rest_again(
    login_as, zstack_settings, uuid
):
    client = login_as(Role.ADMIN)
    data = form_data(uuid, name="bs-half", userTags="env::prod")
    zstack_settings.set_faults(fail_next=[TAG_REMOVAL_FAILS])
    zstack_settings.clear_requests()
    html = client.post(f"/storages/{uuid}/edit/", data, **HTMX).content.decode()
    [delete] = zstack_requests(zstack_settings, "DELETE")
    assert html.lstrip().startswith(f'<form id="storage-edit-{uuid}"')
    assert "ZStack saved part of the change" in html and "Saved: Name." in html
    assert "Removing the tag “owner::storage-team” did not take effect: the tag is locked" in html
    assert "SYS.1006" in html and header(delete, "X-Job-UUID") in html
    assert 'value="bs-half"' in html and "\nenv::prod</textarea>" in html  # the input is kept
    assert [e.outcome for e in AuditEvent.objects.filter(storage_uuid=uuid).order_by("sequence")] == [
        "attempted",
        "partial",
    ]

    # The form again holds a fresh snapshot and token: saving it sends only what is still to do.
    again = {name: value for name, value in re.findall(r'name="(loaded|submission)" value="([^"]*)"', html)}
    zstack_settings.clear_requests()
    html = client.post(f"/storages/{uuid}/edit/", {**data, **again}, **HTMX).content.decode()
    assert puts(zstack_settings) == [] and len(zstack_requests(zstack_settings, "DELETE")) == 1
    assert html.lstrip().startswith(f'<section id="storage-card-{uuid}"') and "Saved." in html


def test_a_plain_post_with_a_partial_success_answers_502_with_the_form_and_what_was_saved(
    login_as, zstack_settings, uuid
):
    client = login_as(Role.ADMIN)
    data = form_data(uuid, name="bs-half-plain", userTags="env::prod")
    zstack_settings.set_faults(fail_next=[TAG_REMOVAL_FAILS])
    response = client.post(f"/storages/{uuid}/edit/", data)
    assert response.status_code == 502
    page = response.content.decode()
    assert "<html" in page and "Saved: Name." in page and "the tag is locked" in page


def test_an_invalid_system_tag_shows_zstacks_error_on_the_form_with_the_input_kept(login_as, zstack_settings, uuid):
    client = login_as(Role.ADMIN)
    data = form_data(uuid, systemTags="priority::high\nfree text tag", description="kept words")
    response = client.post(f"/storages/{uuid}/edit/", data, **HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith(f'<form id="storage-edit-{uuid}"')
    assert "no system tag matches[free text tag]" in html and "SYS.1007" in html
    field = html[html.index('name="systemTags"') :]
    assert "free text tag" in field[: field.index("</textarea>")]  # the user's lines are still there
    assert 'aria-invalid="true"' in html  # the field is marked
    assert storage_named(zstack_settings, "bs-prod-bj-01")["description"] == "kept words"  # the rest was saved
    system = [t["tag"] for t in zstack_settings.tags() if t["resourceUuid"] == uuid and t["type"] == "System"]
    assert system == ["priority::high"]


# --- stale form ----------------------------------------------------------------------------------


def test_a_stale_form_is_not_written_shows_the_three_values_and_can_be_resubmitted(login_as, zstack_settings, uuid):
    client = login_as(Role.ADMIN)
    data = form_data(uuid, name="my-name", description="my description")
    zstack_settings.patch_storage(uuid, name="their-name")
    zstack_settings.clear_requests()

    response = client.post(f"/storages/{uuid}/edit/", data, **HTMX)
    html = response.content.decode()
    assert puts(zstack_settings) == []
    assert "changed in ZStack since you opened the form" in html
    conflicts = html[html.index("<tbody>") : html.index("</tbody>")]
    assert re.search(r"Name</th><td[^>]*>bs-prod-bj-01</td><td[^>]*>their-name</td><td[^>]*>my-name</td>", conflicts)
    assert "my description" not in conflicts  # nobody else changed the description: not a conflict
    assert 'value="my-name"' in html  # the user's input stays for review
    fresh = re.search(r'name="loaded" value="([^"]*)"', html).group(1)
    assert fresh and fresh != data["loaded"]
    assert AuditEvent.objects.filter(storage_uuid=uuid, outcome="conflict").count() == 1

    resubmitted = client.post(f"/storages/{uuid}/edit/", {**data, "loaded": fresh}, **HTMX)
    assert "Saved." in resubmitted.content.decode()
    assert storage_named(zstack_settings, "my-name")["description"] == "my description"


def test_saving_a_stale_form_again_keeps_a_colleagues_change_to_a_field_the_user_never_touched(
    login_as, zstack_settings, uuid
):
    client = login_as(Role.ADMIN)
    data = form_data(uuid, description="mine")  # the user edits only the description
    zstack_settings.patch_storage(uuid, name="their-name", description="theirs")
    stale = client.post(f"/storages/{uuid}/edit/", data, **HTMX)
    assert "changed in ZStack since you opened the form" in stale.content.decode()
    assert "Fields you did not edit now show their current values in ZStack." in stale.content.decode()
    review = submitted_values(stale.content.decode())
    assert review["name"] == "their-name"  # the untouched field now shows ZStack's value
    assert review["description"] == "mine"  # the user's edit stays
    zstack_settings.clear_requests()

    saved = client.post(f"/storages/{uuid}/edit/", review, **HTMX)  # "Save anyway"
    assert "Saved." in saved.content.decode()
    [put] = puts(zstack_settings)
    assert body_of(put) == {"updateImageStoreBackupStorage": {"description": "mine"}}
    assert storage_named(zstack_settings, "their-name")["description"] == "mine"


def test_the_stale_review_form_shows_zstacks_current_tags_for_tag_fields_the_user_left_alone(
    login_as, zstack_settings, uuid
):
    client = login_as(Role.ADMIN)
    data = form_data(uuid, name="my-name")
    zstack_settings.patch_storage(uuid, name="their-name")
    tag = next(t for t in zstack_settings.tags() if t["resourceUuid"] == uuid and t["tag"] == "owner::storage-team")
    zstack = get_client()  # a colleague removed a tag meanwhile
    run_job(zstack, zstack.submit_delete_tag(tag["uuid"], job_uuid=new_job_uuid()))
    review = submitted_values(client.post(f"/storages/{uuid}/edit/", data, **HTMX).content.decode())
    assert (review["name"], review["userTags"]) == ("my-name", "env::prod")
    zstack_settings.clear_requests()
    client.post(f"/storages/{uuid}/edit/", review, **HTMX)
    assert zstack_requests(zstack_settings, "DELETE") == [] and zstack_requests(zstack_settings, "PUT")
    assert [t["tag"] for t in zstack_settings.tags() if t["resourceUuid"] == uuid and t["type"] == "User"] == [
        "env::prod"
    ]


def test_plain_stale_post_answers_409_with_the_review_form(login_as, zstack_settings, uuid):
    client = login_as(Role.ADMIN)
    data = form_data(uuid, description="mine")
    zstack_settings.patch_storage(uuid, description="changed elsewhere")
    response = client.post(f"/storages/{uuid}/edit/", data)
    assert response.status_code == 409
    assert "changed elsewhere" in response.content.decode()


def test_a_status_change_upstream_is_not_a_conflict_and_the_save_goes_through(login_as, zstack_settings, uuid):
    client = login_as(Role.ADMIN)
    data = form_data(uuid, description="saved despite the status change")
    zstack_settings.patch_storage(uuid, status="Disconnected", availableCapacity=4096)
    html = client.post(f"/storages/{uuid}/edit/", data, **HTMX).content.decode()
    assert "Saved." in html and "changed in ZStack" not in html
    assert storage_named(zstack_settings, "bs-prod-bj-01")["description"] == "saved despite the status change"


def test_a_name_changed_upstream_while_the_user_edited_only_the_description_saves_both(login_as, zstack_settings, uuid):
    client = login_as(Role.ADMIN)
    data = form_data(uuid, description="only my description")  # still carries the old name
    zstack_settings.patch_storage(uuid, name="their-new-name")
    zstack_settings.clear_requests()
    html = client.post(f"/storages/{uuid}/edit/", data, **HTMX).content.decode()
    [put] = puts(zstack_settings)
    assert body_of(put) == {"updateImageStoreBackupStorage": {"description": "only my description"}}
    assert "Saved." in html and "their-new-name" in html
    assert storage_named(zstack_settings, "their-new-name")["description"] == "only my description"


@pytest.mark.parametrize("loaded", ["", "tampered", "x:y:z"])
def test_a_tampered_or_missing_snapshot_is_a_form_error_and_nothing_is_sent(login_as, zstack_settings, uuid, loaded):
    client = login_as(Role.ADMIN)
    data = form_data(uuid, name="bs-forged", loaded=loaded)
    zstack_settings.clear_requests()
    response = client.post(f"/storages/{uuid}/edit/", data, **HTMX)
    html = response.content.decode()
    assert "could not be verified" in html and 'value="bs-forged"' in html
    assert zstack_requests(zstack_settings) == []
    assert AuditEvent.objects.filter(storage_uuid=uuid, outcome="invalid").count() == 1


def test_the_snapshot_of_another_storage_is_refused(login_as, zstack_settings, uuid):
    other = storage_named(zstack_settings, "bs-prod-bj-02")["uuid"]
    client = login_as(Role.ADMIN)
    data = form_data(uuid, name="bs-crossed", loaded=form_data(other)["loaded"])
    html = client.post(f"/storages/{uuid}/edit/", data, **HTMX).content.decode()
    assert "could not be verified" in html and puts(zstack_settings) == []


# --- secrets on error pages ----------------------------------------------------------------------


def test_the_debug_error_page_of_a_failing_save_never_shows_the_ssh_password(
    login_as, zstack_settings, uuid, settings, monkeypatch
):
    """``make run`` serves with DEBUG on; an unexpected exception deep in the client must not put the
    password (form, service, client frames) on Django's technical 500 page."""
    client = login_as(Role.ADMIN)
    data = form_data(uuid, password=CANARY_PASSWORD, name="bs-debug")
    real_request = requests.Session.request

    def explode_on_put(self, method, url, **kwargs):
        if method == "PUT" and "/backup-storage/" in url:
            raise RuntimeError("unexpected failure inside the HTTP stack")
        return real_request(self, method, url, **kwargs)

    monkeypatch.setattr(requests.Session, "request", explode_on_put)
    settings.DEBUG = True
    client.raise_request_exception = False
    response = client.post(f"/storages/{uuid}/edit/", data)
    html = response.content.decode()
    assert response.status_code == 500
    assert "unexpected failure inside the HTTP stack" in html  # it is Django's technical 500 page
    assert "storage_update" in html and "submit_update" in html and "_request" in html  # with those frames
    assert CANARY_PASSWORD not in html
    assert "password" in html and "********************" in html  # the POST parameter, hidden
