"""Test settings: the production settings with a throwaway key and fast password hashing."""

import os
import secrets

os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
os.environ.setdefault("AUDIT_SIGNING_KEY", secrets.token_urlsafe(40))  # inherited by test subprocesses
os.environ.setdefault("ZSTACK_PASSWORD", "password")  # the simulator's account; tests point ZSTACK_URL at it

from dashboard.settings import *  # noqa: F403 - the test settings are the production ones plus the overrides below
from dashboard.settings import DATABASES, STORAGES

# The vendor's backend, subclassed so the test runner's flush may empty the append-only audit tables
# (tests/db_backends/); nothing outside the tests can.
_TEST_BACKENDS = {
    "django.db.backends.sqlite3": "tests.db_backends.sqlite3",
    "django.db.backends.postgresql": "tests.db_backends.postgresql",
}
DATABASES = {"default": {**DATABASES["default"], "ENGINE": _TEST_BACKENDS[DATABASES["default"]["ENGINE"]]}}
if DATABASES["default"]["ENGINE"] == "tests.db_backends.sqlite3":
    # In memory, as Django's own SQLite backend tests by default. Said outright because pytest-django recognises
    # SQLite by the vendor's engine name only: under pytest-xdist (make test-fast) it would otherwise name each
    # worker's database after the file path, which cannot be opened.
    DATABASES["default"]["TEST"] = {"NAME": ":memory:"}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests poll the simulator's jobs quickly; production keeps the defaults. The simulator ends a job at its second
# look, so a follower that first looks after 5 ms (production: 50 ms) saves most of each write's wait.
ZSTACK_JOB_DEADLINE = 10.0
ZSTACK_POLL_INTERVAL = 0.005
# Pages use {% static %}; tests do not run collectstatic, so no manifest (hashed names) in tests.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
# Nothing is collected in tests: whitenoise serves from the finders, and needs no STATIC_ROOT.
STATIC_ROOT = None  # type: ignore[assignment]  # the stubs know only a path
