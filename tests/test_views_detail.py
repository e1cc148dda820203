"""Detail page and card fragment: /storages/<uuid>/ and /storages/<uuid>/card/ (issue 3, "Detail and card")."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dashboard.accounts.actor import Actor
from dashboard.accounts.roles import Role
from dashboard.audit import log as audit
from dashboard.audit.log import Action, FieldChange, Outcome
from tests.storage_helpers import HTMX, storage_named, zstack_requests

pytestmark = pytest.mark.django_db

CANARIES = ("canary-host.example.com", "canaryuser", "54321", "priority::high", "env::prod", "owner::storage-team")


@pytest.fixture
def storage(zstack_settings) -> dict:
    """bs-prod-bj-01 with recognisable connection details (its tags are priority::high, env::prod, owner::storage-team)."""
    uuid = storage_named(zstack_settings, "bs-prod-bj-01")["uuid"]
    return zstack_settings.patch_storage(uuid, hostname="canary-host.example.com", username="canaryuser", sshPort=54321)


def _urls(uuid: str) -> list[str]:
    return [f"/storages/{uuid}/", f"/storages/{uuid}/card/"]


def test_anonymous_user_is_redirected_to_login_from_detail_and_card(client, storage):
    for url in _urls(storage["uuid"]):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("role", [Role.ADMIN, Role.VIEWER, Role.AUDITOR])
def test_every_role_gets_the_detail_page_and_the_card_fragment(login_as, storage, role):
    client = login_as(role)
    page = client.get(f"/storages/{storage['uuid']}/")
    card = client.get(f"/storages/{storage['uuid']}/card/")
    assert page.status_code == 200 and card.status_code == 200
    assert f'id="storage-card-{storage["uuid"]}"' in page.content.decode()
    card_html = card.content.decode()
    assert card_html.lstrip().startswith(f'<section id="storage-card-{storage["uuid"]}"')
    assert "<html" not in card_html


def test_user_without_a_role_gets_403_on_detail_and_card(login_as, storage):
    client = login_as(None)
    for url in _urls(storage["uuid"]):
        assert client.get(url).status_code == 403


def test_admin_card_shows_connection_details_and_tags(login_as, storage):
    html = login_as(Role.ADMIN).get(f"/storages/{storage['uuid']}/").content.decode()
    for canary in CANARIES:
        assert canary in html


@pytest.mark.parametrize("role", [Role.VIEWER, Role.AUDITOR])
def test_viewers_and_auditors_never_receive_hostname_username_port_or_tags(login_as, storage, role):
    client = login_as(role)
    uuid = storage["uuid"]
    responses = [
        client.get(f"/storages/{uuid}/"),
        client.get(f"/storages/{uuid}/card/"),
        client.get(f"/storages/{uuid}/", **HTMX),
        client.get("/storages/"),
        client.get("/storages/", **HTMX),
    ]
    for response in responses:
        html = response.content.decode()
        assert response.status_code == 200
        for canary in CANARIES:
            assert canary not in html, (response.request["PATH_INFO"], canary)
        assert "SSH" not in html


def test_viewer_detail_does_not_even_fetch_tags(login_as, storage, zstack_settings):
    client = login_as(Role.VIEWER)
    zstack_settings.clear_requests()
    client.get(f"/storages/{storage['uuid']}/")
    assert not zstack_requests(zstack_settings, path_contains="-tags")


def test_card_shows_capacity_in_binary_units_with_exact_bytes_on_hover(login_as, storage):
    html = login_as(Role.VIEWER).get(f"/storages/{storage['uuid']}/card/").content.decode()
    total = storage["totalCapacity"]
    assert "100.0 TiB" in html
    assert f'title="{total:,} bytes"' in html
    assert "62.0%" in html or "62%" in html


def test_card_polls_itself_every_30_seconds_and_says_how_old_it_is(login_as, storage):
    html = login_as(Role.VIEWER).get(f"/storages/{storage['uuid']}/card/").content.decode()
    assert f'hx-get="/storages/{storage["uuid"]}/card/"' in html
    assert 'hx-trigger="every 30s, storage-refresh"' in html
    assert "data-age" in html and "Updated just now" in html


def test_card_polls_every_3_seconds_while_connecting(login_as, storage, zstack_settings):
    zstack_settings.patch_storage(storage["uuid"], status="Connecting")
    html = login_as(Role.VIEWER).get(f"/storages/{storage['uuid']}/card/").content.decode()
    assert 'hx-trigger="every 3s, storage-refresh"' in html
    assert ">Connecting<" in html


def test_htmx_request_for_the_detail_page_gets_the_card_alone(login_as, storage):
    response = login_as(Role.VIEWER).get(f"/storages/{storage['uuid']}/", **HTMX)
    assert response.content.decode().lstrip().startswith(f'<section id="storage-card-{storage["uuid"]}"')


def test_unknown_uuid_gives_the_404_page(login_as, zstack_settings):
    client = login_as(Role.VIEWER)
    for url in _urls("0" * 32):
        response = client.get(url)
        assert response.status_code == 404
        assert "Not found" in response.content.decode()


def test_zstack_unreachable_on_detail_gives_a_message_not_a_500(login_as, settings, db):
    settings.ZSTACK_URL = "http://127.0.0.1:9"
    client = login_as(Role.VIEWER)
    page = client.get(f"/storages/{'a' * 32}/")
    assert page.status_code == 503 and "could not be reached" in page.content.decode()
    card = client.get(f"/storages/{'a' * 32}/card/", **HTMX)
    assert card.status_code == 200  # the polling card keeps its id and retries
    assert f'id="storage-card-{"a" * 32}"' in card.content.decode()


@pytest.mark.parametrize("role, sees_who", [(Role.ADMIN, True), (Role.AUDITOR, True), (Role.VIEWER, False)])
def test_only_those_who_may_read_the_audit_see_who_changed_the_storage_last(login_as, storage, role, sees_who):
    actor = Actor(user_id=None, username="alice", role=Role.ADMIN, ip="127.0.0.1", user_agent="test")
    audit.record(
        actor=actor,
        action=Action.UPDATE,
        storage_uuid=storage["uuid"],
        storage_name="x",
        outcome=Outcome.SUCCEEDED,
        changes=[FieldChange(field="name", before="a", after="b")],
    )
    html = login_as(role).get(f"/storages/{storage['uuid']}/card/").content.decode()
    assert ("Last changed by alice" in html) is sees_who
    assert ("alice" in html) is sees_who


def test_a_viewers_card_poll_does_not_query_the_audit_trail(login_as, storage):
    client = login_as(Role.VIEWER)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/storages/{storage['uuid']}/card/", **HTMX).status_code == 200
    assert not [q for q in queries.captured_queries if "audit" in q["sql"].lower()]


def test_the_card_and_the_detail_page_vary_on_hx_request(login_as, storage):
    client = login_as(Role.VIEWER)
    for url in _urls(storage["uuid"]):
        assert "HX-Request" in client.get(url)["Vary"]


@pytest.mark.parametrize("role, sees_history", [(Role.ADMIN, True), (Role.AUDITOR, True), (Role.VIEWER, False)])
def test_detail_page_shows_recent_history_to_those_who_may_read_the_audit(login_as, storage, role, sees_history):
    html = login_as(role).get(f"/storages/{storage['uuid']}/").content.decode()
    assert ('id="history-title"' in html) is sees_history


def test_detail_page_is_read_only(login_as, storage):
    assert login_as(Role.ADMIN).post(f"/storages/{storage['uuid']}/").status_code == 405


def test_card_actions_are_shown_to_admins_only(login_as, storage):
    uuid = storage["uuid"]
    admin_html = login_as(Role.ADMIN).get(f"/storages/{uuid}/card/").content.decode()
    assert f'href="/storages/{uuid}/edit/"' in admin_html and f'hx-get="/storages/{uuid}/edit/"' in admin_html
    assert f'action="/storages/{uuid}/reconnect/"' in admin_html
    assert f'href="/storages/{uuid}/disable/"' in admin_html
    viewer_html = login_as(Role.VIEWER, "v").get(f"/storages/{uuid}/card/").content.decode()
    assert "/edit/" not in viewer_html and "/reconnect/" not in viewer_html and "/disable/" not in viewer_html


def test_times_follow_the_browser_time_zone_cookie(login_as, storage):
    client = login_as(Role.VIEWER)
    client.cookies["tz"] = "Europe/Berlin"
    html = client.get(f"/storages/{storage['uuid']}/card/").content.decode()
    assert "Times are shown in Europe/Berlin" in html
    client.cookies["tz"] = "Asia%2FShanghai"  # as static/js/app.js writes it
    assert "Times are shown in Asia/Shanghai" in client.get(f"/storages/{storage['uuid']}/card/").content.decode()
    client.cookies["tz"] = "Not/AZone"
    assert "Times are shown in UTC" in client.get(f"/storages/{storage['uuid']}/card/").content.decode()


def test_no_zones_and_no_tags_read_as_the_same_dash_as_an_empty_description(login_as, zstack_settings):
    uuid = storage_named(zstack_settings, "bs-ci-cache")["uuid"]
    zstack_settings.patch_storage(uuid, attachedZoneUuids=[], description=None)
    client = login_as(Role.ADMIN)
    for url in (f"/storages/{uuid}/", "/storages/?q=bs-ci-cache"):
        html = client.get(url).content.decode()
        assert "None" not in html, url
    card = client.get(f"/storages/{uuid}/card/").content.decode()
    for label in ("Zones", "System tags", "Description"):  # it has no zone and no system tag
        assert re.search(rf"<dt>{label}</dt><dd[^>]*>(<code>)?—", card), label


def test_a_successful_save_leads_with_its_notice_and_keeps_the_job_id_in_a_disclosure(login_as, zstack_settings):
    from tests.storage_helpers import form_data

    uuid = storage_named(zstack_settings, "bs-ci-cache")["uuid"]
    client = login_as(Role.ADMIN)
    html = client.post(f"/storages/{uuid}/edit/", form_data(uuid, description="new words"), **HTMX).content.decode()
    notice = re.search(r'<div class="alert alert--success">(.*?)</div>', html, re.S)[1]
    assert notice.startswith("<p>Saved.</p>")
    assert re.search(r"<details[^>]*><summary>Details</summary><p>Correlation id: <code>[0-9a-f]{32}</code>", notice)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_card_shows_what_the_template_filters_would(zstack_settings, language):
    """presenters.card_view computes the card's values once; each must read as the filters, tags and
    translated sentences that computed them in the template (sizes, labels, times, the capacity badge and
    meter), for every storage of the simulator, against the defaults and against thresholds of its own."""
    from django.template import Context, Template
    from django.utils import translation
    from django.utils.translation import gettext

    from dashboard.capacity import thresholds
    from dashboard.formats.moments import moment
    from dashboard.storages import presenters, selectors
    from dashboard.storages.templatetags.storage_tags import ZSTACK_LABELS, binary_size, exact_bytes, tone

    badge_sentence = Template(
        '{% load i18n %}{% if level == "critical" %}{% blocktranslate with percent=critical|floatformat:"-1" trimmed %}'
        "Critical: {{ percent }}% or more used{% endblocktranslate %}{% else %}{% blocktranslate with "
        'percent=warning|floatformat:"-1" trimmed %}Warning: {{ percent }}% or more used{% endblocktranslate %}{% endif %}'
    )
    storages = selectors.storage_list(page_size=100).rows
    own = thresholds.Thresholds(warning=5, critical=12.5, overridden=True)
    with translation.override(language):
        for row in storages:
            s = row.storage
            for limits in (thresholds.defaults(), own):
                shown = presenters.card_view(_card_of(row), limits)
                for field in ("state", "status"):
                    value = getattr(s, field)
                    label = str(ZSTACK_LABELS.get(value, value)) if value else gettext("Unknown")
                    assert (getattr(shown, f"{field}_label"), getattr(shown, f"{field}_tone")) == (label, tone(value))
                for field in ("total", "used", "available"):
                    value = getattr(s, f"{field}_capacity")
                    assert getattr(shown, f"{field}_text") == binary_size(value)
                    assert getattr(shown, f"{field}_title") == exact_bytes(value)
                level = limits.level(s.used_percent)
                if level in (None, thresholds.Level.OK):
                    assert shown.badge is None
                else:
                    context = Context({"level": level, "warning": limits.warning, "critical": limits.critical})
                    assert shown.badge == thresholds.Badge(level, badge_sentence.render(context))
                assert (shown.meter_low, shown.meter_high) == (f"{limits.warning:.1f}", f"{limits.critical:.1f}")
                assert shown.zones == ", ".join(zone.name for zone in row.zones)
                for when, iso, text in ((s.create_date, shown.created_iso, shown.created_text),
                                        (s.last_op_date, shown.changed_iso, shown.changed_text)):  # fmt: skip
                    assert (f'<time datetime="{iso}">{text}</time>' if iso else "") == (moment(when) if when else "")
        badges = [presenters.card_view(_card_of(row), own).badge for row in storages]
    assert {b.level for b in badges if b} == {thresholds.Level.WARNING, thresholds.Level.CRITICAL}


def _card_of(row):
    from dashboard.storages import selectors

    return selectors.StorageCard(storage=row.storage, zones=row.zones, tags=None, fetched_at=row.storage.last_op_date)
