"""One-time submission tokens and the Submission rows they reserve (models.Submission).

Every rendered edit form and action button carries a token (the hidden input ``submission``): a random
nonce signed together with the storage uuid and the action, so it is minted only here and only fits the
form it was made for. Rendering costs no database write; the first POST that uses a token reserves its
nonce (a unique row), and every later POST with it finds that row: it is shown the first submission's
progress or result and sends nothing.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone

from dashboard.accounts.actor import Actor

from .models import Submission

_SALT = "storages.submission"
TOKEN_MAX_AGE = timedelta(days=7)  # an older form asks to be reloaded; its row may then be pruned
KEEP_FINISHED = TOKEN_MAX_AGE + timedelta(days=1)
TWIN_WAIT_SECONDS = 5.0  # a twin POST waits this long for the first to plan its jobs or give the token back


# --- tokens --------------------------------------------------------------------------------------


def new_nonce() -> str:
    return secrets.token_urlsafe(18)


def new_token(uuid: str, action: str) -> str:
    # The storage and the action are bound by the salt, not carried in the token: it stays short (the card
    # holds one per action and is kept under 4 KB, docs/performance.md).
    return signing.dumps(new_nonce(), salt=_salt(uuid, action))


def _salt(uuid: str, action: str) -> str:
    return f"{_SALT}:{uuid}:{action}"


def read_token(token: str | None, *, uuid: str, action: str) -> str | None:
    """The nonce of a token minted for this storage and action, or None (forged, expired, another form's)."""
    try:
        nonce = signing.loads(token or "", salt=_salt(uuid, str(action)), max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:  # SignatureExpired is one; so is a token minted for another storage or action
        return None
    return nonce if isinstance(nonce, str) else None


# --- the jobs of one submission --------------------------------------------------------------------


class PartState:
    PLANNED = "planned"  # its job uuid is chosen, nothing sent yet
    SUBMITTED = "submitted"  # ZStack accepted the job (202): follow it
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    UNKNOWN = "timed_out"  # sent, but its result could not be had before the deadline
    ENDED = (SUCCEEDED, FAILED, UNKNOWN)


@dataclass
class Part:
    """One ZStack job of a submission. ``args`` is what the client needs to send it (never a secret);
    a ``secret`` part (the update carrying the SSH password) can be sent only by the web request that
    holds the password: any other follower can only look for its job."""

    kind: str  # update | tag-add | tag-remove | reconnect | enable | disable | reclaim
    job: str  # the X-Job-UUID, chosen before anything is sent
    changes: list[dict[str, Any]]  # what it changes, as audit.log.change_to_json stores it
    args: dict[str, Any] = field(default_factory=dict)
    secret: bool = False
    state: str = PartState.PLANNED
    poll: str | None = None
    error_code: str = ""
    error_message: str = ""
    resubmitted: bool = False  # once, under a fresh job uuid, after ZStack said the session was invalid
    result: dict[str, Any] = field(default_factory=dict)  # what a succeeded job answered that we keep (freed_bytes)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Part:
        return cls(**data)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def ended(self) -> bool:
        return self.state in PartState.ENDED


def parts_of(submission: Submission) -> list[Part]:
    return [Part.from_json(p) for p in submission.parts]


# --- reservation -----------------------------------------------------------------------------------


def reserve(nonce: str, *, actor: Actor, uuid: str, action: str) -> tuple[Submission, bool]:
    """(row, True) for the first use of the nonce; (the existing row, False) for any later one.

    A twin POST that arrives while the first is still reading ZStack waits (briefly) for it to plan its
    jobs or to give the token back (nothing to send), so it never reports a write that will not happen."""
    give_up = time.monotonic() + TWIN_WAIT_SECONDS
    while time.monotonic() < give_up:
        try:
            with transaction.atomic():
                return Submission.objects.create(
                    token=nonce, action=str(action), storage_uuid=uuid, actor=actor_to_json(actor)
                ), True
        except IntegrityError:
            existing = Submission.objects.filter(token=nonce).first()
        if existing is not None and (
            existing.attempt_sequence is not None or existing.status != Submission.Status.RUNNING
        ):
            return existing, False
        time.sleep(0.1)  # the first POST is planning, or just released the token: look again
    raise ReservationBusy(nonce)


class ReservationBusy(Exception):
    """The first POST with this token neither planned nor released it in time (a stuck request): this
    one sends nothing and says so."""


def release(submission: Submission) -> None:
    """Nothing was sent (a conflict, nothing to change, ZStack unreachable before any job): the token
    may be used again, as if never submitted."""
    Submission.objects.filter(pk=submission.pk, attempt_sequence__isnull=True).delete()


def actor_to_json(actor: Actor) -> dict[str, Any]:
    return {
        "user_id": actor.user_id,
        "username": actor.username,
        "role": actor.role and str(actor.role),
        "ip": actor.ip,
        "user_agent": actor.user_agent,
    }


def actor_from_json(data: dict[str, Any]) -> Actor:
    from dashboard.accounts.roles import Role

    role = data.get("role")
    return Actor(
        user_id=data.get("user_id"),
        username=data.get("username") or "",
        role=Role(role) if role else None,
        ip=data.get("ip"),
        user_agent=data.get("user_agent") or "",
    )


# --- reads ---------------------------------------------------------------------------------------


# The card asks on every refresh: written out, as Django would compile the queryset anew each time
# (docs/performance.md, "Queries written out"; tests/test_written_queries.py holds it to the queryset). Only the
# table's name is formatted in; every value is a parameter.
_RUNNING_SQL = (
    f"SELECT * FROM {Submission._meta.db_table} WHERE storage_uuid = %s AND status = %s"  # noqa: S608
    " AND attempt_sequence IS NOT NULL ORDER BY created_at, id LIMIT 10"
)


def running_for(uuid: str) -> list[Submission]:
    """The writes on this storage still in progress, oldest first (the card shows them)."""
    return list(Submission.objects.raw(_RUNNING_SQL, [uuid, Submission.Status.RUNNING.value]))


def for_viewer(nonce: str, uuid: str) -> Submission | None:
    return Submission.objects.filter(token=nonce, storage_uuid=uuid).first()


def prune_finished() -> int:
    """Finished rows whose token can no longer be replayed (older than any valid token)."""
    cutoff = timezone.now() - KEEP_FINISHED
    deleted, _ = Submission.objects.filter(status=Submission.Status.DONE, created_at__lt=cutoff).delete()
    return deleted


@dataclass(frozen=True, slots=True)
class RunningWrite:
    """A write in progress as the card shows it. ``nonce`` only for the person who submitted it: their
    page follows it through the cheap progress endpoint; everyone else's card just refreshes sooner."""

    action: str
    started: datetime
    job: str
    nonce: str | None

    @classmethod
    def of(cls, submission: Submission, user_id: int | None) -> RunningWrite:
        parts = submission.parts or [{}]
        mine = user_id is not None and submission.actor.get("user_id") == user_id
        return cls(
            action=submission.action,
            started=submission.created_at,
            job=parts[0].get("job", ""),
            nonce=submission.token if mine else None,
        )
