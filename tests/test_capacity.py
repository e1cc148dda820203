"""Capacity history, thresholds and pages (issue 12): the snapshot command against the simulator (also at
10,000 storages), downsampling, the worker's "if due", /capacity/ for each role, badges and the chart."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from dashboard.accounts.roles import Role
from dashboard.capacity import selectors, services, thresholds
from dashboard.capacity.models import CapacityRun, CapacitySnapshot, Resolution
from simulator.server import SimulatorServer
from tests.storage_helpers import storage_named

pytestmark = pytest.mark.django_db


def test_snapshot_command_records_every_storage(zstack_settings, capsys):
    call_command("snapshot_capacity", page_size=5)  # 12 storages: three pages
    storages = zstack_settings.storages()
    assert CapacitySnapshot.objects.count() == len(storages) == 12
    run = CapacityRun.objects.get()
    assert run.finished_at is not None and run.storages == 12
    full = storage_named(zstack_settings, "测试环境镜像库")
    snap = CapacitySnapshot.objects.get(storage_uuid=full["uuid"])
    assert snap.used_bytes == full["totalCapacity"] - full["availableCapacity"]
    assert snap.zone_uuids == full["attachedZoneUuids"] and snap.storage_name == "测试环境镜像库"
    pages = [r for r in zstack_settings.requests() if r["path"].endswith("/backup-storage/image-store")]
    assert len(pages) == 3 and all("limit=5" in r["query"] for r in pages)
    assert "Recorded 12 storage(s)" in capsys.readouterr().out


def test_snapshot_command_fails_clearly_when_zstack_fails(zstack_settings):
    zstack_settings.set_faults(fail_next=[{"match": "GET /zstack/v1/backup-storage/image-store", "status": 503}])
    with pytest.raises(CommandError, match="ZStack could not be read"):
        call_command("snapshot_capacity")
    assert not CapacitySnapshot.objects.exists() and not CapacityRun.objects.exists()


def test_a_failure_after_some_pages_leaves_no_partial_run(zstack_settings, monkeypatch):
    from dashboard.capacity import source
    from dashboard.zstack.errors import ZStackError

    real = source.storage_pages

    def first_page_then_fail(page_size):
        yield next(real(page_size))
        raise ZStackError("gone", code="sdk.1000")

    monkeypatch.setattr(source, "storage_pages", first_page_then_fail)
    with pytest.raises(ZStackError):
        services.take_snapshot(page_size=5)
    assert not CapacitySnapshot.objects.exists() and not CapacityRun.objects.exists()


@pytest.mark.slow  # a scale test: a second simulator generating ten thousand storages
def test_snapshot_of_ten_thousand_storages_page_by_page(settings):
    with SimulatorServer(port=0, storages=10000, log_requests=False) as big:
        settings.ZSTACK_URL, settings.ZSTACK_ACCOUNT, settings.ZSTACK_PASSWORD = big.url, "admin", "password"
        result = services.take_snapshot(page_size=1000)
        pages = [r for r in big.requests() if r["path"].endswith("/backup-storage/image-store")]
    assert result.storages == CapacitySnapshot.objects.count() == 10000
    assert len(pages) == 10  # bounded memory: one page of 1,000 at a time, bulk-inserted per page
    assert CapacitySnapshot.objects.values("storage_uuid").distinct().count() == 10000
    view = selectors.overview()  # the overview streams the 10,000 latest rows
    assert view.overall.storages == 10000 and len(view.fullest) == 10


def _points(uuid, times, used=GIB if (GIB := 2**30) else 0, total=100 * 2**30, resolution=Resolution.FIVE_MINUTES):
    CapacitySnapshot.objects.bulk_create(
        CapacitySnapshot(storage_uuid=uuid, taken_at=t, used_bytes=used, total_bytes=total, resolution=resolution)
        for t in times
    )


def test_downsampling_keeps_the_last_point_of_each_hour_then_each_day():
    now = timezone.now().replace(minute=30, second=0, microsecond=0)
    # Three days of 5-minute points: the last two days stay, the older day thins to one per hour (the last).
    times = [now - timedelta(minutes=5 * i) for i in range(3 * 288)]
    _points("a", times)
    services.downsample(now=now)
    old = CapacitySnapshot.objects.filter(taken_at__lt=now - timedelta(days=2))
    assert set(old.values_list("resolution", flat=True)) == {Resolution.HOURLY}
    hours = [t.replace(minute=0) for t in old.values_list("taken_at", flat=True)]
    assert len(hours) == len(set(hours))
    expected: dict = {}
    for t in sorted(t for t in times if t < now - timedelta(days=2)):
        expected[t.replace(minute=0)] = t  # the last of each hour
    assert sorted(old.values_list("taken_at", flat=True)) == sorted(expected.values())
    assert (
        CapacitySnapshot.objects.filter(resolution=Resolution.FIVE_MINUTES).count() == 2 * 288 + 1
    )  # the cutoff itself stays
    # Hourly points older than 90 days become one a day.
    _points("b", [now - timedelta(days=100, hours=h) for h in range(48)], resolution=Resolution.HOURLY)
    services.downsample(now=now)
    daily = CapacitySnapshot.objects.filter(storage_uuid="b")
    assert set(daily.values_list("resolution", flat=True)) == {Resolution.DAILY}
    assert daily.count() in (2, 3)  # 48 hours span two or three calendar days


def test_worker_snapshot_only_when_due(zstack_settings, settings):
    settings.CAPACITY_SNAPSHOT_MINUTES = 5
    now = timezone.now()
    assert services.snapshot_if_due(now=now).storages == 12
    zstack_settings.clear_requests()
    assert services.snapshot_if_due(now=now + timedelta(minutes=4)) is None
    assert zstack_settings.requests() == []  # no ZStack call when not due
    assert services.snapshot_if_due(now=now + timedelta(minutes=6)).storages == 12


def test_thresholds_from_settings(settings):
    settings.CAPACITY_WARNING_PERCENT, settings.CAPACITY_CRITICAL_PERCENT = 70, 95
    assert thresholds.level(69.9) is thresholds.Level.OK
    assert thresholds.level(70) is thresholds.Level.WARNING
    assert thresholds.level(95) is thresholds.Level.CRITICAL
    assert thresholds.level(None) is None


@pytest.mark.parametrize("role", list(Role))
def test_overview_live_before_any_snapshot(login_as, zstack_settings, role):
    response = login_as(role).get("/capacity/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "No capacity snapshot has been recorded yet" in body
    assert "测试环境镜像库" in body  # the fullest, 97 %
    for storage in zstack_settings.storages():  # capacity only: no connection details, whatever the role
        assert storage["hostname"] not in body and f">{storage['username']}<" not in body
    assert response.context["view"].critical == 1  # 97 %; bs-sh-archive is 89 %: a warning
    assert response.context["view"].warning == 1


def test_overview_from_snapshots_with_zones_and_soonest(login_as, zstack_settings):
    now = timezone.now()
    full = storage_named(zstack_settings, "测试环境镜像库")
    total = full["totalCapacity"]
    _points(full["uuid"], [now - timedelta(days=d) for d in range(1, 10)], used=int(total * 0.90))
    CapacitySnapshot.objects.filter(storage_uuid=full["uuid"]).update(used_bytes=0)  # reset below
    for d in range(1, 10):
        CapacitySnapshot.objects.filter(storage_uuid=full["uuid"], taken_at=now - timedelta(days=d)).update(
            used_bytes=int(total * (0.97 - 0.01 * d))
        )
    services.take_snapshot(now=now)
    view = selectors.overview()
    assert not view.live and view.overall.storages == 12
    assert sum(z.storages for z in view.zones) >= 11  # bs-ci-cache has no zone; two storages are in two
    assert view.fullest[0].uuid == full["uuid"] and len(view.fullest) == 10
    assert [s.row.uuid for s in view.soonest] == [full["uuid"]]
    assert view.soonest[0].forecast.whole_days in (3, 4)
    body = login_as(Role.VIEWER).get("/capacity/").content.decode()
    assert "From the latest capacity snapshot" in body and f"/storages/{full['uuid']}/" in body


def test_overview_when_zstack_is_down(login_as, zstack_settings):
    zstack_settings.set_faults(drop_next=50)
    response = login_as(Role.VIEWER).get("/capacity/")
    assert response.status_code == 503


def test_badges_on_the_list_and_the_card(login_as, zstack_settings):
    client = login_as(Role.VIEWER)
    body = client.get("/storages/?page_size=25", follow=True).content.decode()
    assert body.count("Critical: 90% or more used") == 1 and body.count("Warning: 80% or more used") == 1
    full = storage_named(zstack_settings, "测试环境镜像库")
    assert "Critical: 90% or more used" in client.get(f"/storages/{full['uuid']}/").content.decode()


def test_detail_chart_and_forecast_in_english_and_chinese(login_as, zstack_settings):
    full = storage_named(zstack_settings, "测试环境镜像库")
    now = timezone.now()
    for d in range(10):
        _points(
            full["uuid"],
            [now - timedelta(days=d)],
            used=int(full["totalCapacity"] * (0.97 - 0.005 * d)),
            total=full["totalCapacity"],
        )
    client = login_as(Role.VIEWER)
    body = client.get(f"/storages/{full['uuid']}/").content.decode()
    assert "<svg" in body and '<title id="capacity-chart-title">' in body and "<desc" in body
    assert "Full in about" in body and "fairly sure" in body
    svg = body[body.index("<svg") : body.index("</svg>")]
    assert "style=" not in svg and "<script" not in svg
    client.cookies["django_language"] = "zh-hans"
    zh = client.get(f"/storages/{full['uuid']}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "<svg" in zh and "Full in about" not in zh


def test_detail_without_history_says_so(login_as, zstack_settings):
    other = storage_named(zstack_settings, "bs-prod-bj-01")
    body = login_as(Role.VIEWER).get(f"/storages/{other['uuid']}/").content.decode()
    assert "Not enough history yet" in body and '<svg class="capacity-chart"' not in body


def test_demo_history_seed_gives_charts_and_forecasts_at_once(zstack_settings, settings, login_as):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="demo only"):
        call_command("seed_capacity_history")
    settings.DEBUG = True
    call_command("seed_capacity_history")
    assert CapacitySnapshot.objects.values("storage_uuid").distinct().count() == 12
    view = selectors.overview()
    full = storage_named(zstack_settings, "测试环境镜像库")
    assert not view.live and full["uuid"] in [s.row.uuid for s in view.soonest]
    flat = storage_named(zstack_settings, "bs-prod-bj-02")  # a flat trend: no forecast
    assert flat["uuid"] not in [s.row.uuid for s in view.soonest]
    body = login_as(Role.VIEWER).get(f"/storages/{full['uuid']}/").content.decode()
    assert "Full in about" in body and "<svg" in body
    call_command("seed_capacity_history")  # a second time: nothing more
    assert CapacityRun.objects.filter(finished_at__isnull=False).count() == 25


def test_the_worker_sweep_takes_a_capacity_snapshot_once_per_period(zstack_settings, monkeypatch):
    from dashboard.storages.management.commands import run_worker
    from dashboard.storages.management.commands.run_worker import Command

    # The sweep thread closes its database connection after each pass; here it runs on the test's own
    # thread, whose connection holds the test's transaction (PostgreSQL would lose it).
    monkeypatch.setattr(run_worker, "close_old_connections", lambda: None)

    worker = Command()
    worker.capacity_snapshot()
    worker.capacity_snapshot()  # a second sweep right after: not due
    assert CapacityRun.objects.count() == 1 and CapacitySnapshot.objects.count() == 12
    zstack_settings.set_faults(drop_next=50)
    CapacityRun.objects.all().delete()
    worker.capacity_snapshot()  # ZStack down: logged, not raised; no run left behind
    assert not CapacityRun.objects.exists()
