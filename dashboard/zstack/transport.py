"""Turning one HTTP exchange into a JSON object or one ZStackError (docs/zstack-protocol.md §1, §7.2).

Used only by ``ZStackClient._request``, the client's single choke point. Kept apart so the mapping
rules can be read (and tested) on their own.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

import requests
from urllib3.exceptions import ConnectTimeoutError

from .errors import (
    InvalidArgument,
    OutcomeUnknown,
    ProtocolError,
    ZStackError,
    ZStackTimeout,
    ZStackUnavailable,
)

# ZStack's SDKs name a bare HTTP failure sdk.1000 and a client-side problem sdk.1002 (§7.1).
HTTP_ERROR_CODE = "sdk.1000"
BAD_BODY_CODE = "sdk.1002"
_MAX_DETAILS = 500
_REDACTED = "******"


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Remove secrets a server (or a proxy) might echo back in an error text, so they never reach the audit
    trail, logs, pages or exports — in any encoding it might echo them in: literal; JSON-escaped (``\\uXXXX``
    in either case, short escapes like ``\\"``, or the character itself; also JSON nested in JSON, with its
    doubled backslashes); HTML-escaped (named, decimal and hex references); URL-encoded (``%XX`` of the UTF-8
    bytes in either case, ``+`` for a space). Encodings may mix within one echo: each character of the secret
    is matched in any of them."""
    for secret in secrets:
        if secret:
            text = re.sub("".join(_any_encoding(char) for char in secret), _REDACTED, text)
    return text


# JSON's two-character escapes (RFC 8259 §7) and HTML's named references, for the characters that have them.
_JSON_SHORT_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "\b": "b", "\f": "f", "\n": "n", "\r": "r", "\t": "t"}
_HTML_NAMES = {'"': ("quot",), "&": ("amp",), "<": ("lt",), ">": ("gt",), "'": ("apos",)}


def _hex(value: int, width: int = 1) -> str:
    """A pattern for ``value`` in hex digits of either case, at least ``width`` long (leading zeros allowed)."""
    digits = f"{value:0{width}x}"
    return "".join(f"[{d}{d.upper()}]" if d.isalpha() else d for d in digits)


def _any_encoding(char: str) -> str:
    """A pattern matching one character of a secret however it was encoded (see ``scrub``)."""
    code = ord(char)
    if code > 0xFFFF:  # JSON writes it as a surrogate pair
        high, low = 0xD800 + ((code - 0x10000) >> 10), 0xDC00 + ((code - 0x10000) & 0x3FF)
        json_unicode = rf"\\+u{_hex(high, 4)}\\+u{_hex(low, 4)}"
    else:
        json_unicode = rf"\\+u{_hex(code, 4)}"
    options = [re.escape(char), json_unicode, rf"&#0*{code};?", rf"&#[xX]0*{_hex(code)};?",
               "".join(f"%{_hex(byte, 2)}" for byte in char.encode("utf-8"))]  # fmt: skip
    if char in _JSON_SHORT_ESCAPES:
        options.append(r"\\+" + re.escape(_JSON_SHORT_ESCAPES[char]))
    options.extend(f"&{name};" for name in _HTML_NAMES.get(char, ()))
    if char == " ":
        options.append(r"\+")
    return f"(?:{'|'.join(options)})"


