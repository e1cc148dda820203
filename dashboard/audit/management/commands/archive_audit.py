"""manage.py archive_audit --older-than-days N --output FILE — retention for the audit trail.

Writes every event older than N days (a prefix of the chain) to FILE as JSON lines, records a checkpoint
(last archived sequence and hash) and prunes those events, so `verify_audit` still passes on what remains.
Keep FILE: `verify_audit --archive FILE` checks it against its checkpoint. Appends wait while it runs.
"""

from datetime import timedelta
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from dashboard.audit import archive


class Command(BaseCommand):
    help = "Archive audit events older than N days to a JSON-lines file, then prune them behind a checkpoint."

    def add_arguments(self, parser):
        parser.add_argument("--older-than-days", type=int, required=True, metavar="N")
        parser.add_argument(
            "--output", type=Path, required=True, metavar="FILE", help="JSON-lines file to create (never overwritten)"
        )

    def handle(self, *args, older_than_days: int, output: Path, **options):
        if older_than_days < 0:
            raise CommandError("--older-than-days must be 0 or more.")
        if output.exists():
            raise CommandError(f"{output} already exists: choose a new file, archives are never overwritten.")
        cutoff = timezone.now() - timedelta(days=older_than_days)
        try:
            result = archive.archive_older_than(cutoff, output)
        except archive.ArchiveError as exc:
            raise CommandError(str(exc)) from exc
        if not result.archived:
            self.stdout.write(f"Nothing older than {older_than_days} days to archive.")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Archived {result.archived} events (up to #{result.last_sequence}) to {output}; checkpoint recorded."
            )
        )
