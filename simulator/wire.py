"""Wire formats shared by every endpoint: errors, dates, uuids, JSON (docs/zstack-protocol.md §7, §8)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from email.message import Message
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# Fixed description per code, as in ZStack's conf/errorCodes/*.xml (docs/zstack-protocol.md §7.1).
ERROR_DESCRIPTIONS = {
    "ID.1000": "Unable to authenticate a user",
    "ID.1001": "The session is invalid, either wrong session id or the session has been expired",
    "ID.1002": "The user doesn't have permission to perform the operation",
    "ID.1006": "Max number of active sessions exceeded",
    "SYS.1000": "An internal error happened in system",
    "SYS.1001": "A message or a operation timeout",
    "SYS.1003": "A resource can not be found",
    "SYS.1005": "Unable to change resource state",
    "SYS.1006": "An operation failed",
    "SYS.1007": "One or more API argument is invalid",
    "SYS.1010": "Management server is not ready to serve",
}

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class RestError(Exception):
    """An error of ZStack's REST layer itself: a status with a plain-text body (docs/zstack-protocol.md §7.2)."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


@dataclass
class ApiError(Exception):
    """A ZStack ErrorCode: 503 JSON on a sync call, or the failure of an async job (§7.1, §7.2)."""

    code: str
    details: str
    cause: ApiError | None = field(default=None)

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "code": self.code,
            "description": ERROR_DESCRIPTIONS.get(self.code, "An operation failed"),
            "details": self.details,
        }
        if self.cause is not None:
            body["cause"] = self.cause.to_json()
        return body

    def body(self) -> dict[str, Any]:
        return {"error": self.to_json()}


def invalid_session() -> ApiError:
    # Session.checkSessionExpired (docs/zstack-protocol.md §2.3).
    return ApiError("ID.1001", "Session expired")


def invalid_argument(details: str) -> ApiError:
    return ApiError("SYS.1007", details)


def new_uuid() -> str:
    """ZStack uuids are v4 uuids with the dashes stripped: 32 lowercase hex chars (§8)."""
    return uuid.uuid4().hex


def load_time_zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        # A machine without tzdata still gets the usual management-node zone right (§8).
        if name == "Asia/Shanghai":
            return timezone(timedelta(hours=8), "CST")
        raise ValueError(f"unknown time zone {name!r}") from None


def format_date(epoch_seconds: float, tz: tzinfo) -> str:
    """Gson's Java 8 default for Locale.US: ``Jun 7, 2017 9:20:12 PM``, server-local, no zone (§8)."""
    local = datetime.fromtimestamp(epoch_seconds, tz)
    hour12 = local.hour % 12 or 12
    ampm = "AM" if local.hour < 12 else "PM"
    return f"{_MONTHS[local.month - 1]} {local.day}, {local.year} {hour12}:{local.minute:02d}:{local.second:02d} {ampm}"


def parse_date(text: str, tz: tzinfo) -> float | None:
    """Date literals in query conditions: ZStack's own format or ``YYYY-MM-DD[ HH:MM:SS]``."""
    text = text.strip()
    for pattern in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=tz).timestamp()
        except ValueError:
            pass
    try:
        month_name, rest = text.split(" ", 1)
        day, rest = rest.split(",", 1)
        year, clock, ampm = rest.split()
        hour, minute, second = (int(part) for part in clock.split(":"))
        hour = hour % 12 + (12 if ampm.upper() == "PM" else 0)
        month = _MONTHS.index(month_name) + 1
        return datetime(int(year), month, int(day), hour, minute, second, tzinfo=tz).timestamp()
    except ValueError:
        return None


def dumps(body: Any) -> bytes:
    # Gson writes UTF-8 without escaping non-ASCII; names in Chinese stay readable on the wire.
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def drop_nulls(body: dict[str, Any]) -> dict[str, Any]:
    """Gson is built without serializeNulls, so null fields are omitted (§1)."""
    return {key: value for key, value in body.items() if value is not None}


@dataclass
class Request:
    method: str
    path: str  # percent-decoded, without the query string
    query: str  # raw query string
    headers: Message  # case-insensitive .get(), original names in .items()
    body: bytes
    client_ip: str = ""

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    def pairs(self) -> list[tuple[str, str]]:
        # Like a servlet container: "+" decodes to a space, repeated keys are all kept (§6.1).
        return parse_qsl(self.query, keep_blank_values=True)

    def logged_body(self) -> Any:
        """The body as the request log shows it: parsed JSON, else text, else None when empty."""
        if not self.body:
            return None
        text = self.body.decode("utf-8", errors="replace")
        try:
            return json.loads(text)
        except ValueError:
            return text


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str | None = None  # ZStack never sets one (§1); only /_sim/ answers do
    omit_content_length: bool = False  # fault injection: send the body, then close
    drop: bool = False  # fault injection: close the connection without answering


def json_response(status: int, body: Any, content_type: str | None = None) -> Response:
    return Response(status=status, body=dumps(body), content_type=content_type)


def text_response(status: int, text: str) -> Response:
    """REST-layer errors (400/404/405/500) are plain text (§7.2)."""
    return Response(status=status, body=text.encode("utf-8"))
