"""The connection to one ZStack management node: session, the ``_request()`` choke point, jobs.

``ZStackClient`` (client.py) adds the typed endpoints on top. Everything here is about getting one
exchange right: login and re-login (docs/zstack-protocol.md §2, §7.3), async jobs (§5), error mapping (§7).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import time
import uuid as uuidlib
from collections.abc import Iterable
from datetime import tzinfo
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import requests

from . import jobs, transport
from .errors import (
    AuthenticationFailed,
    InvalidArgument,
    JobLost,
    ProtocolError,
    SessionExpired,
    ZStackError,
    ZStackUnavailable,
)
from .inventory import JobStatus, JobTicket, Session

logger = logging.getLogger("dashboard.zstack.client")
API_PREFIX = "/zstack/v1"


class _HideSessionIds(logging.Filter):
    """urllib3 logs each request line at DEBUG; logout's path holds the session uuid, a bearer credential."""

    _PATTERN = re.compile(r"(/accounts/sessions/)[^/\s?\"]+")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/accounts/sessions/" in message:
            record.msg, record.args = self._PATTERN.sub(r"\1<session>", message), ()
        return True


logging.getLogger("urllib3.connectionpool").addFilter(_HideSessionIds())


class SessionStore(Protocol):
    """Where several processes share one ZStack session (the console's is Django's cache, when Redis is
    configured): each process would otherwise log in on its own and hold a session of its own (§2)."""

    def get(self) -> str | None: ...

    def put(self, session_uuid: str) -> None: ...

    def clear(self, session_uuid: str) -> None: ...


def new_job_uuid() -> str:
    """A fresh X-Job-UUID: ZStack wants exactly 32 characters, a UUID with '-' stripped (§1)."""
    return uuidlib.uuid4().hex


