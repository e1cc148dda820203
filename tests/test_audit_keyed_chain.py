"""The keyed chain and the anchored head (issue 9): what someone with database access and the code, but without
the audit key, can no longer do unseen. Tampering drops the triggers inside the test's transaction, as in
test_audit_integrity.py (the rollback restores them).
"""

import hashlib
import json
import socket
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from dashboard.audit import chain, head, keys, triggers
from dashboard.audit.models import AuditEvent
from tests.test_audit_integrity import add_events, add_events_at, raw, verify_audit_fails

pytestmark = pytest.mark.django_db

OTHER_KEY = "a-second-console-started-with-another-key-0123456789"


def rewrite(event_id: int, **fields) -> AuditEvent:
    """Change an event's stored fields and give it the hash its new content has (no key needed for that)."""
    event = AuditEvent.objects.get(pk=event_id)
    for name, value in fields.items():
        setattr(event, name, value)
    event.hash = chain.compute_hash(event)
    columns = {**fields, "hash": event.hash}
    if "attempt_id" in columns:
        columns["attempt_sequence"] = columns.pop("attempt_id")
    assignments = ", ".join(f"{name} = %s" for name in columns)
    raw(f"UPDATE audit_auditevent SET {assignments} WHERE id = %s", [*columns.values(), event_id])
    return event


def relink_from(sequence: int) -> None:
    """Re-hash every event after ``sequence`` so each links to its rewritten predecessor: a consistent chain."""
    previous = AuditEvent.objects.get(sequence=sequence)
    for event in AuditEvent.objects.filter(sequence__gt=sequence).order_by("sequence"):
        previous = rewrite(event.pk, prev_hash=previous.hash)


# --- seals ---------------------------------------------------------------------------------------------------------


def test_every_event_is_sealed_under_the_audit_key_not_the_secret_key(settings):
    (event,) = add_events(1)

    assert event.key_id == keys.key_id_of(settings.AUDIT_SIGNING_KEY) != keys.key_id_of(settings.SECRET_KEY)
    assert keys.current().verifies(chain.EVENT_SEAL, event.hash, event.seal)
    assert settings.AUDIT_SIGNING_KEY not in json.dumps(list(AuditEvent.objects.values()), default=str)


def test_an_event_appended_by_code_holding_another_key_is_reported(settings):
    add_events(3)
    real_key = settings.AUDIT_SIGNING_KEY
    settings.AUDIT_SIGNING_KEY = OTHER_KEY  # a second console against the same database, with its own key
    (forged,) = add_events(1)  # a plain, correctly linked INSERT: the database accepts it
    settings.AUDIT_SIGNING_KEY = real_key
    add_events(1)

    verify_audit_fails(rf"event #4 \(id {forged.pk}\) is sealed with an unknown key .* without the audit key")


def test_a_copied_key_id_does_not_make_a_foreign_seal_pass(settings):
    add_events(2)
    real_key_id = keys.current().key_id
    real_key = settings.AUDIT_SIGNING_KEY
    settings.AUDIT_SIGNING_KEY = OTHER_KEY
    (forged,) = add_events(1)
    settings.AUDIT_SIGNING_KEY = real_key
    triggers.remove(connection)
    raw("UPDATE audit_auditevent SET key_id = %s WHERE id = %s", [real_key_id, forged.pk])

    verify_audit_fails(rf"event #3 \(id {forged.pk}\) is not sealed with the audit key")


def test_a_rewrite_with_every_successor_rehashed_is_reported_at_the_rewritten_event():
    events = add_events(6)
    triggers.remove(connection)
    rewrite(events[2].pk, actor_username="mallory", storage_name="innocent")
    relink_from(events[2].sequence)

    assert all(e.hash == chain.compute_hash(e) for e in AuditEvent.objects.all())  # the SHA-256 chain is whole
    verify_audit_fails(rf"event #3 \(id {events[2].pk}\) is not sealed with the audit key")


def test_a_swap_of_two_events_rehashed_into_a_consistent_chain_is_reported():
    events = add_events(5)
    a, b = events[1], events[2]
    triggers.remove(connection)
    raw("UPDATE audit_auditevent SET sequence = 999999 WHERE id = %s", [a.pk])
    rewrite(b.pk, sequence=a.sequence, prev_hash=events[0].hash)
    rewrite(a.pk, sequence=b.sequence, prev_hash=AuditEvent.objects.get(pk=b.pk).hash)
    relink_from(b.sequence)

    verify_audit_fails(rf"event #2 \(id {b.pk}\) is not sealed with the audit key")


def test_a_removed_event_with_successors_renumbered_and_rehashed_is_reported():
    events = add_events(5)
    triggers.remove(connection)
    raw("DELETE FROM audit_auditevent WHERE id = %s", [events[1].pk])
    for event in events[2:]:
        raw("UPDATE audit_auditevent SET sequence = %s WHERE id = %s", [event.sequence - 1, event.pk])
    rewrite(events[2].pk, sequence=2, prev_hash=events[0].hash)
    relink_from(2)

    verify_audit_fails(rf"event #2 \(id {events[2].pk}\) is not sealed with the audit key")


