"""Following a submission's ZStack jobs to their end, and recording its one outcome.

One function serves the web request (for a few seconds, where most writes end) and the background worker
(until the jobs end or the deadline). Whoever holds the submission's lease sends the jobs not yet sent,
polls the others, and once every job has ended records the outcome row. That happens once, whichever
process gets there: the row is finished by a conditional update in the same transaction as the audit
insert, so a second follower finds it done and a failed audit insert leaves it running, to be finished
by the next follower.

Sending twice is impossible by construction: each job's X-Job-UUID is chosen when the write is planned,
and ZStack refuses a job uuid it has seen (400 "Duplicate job uuid", docs/zstack-protocol.md §1), which
the client reports as already submitted.
"""

from __future__ import annotations

import logging
import time
import uuid as uuidlib
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from dashboard.audit import log as audit
from dashboard.audit import messages as audit_messages
from dashboard.audit.log import Action, Outcome, change_from_json
from dashboard.audit.models import AuditEvent
from dashboard.zstack.client import ZStackClient, new_job_uuid
from dashboard.zstack.errors import JobLost, OutcomeUnknown, ZStackError, ZStackUnavailable
from dashboard.zstack.inventory import JobTicket, ReclaimResult

from .models import Submission
from .submissions import Part, PartState, actor_from_json, parts_of
from .zstack_client import get_client

logger = logging.getLogger(__name__)

LEASE = timedelta(seconds=30)  # a follower renews it at least every LEASE / 3
QUEUED = "queued"  # lease owner of a submission handed to the worker and not yet picked up
# Polling: ask early (settings.ZSTACK_POLL_INTERVAL), then back off; never slower than the SDKs' 1 s (§5.3).
MAX_INTERVAL, BACKOFF = 1.0, 1.6
SESSION_INVALID = "ID.1001"
NOT_SENT = audit_messages.NOT_SENT  # our code: the console stopped before it sent this job


# Debug error pages show each frame's variables: ``secrets`` holds the SSH password.
@sensitive_variables("secrets")
def follow(submission_id: int, *, seconds: float | None, secrets: dict[str, Any] | None = None) -> Submission:
    """Advance the submission's jobs for at most ``seconds`` (None: until they end or the deadline) and
    return the row as it then is. ``secrets`` (the SSH password) only from the request that has it."""
    owner = uuidlib.uuid4().hex
    if not _claim(submission_id, owner):
        return Submission.objects.get(pk=submission_id)  # another process follows it
    client = get_client()
    stop_at = None if seconds is None else time.monotonic() + seconds
    first_interval = settings.ZSTACK_POLL_INTERVAL
    interval, renewed = first_interval, time.monotonic()
    try:
        while True:
            submission = Submission.objects.get(pk=submission_id)
            if not submission.running:
                return submission
            parts = parts_of(submission)
            changed = _advance_in_time(client, submission.storage_uuid, parts, secrets, stop_at)
            if submission.deadline and timezone.now() >= submission.deadline:
                changed.append(_give_up(parts))
            if all(part.ended for part in parts):
                return _finish(submission, parts)
            if any(changed) or time.monotonic() - renewed > LEASE.total_seconds() / 3:
                if not _save(submission_id, owner, parts):
                    # Another follower holds the lease now (ours ran out): it carries on from the row. Going
                    # on here would re-read jobs this follower sent but could not record, and send them again.
                    logger.warning("submission %s: lease lost, leaving it to its new follower", submission_id)
                    return Submission.objects.get(pk=submission_id)
                interval, renewed = first_interval if any(changed) else interval, time.monotonic()
            if stop_at is not None and time.monotonic() >= stop_at:
                return Submission.objects.get(pk=submission_id)
            # Never sleep past this follow's end or the submission's deadline: give up on time, not up to 1 s late.
            wait = interval
            if stop_at is not None:
                wait = min(wait, stop_at - time.monotonic())
            if submission.deadline:
                wait = min(wait, (submission.deadline - timezone.now()).total_seconds())
            time.sleep(max(0.0, wait))
            interval = min(interval * BACKOFF, MAX_INTERVAL)
    finally:
        Submission.objects.filter(pk=submission_id, lease_owner=owner).update(lease_until=None, lease_owner="")


def _claim(submission_id: int, owner: str) -> bool:
    now = timezone.now()
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now) | Q(lease_owner=QUEUED)
    return bool(
        Submission.objects.filter(free, pk=submission_id, status=Submission.Status.RUNNING).update(
            lease_until=now + LEASE, lease_owner=owner
        )
    )


def _save(submission_id: int, owner: str, parts: list[Part]) -> bool:
    """Record the parts and renew the lease; False when the lease is no longer ours (nothing recorded)."""
    return bool(
        Submission.objects.filter(pk=submission_id, lease_owner=owner).update(
            parts=[part.to_json() for part in parts], lease_until=timezone.now() + LEASE
        )
    )


# --- one job one step further ----------------------------------------------------------------------


