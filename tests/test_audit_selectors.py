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


def test_recent_history_is_newest_first_limited_and_hides_attempts_that_have_an_outcome():
    attempt = act("alice", Outcome.ATTEMPTED)
    done = act("alice", Outcome.SUCCEEDED, attempt=attempt)
    refused = act("victor", Outcome.REFUSED)
    pending = act("bob", Outcome.ATTEMPTED)  # no outcome yet (or the process died): shown
    act("dave", Outcome.SUCCEEDED, uuid=OTHER)

    assert [e.pk for e in selectors.recent_for(MINE)] == [pending.pk, refused.pk, done.pk]
    assert [e.pk for e in selectors.recent_for(MINE, limit=2)] == [pending.pk, refused.pk]


def test_the_history_partial_shows_who_what_and_a_readable_diff():
    act("alice", Outcome.SUCCEEDED, changes=(FieldChange("sshPort", before=22, after=2222), FieldChange("password")))

    html = render_to_string(
        "audit/storage_history.html", {"events": selectors.recent_for(MINE), "can": {"audit": True}}
    )

    assert "alice" in html and "Succeeded" in html and "SSH port" in html and "2222" in html
    assert "SSH password" in html and "never recorded" in html
    assert f"/audit/?storage={MINE}" in html and "<caption" in html and 'scope="col"' in html


def test_the_history_partial_says_so_when_there_is_nothing_yet():
    html = render_to_string("audit/storage_history.html", {"events": [], "can": {}})
    assert "No recorded activity" in html and "<table" not in html
