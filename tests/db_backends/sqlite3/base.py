"""SQLite, for tests: flush's DELETEs run with ``triggers.wipe_permitted()`` on (see tests/db_backends/)."""

import time

from django.db import OperationalError
from django.db.backends.sqlite3 import base

from dashboard.audit import triggers


class DatabaseOperations(base.DatabaseOperations):
    def execute_sql_flush(self, sql_list):
        # A browser test's live server may still be answering the page's last poll when the test ends: in the
        # shared-cache in-memory database its read holds a table lock ("database table is locked") for a
        # moment. The flush runs in one transaction, rolled back on that error, so it is simply tried again.
        for attempt in range(50):
            try:
                # The DELETE triggers ask the per-connection audit_wipe_permitted() function, which this switches on.
                with triggers.wipe_permitted():
                    super().execute_sql_flush(sql_list)
                return
            except OperationalError as error:
                if "is locked" not in str(error) or attempt == 49:
                    raise
                time.sleep(0.1)


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
