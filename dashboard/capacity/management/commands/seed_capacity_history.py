"""``manage.py seed_capacity_history``: DEMO ONLY (scripts/run-demo.sh runs it for ``make run``). Records
backdated capacity snapshots for every storage of the bundled simulator, drawn backwards from each storage's
seeded trend (simulator/growth.py), so the demo shows charts and forecasts at once. It refuses outside DEBUG
and does nothing when history already exists. Never run it against a real ZStack: the history it writes
is invented."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from dashboard.capacity import services, source
from dashboard.capacity.models import CapacityRun, CapacitySnapshot, Resolution
from dashboard.zstack.errors import ZStackError


class Command(BaseCommand):
    help = "DEMO ONLY: backdated capacity history from the simulator's seeded trends (DEBUG only)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=14, help="days of history (default 14)")

    def handle(self, *args, days: int, **options):
        from simulator import growth  # the demo's simulator: standard library only, importable here

        if not settings.DEBUG:
            raise CommandError("seed_capacity_history is for the local demo only (DJANGO_DEBUG=1).")
        if CapacitySnapshot.objects.exists():
            self.stdout.write("Capacity history exists already; nothing seeded.")
            return
        now = timezone.now()
        # Hourly points for the older days, then 5-minute points for the last 2 hours (enough to look recent,
        # few enough rows): tiers as services.downsample would have left them.
        times = [now - timedelta(hours=h) for h in range(days * 24, 2, -1)]
        times += [now - timedelta(minutes=m) for m in range(120, 0, -5)]
        count = 0
        try:
            for page in source.storage_pages():
                rows = []
                for s in page:
                    if s.total_capacity is None or s.available_capacity is None:
                        continue
                    used_now = s.used_capacity or 0
                    for t in times:
                        rows.append(
                            CapacitySnapshot(
                                storage_uuid=s.uuid,
                                storage_name=(s.name or "")[:255],
                                zone_uuids=list(s.attached_zone_uuids),
                                taken_at=t,
                                total_bytes=s.total_capacity,
                                used_bytes=growth.used_before(
                                    s.uuid, s.name, s.total_capacity, used_now, (now - t).total_seconds()
                                ),
                                resolution=Resolution.HOURLY
                                if now - t > timedelta(hours=2)
                                else Resolution.FIVE_MINUTES,
                            )
                        )
                    count += 1
                CapacitySnapshot.objects.bulk_create(rows, batch_size=2000)
        except ZStackError as error:
            CapacitySnapshot.objects.filter(taken_at__lt=now).delete()
            raise CommandError(f"ZStack could not be read, no history seeded: {error}") from None
        CapacityRun.objects.bulk_create([CapacityRun(taken_at=t, finished_at=now, storages=count) for t in times[-24:]])
        result = services.take_snapshot()  # and one real snapshot now
        self.stdout.write(
            f"Seeded {days} days of demo capacity history for {count} storage(s); "
            f"latest snapshot {result.taken_at.isoformat()}."
        )
