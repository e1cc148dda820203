"""Shared fixtures. Tests that talk to ZStack talk to the bundled simulator over real HTTP on an
ephemeral loopback port (docs/architecture.md §3); one simulator serves the whole test session and each
test starts from fresh demo data.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db import connection, connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from dashboard.accounts.roles import Role
from simulator.server import SimulatorServer
from tests.sim_helpers import storage_named
from tests.storage_helpers import make_user

# Property tests (tests/test_properties.py): 1,000 examples each in CI, a quick 50 while developing.
# No deadline: examples make real HTTP calls to the simulator, and timing is not what they test. The
# fixtures (client, simulator) are shared by the examples on purpose; each example resets what it uses.
_shared = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    "print_blob": True,
}
hypothesis_settings.register_profile("ci", max_examples=1000, **_shared)
hypothesis_settings.register_profile("dev", max_examples=50, **_shared)
hypothesis_settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE")
    or ("ci" if os.environ.get("CI", "").lower() in {"1", "true", "yes"} else "dev")
)


@pytest.fixture(scope="session")
def zstack_simulator() -> Iterator[SimulatorServer]:
    """One simulator for the test session (default options: 12 storages, 1 poll per job)."""
    simulator = SimulatorServer(host="127.0.0.1", port=0).start()
    yield simulator
    simulator.stop()


@pytest.fixture
def sim(zstack_simulator: SimulatorServer) -> SimulatorServer:
    """The session's simulator, reset: default demo data, no faults, no sessions or jobs, empty
    request log."""
    zstack_simulator.reset()
    return zstack_simulator


@pytest.fixture
def zstack_settings(sim: SimulatorServer, settings) -> SimulatorServer:
    """Point Django's ZStack settings at the reset simulator; returns the simulator."""
    settings.ZSTACK_URL = sim.url
    settings.ZSTACK_ACCOUNT = "admin"
    settings.ZSTACK_PASSWORD = "password"
    return sim


@pytest.fixture
def uuid(zstack_settings: SimulatorServer) -> str:
    """bs-prod-bj-01's uuid in the simulator Django points at: Connected, Enabled, with system and user tags
    (priority::high; env::prod, owner::storage-team), the storage most tests edit or act on."""
    return storage_named(zstack_settings, "bs-prod-bj-01")["uuid"]


@pytest.fixture
def login_as(client, db):
    """``login_as(Role.ADMIN)`` logs the test client in as a fresh user with that role; returns the client."""

    def login(role: Role | None, username: str | None = None):
        client.force_login(make_user(role, username))
        return client

    return login


ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def threads_database(tmp_path, transactional_db):
    """A database real threads can write at once: on SQLite a migrated file (in pytest-django's shared-cache
    in-memory database a second writer fails at once, "database table is locked", instead of waiting)."""
    if connection.vendor != "sqlite":
        yield
        return
    path = tmp_path / "threads.sqlite3"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "DATABASE_URL": f"sqlite:///{path}"}
    migrated = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--verbosity", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert migrated.returncode == 0, migrated.stderr
    in_memory, name = connections["default"], connection.settings_dict["NAME"]
    connection.settings_dict["NAME"] = str(path)  # the dict every thread's new connection is made from
    connections["default"] = connections.create_connection("default")
    try:
        yield
    finally:
        connections["default"].close()
        connections["default"], in_memory.settings_dict["NAME"] = in_memory, name


def pytest_collection_modifyitems(items):
    """A test that needs a migrated database file (threads_database: a `manage.py migrate` subprocess first) is
    slow: `make test` runs it, `make test-fast` leaves it out."""
    for item in items:
        if "threads_database" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with an empty cache: per-user counters (refused writes per minute) must not carry over
    to the next test, whose user may get the same id."""
    cache.clear()