def _scrub_json(value: Any, secrets: tuple[str, ...]) -> Any:
    if isinstance(value, str):
        return scrub(value, secrets)
    if isinstance(value, dict):
        return {k: _scrub_json(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub_json(v, secrets) for v in value]
    return value


def _root_reason(exc: BaseException) -> str:
    """The OS-level reason ("Connection refused") without the URL, which may hold a session uuid."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.strerror:
            return current.strerror
        if isinstance(current, ConnectionResetError | ConnectionAbortedError):
            return type(current).__name__
        nxt = getattr(current, "reason", None)
        if not isinstance(nxt, BaseException):
            nxt = current.args[0] if current.args and isinstance(current.args[0], BaseException) else None
        current = nxt or current.__cause__ or current.__context__
    return type(exc).__name__


def _never_sent(exc: BaseException) -> bool:
    """True when the connection was never established (refused, DNS, connect timeout), so ZStack
    cannot have seen the request. urllib3's NewConnectionError is a ConnectTimeoutError."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ConnectTimeoutError | requests.ConnectTimeout):
            return True
        nxt = getattr(current, "reason", None)
        if not isinstance(nxt, BaseException):
            nxt = current.args[0] if current.args and isinstance(current.args[0], BaseException) else None
        current = nxt or current.__cause__ or current.__context__
    return False


def transport_error(exc: requests.RequestException, what: str, *, write: bool = False) -> ZStackError:
    """Map a requests failure (no usable HTTP answer) to the error family. ``what`` = "PUT /path".

    ``write``: the request may change something. Once it may have been sent, a lost connection leaves
    the outcome unknown (OutcomeUnknown), not "ZStack did not do it"; only a connection that was never
    made is ZStackUnavailable for a write.
    """
    reason = _root_reason(exc)
    if isinstance(exc, requests.ConnectTimeout):
        # Nothing was sent: ZStack is unreachable, not slow (the outcome is known: nothing happened).
        return ZStackUnavailable(f"{what}: connect timed out ({reason})")
    if isinstance(exc, requests.Timeout):
        return ZStackTimeout(f"{what}: no answer in time ({reason})")
    if isinstance(exc, requests.ConnectionError | requests.exceptions.ChunkedEncodingError):
        if write and not _never_sent(exc):
            return OutcomeUnknown(f"{what}: connection lost after the request was sent ({reason})")
        return ZStackUnavailable(f"{what}: connection failed ({reason})")
    return ProtocolError(f"{what}: {reason}", code=BAD_BODY_CODE)


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def decode(
    response: requests.Response,
    what: str,
    *,
    not_found: type[ZStackError] = ProtocolError,
    secrets: tuple[str, ...] = (),
    write: bool = False,
) -> dict[str, Any]:
    """Return the JSON object of a 2xx answer, else raise the matching ZStackError.

    ZStack never sends Content-Type (§1), so the body is parsed whatever the header says.
    503 carries ``{"error": ErrorCode}``; 400/404/405/500 from the REST layer are plain text (§7.2).
    ``write``: for a request that may change something, an unreadable success and a proxy's 502/504
    leave the outcome unknown (the request reached something that may have passed it on).
    """
    status = response.status_code
    text = response.content.decode("utf-8", errors="replace")
    if 200 <= status < 300:
        body = _json_object(text)
        if body is None:
            shown = "an empty body" if not text.strip() else "a body that is not a JSON object"
            if write:
                raise OutcomeUnknown(f"{what}: HTTP {status} with {shown}", http_status=status)
            raise ProtocolError(f"{what}: HTTP {status} with {shown}", code=BAD_BODY_CODE, http_status=status)
        return body
    details = scrub(text.strip(), secrets)[:_MAX_DETAILS]
    if status == 503:
        body = _json_object(text)
        if body is not None and isinstance(body.get("error"), dict):
            raise ZStackError.from_error_json(_scrub_json(body["error"], secrets), http_status=503)
        raise ProtocolError(f"{what}: HTTP 503 without a ZStack error: {details}", code=BAD_BODY_CODE, http_status=503)
    if status == 400:
        raise InvalidArgument(details or f"{what}: HTTP 400", code=HTTP_ERROR_CODE, http_status=400)
    if status == 404:
        raise not_found(
            details or f"{what}: HTTP 404",
            code=HTTP_ERROR_CODE if not_found is ProtocolError else None,
            http_status=404,
        )
    if status in (502, 504):  # a proxy in front of the management node could not reach it (or lost it)
        if write:
            raise OutcomeUnknown(f"{what}: HTTP {status} {details}".strip(), http_status=status)
        raise ZStackUnavailable(f"{what}: HTTP {status} {details}".strip(), http_status=status)
    raise ProtocolError(f"{what}: HTTP {status} {details}".strip(), code=HTTP_ERROR_CODE, http_status=status)
