"""Test-only database backends: Django's own, whose ``flush`` may empty the append-only audit tables.

The test runner flushes the database after every transactional test (live-server browser tests included), and
the audit triggers (dashboard/audit/triggers.py) refuse that everywhere else. tests/settings.py selects these
backends by subclassing, not by patching Django at run time; production settings never name them, so a
``manage.py flush`` against a production database is refused by the triggers, as any other erasure is.
"""
