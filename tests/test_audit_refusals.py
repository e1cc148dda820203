"""Refused writes can't flood the audit trail (issue 9, dashboard/audit/refusals.py): a viewer POSTing to made-up
storage ids leaves a bounded number of rows and upstream reads per minute; refusals on real storages stay one
row each. The minute is pinned, so the counts never depend on when the test runs."""

import uuid as uuids

import pytest

from dashboard.accounts.roles import Role
from dashboard.audit import refusals
from dashboard.audit.messages import describe
from dashboard.audit.models import AuditEvent
from tests.storage_helpers import HTMX, zstack_requests

LIMIT = 20


@pytest.fixture(autouse=True)
def one_minute(monkeypatch, settings):
    settings.AUDIT_REFUSALS_PER_MINUTE = LIMIT
    minute = [29_000_000]
    monkeypatch.setattr(refusals, "_minute", lambda: minute[0])
    return minute


def made_up_id() -> str:
    return uuids.uuid4().hex


def test_a_flood_of_refused_posts_to_unknown_ids_leaves_bounded_rows_and_reads(login_as, zstack_settings):
    client = login_as(Role.VIEWER)
    zstack_settings.clear_requests()

    statuses = [
        client.post(f"/storages/{made_up_id()}/{action}/").status_code
        for _ in range(50)
        for action in ("reconnect", "enable", "disable", "edit")
    ]

    rows = list(AuditEvent.objects.order_by("sequence"))
    assert [r.outcome for r in rows] == ["refused"] * refusals.UNCHECKED + ["throttled"]
    assert rows[-1].error_code == "console.throttled" and rows[-1].actor_role == "viewer"
    assert "More than 20 refused writes" in str(describe(rows[-1].error_code, rows[-1].error_message))
    assert statuses[: refusals.UNCHECKED] == [403] * refusals.UNCHECKED and statuses[-1] == 429
    assert statuses.count(403) == refusals.UNCHECKED and len(statuses) == 200
    # Look-ups only between the unchecked refusals and the limit; never a write.
    assert len(zstack_requests(zstack_settings, "GET")) == LIMIT - refusals.UNCHECKED
    assert [r for r in zstack_requests(zstack_settings) if r["method"] != "GET"] == []


def test_refusals_on_real_storages_stay_one_row_each_up_to_the_limit(login_as, zstack_settings):
    client = login_as(Role.AUDITOR)
    real = [s["uuid"] for s in zstack_settings.storages()]

    statuses = [client.post(f"/storages/{real[n % len(real)]}/reconnect/", **HTMX).status_code for n in range(LIMIT)]

    assert statuses == [403] * LIMIT
    assert AuditEvent.objects.filter(outcome="refused").count() == LIMIT
    assert [r for r in zstack_requests(zstack_settings) if r["method"] != "GET"] == []


def test_the_bounds_are_per_minute_and_per_actor(login_as, zstack_settings, one_minute, client):
    viewer = login_as(Role.VIEWER, "vera")
    for _ in range(LIMIT + 5):
        viewer.post(f"/storages/{made_up_id()}/enable/")
    assert viewer.post(f"/storages/{made_up_id()}/enable/").status_code == 429

    one_minute[0] += 1
    assert viewer.post(f"/storages/{made_up_id()}/enable/").status_code == 403  # a new minute, a new count
    other = login_as(Role.VIEWER, "victor")  # the same test client, now logged in as someone else
    assert other.post(f"/storages/{made_up_id()}/enable/").status_code == 403

    assert list(AuditEvent.objects.values_list("actor_username", "outcome").order_by("sequence")) == [
        *[("vera", "refused")] * refusals.UNCHECKED,
        ("vera", "throttled"),
        ("vera", "refused"),
        ("victor", "refused"),
    ]


def test_a_throttled_answer_says_when_to_try_again(login_as, zstack_settings):
    client = login_as(Role.VIEWER)
    for _ in range(LIMIT):
        client.post(f"/storages/{made_up_id()}/disable/")

    response = client.post(f"/storages/{made_up_id()}/disable/")

    assert response.status_code == 429 and response["Retry-After"] == "60"
