"""Per-storage capacity thresholds (issue 12): the form's validation, the audited service, the views for each
role, the effective thresholds on the meter, badges and /capacity/, and the list's "at or above warning /
critical" filter and used % sort, ranked by snapshots the real snapshot code records from the simulator."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from urllib.parse import parse_qsl

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dashboard.accounts.actor import Actor
from dashboard.accounts.roles import Role
from dashboard.audit.models import AuditEvent
from dashboard.capacity import services, thresholds
from dashboard.capacity.forms import ThresholdsForm
from dashboard.capacity.models import CapacityRun, ThresholdOverride
from tests.storage_helpers import HTMX, storage_named, zstack_requests

pytestmark = pytest.mark.django_db
ACTOR = Actor(user_id=None, username="alice", role=Role.ADMIN, ip="127.0.0.1", user_agent="pytest")


def _uuid(sim, name: str) -> str:
    return storage_named(sim, name)["uuid"]


def _events(uuid: str | None = None):
    events = AuditEvent.objects.filter(action="storage.thresholds").order_by("sequence")
    return list(events.filter(storage_uuid=uuid) if uuid else events)


def _storage_queries(sim) -> list[dict]:
    return [r for r in zstack_requests(sim, "GET") if r["path"] == "/zstack/v1/backup-storage/image-store"]


def _conditions(request: dict) -> list[str]:
    return [v for k, v in parse_qsl(request["query"], keep_blank_values=True) if k == "q"]


def _names(html: str) -> list[str]:
    return re.findall(r'class="storage-link" href="[^"]+">([^<]+)</a>', html)


# --- the form ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("warning", "critical", "field", "message"),
    [
        ("0", "90", "warning", "The warning threshold must be more than 0%."),
        ("-5", "90", "warning", "The warning threshold must be more than 0%."),
        ("100", "100", "warning", "The warning threshold must be below 100%."),
        ("80", "100.5", "critical", "The critical threshold can be 100% at most."),
        ("80", "80", "critical", "The critical threshold must be above the warning threshold (80%)."),
        ("95", "90", "critical", "The critical threshold must be above the warning threshold (95%)."),
        ("", "90", "warning", "Enter the warning threshold, a percentage."),
        ("80", "", "critical", "Enter the critical threshold, a percentage."),
        ("eighty", "90", "warning", "Enter a number."),
        ("80.25", "90", "warning", "Ensure that there are no more than 1 decimal place."),
    ],
)
def test_the_form_refuses_thresholds_out_of_order_or_range_with_a_clear_message(warning, critical, field, message):
    form = ThresholdsForm({"warning": warning, "critical": critical})
    assert not form.is_valid()
    assert message in form.errors[field]


@pytest.mark.parametrize(("warning", "critical"), [("0.1", "0.2"), ("85.5", "95"), ("99.9", "100"), ("1", "100")])
def test_the_form_accepts_0_below_warning_below_critical_up_to_100(warning, critical):
    form = ThresholdsForm({"warning": warning, "critical": critical})
    assert form.is_valid(), form.errors
    assert form.values == (float(warning), float(critical))


def test_the_database_refuses_thresholds_out_of_order_whoever_writes_them():
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        ThresholdOverride.objects.create(
            storage_uuid="x" * 32, warning_percent=90, critical_percent=80, updated_at=timezone.now()
        )


# --- the service -------------------------------------------------------------------------------


def test_setting_thresholds_records_an_attempt_and_its_outcome_with_before_and_after():
    assert services.set_thresholds(actor=ACTOR, uuid="a" * 32, warning=70, critical=85, storage_name="one") is True
    row = ThresholdOverride.objects.get(storage_uuid="a" * 32)
    assert (row.warning_percent, row.critical_percent, row.updated_by_username) == (70, 85, "alice")
    attempt, outcome = _events("a" * 32)
    assert (attempt.outcome, outcome.outcome, outcome.attempt_id) == ("attempted", "succeeded", attempt.sequence)
    assert outcome.storage_name == "one" and outcome.actor_username == "alice"
    expected = [
        {"field": "warningPercent", "before": None, "after": 70.0},
        {"field": "criticalPercent", "before": None, "after": 85.0},
    ]
    assert attempt.changes == outcome.changes == expected

    assert services.set_thresholds(actor=ACTOR, uuid="a" * 32, warning=70, critical=95) is True
    assert _events("a" * 32)[-1].changes == [{"field": "criticalPercent", "before": 85.0, "after": 95.0}]
    effective = thresholds.for_storage("a" * 32)
    assert (effective.warning, effective.critical, effective.overridden, effective.updated_by) == (
        70,
        95,
        True,
        "alice",
    )


def test_the_same_thresholds_again_change_nothing_and_record_nothing():
    services.set_thresholds(actor=ACTOR, uuid="b" * 32, warning=70, critical=85)
    before = AuditEvent.objects.count()
    assert services.set_thresholds(actor=ACTOR, uuid="b" * 32, warning=70, critical=85) is False
    assert AuditEvent.objects.count() == before


def test_reset_deletes_the_override_and_records_it_and_a_second_reset_is_a_no_op(settings):
    settings.CAPACITY_WARNING_PERCENT, settings.CAPACITY_CRITICAL_PERCENT = 75, 88
    services.set_thresholds(actor=ACTOR, uuid="c" * 32, warning=60, critical=70)
    assert services.reset_thresholds(actor=ACTOR, uuid="c" * 32) is True
    assert not ThresholdOverride.objects.exists()
    assert thresholds.for_storage("c" * 32) == thresholds.Thresholds(75.0, 88.0)
    assert _events("c" * 32)[-1].changes == [
        {"field": "warningPercent", "before": 60.0, "after": None},
        {"field": "criticalPercent", "before": 70.0, "after": None},
    ]
    count = AuditEvent.objects.count()
    assert services.reset_thresholds(actor=ACTOR, uuid="c" * 32) is False
    assert AuditEvent.objects.count() == count


def test_the_service_refuses_thresholds_out_of_order_even_without_the_form():
    with pytest.raises(ValueError):
        services.set_thresholds(actor=ACTOR, uuid="d" * 32, warning=90, critical=90)
    assert not ThresholdOverride.objects.exists() and not _events()


def test_when_the_attempt_cannot_be_recorded_nothing_changes():
    table = AuditEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f'ALTER TABLE "{table}" RENAME TO "{table}_away"')
    try:
        with pytest.raises(services.ThresholdsError):
            services.set_thresholds(actor=ACTOR, uuid="e" * 32, warning=70, critical=80)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'ALTER TABLE "{table}_away" RENAME TO "{table}"')
    assert not ThresholdOverride.objects.exists()


def test_effective_thresholds_of_many_storages_in_one_query(django_assert_num_queries, settings):
    settings.CAPACITY_WARNING_PERCENT, settings.CAPACITY_CRITICAL_PERCENT = 80, 90
    services.set_thresholds(actor=ACTOR, uuid="f" * 32, warning=50, critical=60)
    with django_assert_num_queries(1):
        found = thresholds.for_storages(["f" * 32, "0" * 32])
    assert (found["f" * 32].warning, found["f" * 32].overridden) == (50.0, True)
    assert found["0" * 32] == thresholds.Thresholds(80.0, 90.0)
    assert found["f" * 32].level(55) is thresholds.Level.WARNING and found["0" * 32].level(55) is thresholds.Level.OK


# --- the views, per role -------------------------------------------------------------------------


def test_admin_sets_thresholds_without_javascript_and_is_sent_back_to_the_detail_page(login_as, zstack_settings):
    uuid = _uuid(zstack_settings, "bs-sh-archive")
    client = login_as(Role.ADMIN, "admin-t")
    page = client.get(f"/capacity/storages/{uuid}/thresholds/")
    assert page.status_code == 200 and 'value="80"' in page.content.decode()  # prefilled with the defaults
    response = client.post(f"/capacity/storages/{uuid}/thresholds/", {"warning": "85", "critical": "88"})
    assert response.status_code == 302 and response["Location"] == f"/storages/{uuid}/"
    assert ThresholdOverride.objects.get(storage_uuid=uuid).critical_percent == 88
    attempt, outcome = _events(uuid)
    assert outcome.outcome == "succeeded" and outcome.storage_name == "bs-sh-archive"
    assert outcome.actor_username == "admin-t" and outcome.actor_role == "admin"
    detail = client.get(f"/storages/{uuid}/").content.decode()
    assert "Thresholds saved." in detail
    # 89 % used: critical now by its own 88 %, on the card's badge and its meter.
    assert "Critical: 88% or more used" in detail and 'low="85.0" high="88.0"' in detail
    assert "This storage's own thresholds, set by admin-t" in detail


def test_with_htmx_the_section_is_swapped_and_the_card_told_to_refresh(login_as, zstack_settings):
    uuid = _uuid(zstack_settings, "bs-sh-archive")
    client = login_as(Role.ADMIN)
    form = client.get(f"/capacity/storages/{uuid}/thresholds/", **HTMX).content.decode()
    assert form.lstrip().startswith('<section id="capacity-thresholds"') and 'name="warning"' in form
    response = client.post(f"/capacity/storages/{uuid}/thresholds/", {"warning": "70", "critical": "95"}, **HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Thresholds saved." in body and "Warning at 70% used, critical at 95% used." in body
    assert json.loads(response["HX-Trigger-After-Swap"]) == {"storage-refresh": {"target": f"#storage-card-{uuid}"}}
    # The detail page's "Recent changes" follows, out of band.
    assert '<section id="storage-history"' in body and 'hx-swap-oob="true"' in body and "Capacity thresholds" in body
    card = client.get(f"/storages/{uuid}/card/", **HTMX).content.decode()
    assert "Warning: 70% or more used" in card and "Critical:" not in card


def test_an_invalid_form_is_shown_again_with_its_messages_and_recorded_as_invalid(login_as, zstack_settings):
    uuid = _uuid(zstack_settings, "bs-sh-archive")
    client = login_as(Role.ADMIN)
    response = client.post(f"/capacity/storages/{uuid}/thresholds/", {"warning": "90", "critical": "85"})
    assert response.status_code == 422
    assert "The critical threshold must be above the warning threshold (90%)." in response.content.decode()
    assert not ThresholdOverride.objects.exists()
    (event,) = _events(uuid)
    assert event.outcome == "invalid" and "critical" in event.error_message
    # a code and parameters, not the submitter's sentence: the log reads in each reader's language
    assert event.error_code == "console.invalid" and event.error_message.startswith('{"errors":')
    htmx = client.post(f"/capacity/storages/{uuid}/thresholds/", {"warning": "0", "critical": "85"}, **HTMX)
    assert htmx.status_code == 200 and "The warning threshold must be more than 0%." in htmx.content.decode()


def test_admin_resets_to_the_defaults(login_as, zstack_settings):
    uuid = _uuid(zstack_settings, "bs-sh-archive")
    services.set_thresholds(actor=ACTOR, uuid=uuid, warning=85, critical=88)
    client = login_as(Role.ADMIN)
    detail = client.get(f"/storages/{uuid}/").content.decode()
    assert f'action="/capacity/storages/{uuid}/thresholds/reset/"' in detail
    response = client.post(f"/capacity/storages/{uuid}/thresholds/reset/")
    assert response.status_code == 302 and not ThresholdOverride.objects.exists()
    assert _events(uuid)[-1].outcome == "succeeded"
    detail = client.get(f"/storages/{uuid}/").content.decode()
    assert "Thresholds reset to the defaults." in detail and "Warning: 80% or more used" in detail
    assert "/thresholds/reset/" not in detail  # nothing to reset any more


def test_thresholds_for_a_storage_zstack_does_not_know_are_refused_with_404(login_as, zstack_settings):
    response = login_as(Role.ADMIN).post(f"/capacity/storages/{'9' * 32}/thresholds/", {"warning": 1, "critical": 2})
    assert response.status_code == 404 and not ThresholdOverride.objects.exists()


@pytest.mark.parametrize("role", [Role.VIEWER, Role.AUDITOR])
def test_viewers_and_auditors_see_the_thresholds_but_cannot_change_them(login_as, zstack_settings, role):
    uuid = _uuid(zstack_settings, "bs-sh-archive")
    services.set_thresholds(actor=ACTOR, uuid=uuid, warning=85, critical=88)
    client = login_as(role, f"{role}-t")
    detail = client.get(f"/storages/{uuid}/").content.decode()
    assert "Warning at 85% used, critical at 88% used." in detail and "Critical: 88% or more used" in detail
    assert "Change thresholds" not in detail and "/thresholds/reset/" not in detail
    assert client.get(f"/capacity/storages/{uuid}/thresholds/").status_code == 403
    before = AuditEvent.objects.count()
    assert client.post(f"/capacity/storages/{uuid}/thresholds/", {"warning": "1", "critical": "2"}).status_code == 403
    assert client.post(f"/capacity/storages/{uuid}/thresholds/reset/").status_code == 403
    refused = list(AuditEvent.objects.filter(sequence__gt=0).order_by("sequence"))[before:]
    assert [(e.action, e.outcome, e.storage_uuid, e.actor_username) for e in refused] == [
        ("storage.thresholds", "refused", uuid, f"{role}-t")
    ] * 2
    row = ThresholdOverride.objects.get()
    assert (row.warning_percent, row.critical_percent) == (85, 88)


def test_the_audit_log_names_the_change_and_its_fields(login_as, zstack_settings):
    uuid = _uuid(zstack_settings, "bs-sh-archive")
    services.set_thresholds(actor=ACTOR, uuid=uuid, warning=85, critical=88, storage_name="bs-sh-archive")
    html = login_as(Role.AUDITOR).get("/audit/").content.decode()
    assert "Capacity thresholds" in html and "Warning threshold (%)" in html and "Critical threshold (%)" in html


# --- effective thresholds everywhere ---------------------------------------------------------------


def test_list_badges_and_meters_use_each_storages_own_thresholds(login_as, zstack_settings):
    prod = _uuid(zstack_settings, "bs-prod-bj-01")  # 62 %
    services.set_thresholds(actor=ACTOR, uuid=prod, warning=50, critical=60)
    client = login_as(Role.VIEWER)
    client.get("/storages/", {"page_size": 10})  # the session and permissions are cached after this one
    with CaptureQueriesContext(connection) as ten:
        client.get("/storages/", {"page_size": 10})
    with CaptureQueriesContext(connection) as all_rows:
        body = client.get("/storages/", {"page_size": 50}).content.decode()
    assert len(all_rows) == len(ten)  # the rows' thresholds in one query, however many rows
    assert sum("capacity_thresholdoverride" in q["sql"] for q in all_rows.captured_queries) == 1
    assert body.count("Critical: 60% or more used") == 1 and body.count("Critical: 90% or more used") == 1
    assert 'low="50.0" high="60.0"' in body and body.count('low="80.0" high="90.0"') == 11


def test_capacity_overview_counts_by_effective_thresholds(login_as, zstack_settings):
    client = login_as(Role.VIEWER)
    view = client.get("/capacity/").context["view"]
    assert (view.warning, view.critical) == (1, 1)  # 89 % and 97 %
    services.set_thresholds(actor=ACTOR, uuid=_uuid(zstack_settings, "bs-prod-bj-01"), warning=50, critical=60)
    services.set_thresholds(actor=ACTOR, uuid=_uuid(zstack_settings, "bs-sh-archive"), warning=92, critical=95)
    response = client.get("/capacity/")
    view = response.context["view"]
    assert (view.warning, view.critical, view.overridden) == (0, 2, 2)
    html = response.content.decode()
    assert "2 storages have their own thresholds" in html
    assert 'href="/storages/?capacity=critical&amp;sort=-usedPercent"' in html


# --- the list's filter and sort by used %, from snapshots ----------------------------------------


def _by_percent(sim, *, descending=True) -> list[str]:
    rows = [
        (100 * (s["totalCapacity"] - s["availableCapacity"]) / s["totalCapacity"], s["name"]) for s in sim.storages()
    ]
    return [name for _, name in sorted(rows, key=lambda r: (-r[0] if descending else r[0], r[1].lower()))]


def test_sort_by_used_percent_pages_the_snapshot_order_with_one_uuid_query_per_page(login_as, zstack_settings):
    services.take_snapshot()
    client = login_as(Role.VIEWER)
    expected = _by_percent(zstack_settings)
    zstack_settings.clear_requests()
    response = client.get("/storages/", {"sort": "-usedPercent", "page_size": 10, "page": 2})
    assert response.status_code == 200
    html = response.content.decode()
    assert _names(html) == expected[10:12]
    assert "12 backup storages" in html and "Page 2 of 2" in html
    (query,) = _storage_queries(zstack_settings)  # the page's storages only, by uuid
    uuids = [_uuid(zstack_settings, n) for n in expected[10:12]]
    assert _conditions(query) == [f"uuid?={','.join(uuids)}"]
    assert len(zstack_requests(zstack_settings)) == 2  # that and the zones: nothing per row
    assert re.search(r"Filtered and ordered by used % as of (now|\d+.seconds? ago)", html)
    ascending = client.get("/storages/", {"sort": "usedPercent", "page_size": 50}).content.decode()
    assert _names(ascending) == _by_percent(zstack_settings, descending=False)


def test_the_order_is_the_snapshots_even_when_zstack_has_moved_on(login_as, zstack_settings):
    services.take_snapshot(now=timezone.now() - timedelta(minutes=4))
    ci = storage_named(zstack_settings, "bs-ci-cache")  # 5 % in the snapshot; 99 % now
    zstack_settings.patch_storage(ci["uuid"], availableCapacity=ci["totalCapacity"] // 100)
    html = login_as(Role.VIEWER).get("/storages/", {"sort": "-usedPercent", "page_size": 50}).content.decode()
    assert _names(html)[-1] == "bs-ci-cache" and "as of 4\xa0minutes ago" in html
    assert "99.0%" in html  # the row itself shows ZStack's current value


def test_filter_at_or_above_warning_or_critical_by_each_storages_thresholds(login_as, zstack_settings):
    services.set_thresholds(actor=ACTOR, uuid=_uuid(zstack_settings, "bs-prod-bj-01"), warning=60, critical=95)
    services.take_snapshot()
    client = login_as(Role.VIEWER)
    zstack_settings.clear_requests()
    warning = client.get("/storages/", {"capacity": "warning", "sort": "-usedPercent"}).content.decode()
    assert _names(warning) == ["测试环境镜像库", "bs-sh-archive", "bs-prod-bj-01"]  # 97, 89, 62 (its own 60)
    assert len(_storage_queries(zstack_settings)) == 1 and len(zstack_requests(zstack_settings)) == 2
    critical = client.get("/storages/", {"capacity": "critical"}).content.decode()
    assert _names(critical) == ["测试环境镜像库"] and "1 backup storage" in critical
    assert 'value="critical" selected' in critical
    # Another sort with the filter: still in used % order (ZStack can't sort a page picked from the snapshot).
    by_name = client.get("/storages/", {"capacity": "warning", "sort": "name"}, follow=True).content.decode()
    assert _names(by_name) == _names(warning)


def test_the_filter_combines_with_search_and_zone_from_the_snapshot(login_as, zstack_settings):
    services.take_snapshot()
    client = login_as(Role.VIEWER)
    beijing = next(z["uuid"] for z in zstack_settings.zones() if z["name"] == "zone-beijing-01")
    html = client.get("/storages/", {"sort": "-usedPercent", "zone": beijing, "q": "bs-"}).content.decode()
    in_zone = [
        n for n in _by_percent(zstack_settings) if beijing in storage_named(zstack_settings, n)["attachedZoneUuids"]
    ]
    assert _names(html) == [n for n in in_zone if n.startswith("bs-")] and _names(html)
    one = client.get("/storages/", {"sort": "-usedPercent", "q": "b_-sh%ive"}).content.decode()  # LIKE wildcards
    assert _names(one) == ["bs-sh-archive"]
    full = _uuid(zstack_settings, "测试环境镜像库")
    assert _names(client.get("/storages/", {"capacity": "critical", "q": full}).content.decode()) == ["测试环境镜像库"]


def test_state_and_status_are_not_combined_with_the_capacity_filter_and_the_page_says_so(login_as, zstack_settings):
    services.take_snapshot()
    html = login_as(Role.VIEWER).get("/storages/", {"capacity": "warning", "state": "Disabled"}).content.decode()
    assert "The state and status filters can't be combined" in html
    assert _names(html) == ["测试环境镜像库", "bs-sh-archive"]


def test_before_any_snapshot_the_filter_says_why_it_is_empty_and_the_sort_falls_back_to_names(
    login_as, zstack_settings
):
    assert not CapacityRun.objects.exists()
    client = login_as(Role.VIEWER)
    zstack_settings.clear_requests()
    filtered = client.get("/storages/", {"capacity": "warning"}).content.decode()
    assert "There is no capacity snapshot yet" in filtered and _names(filtered) == []
    assert _storage_queries(zstack_settings) == []  # nothing to ask ZStack for
    sorted_ = client.get("/storages/", {"sort": "-usedPercent", "page_size": 50}).content.decode()
    assert "There is no capacity snapshot yet" in sorted_ and "Sorted by name instead." in sorted_
    assert len(_names(sorted_)) == 12


def test_a_storage_deleted_since_the_snapshot_is_missing_from_its_page(login_as, zstack_settings):
    services.take_snapshot()
    archive = _uuid(zstack_settings, "bs-sh-archive")
    with zstack_settings.state.lock:  # deleted in ZStack by someone else
        zstack_settings.state.storages = [s for s in zstack_settings.state.storages if s["uuid"] != archive]
        zstack_settings.state.storage_by_uuid.pop(archive)
    html = login_as(Role.VIEWER).get("/storages/", {"capacity": "warning"}).content.decode()
    assert _names(html) == ["测试环境镜像库"]
    assert "2 backup storages" in html  # the count is the snapshot's, until the next one


def test_htmx_gets_the_table_with_its_capacity_note(login_as, zstack_settings):
    services.take_snapshot()
    response = login_as(Role.VIEWER).get("/storages/", {"capacity": "critical"}, **HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="storage-table"') and 'id="capacity-note"' in html


@pytest.mark.parametrize(("warning", "critical"), [(90, 80), (80, 80), (0, 90), (80, 101)])
def test_global_thresholds_out_of_order_are_refused_at_start_up(settings, warning, critical):
    from dashboard.capacity.checks import thresholds_in_order

    settings.CAPACITY_WARNING_PERCENT, settings.CAPACITY_CRITICAL_PERCENT = warning, critical
    assert [e.id for e in thresholds_in_order(None)] == ["capacity.E001"]
    settings.CAPACITY_WARNING_PERCENT, settings.CAPACITY_CRITICAL_PERCENT = 80, 90
    assert thresholds_in_order(None) == []
