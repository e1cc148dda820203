"""Retention: move events older than a cut-off to a JSON-lines file and prune them behind a checkpoint.

Only a prefix of the chain is pruned (every event up to the last one older than the cut-off), so the chain
that stays is contiguous. The checkpoint (first and last pruned sequence, count, last hash, the file's
SHA-256, signed: see chain.py) is written in the same transaction as the DELETE; the triggers accept it
only because it covers exactly the oldest events, and the DELETE only because the checkpoint covers them,
so pruning needs no switch that could be left on. Each line of the file is the event's canonical content
plus its ``hash`` and seal: the file verifies on its own, and ``verify_audit --archive FILE`` checks it against its
checkpoint (same range, count, last hash and SHA-256; its first event links to the previous checkpoint).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone

from . import chain, keys
from .models import APPEND_TOKEN, AuditCheckpoint, AuditEvent


class ArchiveError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class ArchiveResult:
    archived: int
    last_sequence: int | None
    path: Path | None


def archive_older_than(cutoff: datetime, output: Path) -> ArchiveResult:
    """Write the chain's prefix older than ``cutoff`` to ``output`` (which must not exist) and prune it."""
    with transaction.atomic():
        chain.lock_chain()  # no append, and no other archive, between reading the prefix and pruning it
        verification = chain.verify()
        if not verification.ok:
            raise ArchiveError(f"the chain does not verify, nothing archived: {verification.problem}")
        kept = AuditEvent.objects.filter(timestamp__gte=cutoff).order_by("sequence")
        first_kept = kept.values_list("sequence", flat=True).first()
        prefix = AuditEvent.objects.order_by("sequence")
        if first_kept is not None:
            prefix = prefix.filter(sequence__lt=first_kept)
        first_sequence = prefix.values_list("sequence", flat=True).first()
        last = prefix.order_by("-sequence").first()
        if first_sequence is None or last is None:  # an empty prefix: both None
            return ArchiveResult(0, None, None)
        count, digest = _write_lines(prefix.filter(sequence__lte=last.sequence), output)
        checkpoint = AuditCheckpoint(
            first_sequence=first_sequence,
            sequence=last.sequence,
            hash=last.hash,
            created_at=timezone.now(),
            archived_count=count,
            archive_name=output.name,
            archive_sha256=digest,
        )
        chain.sign_checkpoint(checkpoint)
        checkpoint.save(append=APPEND_TOKEN)
        with connection.cursor() as cursor:
            # Raw SQL: the model refuses deletes; the trigger accepts these because the checkpoint covers them.
            # The table name is the model's own, not input (hence the noqa); the value is a parameter.
            cursor.execute(f"DELETE FROM {AuditEvent._meta.db_table} WHERE sequence <= %s", [last.sequence])  # noqa: S608
            if cursor.rowcount != count:
                raise ArchiveError(f"expected to prune {count} events, the database pruned {cursor.rowcount}")
        return ArchiveResult(count, last.sequence, output)


def _write_lines(events, output: Path) -> tuple[int, str]:
    digest, count = hashlib.sha256(), 0
    with open(output, "xb") as file:  # "x": never overwrite an earlier archive
        for event in events.iterator(chunk_size=2000):
            line = (event_line(event) + "\n").encode("ascii")
            file.write(line)
            digest.update(line)
            count += 1
        file.flush()
        os.fsync(file.fileno())  # on disk before the rows it holds are deleted
    return count, digest.hexdigest()


def event_line(event: AuditEvent) -> str:
    content = chain.canonical_content(event)
    content.update(hash=event.hash, key_id=event.key_id, seal=event.seal)  # the file's events keep their seals
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def verify_file(path: str | Path) -> tuple[int, int]:
    """Check an archive's own chain and that it is exactly what its checkpoint claims, so its events chain
    into the checkpoints before and after it and on into the remaining events. Returns (events, last
    sequence). The checkpoint's own consistency and signature are ``chain.verify``'s to check."""
    count, first, previous = 0, None, None
    digest = hashlib.sha256()
    try:
        file = open(path, "rb")
    except OSError as exc:
        raise ArchiveError(f"cannot be read: {exc.strerror}") from exc
    with file:
        for number, raw in enumerate(file, start=1):
            digest.update(raw)
            try:
                content = json.loads(raw)
                stored = content.pop("hash")
                key_id, seal = content.pop("key_id", None), content.pop("seal", None)  # none in older archives
            except (ValueError, AttributeError, KeyError) as exc:
                raise ArchiveError(f"line {number} is not an archived event") from exc
            computed = hashlib.sha256(
                json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")
            ).hexdigest()
            if computed != stored:
                raise ArchiveError(f"line {number} (event #{content.get('sequence')}) was altered")
            key = keys.by_id(str(key_id)) if seal is not None else None
            if seal is not None and (key is None or not key.verifies(chain.EVENT_SEAL, stored, seal)):
                raise ArchiveError(f"line {number} (event #{content.get('sequence')}) is not sealed with the audit key")
            if not isinstance(content.get("sequence"), int) or not isinstance(content.get("prev_hash"), str):
                raise ArchiveError(f"line {number} is not an archived event")
            if previous is None:
                first = content
            elif content["sequence"] != previous[0] + 1 or content["prev_hash"] != previous[1]:
                raise ArchiveError(f"line {number} (event #{content['sequence']}) does not follow event #{previous[0]}")
            previous = (content["sequence"], stored)
            count += 1
    if previous is None or first is None:  # both are set by the first line
        raise ArchiveError("the file holds no events")
    checkpoint = AuditCheckpoint.objects.filter(sequence=previous[0]).first()
    if checkpoint is None or checkpoint.hash != previous[1]:
        raise ArchiveError(f"no checkpoint matches its last event #{previous[0]}")
    if (checkpoint.first_sequence, checkpoint.archived_count) != (first["sequence"], count):
        raise ArchiveError(
            f"it holds events #{first['sequence']}..#{previous[0]} ({count}), but {checkpoint} "
            f"claims #{checkpoint.first_sequence}..#{checkpoint.sequence} ({checkpoint.archived_count})"
        )
    earlier = AuditCheckpoint.objects.filter(sequence=first["sequence"] - 1).values_list("hash", flat=True).first()
    if first["prev_hash"] != (chain.GENESIS_HASH if first["sequence"] == 1 else earlier):
        raise ArchiveError(f"its first event #{first['sequence']} does not follow an earlier checkpoint")
    if checkpoint.archive_sha256 != digest.hexdigest():
        raise ArchiveError("the file's SHA-256 differs from the one its checkpoint recorded")
    return count, previous[0]
