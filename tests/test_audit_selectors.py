"""What the storage pages read from the audit trail: the last change and the recent history."""

import pytest
from django.template.loader import render_to_string

from dashboard.accounts.actor import Actor
from dashboard.accounts.roles import Role
from dashboard.audit import selectors
from dashboard.audit.log import Action, FieldChange, Outcome, record

pytestmark = pytest.mark.django_db

MINE, OTHER = "11111111111111111111111111111111", "22222222222222222222222222222222"


def act(who, outcome, uuid=MINE, attempt=None, changes=()):
    return record(
        actor=Actor(user_id=1, username=who, role=Role.ADMIN, ip=None, user_agent=""),
        action=Action.UPDATE,
        storage_uuid=uuid,
        storage_name="bs",
        outcome=outcome,
        attempt=attempt,
        changes=changes,
    )


def test_last_change_is_the_latest_success_for_that_storage():
    act("alice", Outcome.SUCCEEDED)
    latest = act("bob", Outcome.SUCCEEDED)
    act("carol", Outcome.FAILED)
    act("dave", Outcome.SUCCEEDED, uuid=OTHER)

    change = selectors.last_change_for(MINE)

    assert change.pk == latest.pk and change.actor_username == "bob" and change.timestamp == latest.timestamp


def test_last_change_is_none_for_a_storage_never_changed():
    act("carol", Outcome.REFUSED)
    assert selectors.last_change_for(MINE) is None


def test_recent_history_is_newest_first_limited_and_puts_each_attempt_with_its_outcome():
    attempt = act("alice", Outcome.ATTEMPTED)
    done = act("alice", Outcome.SUCCEEDED, attempt=attempt)
    refused = act("victor", Outcome.REFUSED)
    pending = act("bob", Outcome.ATTEMPTED)  # no outcome yet (or the process died): an entry of its own
    act("dave", Outcome.SUCCEEDED, uuid=OTHER)

    entries = selectors.recent_for(MINE)

    assert [[row.pk for row in e.rows] for e in entries] == [[pending.pk], [refused.pk], [attempt.pk, done.pk]]
    assert [e.in_progress for e in entries] == [True, False, False]
    assert (entries[2].attempt, entries[2].outcome, entries[2].sequence) == (attempt, done, attempt.sequence)
    assert [[row.pk for row in e.rows] for e in selectors.recent_for(MINE, limit=2)] == [[pending.pk], [refused.pk]]


def test_an_outcome_written_after_other_rows_still_joins_its_attempt():
    """Rows of other submissions between an attempt and its outcome don't split the entry."""
    first = act("alice", Outcome.ATTEMPTED)
    other = act("bob", Outcome.ATTEMPTED)
    other_done = act("bob", Outcome.FAILED, attempt=other)
    first_done = act("alice", Outcome.SUCCEEDED, attempt=first)

    entries = selectors.recent_for(MINE)

    assert [[row.pk for row in e.rows] for e in entries] == [[other.pk, other_done.pk], [first.pk, first_done.pk]]


def test_entry_pages_hold_whole_submissions_and_count_entries_not_rows():
    pairs = []
    for n in range(5):
        attempt = act(f"user{n}", Outcome.ATTEMPTED)
        pairs.append((attempt, act(f"user{n}", Outcome.SUCCEEDED, attempt=attempt)))
    single = act("victor", Outcome.REFUSED)

    first = selectors.entries_page({}, 1, 4)
    second = selectors.entries_page({}, 2, 4)

    assert first.page.paginator.count == 6 and first.page.paginator.num_pages == 2
    assert [e.first.pk for e in first.entries] == [single.pk] + [a.pk for a, _ in reversed(pairs[2:])]
    assert [[r.pk for r in e.rows] for e in second.entries] == [[a.pk, o.pk] for a, o in reversed(pairs[:2])]


