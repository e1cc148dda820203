"""Refused writes can't flood the trail (issue 9): each actor gets a bounded number of refusal rows a minute.

A refusal (a role that may not write POSTing a write) is recorded before anything else happens, and used
to cost no upstream call at all. Unbounded, a viewer could append a permanent row per request by POSTing to
made-up storage ids. So, per actor and minute (a cache counter; without REDIS_URL each process keeps its own):

- the first ``UNCHECKED`` refusals are recorded as they come, with no upstream call (a person trying again);
- after that, up to ``settings.AUDIT_REFUSALS_PER_MINUTE`` in all, the storage is looked up first (one read
  each, so the reads are bounded too): a refusal on a real storage is still one row; one on a storage that
  does not exist is only counted, and answered 429;
- past the limit nothing is looked up or recorded one by one: the refusal that crosses it writes one
  THROTTLED row saying so, and every further one this minute is answered 429.

So a flood of made-up ids leaves at most ``UNCHECKED + 1`` rows per actor and minute, while refusals on real
storages stay one row each up to the limit.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.utils.translation import gettext as _

from dashboard.accounts.actor import Actor

from . import log as audit
from . import messages

logger = logging.getLogger(__name__)
UNCHECKED = 3
RETRY_AFTER_SECONDS = 60


def _minute() -> int:
    return int(time.time() // 60)


def _count(actor: Actor, minute: int) -> int:
    """This actor's refusals in this minute, this one included."""
    who = f"u{actor.user_id}" if actor.user_id is not None else f"n{actor.username}|{actor.ip or ''}"
    key = f"audit:refusals:{who}:{minute}"
    cache.add(key, 0, timeout=2 * RETRY_AFTER_SECONDS)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr: a new count
        cache.set(key, 1, timeout=2 * RETRY_AFTER_SECONDS)
        return 1


def record_refusal(
    *, actor: Actor, action: audit.Action, storage_uuid: str, storage_exists: Callable[[], bool]
) -> bool:
    """Record a refused write within the actor's bounds (module docstring). ``storage_exists`` looks the
    storage up (True when it can't tell). Returns False when the answer should be 429 instead of 403."""
    minute = _minute()
    count, limit = _count(actor, minute), settings.AUDIT_REFUSALS_PER_MINUTE
    row = dict(actor=actor, action=action, storage_uuid=storage_uuid, storage_name="", changes=[])
    if count > limit:
        if count == limit + 1:
            logger.warning("refused writes throttled for %s: more than %d this minute", actor.username, limit)
            _record(
                **row,
                outcome=audit.Outcome.THROTTLED,
                # A code and its parameters, worded when shown (audit.messages): never in the actor's language.
                error_code=messages.THROTTLED,
                error_message=messages.params_json(
                    limit=limit, minute=time.strftime("%Y-%m-%dT%H:%M:00+00:00", time.gmtime(minute * 60))
                ),
            )
        return False
    if count <= UNCHECKED or storage_exists():
        _record(**row, outcome=audit.Outcome.REFUSED, error_code=messages.PERMISSION_DENIED)
        return True
    return False  # a storage that does not exist: counted above, no row


def _record(**kwargs) -> None:
    # The request is refused either way: a failing audit store must not turn that into an error page.
    try:
        audit.record(**kwargs)
    except audit.AuditUnavailable:
        logger.exception("Could not record the audit event %s", kwargs.get("outcome"))


def too_many_refusals() -> HttpResponse:
    response = HttpResponse(
        _("Too many refused requests: wait a minute before trying again."),
        status=429,
        content_type="text/plain; charset=utf-8",
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
