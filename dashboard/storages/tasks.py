"""Background work (Django's Tasks framework, database backend): following submissions to their end.

A write hands its submission to the worker when its jobs outlast the web request's wait; the worker's
sweep (management command run_worker) hands on any submission whose follower stopped: a worker killed
mid-job, a web worker restarted while it waited. The submission row, not the task, is the record of
what remains to do, so a lost task costs nothing but the time until the next sweep.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q
from django.tasks import TaskResultStatus, task
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from . import follow as following
from .models import Submission

KEEP_TASK_RESULTS = timedelta(days=1)


@task
def follow_submission(submission_id: int) -> str:
    return following.follow(submission_id, seconds=None).status


def hand_to_worker(submission: Submission) -> None:
    """Mark the submission queued and enqueue: a sweep queues it again only once its task is no longer waiting."""
    now = timezone.now()
    # Only a submission nobody follows: marking a live follower's row queued would take its lease away.
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now) | Q(lease_owner="") | Q(lease_owner=following.QUEUED)
    Submission.objects.filter(free, pk=submission.pk, status=Submission.Status.RUNNING).update(
        lease_owner=following.QUEUED, lease_until=now + following.LEASE
    )
    follow_submission.enqueue(submission.pk)


def resume_stalled() -> int:
    """Queue every unfinished submission nobody follows (its lease ran out); returns how many.

    A submission whose task still waits in the queue is left alone: its queued mark runs out after LEASE
    while every worker is busy following other writes, and queueing it again at each sweep would only pile
    up tasks that find it done. A task a worker took and died with stays "running" in the task table; its
    submission's lease runs out, and it is queued again."""
    now = timezone.now()
    stalled = Submission.objects.filter(
        Q(lease_until__isnull=True) | Q(lease_until__lt=now),
        status=Submission.Status.RUNNING,
        attempt_sequence__isnull=False,
    ).exclude(pk__in=_waiting_in_queue())
    count = 0
    for submission in stalled.only("pk")[:500]:
        hand_to_worker(submission)
        count += 1
    return count


def _waiting_in_queue() -> set[int]:
    """The submissions whose follow task is queued and not yet taken by a worker."""
    queued = DBTaskResult.objects.filter(
        status=TaskResultStatus.READY, task_path=follow_submission.module_path
    ).values_list("args_kwargs", flat=True)
    return {args["args"][0] for args in queued if args.get("args")}


def prune_finished_tasks(age: timedelta = KEEP_TASK_RESULTS) -> int:
    """Task rows (django-tasks-db's results) of tasks that ended longer than ``age`` ago: the submission row,
    not the task, records what happened, so they serve only to look at recent work."""
    cutoff = timezone.now() - age
    deleted, _ = DBTaskResult.objects.finished().filter(finished_at__lt=cutoff).delete()
    return deleted


def abandoned_reservations(age: timedelta = timedelta(hours=1)) -> int:
    """Reservations whose request died before planning any job (nothing was sent): free their tokens."""
    cutoff = timezone.now() - age
    deleted, _ = Submission.objects.filter(attempt_sequence__isnull=True, created_at__lt=cutoff).delete()
    return deleted
