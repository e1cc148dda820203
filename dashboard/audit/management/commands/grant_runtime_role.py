"""manage.py grant_runtime_role ROLE [--print] — PostgreSQL: give the console's runtime role its privileges.

Run it as the owner role (DATABASE_URL of the owner), after ``migrate``, every time: see dashboard/audit/dbroles.py.
``--print`` shows the statements instead of running them (for a DBA to review or run by hand).
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from dashboard.audit import dbroles


class Command(BaseCommand):
    help = "PostgreSQL: grant the runtime role SELECT/INSERT on the audit events, SELECT on checkpoints, and the rest."

    def add_arguments(self, parser):
        parser.add_argument("role", help="the role the console connects as (not the owner)")
        parser.add_argument("--print", action="store_true", dest="print_only", help="print the SQL, run nothing")

    def handle(self, *args, role: str, print_only: bool, **options):
        if connection.vendor != "postgresql":
            raise CommandError(
                "Roles are a PostgreSQL matter: on SQLite the database is one file, and its file "
                "permissions are the protection (README, Production)."
            )
        try:
            statements = dbroles.runtime_grants(connection, role)
            if print_only:
                self.stdout.write(";\n".join(statements) + ";")
                return
            dbroles.check_runtime_role(connection, role)
        except dbroles.RoleError as exc:
            raise CommandError(str(exc)) from exc
        with transaction.atomic(), connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
        self.stdout.write(self.style.SUCCESS(f"Granted the runtime privileges to {role}."))
        if dbroles.temporary_tables_allowed(connection, role):
            self.stdout.write(
                f"Note: {role} may still create temporary tables, through PUBLIC's TEMPORARY privilege on this "
                f"database. The audit triggers do not depend on it (they pin their search_path); to take it away, "
                f"run once: REVOKE TEMPORARY ON DATABASE {connection.settings_dict['NAME']} FROM PUBLIC (README, "
                f"Production)."
            )
