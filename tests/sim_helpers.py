"""Helpers for tests that read the simulator's state directly, and follow a ZStack job as the console does. Free of
Django, so the simulator's own tests (tests/test_simulator.py) can use them too."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any


def storage_named(sim, name: str) -> dict[str, Any]:
    """The simulator's record of the storage with this name (its demo data names are unique)."""
    return next(s for s in sim.storages() if s["name"] == name)


def run_job(client, ticket, *, looks: int = 100, secrets: tuple[str, ...] = ()) -> dict[str, Any]:
    """Follow a submitted job to its end as the console's follower does (``poll_job`` until done): its success
    body, or its error raised. A poll whose answer was lost raises too (the follower would look again)."""
    for _ in range(looks):
        status = client.poll_job(ticket, secrets)
        if status.done:
            if status.error is not None:
                raise status.error
            return status.body or {}
        time.sleep(0.01)
    raise AssertionError(f"job {ticket.job_uuid} still running after {looks} looks")


def run_in_threads(target: Callable[[], object], count: int) -> None:
    """Run ``target`` in ``count`` threads at once and wait for all of them (a race, or one shared session)."""
    threads = [threading.Thread(target=target) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