@sensitive_variables("secrets")
def _advance_in_time(
    client: ZStackClient, uuid: str, parts: list[Part], secrets: dict[str, Any] | None, stop_at: float | None
) -> list[bool]:
    """Each part one step further, in order, while this follow's time lasts (``stop_at``, None: no end).

    The web request's wait stays within CONSOLE_WRITE_WAIT plus the one call in flight, however many tags
    an edit adds or removes (one job each): a part not reached is left as recorded, planned or submitted, and
    the next follower (the worker) sends or polls it. Nothing is sent twice: a part's send is recorded
    (``_save``) before the lease that lets anyone else send it is given up. A planned part that carries the
    secret is sent whatever the time, since only this request can send it; it is the first part planned
    (services._update_parts), so it goes out at the start of the wait, not after it."""
    changed = []
    for part in parts:
        only_here = part.secret and bool(secrets) and part.state == PartState.PLANNED
        if stop_at is not None and time.monotonic() >= stop_at and not only_here:
            continue
        changed.append(_advance(client, uuid, part, secrets))
    return changed


@sensitive_variables("secrets")
def _advance(client: ZStackClient, uuid: str, part: Part, secrets: dict[str, Any] | None) -> bool:
    """Send a planned job or look at a submitted one; True when the part changed."""
    if part.state == PartState.PLANNED:
        if part.secret and not secrets:
            return _look_for_unsent(client, part)
        return _send(client, uuid, part, secrets or {})
    if part.state == PartState.SUBMITTED:
        return _poll(client, part, secrets)
    return False


@sensitive_variables("secrets")
def _send(client: ZStackClient, uuid: str, part: Part, secrets: dict[str, Any]) -> bool:
    try:
        ticket = _submit(client, uuid, part, secrets)
    except OutcomeUnknown:  # sent, answer lost: the job may exist; looking for it tells
        part.state, part.poll = PartState.SUBMITTED, None
        return True
    except ZStackUnavailable as error:  # never sent (refused, unreachable): nothing happened
        return _ended(part, PartState.FAILED, error.code, zstack_text(error))
    except ZStackError as error:  # ZStack refused the request itself (400 …)
        return _ended(part, PartState.FAILED, error.code, zstack_text(error))
    part.state, part.poll = PartState.SUBMITTED, ticket.poll_path
    if ticket.poll_path is None:  # answered at once
        part.result = _kept_result(part, ticket.result)
        return _ended(part, PartState.SUCCEEDED)
    return True


@sensitive_variables("secrets")
def _submit(client: ZStackClient, uuid: str, part: Part, secrets: dict[str, Any]) -> JobTicket:
    args, job = part.args, part.job
    if part.kind == "update":
        return client.submit_update(
            uuid, job_uuid=job, password=secrets.get("password") if part.secret else None, **args
        )
    if part.kind == "tag-add":
        return client.submit_create_tag(
            uuid, args["tag"], user=args["field"] == "userTags", resource_type=args["resource_type"], job_uuid=job
        )
    if part.kind == "tag-remove":
        return client.submit_delete_tag(args["tag_uuid"], job_uuid=job)
    if part.kind == "reconnect":
        return client.submit_reconnect(uuid, job_uuid=job)
    if part.kind in ("enable", "disable"):
        return client.submit_change_state(uuid, part.kind, job_uuid=job)
    if part.kind == "reclaim":
        return client.submit_reclaim_space(uuid, job_uuid=job)
    raise ValueError(f"unknown part kind {part.kind!r}")


def _look_for_unsent(client: ZStackClient, part: Part) -> bool:
    """A secret part still planned, followed without its secret: the request that held the password
    stopped before it recorded the send. The job tells whether it was sent: unknown means never."""
    try:
        client.poll_job(_ticket(part))
    except JobLost:
        return _ended(part, PartState.FAILED, NOT_SENT)
    except ZStackError:
        return False  # no answer now: look again
    part.state = PartState.SUBMITTED
    return True


@sensitive_variables("secrets")
def _poll(client: ZStackClient, part: Part, secrets: dict[str, Any] | None) -> bool:
    try:
        status = client.poll_job(_ticket(part), _secret_values(part, secrets))
    except JobLost as error:
        return _ended(part, PartState.UNKNOWN, error.code, _kept_text(part, secrets, error))
    except ZStackError:
        return False  # the answer was lost, not the job: look again
    if not status.done:
        return False
    if status.error is None:
        part.result = _kept_result(part, status.body)
        return _ended(part, PartState.SUCCEEDED)
    failure = status.error
    can_resend = not part.secret or bool(secrets)
    if getattr(failure, "code", "") == SESSION_INVALID and not part.resubmitted and can_resend:
        # An async API reports an invalid session only through its job: log in again and send once
        # more, under a fresh job uuid (ZStack refuses a used one).
        client.renew_session()
        part.job, part.state, part.poll, part.resubmitted = new_job_uuid(), PartState.PLANNED, None, True
        return True
    return _ended(part, PartState.FAILED, getattr(failure, "code", ""), _kept_text(part, secrets, failure))


