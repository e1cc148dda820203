"""manage.py verify_audit — recompute the audit hash chain (ARCHITECTURE.md §4).

Exit status 0 when the chain is intact; 1 naming the first bad event (edited, deleted, inserted or
reordered) or checkpoint (forged, deleted, inserted: see chain.py). ``--archive FILE`` also checks files
written by ``archive_audit`` against their checkpoints.
"""

from django.core.management.base import BaseCommand, CommandError

from dashboard.audit import archive, chain


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain: exit 0 when intact, 1 naming the first bad event."

    def add_arguments(self, parser):
        parser.add_argument("--archive", action="append", default=[], metavar="FILE",
                            help="also verify an archive written by archive_audit (repeatable)")  # fmt: skip

    def handle(self, *args, archive: list[str], **options):
        for path in archive:
            self._verify_archive(path)
        result = chain.verify()
        if not result.ok:
            raise CommandError(f"Audit chain broken: {result.problem}", returncode=1)
        self.stdout.write(self.style.SUCCESS(
            f"Audit chain intact: {result.checked} events verified"
            + (f" after {result.checkpoints} checkpoint{'s' if result.checkpoints > 1 else ''} "
               f"(events #1..#{result.archived} archived)" if result.checkpoints else "")
            + f"; head #{result.head_sequence} {result.head_hash}"
        ))  # fmt: skip

    def _verify_archive(self, path: str) -> None:
        try:
            count, last = archive.verify_file(path)
        except archive.ArchiveError as exc:
            raise CommandError(f"Archive {path} broken: {exc}", returncode=1) from exc
        self.stdout.write(f"Archive {path} intact: {count} events, up to #{last}")
