"""The audit trail's tables. Rows are appended by ``log.record`` (through ``chain.append``) and never changed.

Three layers keep them append-only: this module refuses save/delete/update from application code, database
triggers (``triggers.py``) refuse UPDATE, DELETE and out-of-sequence INSERT from anything else, and the keyed
hash chain (``chain.py``) makes whatever gets past both visible to ``manage.py verify_audit``.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

# Handed to save() by chain.append only: a guard against accidental writes, not against malice (the
# triggers and the hash chain are the defence there).
APPEND_TOKEN = object()


class AppendOnlyError(Exception):
    """Application code tried to change or remove an audit row."""


class _AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError(f"{self.model.__name__} rows are append-only: they cannot be updated.")

    def delete(self):
        raise AppendOnlyError(f"{self.model.__name__} rows are append-only: they cannot be deleted.")

    def bulk_create(self, *args, **kwargs):
        raise AppendOnlyError(f"{self.model.__name__} rows are appended one by one through the audit chain.")

    def bulk_update(self, *args, **kwargs):
        raise AppendOnlyError(f"{self.model.__name__} rows are append-only: they cannot be updated.")


class _AppendOnlyModel(models.Model):
    objects = _AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, append: object = None, **kwargs):
        if append is not APPEND_TOKEN or not self._state.adding:
            raise AppendOnlyError(f"{type(self).__name__} rows are written only by dashboard.audit.log.record.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"{type(self).__name__} rows are append-only: they cannot be deleted.")


class AuditEvent(_AppendOnlyModel):
    """One write attempt or its outcome. Snapshots (username, role, storage name) keep the row readable
    after the user or the storage is renamed or gone."""

    sequence = models.PositiveBigIntegerField(_("sequence"), unique=True)
    timestamp = models.DateTimeField(_("time (UTC)"), db_index=True)

    actor_user_id = models.BigIntegerField(_("user id"), null=True, blank=True)  # a snapshot, not a FK
    actor_username = models.CharField(_("actor"), max_length=150, db_index=True)
    actor_role = models.CharField(_("role"), max_length=32, blank=True)
    ip = models.CharField(_("client IP"), max_length=45, blank=True)  # text, so the hash sees what was stored
    user_agent = models.CharField(_("user agent"), max_length=512, blank=True)

    action = models.CharField(_("action"), max_length=64, db_index=True)
    storage_uuid = models.CharField(_("storage UUID"), max_length=64, db_index=True)
    storage_name = models.CharField(_("storage name"), max_length=255, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, db_index=True)

    # [{"field": "name", "before": "a", "after": "b"}, {"field": "password", "changed": true},
    #  {"field": "userTags", "added": [...], "removed": [...]}]
    changes = models.JSONField(_("changes"), default=list, blank=True)
    # ",name,password," — lets the log filter by changed field with one portable LIKE on SQLite and PostgreSQL.
    changed_fields = models.CharField(_("changed fields"), max_length=512, blank=True)

    error_code = models.CharField(_("error code"), max_length=64, blank=True)
    error_message = models.TextField(_("error message"), blank=True)
    correlation_id = models.CharField(_("correlation id"), max_length=64, blank=True, db_index=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), null=True, blank=True)
    # An outcome row points at its attempt by sequence. No database constraint: archiving may prune an
    # attempt while its outcome (newer) stays, and the trail must never block on a dangling reference.
    attempt = models.ForeignKey(
        "self",
        to_field="sequence",
        db_column="attempt_sequence",
        db_constraint=False,
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="outcomes",
        verbose_name=_("attempt"),
    )

    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64, unique=True)
    # HMAC-SHA-256 of the hash under the audit key with this id (chain.seal, keys.py): authorship, not only order.
    key_id = models.CharField(_("key id"), max_length=16)
    seal = models.CharField(_("seal"), max_length=64)

    class Meta:
        ordering = ["-sequence"]
        default_permissions = ()  # reading is accounts.view_audit; nobody may add, change or delete
        indexes = [models.Index(fields=["storage_uuid", "-sequence"], name="audit_storage_recent")]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action} {self.storage_uuid} {self.outcome}"

    @property
    def attempt_sequence(self) -> int | None:
        return self.attempt_id

    # For templates. labels.py imports log.py, which imports this module: hence the imports inside.
    @property
    def action_label(self):
        from .labels import ACTION_LABELS, label

        return label(ACTION_LABELS, self.action)

    @property
    def outcome_label(self):
        from .labels import OUTCOME_LABELS, label

        return label(OUTCOME_LABELS, self.outcome)

    @property
    def outcome_tone(self) -> str:
        from .labels import OUTCOME_TONES

        return OUTCOME_TONES.get(self.outcome, "muted")

    @property
    def role_label(self):
        from dashboard.accounts.roles import ROLE_LABELS

        from .labels import label

        return label(ROLE_LABELS, self.actor_role)

    @property
    def diff(self):
        from .labels import diff_rows

        return diff_rows(self.changes)


class AuditCheckpoint(_AppendOnlyModel):
    """Where archiving cut the chain: events ``first_sequence``..``sequence`` went to one archive file.

    Checkpoints are evidence, so each one says exactly what it covers (first and last sequence, count, the
    last archived hash, the file's SHA-256) and is signed (``signature``, chain.sign_checkpoint): the first
    remaining event's ``prev_hash`` must equal the last checkpoint's ``hash``, the checkpoints must follow
    each other from #1 without gap or overlap, and a checkpoint nobody signed with the audit key is forged.
    The database accepts a checkpoint only when it covers exactly the oldest events (triggers.py), and lets
    an event be deleted only when a checkpoint covers it."""

    first_sequence = models.PositiveBigIntegerField(_("first archived sequence"))
    sequence = models.PositiveBigIntegerField(_("last archived sequence"), unique=True)
    hash = models.CharField(_("last archived hash"), max_length=64)
    created_at = models.DateTimeField(_("created"))
    archived_count = models.PositiveIntegerField(_("events archived"))
    archive_name = models.CharField(_("archive file"), max_length=512, blank=True)
    archive_sha256 = models.CharField(_("archive file SHA-256"), max_length=64, blank=True)
    # HMAC-SHA-256 of the fields above under the audit key with this id (chain.sign_checkpoint).
    signature = models.CharField(_("signature"), max_length=64)
    key_id = models.CharField(_("key id"), max_length=16)

    class Meta:
        ordering = ["-sequence"]
        default_permissions = ()
        verbose_name = _("audit checkpoint")

    def __str__(self) -> str:
        return f"checkpoint #{self.sequence} (events #{self.first_sequence}..#{self.sequence})"
