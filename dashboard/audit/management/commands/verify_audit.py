"""manage.py verify_audit — verify the audit trail's keyed hash chain (exit codes: README "Audit trail").

Exit status 0 when the chain is intact; 1 naming the first bad event (edited, deleted, inserted, reordered, or
written without the audit key) or checkpoint (forged, deleted, inserted: see chain.py). ``--archive FILE``
also checks files written by ``archive_audit`` against their checkpoints; ``--expect-head FILE`` checks that
every head ``export_audit_head`` wrote to FILE is still in the chain (nothing cut off the newest end).
On success it prints the signed head, which ``export_audit_head`` is the routine way to keep.
"""

from django.core.management.base import BaseCommand, CommandError

from dashboard.audit import archive, chain, head


class Command(BaseCommand):
    help = "Verify the audit trail's keyed hash chain: exit 0 when intact, 1 naming the first bad event."

    def add_arguments(self, parser):
        parser.add_argument(
            "--archive",
            action="append",
            default=[],
            metavar="FILE",
            help="also verify an archive written by archive_audit (repeatable)",
        )
        parser.add_argument(
            "--expect-head",
            action="append",
            default=[],
            metavar="FILE",
            help="a file export_audit_head wrote: each head in it must still be in the chain",
        )

    def handle(self, *args, archive: list[str], expect_head: list[str], **options):
        for path in archive:
            self._verify_archive(path)
        result = chain.verify()
        if not result.ok:
            raise CommandError(f"Audit chain broken: {result.problem}", returncode=1)
        for path in expect_head:
            self._check_heads(path)
        self.stdout.write(
            self.style.SUCCESS(
                f"Audit chain intact: {result.checked} events verified"
                + (
                    f" after {result.checkpoints} checkpoint{'s' if result.checkpoints > 1 else ''} "
                    f"(events #1..#{result.archived} archived)"
                    if result.checkpoints
                    else ""
                )
                + f"; head #{result.head_sequence} {result.head_hash}"
            )
        )
        self.stdout.write("Signed head: " + head.head_line(head.signed_head(result.head_sequence, result.head_hash)))

    def _verify_archive(self, path: str) -> None:
        try:
            count, last = archive.verify_file(path)
        except archive.ArchiveError as exc:
            raise CommandError(f"Archive {path} broken: {exc}", returncode=1) from exc
        self.stdout.write(f"Archive {path} intact: {count} events, up to #{last}")

    def _check_heads(self, path: str) -> None:
        try:
            heads = head.read_heads(path)
        except head.HeadError as exc:
            raise CommandError(f"Expected head: {exc}", returncode=1) from exc
        for expected in heads:
            problem = head.check_head(expected)
            if problem:
                raise CommandError(f"Audit chain broken: {problem} (expected head from {path})", returncode=1)
        self.stdout.write(f"Expected heads in {path} found in the chain: {len(heads)}")
