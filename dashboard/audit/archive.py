"""Retention: move events older than a cut-off to a JSON-lines file and prune them behind a checkpoint.

Only a prefix of the chain is pruned (every event up to the last one older than the cut-off), so the chain
that stays is contiguous. The checkpoint (last pruned sequence and hash) is written in the same transaction
as the DELETE; the DELETE trigger lets an event go only when a checkpoint covers it, so pruning needs no
switch that could be left on, and nothing can delete an event the chain has not handed to a checkpoint.
Each line of the file is the event's canonical content plus its ``hash``: the file verifies on its own
(``verify_audit --archive FILE``) and its last hash is the checkpoint's.
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

from . import chain
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
        last = prefix.order_by("-sequence").first()
        if last is None:
            return ArchiveResult(0, None, None)
        count, digest = _write_lines(prefix.filter(sequence__lte=last.sequence), output)
        AuditCheckpoint(sequence=last.sequence, hash=last.hash, created_at=timezone.now(), archived_count=count,
                        archive_name=output.name, archive_sha256=digest).save(append=APPEND_TOKEN)  # fmt: skip
        with connection.cursor() as cursor:
            # Raw SQL: the model refuses deletes; the trigger accepts these because the checkpoint covers them.
            cursor.execute(f"DELETE FROM {AuditEvent._meta.db_table} WHERE sequence <= %s", [last.sequence])
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
    content["hash"] = event.hash
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _check_start(first: dict) -> None:
    earlier = AuditCheckpoint.objects.filter(sequence=first["sequence"] - 1).first()
    if earlier is None or earlier.hash != first["prev_hash"]:
        raise ArchiveError(f"its first event #{first['sequence']} does not follow an earlier checkpoint")


def verify_file(path: str | Path) -> tuple[int, int]:
    """Check an archive's own chain and that it ends at a checkpoint. Returns (events, last sequence)."""
    count, previous = 0, None
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for number, raw in enumerate(file, start=1):
            digest.update(raw)
            content = json.loads(raw)
            stored = content.pop("hash", None)
            computed = hashlib.sha256(
                json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")
            ).hexdigest()
            if computed != stored:
                raise ArchiveError(f"line {number} (event #{content.get('sequence')}) was altered")
            if previous is None and content["sequence"] > 1:
                _check_start(content)
            if previous is not None and (content["sequence"] != previous[0] + 1 or content["prev_hash"] != previous[1]):
                raise ArchiveError(f"line {number} (event #{content['sequence']}) does not follow event #{previous[0]}")
            previous = (content["sequence"], stored)
            count += 1
    if previous is None:
        raise ArchiveError("the file holds no events")
    checkpoint = AuditCheckpoint.objects.filter(sequence=previous[0]).first()
    if checkpoint is None or checkpoint.hash != previous[1]:
        raise ArchiveError(f"no checkpoint matches its last event #{previous[0]}")
    if checkpoint.archive_sha256 and checkpoint.archive_sha256 != digest.hexdigest():
        raise ArchiveError("the file's SHA-256 differs from the one its checkpoint recorded")
    return count, previous[0]
