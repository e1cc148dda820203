"""The simulator's opt-in capacity growth (simulator/growth.py, issue 12). No timed assertions: time is
passed to State.advance_capacity explicitly."""

from __future__ import annotations

from simulator import growth
from simulator.server import SimulatorServer
from simulator.state import Options, State


def by_name(state: State) -> dict:
    return {s["name"]: s for s in state.storages}


def test_growth_is_off_by_default():
    state = State(Options())
    before = {s["uuid"]: s["availableCapacity"] for s in state.storages}
    state.advance_capacity(state._capacity_at + 86400)
    assert {s["uuid"]: s["availableCapacity"] for s in state.storages} == before


def test_storages_fill_by_their_trend_and_never_below_zero():
    state = State(Options(capacity_growth=True))
    start = {n: s["availableCapacity"] for n, s in by_name(state).items()}
    t0 = state._capacity_at
    state.advance_capacity(t0 + 86400)  # one day
    after = by_name(state)
    total = after["测试环境镜像库"]["totalCapacity"]
    assert abs(start["测试环境镜像库"] - after["测试环境镜像库"]["availableCapacity"] - 0.004 * total) <= 1
    assert after["bs-prod-bj-02"]["availableCapacity"] == start["bs-prod-bj-02"]  # flat
    fast = start["bs-ci-cache"] - after["bs-ci-cache"]["availableCapacity"]
    steady = start["bs-prod-bj-01"] - after["bs-prod-bj-01"]["availableCapacity"]
    assert fast / after["bs-ci-cache"]["totalCapacity"] > steady / after["bs-prod-bj-01"]["totalCapacity"] > 0
    state.advance_capacity(t0 + 30 * 86400)  # a month: the nearly full one is full, not negative
    assert by_name(state)["测试环境镜像库"]["availableCapacity"] == 0


def test_generated_storages_have_every_kind_of_trend():
    state = State(Options(storages=300))
    kinds = {growth.trend(s["uuid"], s["name"])[0] for s in state.storages[12:]}
    assert kinds == {"flat", "steady", "fast"}


def test_history_runs_backwards_along_the_trend():
    used = growth.used_before("u", "测试环境镜像库", 100, 97, 86400 * 2)
    assert used == 96  # 0.4 a day for two days, floored
    assert growth.used_before("u", "bs-ci-cache", 100, 1, 86400 * 10) == 0  # never below zero


def test_the_wire_shows_growth():
    with SimulatorServer(port=0, capacity_growth=True, log_requests=False) as sim:
        before = {s["uuid"]: s["availableCapacity"] for s in sim.storages()}
        sim.state.advance_capacity(sim.state._capacity_at + 3600)
        after = {s["uuid"]: s["availableCapacity"] for s in sim.storages()}
    assert sum(before.values()) > sum(after.values())


def test_a_renamed_storage_keeps_the_trend_it_was_seeded_with():
    state = State(Options(capacity_growth=True))
    fast = by_name(state)["bs-ci-cache"]
    fast["name"] = "renamed-by-an-admin"  # as an UpdateImageStoreBackupStorage would
    start, t0 = fast["availableCapacity"], state._capacity_at
    state.advance_capacity(t0 + 86400)
    assert abs(start - fast["availableCapacity"] - 0.03 * fast["totalCapacity"]) <= 1
