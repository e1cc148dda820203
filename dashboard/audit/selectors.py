"""Reads of the audit trail: for the storage pages, the log page and the exports."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from .log import Outcome
from .models import AuditEvent


def last_change_for(storage_uuid: str) -> AuditEvent | None:
    """The latest successful change of this storage (``.actor_username``, ``.timestamp``), if any."""
    return AuditEvent.objects.filter(storage_uuid=storage_uuid, outcome=Outcome.SUCCEEDED).order_by("-sequence").first()


def recent_for(storage_uuid: str, limit: int = 10) -> list[AuditEvent]:
    """This storage's newest events. An attempt that has its outcome recorded is left out (the outcome row
    says it all); one without (in progress, or interrupted by a crash) stays, so it can be seen."""
    concluded_attempts = AuditEvent.objects.filter(storage_uuid=storage_uuid, attempt__isnull=False).values(
        "attempt_id"
    )
    events = AuditEvent.objects.filter(storage_uuid=storage_uuid).exclude(
        outcome=Outcome.ATTEMPTED, sequence__in=concluded_attempts
    )
    return list(events.order_by("-sequence")[:limit])


def events_matching(filters: dict) -> QuerySet[AuditEvent]:
    """Newest first, narrowed by the cleaned data of ``forms.AuditFilterForm`` (empty values ignored)."""
    events = AuditEvent.objects.order_by("-sequence")
    if filters.get("since"):
        events = events.filter(timestamp__gte=filters["since"])
    if filters.get("until"):
        events = events.filter(timestamp__lte=filters["until"])
    if filters.get("actor"):
        events = events.filter(actor_username__icontains=filters["actor"])
    if filters.get("storage"):
        term = filters["storage"]
        events = events.filter(Q(storage_uuid__iexact=term) | Q(storage_name__icontains=term))
    if filters.get("action"):
        events = events.filter(action=filters["action"])
    if filters.get("outcome"):
        events = events.filter(outcome=filters["outcome"])
    if filters.get("field"):
        events = events.filter(changed_fields__contains=f",{filters['field']},")
    return events