def test_a_filter_matching_only_the_outcome_shows_the_whole_submission():
    attempt = act("alice", Outcome.ATTEMPTED)
    failed = act("alice", Outcome.FAILED, attempt=attempt)
    act("bob", Outcome.SUCCEEDED)

    listing = selectors.entries_page({"outcome": "failed"}, 1, 50)

    assert [[r.pk for r in e.rows] for e in listing.entries] == [[attempt.pk, failed.pk]]
    assert listing.page.paginator.count == 1


def test_a_page_reads_a_bounded_number_of_queries(django_assert_max_num_queries):
    for n in range(30):
        attempt = act(f"user{n}", Outcome.ATTEMPTED, changes=(FieldChange("name", before="a", after="b"),))
        act(f"user{n}", Outcome.SUCCEEDED, attempt=attempt)

    with django_assert_max_num_queries(3):  # count, roots of the page, their rows
        listing = selectors.entries_page({}, 2, 10)
        assert len(listing.entries) == 10 and all(len(e.rows) == 2 for e in listing.entries)


def test_a_multi_part_submission_lists_its_parts_and_jobs():
    changes = (FieldChange("name", before="a", after="b"), FieldChange("userTags", added=("gold",)))
    attempt = record(
        actor=Actor(user_id=1, username="alice", role=Role.ADMIN, ip="10.0.0.9", user_agent="Firefox"),
        action=Action.UPDATE,
        storage_uuid=MINE,
        storage_name="bs",
        outcome=Outcome.ATTEMPTED,
        changes=changes,
        correlation_id="a" * 32,
    )
    act(
        "alice",
        Outcome.PARTIAL,
        attempt=attempt,
        changes=(
            FieldChange("name", before="a", after="b", job="a" * 32, result="succeeded"),
            FieldChange(
                "userTags",
                added=("gold",),
                job="b" * 32,
                result="failed",
                error_code="SYS.1007",
                error_message="tag rejected",
            ),
        ),
    )

    [entry] = selectors.recent_for(MINE)

    assert entry.jobs == ("a" * 32, "b" * 32) and entry.parts == 2
    assert [(row.field, row.result) for row in entry.changes] == [("name", "succeeded"), ("userTags", "failed")]
    assert entry.changes[1].error.text == "tag rejected" and entry.changes[1].error.from_zstack
    assert entry.shown_reason is None  # each part says how it ended


def test_the_history_partial_shows_who_what_and_a_readable_diff():
    act("alice", Outcome.SUCCEEDED, changes=(FieldChange("sshPort", before=22, after=2222), FieldChange("password")))

    html = render_to_string(
        "audit/storage_history.html", {"events": selectors.recent_for(MINE), "can": {"audit": True}}
    )

    assert (
        "alice" in html and "<details" not in html
    )  # the card shows no address, browser or hashes and "Succeeded" in html and "SSH port" in html and "2222" in html
    assert "SSH password" in html and "never recorded" in html
    assert f"/audit/?storage={MINE}" in html and "<caption" in html and 'scope="col"' in html


def test_the_history_partial_says_so_when_there_is_nothing_yet():
    html = render_to_string("audit/storage_history.html", {"events": [], "can": {}})
    assert "No recorded activity" in html and "<table" not in html


def test_the_history_partial_gives_the_reason_of_refused_and_invalid_attempts():
    act("victor", Outcome.REFUSED)
    record(
        actor=Actor(user_id=2, username="ivan", role=Role.ADMIN, ip=None, user_agent=""),
        action=Action.UPDATE,
        storage_uuid=MINE,
        storage_name="bs",
        outcome=Outcome.INVALID,
        error_code="console.invalid",
        error_message='{"errors":[{"code":"required","field":"name","message":"This field is required.","params":{}}]}',
    )

    html = render_to_string("audit/storage_history.html", {"events": selectors.recent_for(MINE), "can": {}})

    assert "Name: This field is required." in html and "Refused" in html and "Invalid" in html
