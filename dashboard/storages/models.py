"""Submissions: one row per submitted edit form or action button, reserved by its one-time token.

The row is what makes a write happen exactly once and always end: the first POST with a token creates
it (the token column is unique, so a double click, a replay or another tab finds the row instead of
writing again); it holds the ZStack jobs the write started, each with its X-Job-UUID generated before
anything was sent, so any process (the web request, a worker, a worker restarted after a crash) can
follow them to the end and record the outcome once. No secret is ever stored here: the SSH password
travels only in the web request that submits the update.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class Submission(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running"
        DONE = "done"

    token = models.CharField(max_length=64, unique=True)  # the nonce inside the signed form token
    action = models.CharField(max_length=64)  # audit Action value: storage.update, storage.reconnect, …
    storage_uuid = models.CharField(max_length=64)
    storage_name = models.CharField(max_length=255, blank=True)
    actor = models.JSONField(default=dict)  # who asked: the Actor the outcome row is recorded for
    created_at = models.DateTimeField(default=timezone.now)
    deadline = models.DateTimeField(null=True, blank=True)  # jobs still running then: outcome unknown
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    attempt_sequence = models.BigIntegerField(null=True, blank=True)  # the audit attempt row
    changes = models.JSONField(default=list)  # the planned change, as the attempt row recorded it
    parts = models.JSONField(default=list)  # one entry per ZStack job: submissions.Part.to_json()
    # Whoever follows the jobs holds the lease and renews it; an expired lease means its holder died
    # (a killed worker, a web worker restarted mid-wait) and the worker's sweep hands the row on.
    lease_until = models.DateTimeField(null=True, blank=True)
    lease_owner = models.CharField(max_length=64, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, blank=True)  # audit Outcome value, once done

    class Meta:
        indexes = [
            models.Index(fields=["storage_uuid", "status"], name="submission_storage_status"),
            models.Index(fields=["status", "lease_until"], name="submission_status_lease"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.storage_uuid} ({self.status})"

    @property
    def running(self) -> bool:
        return self.status == self.Status.RUNNING
