"""``manage.py snapshot_capacity``: record every storage's used and total capacity now (for cron or a systemd
timer, every 5 minutes; README "Capacity"). Exit 0 on success; 1 with a message when ZStack can't be read."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from dashboard.capacity import services, source
from dashboard.zstack.errors import ZStackError


class Command(BaseCommand):
    help = "Record a capacity snapshot of every ImageStore backup storage, then downsample old points."

    def add_arguments(self, parser):
        parser.add_argument(
            "--page-size",
            type=int,
            default=source.PAGE_SIZE,
            help=f"storages read per ZStack query (default {source.PAGE_SIZE})",
        )

    def handle(self, *args, page_size: int, **options):
        try:
            result = services.take_snapshot(page_size=page_size)
        except ZStackError as error:
            raise CommandError(f"ZStack could not be read, no snapshot recorded: {error}") from None
        self.stdout.write(
            f"Recorded {result.storages} storage(s) at {result.taken_at.isoformat()}; "
            f"{result.downsampled} old point(s) downsampled."
        )
