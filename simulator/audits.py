"""ZWatch GetAuditData (``GET /zwatch/audits``): who changed what, for every async action (§4.6).

Audit entries follow [SDK] AuditData. Passwords in the request dump are masked, as ZStack masks
fields it must not log.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from simulator.wire import RestError, drop_nulls

_MASK = "*****"
_INTEGER = re.compile(r"^\d+$")


def masked(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _MASK if "password" in k.lower() and v is not None else masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(item) for item in value]
    return value


def build(
    *,
    api_name: str,
    resource_uuid: str,
    resource_type: str,
    account_uuid: str,
    account_name: str,
    job_uuid: str,
    submitted: float,
    request_body: Any,
    status: int,
    response_body: dict[str, Any],
    client_ip: str,
    user_agent: str | None,
) -> dict[str, Any]:
    now = time.time()
    error = response_body.get("error")
    return drop_nulls(
        {
            "resourceUuid": resource_uuid,
            "resourceType": resource_type,
            "clientIp": client_ip,
            "clientBrowser": user_agent,
            "apiName": api_name,
            "error": json.dumps(error, ensure_ascii=False) if error else "",
            "operatorAccountUuid": account_uuid,
            "operator": account_name,
            "duration": int((now - submitted) * 1000),
            "requestUuid": job_uuid,
            "requestDump": json.dumps(masked(request_body), ensure_ascii=False),
            "responseDump": json.dumps(masked(response_body), ensure_ascii=False),
            "time": int(now * 1000),
            "success": status == 200,
        }
    )


def select(audits: list[dict[str, Any]], pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Filter by ``startTime``/``endTime`` (epoch ms) and ``limit`` (default 100), newest first."""
    params = dict(reversed(pairs))  # the first occurrence of a key wins
    bounds = {}
    for name, default in (("startTime", 0), ("endTime", 2**63 - 1), ("limit", 100)):
        raw = params.get(name)
        if raw is not None and not _INTEGER.match(raw):
            raise RestError(400, f"Invalid query parameter. '{name}' must be a non-negative integer")
        bounds[name] = int(raw) if raw is not None else default
    if params.get("auditType", "Resource") != "Resource":
        return {"audits": []}  # logins are not audited by the simulator
    chosen = [a for a in reversed(audits) if bounds["startTime"] <= a["time"] <= bounds["endTime"]]
    return {"audits": chosen[: bounds["limit"]]}
