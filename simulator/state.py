"""Everything the simulator remembers, behind one lock: data, sessions, jobs, faults, logs.

Handler threads of the ThreadingHTTPServer share one State; every read or write of it happens while
holding ``state.lock`` (an RLock, so helpers may nest). Sleeping (latency) never happens under it.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass
from typing import Any

from simulator import growth, images, seed
from simulator.faults import Faults
from simulator.jobs import JobStore
from simulator.wire import load_time_zone, new_uuid

# The uuid real ZStack gives its built-in admin account.
ADMIN_ACCOUNT_UUID = "36c27e8ff05c4780bf6d2fa65700f22e"
# Bounds that keep memory flat during a long `make run` demo; tests never get near them.
MAX_LOGGED_REQUESTS = 10_000
MAX_AUDITS = 10_000


@dataclass
class Options:
    """Start-up configuration (command line or SimulatorServer keywords); reset() returns to it."""

    storages: int = 12
    seed: int = 1
    job_polls: int = 1
    session_timeout: float = 7200.0
    latency_ms: int = 0
    foreign_location: str | None = None
    jobs_never_finish: bool = False
    reconnect_result: str = "Connected"
    update_tags: str = "ignore"
    job_seconds: float = 0.0
    account: str = "admin"
    password: str = "password"
    time_zone: str = "Asia/Shanghai"
    capacity_growth: bool = False  # storages fill over time by seeded trends (simulator/growth.py)

    def initial_faults(self) -> Faults:
        faults = Faults()
        faults.merge(
            {
                "job_polls": self.job_polls,
                "session_timeout": self.session_timeout,
                "latency_ms": self.latency_ms,
                "foreign_location": self.foreign_location,
                "jobs_never_finish": self.jobs_never_finish,
                "reconnect_result": self.reconnect_result,
                "update_tags": self.update_tags,
                "job_seconds": self.job_seconds,
            }
        )
        return faults


@dataclass
class Session:
    uuid: str
    created: float
    expires: float


class State:
    def __init__(self, options: Options) -> None:
        self.options = options
        self.lock = threading.RLock()
        self.tz = load_time_zone(options.time_zone)
        # The server stores the SHA-512 hex of the password and compares verbatim (§2.1).
        self._password_hash = hashlib.sha512(options.password.encode("utf-8")).hexdigest()
        self.account_uuid = ADMIN_ACCOUNT_UUID
        self.reset()

    def reset(self, storages: int | None = None, seed_value: int | None = None) -> None:
        data = seed.build(
            storages if storages is not None else self.options.storages,
            seed_value if seed_value is not None else self.options.seed,
        )
        with self.lock:
            self.zones: list[dict[str, Any]] = data.zones
            self.storages: list[dict[str, Any]] = data.storages
            for storage in self.storages:
                # A storage keeps the trend it was seeded with when someone renames it (simulator/growth.py).
                storage["_seeded_name"] = storage.get("name")
            self.storage_by_uuid = {s["uuid"]: s for s in data.storages}
            self.images: list[dict[str, Any]] = images.build(
                data.storages, seed_value if seed_value is not None else self.options.seed
            )
            # The images on each storage, in self.images' order: ZStack finds them through an indexed join,
            # and scanning every image on each such query would make the simulator's CPU, not its --latency-ms,
            # the slowest part of a page that reads two of them at once. Images never change after seeding.
            self.images_on: dict[str, list[dict[str, Any]]] = {}
            for image in self.images:
                for ref in image["backupStorageRefs"]:
                    self.images_on.setdefault(ref["backupStorageUuid"].casefold(), []).append(image)
            self.tags: list[dict[str, Any]] = data.tags
            self._tag_index: dict[tuple[str, str], list[str]] | None = None
            self.sessions: dict[str, Session] = {}
            self.jobs = JobStore()
            self.faults = self.options.initial_faults()
            self.requests: list[dict[str, Any]] = []
            self.audits: list[dict[str, Any]] = []
            self._capacity_at = time.time()

    # -- capacity growth (opt-in, simulator/growth.py) -------------------------------------------

    def advance_capacity(self, now: float | None = None) -> None:
        """With ``capacity_growth``: lower every storage's availableCapacity by its trend since the last
        advance (at most once a second, so 10,000 storages cost a loop a second, not one per request)."""
        if not self.options.capacity_growth:
            return
        now = time.time() if now is None else now
        with self.lock:
            elapsed = now - self._capacity_at
            if elapsed < 1.0:
                return
            self._capacity_at = now
            for s in self.storages:
                rate = growth.bytes_per_second(s["uuid"], s.get("_seeded_name"), s["totalCapacity"])
                if rate:
                    exact = s.get("_available_exact", float(s["availableCapacity"]))
                    if int(exact) != s["availableCapacity"]:  # patched out of band: continue from there
                        exact = float(s["availableCapacity"])
                    exact = max(0.0, exact - rate * elapsed)
                    s["_available_exact"], s["availableCapacity"] = exact, int(exact)

    # -- data -------------------------------------------------------------------------------

    def tags_of(self, resource_uuid: str, tag_type: str) -> list[str]:
        if self._tag_index is None:  # rebuilt lazily after a change: queries stay O(1) per record
            index: dict[tuple[str, str], list[str]] = {}
            for tag in self.tags:
                index.setdefault((tag["resourceUuid"], tag["type"]), []).append(tag["tag"])
            self._tag_index = index
        return self._tag_index.get((resource_uuid, tag_type), [])

    def add_tag(
        self, resource_uuid: str, text: str, tag_type: str, resource_type: str = seed.STORAGE_RESOURCE_TYPE
    ) -> dict[str, Any]:
        tag = seed.new_tag(new_uuid(), resource_uuid, text, tag_type, time.time(), resource_type)
        self.tags.append(tag)
        self._tag_index = None
        return tag

    def delete_tag(self, tag_uuid: str) -> bool:
        before = len(self.tags)
        self.tags = [tag for tag in self.tags if tag["uuid"] != tag_uuid]
        self._tag_index = None
        return len(self.tags) != before

    @staticmethod
    def touch(record: dict[str, Any]) -> None:
        """Bump lastOpDate (§4.2). The wire format has whole seconds, so two changes within one
        second would look identical; keep it strictly increasing so stale-form checks stay reliable."""
        record["lastOpDate"] = max(float(int(time.time())), record["lastOpDate"] + 1)

    # -- sessions (§2) ------------------------------------------------------------------------

    def login(self, account: str, password_hash: str) -> Session | None:
        if account != self.options.account or password_hash != self._password_hash:
            return None
        now = time.time()
        self.sessions = {k: s for k, s in self.sessions.items() if s.expires > now}
        session = Session(uuid=new_uuid(), created=now, expires=now + self.faults.session_timeout)
        self.sessions[session.uuid] = session
        return session

    def logout(self, session_uuid: str) -> None:
        self.sessions.pop(session_uuid, None)  # idempotent (§2.2)

    def session_valid(self, session_uuid: str) -> bool:
        session = self.sessions.get(session_uuid)
        return session is not None and session.expires > time.time()

    def renew_session(self, session_uuid: str) -> bool:
        """Sliding expiry: each authenticated call extends the session by the timeout (§2.3)."""
        if not self.session_valid(session_uuid):
            return False
        self.sessions[session_uuid].expires = time.time() + self.faults.session_timeout
        return True

    def expire_sessions(self) -> None:
        self.sessions.clear()

    # -- logs -----------------------------------------------------------------------------------

    def log_request(self, entry: dict[str, Any]) -> None:
        self.requests.append(entry)
        del self.requests[:-MAX_LOGGED_REQUESTS]

    def add_audit(self, audit: dict[str, Any]) -> None:
        audit["id"] = (self.audits[-1]["id"] + 1) if self.audits else 1
        self.audits.append(audit)
        del self.audits[:-MAX_AUDITS]
