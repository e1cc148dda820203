"""Reclaim space through the write path (services.storage_reclaim_space): one token, one job, one attempt and
one outcome row recording the bytes freed; through the real client to the simulator over real HTTP."""

from __future__ import annotations

import pytest

from dashboard.accounts.actor import Actor
from dashboard.accounts.roles import Role
from dashboard.audit.models import AuditEvent
from dashboard.storages import follow, services, wording
from dashboard.storages.models import Submission
from tests.storage_helpers import body_of, header, storage_named, zstack_requests

pytestmark = pytest.mark.django_db
ACTOR = Actor(user_id=7, username="alice", role=Role.ADMIN, ip="127.0.0.1", user_agent="pytest")
GIB = 2**30
FREED = 1_288_490_189  # 1.2 GiB (binary_size cuts, it does not round: 1.1999… GiB would read "1.1 GiB")


def events(uuid: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(storage_uuid=uuid).order_by("sequence"))


def reclaims(sim) -> list[dict]:
    return [r for r in zstack_requests(sim, "PUT") if body_of(r) == {"reclaimSpaceFromImageStore": {}}]


def test_a_reclaim_is_one_job_whose_freed_bytes_reach_the_card_and_the_audit_outcome(zstack_settings, uuid):
    zstack_settings.set_reclaimable(uuid, FREED)
    before = storage_named(zstack_settings, "bs-prod-bj-01")["availableCapacity"]
    zstack_settings.clear_requests()
    progress = services.storage_reclaim_space(actor=ACTOR, uuid=uuid, nonce="n-reclaim")
    [put] = reclaims(zstack_settings)
    assert put["path"] == f"/zstack/v1/backup-storage/image-store/{uuid}/actions"
    assert [(p.kind, p.state, p.job) for p in progress.parts] == [("reclaim", "succeeded", header(put, "X-Job-UUID"))]
    assert progress.freed_bytes == FREED
    assert wording.write_notice(progress) == "Freed 1.2 GiB."
    assert storage_named(zstack_settings, "bs-prod-bj-01")["availableCapacity"] == before + FREED
    attempt, outcome = events(uuid)
    assert (attempt.action, attempt.outcome, attempt.changes) == ("storage.reclaim", "attempted", [])
    assert attempt.correlation_id == header(put, "X-Job-UUID")
    assert (outcome.action, outcome.outcome, outcome.attempt_id) == ("storage.reclaim", "succeeded", attempt.sequence)
    assert outcome.changes == [
        {
            "field": "freedSpaceInBytes",
            "before": None,
            "after": FREED,
            "job": header(put, "X-Job-UUID"),
            "result": "succeeded",
        }
    ]


def test_a_double_submit_sends_exactly_one_job_and_replays_the_first_result(zstack_settings, uuid):
    zstack_settings.clear_requests()
    first = services.storage_reclaim_space(actor=ACTOR, uuid=uuid, nonce="n-twice")
    again = services.storage_reclaim_space(actor=ACTOR, uuid=uuid, nonce="n-twice")
    assert len(reclaims(zstack_settings)) == 1
    assert again.replayed and again.submission.pk == first.submission.pk
    assert again.freed_bytes == first.freed_bytes and first.freed_bytes > 0
    assert [e.outcome for e in events(uuid)] == ["attempted", "succeeded"]


def test_a_second_reclaim_frees_nothing_and_says_so(zstack_settings, uuid):
    services.storage_reclaim_space(actor=ACTOR, uuid=uuid)
    second = services.storage_reclaim_space(actor=ACTOR, uuid=uuid)
    assert second.freed_bytes == 0
    assert wording.write_notice(second) == "Freed 0 B."


def test_a_failed_reclaim_is_one_failed_outcome_with_zstacks_error_and_no_freed_bytes(zstack_settings):
    uuid = storage_named(zstack_settings, "上海备份存储")["uuid"]  # Disconnected: the agent cannot be reached
    progress = services.storage_reclaim_space(actor=ACTOR, uuid=uuid)
    [part] = progress.failed_parts
    assert (part.kind, part.state, part.error_code) == ("reclaim", "failed", "SYS.1006")
    assert progress.freed_bytes is None and wording.write_notice(progress) is None
    attempt, outcome = events(uuid)
    assert (outcome.outcome, outcome.error_code, outcome.changes) == ("failed", "SYS.1006", [])


def test_a_reclaim_whose_answer_lacks_the_gc_result_succeeds_without_an_amount(zstack_settings, uuid):
    zstack_settings.set_faults(
        fail_next=[{"status": 200, "raw_body": "{}", "match": "GET /zstack/v1/api-jobs/"}]  # §9: envelope lost
    )
    progress = services.storage_reclaim_space(actor=ACTOR, uuid=uuid)
    assert [p.state for p in progress.parts] == ["succeeded"]
    assert progress.freed_bytes is None and wording.write_notice(progress) == "Space reclaimed."
    assert events(uuid)[-1].changes == []


@pytest.mark.slow  # a job that outlasts the request's wait, then the worker
def test_a_slow_reclaim_is_finished_by_the_worker_which_records_the_freed_bytes_once(zstack_settings, uuid, settings):
    settings.CONSOLE_WRITE_WAIT = 0.2
    zstack_settings.set_faults(job_seconds=1.0)
    freed = zstack_settings.reclaimable(uuid)
    progress = services.storage_reclaim_space(actor=ACTOR, uuid=uuid, nonce="n-slow")
    assert progress.running and [e.outcome for e in events(uuid)] == ["attempted"]
    done = follow.follow(progress.submission.pk, seconds=None)  # acting as the worker
    assert (done.status, done.outcome) == (Submission.Status.DONE, "succeeded")
    assert services.WriteProgress(done).freed_bytes == freed
    follow.follow(progress.submission.pk, seconds=None)  # a second follower finds it done
    outcomes = [e for e in events(uuid) if e.outcome != "attempted"]
    assert len(outcomes) == 1 and outcomes[0].changes[0]["after"] == freed
    assert len(reclaims(zstack_settings)) == 1