def test_key_rotation_keeps_older_events_verifiable_while_the_old_key_is_a_fallback(settings, capsys):
    old = add_events(2)
    old_key = settings.AUDIT_SIGNING_KEY
    settings.AUDIT_SIGNING_KEY, settings.AUDIT_SIGNING_KEY_FALLBACKS = OTHER_KEY, [old_key]
    new = add_events(2)

    assert {e.key_id for e in old} != {e.key_id for e in new}
    call_command("verify_audit")
    assert "intact: 4 events" in capsys.readouterr().out

    settings.AUDIT_SIGNING_KEY_FALLBACKS = []
    verify_audit_fails(r"event #1 .* unknown key .* AUDIT_SIGNING_KEY_FALLBACKS")


# --- the anchored head ---------------------------------------------------------------------------------------------


def export_head(path) -> dict:
    call_command("export_audit_head", "--output", str(path))
    return json.loads(path.read_text().splitlines()[-1])


def test_verify_audit_prints_a_head_signed_with_the_audit_key(capsys):
    events = add_events(3)

    call_command("verify_audit")

    line = capsys.readouterr().out.split("Signed head: ", 1)[1].strip()
    signed = json.loads(line)
    assert (signed["sequence"], signed["hash"]) == (3, events[-1].hash)
    assert head.check_head(signed) is None


def test_a_cut_newest_end_is_reported_given_an_exported_head(tmp_path):
    add_events(5)
    exported = export_head(tmp_path / "heads.jsonl")
    triggers.remove(connection)
    raw("DELETE FROM audit_auditevent WHERE sequence > 3")

    call_command("verify_audit")  # the chain that is left is whole: only the anchor shows the cut
    with pytest.raises(CommandError, match=r"events #4..#5 are missing: the chain ends at #3") as caught:
        call_command("verify_audit", "--expect-head", str(tmp_path / "heads.jsonl"))
    assert caught.value.returncode == 1 and exported["sequence"] == 5


def test_a_cut_newest_end_regrown_with_new_events_is_reported(tmp_path):
    add_events(4)
    export_head(tmp_path / "heads.jsonl")
    triggers.remove(connection)
    raw("DELETE FROM audit_auditevent WHERE sequence > 2")
    triggers.install(connection)
    add_events(3)  # the head is #5 again, past the exported #4, but #3 and #4 are others

    with pytest.raises(CommandError, match=r"event #4 is not the head exported at"):
        call_command("verify_audit", "--expect-head", str(tmp_path / "heads.jsonl"))


def test_every_head_in_an_appended_file_is_checked_and_later_appends_pass(tmp_path, capsys):
    add_events(2)
    export_head(tmp_path / "heads.jsonl")
    add_events(2)
    export_head(tmp_path / "heads.jsonl")
    add_events(1)

    call_command("verify_audit", "--expect-head", str(tmp_path / "heads.jsonl"))

    assert (
        "Expected heads in" in capsys.readouterr().out and len((tmp_path / "heads.jsonl").read_text().splitlines()) == 2
    )


def test_an_exported_head_edited_without_the_key_is_reported(tmp_path):
    add_events(3)
    exported = export_head(tmp_path / "heads.jsonl")
    (tmp_path / "heads.jsonl").write_text(json.dumps({**exported, "sequence": 2}) + "\n")

    with pytest.raises(CommandError, match="not signed with this site's audit key"):
        call_command("verify_audit", "--expect-head", str(tmp_path / "heads.jsonl"))


def test_a_head_is_not_exported_from_a_broken_chain(tmp_path):
    events = add_events(3)
    triggers.remove(connection)
    raw("UPDATE audit_auditevent SET storage_name = 'x' WHERE id = %s", [events[1].pk])

    with pytest.raises(CommandError, match="head not exported: event #2"):
        call_command("export_audit_head", "--output", str(tmp_path / "heads.jsonl"))
    assert not (tmp_path / "heads.jsonl").exists()


def test_the_head_can_be_sent_to_syslog(tmp_path):
    add_events(2)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as receiver:
        receiver.bind(("127.0.0.1", 0))
        receiver.settimeout(10)
        port = receiver.getsockname()[1]
        call_command("export_audit_head", "--syslog", "--syslog-address", f"127.0.0.1:{port}")
        message = receiver.recv(4096).decode()

    (tmp_path / "syslog").write_text(f"Dec  1 02:00:00 host {message}\n")  # as it lands in a log file
    assert "audit-head: " in message
    assert [h["sequence"] for h in head.read_heads(str(tmp_path / "syslog"))] == [2]
    call_command("verify_audit", "--expect-head", str(tmp_path / "syslog"))


def test_an_archived_event_rewritten_and_rehashed_without_the_key_is_reported(tmp_path):
    add_events_at(timezone.now() - timedelta(days=10), 2)
    output = tmp_path / "a.jsonl"
    call_command("archive_audit", "--older-than-days", "1", "--output", str(output))
    first, second = (json.loads(line) for line in output.read_text().splitlines())
    assert first["seal"] and first["key_id"] == keys.current().key_id  # archived events keep their seals
    content = {k: v for k, v in first.items() if k not in ("hash", "key_id", "seal")}
    content["storage_name"] = "innocent"
    first["hash"] = hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    first.update(content)
    output.write_text("\n".join(json.dumps(line) for line in (first, second)) + "\n")

    with pytest.raises(CommandError, match=r"line 1 \(event #1\) is not sealed with the audit key"):
        call_command("verify_audit", "--archive", str(output))
