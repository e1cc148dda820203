"""Background work (Django's Tasks framework, database backend): following submissions to their end.

A write hands its submission to the worker when its jobs outlast the web request's wait; the worker's
sweep (management command run_worker) hands on any submission whose follower stopped: a worker killed
mid-job, a web worker restarted while it waited. The submission row, not the task, is the record of
what remains to do, so a lost task costs nothing but the time until the next sweep.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q
from django.tasks import task
from django.utils import timezone

from . import follow as following
from .models import Submission


@task
def follow_submission(submission_id: int) -> str:
    return following.follow(submission_id, seconds=None).status


def hand_to_worker(submission: Submission) -> None:
    """Mark the submission queued (a sweep will not queue it again while the mark is fresh) and enqueue."""
    now = timezone.now()
    # Only a submission nobody follows: marking a live follower's row queued would take its lease away.
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now) | Q(lease_owner="") | Q(lease_owner=following.QUEUED)
    Submission.objects.filter(free, pk=submission.pk, status=Submission.Status.RUNNING).update(
        lease_owner=following.QUEUED, lease_until=now + following.LEASE
    )
    follow_submission.enqueue(submission.pk)


def resume_stalled() -> int:
    """Queue every unfinished submission nobody follows (its lease ran out); returns how many."""
    now = timezone.now()
    stalled = Submission.objects.filter(
        Q(lease_until__isnull=True) | Q(lease_until__lt=now),
        status=Submission.Status.RUNNING,
        attempt_sequence__isnull=False,
    )
    count = 0
    for submission in stalled.only("pk")[:500]:
        hand_to_worker(submission)
        count += 1
    return count


def abandoned_reservations(age: timedelta = timedelta(hours=1)) -> int:
    """Reservations whose request died before planning any job (nothing was sent): free their tokens."""
    cutoff = timezone.now() - age
    deleted, _ = Submission.objects.filter(attempt_sequence__isnull=True, created_at__lt=cutoff).delete()
    return deleted
