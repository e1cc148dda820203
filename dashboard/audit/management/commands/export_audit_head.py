"""manage.py export_audit_head [--output FILE] [--syslog [--syslog-address ADDR]] — anchor the audit chain's head.

Verifies the chain (a broken chain is not anchored: exit 1), then writes its signed head (head.py) as one
JSON line: appended to FILE, sent to syslog, or printed. Run it from cron to a place the console's database
users cannot write; ``verify_audit --expect-head FILE`` then detects events cut off the newest end.
"""

import logging
import logging.handlers
import os

from django.core.management.base import BaseCommand, CommandError

from dashboard.audit import chain, head


class Command(BaseCommand):
    help = "Verify the audit chain and export its signed head to a file (appended), syslog, or standard output."

    def add_arguments(self, parser):
        parser.add_argument("--output", metavar="FILE", help="append the head to FILE (a history of heads)")
        parser.add_argument("--syslog", action="store_true", help="send the head to syslog")
        parser.add_argument(
            "--syslog-address",
            default="/dev/log",
            metavar="ADDR",
            help="a socket path, or HOST:PORT for UDP (default /dev/log)",
        )

    def handle(self, *args, output: str | None, syslog: bool, syslog_address: str, **options):
        result = chain.verify()
        if not result.ok:
            raise CommandError(f"Audit chain broken, head not exported: {result.problem}", returncode=1)
        line = head.head_line(head.signed_head(result.head_sequence, result.head_hash))
        if output:
            with open(output, "a", encoding="utf-8") as file:
                file.write(line + "\n")
                file.flush()
                os.fsync(file.fileno())
        if syslog:
            _send_to_syslog(line, syslog_address)
        if not output and not syslog:
            self.stdout.write(line)
        else:
            self.stdout.write(f"Exported audit head #{result.head_sequence}.")


def _send_to_syslog(line: str, address: str) -> None:
    host, _, port = address.rpartition(":")
    target = (host, int(port)) if host and port.isdigit() else address
    handler = logging.handlers.SysLogHandler(address=target, facility=logging.handlers.SysLogHandler.LOG_AUTH)
    try:
        handler.emit(logging.LogRecord("audit-head", logging.INFO, __file__, 0, "audit-head: %s", (line,), None))
    finally:
        handler.close()
