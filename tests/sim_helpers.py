"""Helpers for tests that read the simulator's state directly. Free of Django, so the simulator's own tests
(tests/test_simulator.py) can use them too."""

from __future__ import annotations

from typing import Any


def storage_named(sim, name: str) -> dict[str, Any]:
    """The simulator's record of the storage with this name (its demo data names are unique)."""
    return next(s for s in sim.storages() if s["name"] == name)