class Connection:
    read_retries = 2  # GETs only: a PUT/DELETE may have taken effect, so it is never re-sent
    retry_backoff = 0.1  # seconds, doubled per retry

    def __init__(
        self,
        url: str,
        account: str,
        password: str,
        *,
        time_zone: str | tzinfo = "Asia/Shanghai",
        timeout: float = 10.0,
        session: requests.Session | None = None,
        session_store: SessionStore | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.account = account
        # ZStack compares the lowercase hex SHA-512 verbatim (§2.1); the plain password is not kept.
        self._password_hash = hashlib.sha512(password.encode("utf-8")).hexdigest()
        self._has_password = bool(password)
        self.tz = ZoneInfo(time_zone) if isinstance(time_zone, str) else time_zone
        self.timeout = timeout
        self._owns_http = session is None
        self._http = session or requests.Session()
        self._session_uuid: str | None = None
        self._session_lock = threading.Lock()  # one login at a time; every thread shares its session
        self._session_store = session_store

    def __repr__(self) -> str:  # never the password, its hash or the session uuid
        return f"<{type(self).__name__} {self.url} account={self.account!r}>"

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    # --- sessions (§2) -----------------------------------------------------------------------

    def login(self) -> Session:
        with self._session_lock:
            return self._login_locked()

    def logout(self) -> None:
        with self._session_lock:
            session, self._session_uuid = self._session_uuid, None
            if session and self._session_store is not None:
                self._session_store.clear(session)
        if session:  # idempotent on the server (§2.2); the uuid is a credential, kept out of the log line
            self._request(
                "DELETE", f"/accounts/sessions/{session}", label="/accounts/sessions/<session>", secrets=(session,)
            )

    # Debug error pages show each frame's variables. This package knows no Django, so it cannot mark them
    # sensitive itself: the console's reporter (dashboard/storages/debug.py) hides every variable of every
    # frame in dashboard.zstack.* and below it (the password hash, the session uuid, request bodies).
    def _login_locked(self) -> Session:
        if not self._has_password:  # don't ask ZStack to reject an empty password: say what is missing
            raise AuthenticationFailed("no password is configured for the ZStack account (ZSTACK_PASSWORD)")
        body = {"logInByAccount": {"accountName": self.account, "password": self._password_hash}}
        # Logging in changes nothing: a lost answer is "unreachable", never an unknown outcome.
        _, reply = self._request("PUT", "/accounts/login", body=body, write=False)
        inventory = reply.get("inventory")
        if not isinstance(inventory, dict) or not isinstance(inventory.get("uuid"), str):
            raise ProtocolError("PUT /accounts/login: the reply holds no session", code=transport.BAD_BODY_CODE)
        session = Session.from_json(inventory, self.tz)
        self._session_uuid = session.uuid
        if self._session_store is not None:
            self._session_store.put(session.uuid)
        return session

    def _shared_session(self, stale: str | None = None) -> str | None:
        """A session another process logged in (the shared store), unless it is the one found stale."""
        shared = self._session_store.get() if self._session_store is not None else None
        return shared if shared and shared != stale else None

    def _current_session(self) -> str:
        with self._session_lock:
            if self._session_uuid is None:
                self._session_uuid = self._shared_session()
            if self._session_uuid is None:
                return self._login_locked().uuid
            return self._session_uuid

    def _renew_session(self, stale: str) -> str:
        """Log in again unless another thread (or, through the shared store, another process) already
        replaced the stale session."""
        with self._session_lock:
            if self._session_uuid is None or self._session_uuid == stale:
                self._session_uuid = self._shared_session(stale)
                if self._session_uuid is None:
                    logger.info("zstack session invalid (ID.1001); logging in again")
                    if self._session_store is not None:
                        self._session_store.clear(stale)
                    return self._login_locked().uuid
            return self._session_uuid

    def _read(self, path: str, query_string: str = "") -> dict[str, Any]:
        """An authenticated GET; on ID.1001 (a 503 for sync APIs, §2.3) log in again and retry once."""
        session = self._current_session()
        try:
            return self._request("GET", path, query=query_string, session=session)[1]
        except SessionExpired:
            return self._request("GET", path, query=query_string, session=self._renew_session(session))[1]

    # --- jobs followed by the caller (a background task), not waited for here ------------------

    def submit_job(
        self, method: str, path: str, body: dict[str, Any] | None, job_uuid: str, secrets: tuple[str, ...] = ()
    ) -> JobTicket:
        """Send an async API under ``job_uuid`` and return at once with where to poll it.

        The caller follows the job with ``poll_job``, possibly in another process: nothing here waits.
        ZStack dedupes on the X-Job-UUID, so a resubmission of the same ticket after a crash answers
        400 "Duplicate job uuid" (§1): reported as ``already_submitted``, the job itself is followed.
        """
        session = self._current_session()
        try:
            status, reply = self._request(method, path, body=body, session=session, job_uuid=job_uuid, secrets=secrets)
        except InvalidArgument as error:
            if "duplicate job uuid" in error.details.lower():
                return JobTicket(job_uuid=job_uuid, poll_path=jobs.job_path(None, job_uuid), already_submitted=True)
            error.job_uuid = job_uuid
            raise
        except ZStackError as error:
            error.job_uuid = error.job_uuid or job_uuid
            raise
        if status != 202:  # answered synchronously: the result is already here
            return JobTicket(job_uuid=job_uuid, poll_path=None, result=reply)
        return JobTicket(job_uuid=job_uuid, poll_path=jobs.job_path(reply.get("location"), job_uuid))

    def poll_job(self, ticket: JobTicket, secrets: Iterable[str] = ()) -> JobStatus:
        """One look at a job (§5.2): running, succeeded (its body) or failed (ZStack's error).

        Raises only when the answer could not be had or read (ZStackUnavailable, ProtocolError): the job's
        fate is then still unknown and the caller may look again. A 404 is JobLost: the job is unknown.
        ``secrets`` (the SSH password the job was sent with, when the caller still has it) are scrubbed
        from the job's error, which may echo them; so is the session uuid.
        """
        if ticket.poll_path is None:
            return JobStatus(done=True, body=ticket.result or {})
        scrubbed = (*secrets, self._session_uuid or "")
        try:
            status, body = self._request(
                "GET", ticket.poll_path, job_uuid=ticket.job_uuid, not_found=JobLost, secrets=scrubbed
            )
        except JobLost as error:
            error.job_uuid = ticket.job_uuid
            raise
        except ZStackUnavailable as error:
            if error.http_status == 503:  # the job's own answer (SYS.1010): ZStack did not run it
                error.job_uuid = ticket.job_uuid
                return JobStatus(done=True, error=error)
            raise
        except ProtocolError:
            raise
        except ZStackError as error:  # 503 {"error": …}: the job failed (§7.2)
            error.job_uuid = ticket.job_uuid
            return JobStatus(done=True, error=error)
        if status == 202:
            return JobStatus(done=False)
        return JobStatus(done=True, body=body)

    def renew_session(self) -> None:
        """Log in again now (a job failed with ID.1001, §2.3): the next submission uses the new session."""
        with self._session_lock:
            self._login_locked()

    # --- the one choke point ---------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        query: str = "",
        body: dict[str, Any] | None = None,
        session: str | None = None,
        job_uuid: str | None = None,
        not_found: type[ZStackError] = ProtocolError,
        secrets: Iterable[str] = (),
        label: str | None = None,
        write: bool | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """Every HTTP call to ZStack goes through here: timeout, error mapping, read retries, one log line.

        Returns (status, JSON object) for a 2xx answer, else raises a ZStackError. Bodies are never
        logged (they hold passwords); neither are query strings nor the session uuid. ``write``
        (default: any method but GET) makes a lost answer an unknown outcome rather than "unreachable".
        """
        write = method != "GET" if write is None else write
        url = f"{self.url}{API_PREFIX}{path}" + (f"?{query}" if query else "")
        headers = {"Accept": "application/json"}
        if session:
            headers["Authorization"] = f"OAuth {session}"
        if job_uuid and method != "GET":
            headers["X-Job-UUID"] = job_uuid
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json; charset=utf-8"
            data = json.dumps(body).encode("utf-8")
        what = f"{method} {label or path}"
        scrubbed = (*secrets, self._password_hash, session or "")
        attempts = 1 + (self.read_retries if method == "GET" else 0)
        for attempt in range(attempts):
            started = time.monotonic()
            status: int | str
            try:
                response = self._http.request(
                    method, url, data=data, headers=headers, timeout=self.timeout, allow_redirects=False
                )
            except requests.RequestException as exc:
                error, status = transport.transport_error(exc, what, write=write), "no-answer"
            else:
                status = response.status_code
                try:
                    payload = transport.decode(response, what, not_found=not_found, secrets=scrubbed, write=write)
                except ZStackError as exc:
                    error = exc
                else:
                    self._log(logging.DEBUG if method == "GET" else logging.INFO, what, status, started, job_uuid)
                    return response.status_code, payload
            retry = isinstance(error, ZStackUnavailable) and attempt + 1 < attempts
            self._log(logging.INFO if retry else logging.WARNING, what, status, started, job_uuid, error.code)
            if not retry:
                raise error  # raised outside the except block: no chained exception holding the URL
            time.sleep(self.retry_backoff * 2**attempt)
        raise AssertionError("unreachable")

    @staticmethod
    def _log(
        level: int, what: str, status: int | str, started: float, job_uuid: str | None, code: str | None = None
    ) -> None:
        ms = (time.monotonic() - started) * 1000
        logger.log(
            level,
            "zstack %s -> %s %.0f ms job=%s%s",
            what,
            status,
            ms,
            job_uuid or "-",
            f" error={code}" if code else "",
        )
