"""``manage.py run_worker``: the background worker. Runs django-tasks-db's db_worker (which runs the
queued tasks) and, beside it, a sweep that re-queues writes whose follower stopped, so a write always
gets its outcome recorded while a worker runs. Several may run at once (they share the database)."""

from __future__ import annotations

import logging
import threading

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from dashboard.storages import submissions, tasks

logger = logging.getLogger("dashboard.worker")


class Command(BaseCommand):
    help = "Run the background worker: follows ZStack jobs to their end and records their outcome."

    def add_arguments(self, parser):
        parser.add_argument(
            "--sweep-seconds",
            type=float,
            default=10.0,
            help="how often to look for writes whose follower stopped (default 10)",
        )
        parser.add_argument(
            "--interval", type=float, default=0.5, help="how often to look for queued tasks (default 0.5 s)"
        )

    def handle(self, *args, sweep_seconds: float, interval: float, **options):
        self.sweep()  # at once: a restarted worker resumes what the last one left
        stop = threading.Event()
        sweeper = threading.Thread(
            target=self.sweep_forever, args=(stop, sweep_seconds), daemon=True, name="submission-sweeper"
        )
        sweeper.start()
        try:
            call_command(
                "db_worker", interval=interval, startup_delay=False, reload=False, verbosity=options.get("verbosity", 1)
            )
        finally:
            stop.set()

    def sweep(self) -> None:
        try:
            resumed = tasks.resume_stalled()
            pruned = submissions.prune_finished() + tasks.abandoned_reservations()
            pruned_tasks = tasks.prune_finished_tasks()
            if resumed or pruned or pruned_tasks:
                logger.info(
                    "sweep: %d write(s) resumed, %d old submission row(s) and %d finished task row(s) pruned",
                    resumed,
                    pruned,
                    pruned_tasks,
                )
        except Exception:  # the sweep must outlive a database hiccup; the next one tries again
            logger.exception("sweep failed")
        finally:
            close_old_connections()

    def sweep_forever(self, stop: threading.Event, seconds: float) -> None:
        while not stop.wait(seconds):
            self.sweep()
            self.capacity_snapshot()

    # --- issue 12: a capacity snapshot every CAPACITY_SNAPSHOT_MINUTES, on the sweep thread -------------
    # dashboard/capacity/services.py snapshot_if_due skips (no ZStack call) when a run younger than that
    # exists, so several workers record one snapshot between them, not one each.
    def capacity_snapshot(self) -> None:
        from dashboard.capacity import services as capacity_services  # the capacity app is optional here

        try:
            result = capacity_services.snapshot_if_due()
            if result is not None:
                logger.info("capacity snapshot: %d storage(s)", result.storages)
        except Exception:  # ZStack or the database down: log it, the next sweep tries again
            logger.exception("capacity snapshot failed")
        finally:
            close_old_connections()
