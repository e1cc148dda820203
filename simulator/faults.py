"""Fault injection: the knobs behind ``POST /_sim/faults`` and the matching command-line options.

A fault never changes what the simulated ZStack *is*; it changes how one request or job is answered,
so client tests can reach every failure branch on demand (issue 2 §3).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from simulator.wire import ApiError, Response, dumps

_RECONNECT_RESULTS = ("Connected", "Disconnected")
UPDATE_TAGS = ("store", "ignore")


@dataclass
class Faults:
    latency_ms: int = 0  # added to every /zstack request
    fail_next: list[dict[str, Any]] = field(default_factory=list)  # one entry per failed request
    fail_next_jobs: list[dict[str, Any]] = field(default_factory=list)  # one entry per failed job
    drop_next: int = 0  # close the connection without an answer, this many times
    jobs_never_finish: bool = False
    job_polls: int = 1  # 202 answers before a job is done (§5.2)
    foreign_location: str | None = None  # base URL advertised in job locations (§5.1)
    reconnect_result: str = "Connected"
    session_timeout: float = 7200.0  # identity.session.timeout (§2.3)
    # Tags given on an update: "ignore" them, as ZStack's core does (accepted, not persisted: only create
    # messages persist request tags, docs/zstack-protocol.md), or "store" them as tag records.
    update_tags: str = "ignore"
    # Seconds a job stays processing after its submission (on top of job_polls): a slow management
    # node, or a reconnect redeploying the agent over SSH, which takes minutes on real clouds.
    job_seconds: float = 0.0
    # Job results answer 200 without the `inventory` envelope, as the Go SDKs sometimes see them
    # (docs/zstack-protocol.md §9): a client must not need the envelope to know the write succeeded.
    omit_job_inventory: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def merge(self, changes: dict[str, Any]) -> None:
        """dict.update semantics: each given key replaces its value (``"fail_next": []`` clears it)."""
        checked = {name: _check(name, value) for name, value in changes.items()}
        for name, value in checked.items():
            setattr(self, name, value)

    def take_request_fault(self, method_and_path: str) -> Response | None:
        """The injected answer for this /zstack request, if any; consumes the fault it uses."""
        if self.drop_next > 0:
            self.drop_next -= 1
            return Response(status=0, body=b"", drop=True)
        for index, entry in enumerate(self.fail_next):
            if method_and_path.startswith(entry.get("match", "")):
                del self.fail_next[index]
                return _failure_response(entry)
        return None

    def take_job_fault(self) -> ApiError | None:
        if not self.fail_next_jobs:
            return None
        entry = self.fail_next_jobs.pop(0)
        return ApiError(entry.get("code", "SYS.1006"), entry.get("details", "injected job failure"))


def _failure_response(entry: dict[str, Any]) -> Response:
    if entry.get("drop"):  # the request arrived (and is logged) but is never handled nor answered
        return Response(status=0, body=b"", drop=True)
    status = int(entry.get("status", 503))
    if "raw_body" in entry:
        body = str(entry["raw_body"]).encode("utf-8")
    else:
        error = ApiError(entry.get("code", "SYS.1006"), entry.get("details", "injected failure"))
        body = dumps(error.body())
    return Response(status=status, body=body, omit_content_length=bool(entry.get("omit_content_length", False)))


def _check(name: str, value: Any) -> Any:
    """Reject malformed control input loudly: a silently ignored fault makes a test lie."""
    if name in ("latency_ms", "drop_next", "job_polls"):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(f"{name} must be a non-negative integer")
        return value
    if name in ("fail_next", "fail_next_jobs"):
        if not isinstance(value, list) or not all(isinstance(entry, dict) for entry in value):
            raise ValueError(f"{name} must be a list of objects")
        return [dict(entry) for entry in value]
    if name in ("jobs_never_finish", "omit_job_inventory"):
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be true or false")
        return value
    if name == "foreign_location":
        if value is not None and not isinstance(value, str):
            raise ValueError("foreign_location must be a URL string or null")
        return value.rstrip("/") if value else None
    if name == "reconnect_result":
        if value not in _RECONNECT_RESULTS:
            raise ValueError(f"reconnect_result must be one of {list(_RECONNECT_RESULTS)}")
        return value
    if name == "update_tags":
        if value not in UPDATE_TAGS:
            raise ValueError(f"update_tags must be one of {list(UPDATE_TAGS)}")
        return value
    if name == "job_seconds":
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
            raise ValueError("job_seconds must be a non-negative number of seconds")
        return float(value)
    if name == "session_timeout":
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
            raise ValueError("session_timeout must be a positive number of seconds")
        return float(value)
    raise ValueError(f"unknown fault {name!r}")