@sensitive_variables("secrets")
def _kept_text(part: Part, secrets: dict[str, Any] | None, error: BaseException) -> str:
    """What a part keeps of its job's error text. ``poll_job`` scrubs the secrets it is given; a part sent with
    the SSH password but followed by a process that never had it (the worker, once a write outlasted the
    request's CONSOLE_WRITE_WAIT) can't scrub an error that echoes it, and keeping the password anywhere to make
    that possible is what we never do. So such a part keeps no ZStack text: its code and job uuid stay, and
    the marker ZSTACK_TEXT_WITHHELD is worded when shown (audit.messages.describe) in the reader's language.
    Parts without a secret, and a follower that holds it, keep ZStack's (scrubbed) words."""
    text = zstack_text(error)
    if text and part.secret and not secrets:
        return audit_messages.ZSTACK_TEXT_WITHHELD
    return text


@sensitive_variables("secrets")
def _secret_values(part: Part, secrets: dict[str, Any] | None) -> tuple[str, ...]:
    """What the job was sent with that its error may echo (the SSH password), while this follower has it."""
    return tuple(str(value) for value in (secrets or {}).values() if value) if part.secret else ()


def _kept_result(part: Part, body: dict[str, Any] | None) -> dict[str, Any]:
    """What of a succeeded job's answer the card and the audit outcome need: a reclaim's freed bytes
    (docs/zstack-protocol.md §4.8). Nothing for the other kinds: the card re-reads the storage."""
    if part.kind == "reclaim":
        parsed = ReclaimResult.from_job_body(body)
        return {} if parsed is None else {"freed_bytes": parsed.freed_bytes}
    return {}


def result_changes(part: Part) -> list[dict[str, Any]]:
    """The outcome row's record of a job's result: a reclaim's freed bytes, so auditors see them."""
    if "freed_bytes" in part.result:
        return [{"field": "freedSpaceInBytes", "before": None, "after": part.result["freed_bytes"]}]
    return []


def _ticket(part: Part) -> JobTicket:
    return JobTicket(job_uuid=part.job, poll_path=part.poll or f"/api-jobs/{part.job}")


def zstack_text(error: BaseException) -> str:
    """What a part keeps of an error: ZStack's own words as sent, or nothing. Our sentence for its code is
    written when shown (audit.messages.describe), in the reader's language, never stored in the language of
    whoever (or whichever worker) followed the job."""
    if isinstance(error, ZStackError):
        return error.zstack_words()
    return str(error)


def _ended(part: Part, state: str, code: str = "", message: str = "") -> bool:
    part.state, part.error_code, part.error_message = state, code or "", (message or "")[:2000]
    return True


def _give_up(parts: list[Part]) -> bool:
    """At the deadline, what has not ended is recorded as unknown: ZStack may still finish it."""
    late = [part for part in parts if not part.ended]
    for part in late:
        _ended(
            part,
            PartState.UNKNOWN,
            audit_messages.DEADLINE_RUNNING if part.state == PartState.SUBMITTED else audit_messages.DEADLINE_UNSENT,
        )
    return bool(late)


# --- the one outcome -----------------------------------------------------------------------------


def outcome_of(parts: list[Part]) -> Outcome:
    states = {part.state for part in parts}
    if states == {PartState.SUCCEEDED}:
        return Outcome.SUCCEEDED
    if PartState.SUCCEEDED in states:
        return Outcome.PARTIAL
    return Outcome.TIMED_OUT if PartState.UNKNOWN in states else Outcome.FAILED


def _finish(submission: Submission, parts: list[Part]) -> Submission:
    outcome = outcome_of(parts)
    problem = next((part for part in parts if part.state != PartState.SUCCEEDED), None)
    changes = [
        change_from_json(
            {
                **change,
                "job": part.job,
                "result": part.state,
                "error_code": part.error_code,
                "error": part.error_message,
            }
        )
        for part in parts
        for change in [*part.changes, *result_changes(part)]
    ]
    try:
        with transaction.atomic():
            finished = Submission.objects.filter(pk=submission.pk, status=Submission.Status.RUNNING).update(
                status=Submission.Status.DONE,
                finished_at=timezone.now(),
                outcome=outcome.value,
                parts=[part.to_json() for part in parts],
            )
            if finished:
                sequence = submission.attempt_sequence
                attempt = None if sequence is None else AuditEvent.objects.filter(sequence=sequence).first()
                audit.record(
                    actor=actor_from_json(submission.actor),
                    action=Action(submission.action),
                    storage_uuid=submission.storage_uuid,
                    storage_name=submission.storage_name,
                    # the attempt's id: a job resent after a session expiry has a new uuid
                    outcome=outcome,
                    changes=changes,
                    correlation_id=None if attempt else parts[0].job,
                    attempt=attempt,
                    error_code=problem.error_code if problem else None,
                    error_message=problem.error_message if problem else None,
                )
    except audit.AuditUnavailable:
        # The submission stays running: the next follower (the worker's sweep) records it.
        logger.exception("Could not record the outcome of submission %s; it will be retried", submission.pk)
    return Submission.objects.get(pk=submission.pk)
