"""Unit tests of dashboard/storages/changes.py: which fields an edit changes, which conflict with a change made
in ZStack meanwhile, and what sending them would change. Pure functions: no database, no simulator."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from dashboard.audit.log import FieldChange
from dashboard.storages.changes import (
    EDITABLE_FIELDS,
    PLAIN_FIELDS,
    TAG_FIELDS,
    Conflict,
    editable_values,
    edited_fields,
    find_conflicts,
    is_given,
    same,
    storage_diff,
)
from dashboard.zstack.inventory import BackupStorage, ResourceTags, Tag

STORAGE = BackupStorage(
    uuid="a" * 32,
    name="bs-prod",
    description=None,
    url="/data",
    type="ImageStoreBackupStorage",
    state="Enabled",
    status="Connected",
    total_capacity=100,
    available_capacity=50,
    create_date=None,
    last_op_date=None,
    attached_zone_uuids=(),
    hostname="10.0.0.1",
    username="root",
    ssh_port=22,
)


def tag(text: str, kind: str) -> Tag:
    return Tag(
        uuid=f"t-{text}",
        resource_uuid="a" * 32,
        resource_type="ImageStoreBackupStorageVO",
        tag=text,
        type=kind,
        create_date=None,
    )


def tags_of(system: tuple[str, ...] = (), user: tuple[str, ...] = ()) -> ResourceTags:
    return ResourceTags(system=tuple(tag(t, "System") for t in system), user=tuple(tag(t, "User") for t in user))


TAGS = tags_of(system=("priority::high",), user=("env::prod", "owner::storage-team"))
LOADED = editable_values(STORAGE, TAGS)

texts = st.text(alphabet="abc: -", max_size=6)
tag_lists = st.lists(st.text(alphabet="abc:", min_size=1, max_size=4), max_size=4, unique=True)
values = st.fixed_dictionaries(
    {
        "name": texts,
        "description": texts,
        "hostname": texts,
        "username": texts,
        "sshPort": st.integers(1, 65535),
        "systemTags": tag_lists,
        "userTags": tag_lists,
    }
)


# -- same / is_given ----------------------------------------------------------------------------------------


def test_tags_compare_as_sets_because_zstack_keeps_no_order():
    assert same("userTags", ["a", "b"], ("b", "a"))
    assert same("systemTags", None, [])
    assert not same("userTags", ["a"], ["a", "b"])


def test_a_blank_string_field_is_the_same_as_an_absent_one_because_zstack_omits_null_strings():
    for field in ("name", "description", "hostname", "username"):
        assert same(field, None, "")
        assert not same(field, None, "x")


def test_the_ssh_port_compares_exactly():
    assert same("sshPort", 22, 22)
    assert not same("sshPort", 22, 2222)
    assert not same("sshPort", None, 22)


@given(field=st.sampled_from(EDITABLE_FIELDS), a=values, b=values)
def test_same_is_reflexive_and_symmetric(field, a, b):
    assert same(field, a[field], a[field])
    assert same(field, a[field], b[field]) == same(field, b[field], a[field])


def test_none_means_keep_zstacks_value_except_for_a_blanked_description():
    assert not is_given("name", {})
    assert not is_given("name", {"name": None})
    assert is_given("name", {"name": ""})
    assert is_given("description", {"description": None})  # the user blanked it


# -- edited_fields --------------------------------------------------------------------------------------------


def test_the_unchanged_form_edits_nothing():
    assert edited_fields(LOADED, dict(LOADED)) == {}


def test_only_the_fields_that_differ_from_the_loaded_form_are_edits():
    submitted = {**LOADED, "name": "renamed", "userTags": ["owner::storage-team", "env::prod"], "password": "x"}
    assert edited_fields(LOADED, submitted) == {"name": "renamed"}  # reordered tags are no edit; nor a password


def test_a_field_left_out_of_the_submission_is_not_an_edit():
    assert edited_fields(LOADED, {"sshPort": 2222}) == {"sshPort": 2222}


@given(loaded=values, submitted=values)
def test_edits_are_exactly_the_submitted_fields_that_differ(loaded, submitted):
    edited = edited_fields(loaded, submitted)
    assert set(edited) <= set(EDITABLE_FIELDS)
    for field in EDITABLE_FIELDS:
        assert (field in edited) == (not same(field, loaded[field], submitted[field]))
        if field in edited:
            assert edited[field] == submitted[field]
    assert edited_fields(loaded, loaded) == {}


# -- find_conflicts -------------------------------------------------------------------------------------------


def test_a_field_someone_else_changed_to_another_value_is_a_conflict():
    now = {**LOADED, "name": "theirs"}
    assert find_conflicts(loaded=LOADED, now=now, edited={"name": "mine"}) == (
        Conflict(field="name", loaded="bs-prod", current="theirs", yours="mine"),
    )


def test_the_same_change_made_by_both_is_no_conflict():
    now = {**LOADED, "name": "same"}
    assert find_conflicts(loaded=LOADED, now=now, edited={"name": "same"}) == ()


def test_an_upstream_change_to_a_field_the_user_left_alone_is_no_conflict():
    now = {**LOADED, "hostname": "10.0.0.9"}
    assert find_conflicts(loaded=LOADED, now=now, edited={"name": "mine"}) == ()


def test_tags_reordered_upstream_are_no_conflict():
    now = {**LOADED, "userTags": list(reversed(LOADED["userTags"]))}
    assert find_conflicts(loaded=LOADED, now=now, edited={"userTags": ["env::dev"]}) == ()


@given(loaded=values, now=values, submitted=values)
def test_a_conflict_is_an_edited_field_changed_upstream_to_neither_the_loaded_nor_the_submitted_value(
    loaded, now, submitted
):
    edited = edited_fields(loaded, submitted)
    conflicts = find_conflicts(loaded=loaded, now=now, edited=edited)
    assert {c.field for c in conflicts} == {
        field
        for field in edited
        if not same(field, now[field], loaded[field]) and not same(field, now[field], edited[field])
    }
    for conflict in conflicts:
        assert (conflict.loaded, conflict.current, conflict.yours) == (
            loaded[conflict.field],
            now[conflict.field],
            edited[conflict.field],
        )
    assert find_conflicts(loaded=loaded, now=loaded, edited=edited) == ()  # nobody else changed anything


# -- storage_diff ---------------------------------------------------------------------------------------------


def test_sending_zstacks_own_values_changes_nothing():
    assert storage_diff(STORAGE, TAGS, dict(LOADED)) == ()


def test_plain_fields_are_recorded_before_and_after():
    assert storage_diff(STORAGE, TAGS, {"name": "renamed", "sshPort": 2222}) == (
        FieldChange(field="name", before="bs-prod", after="renamed"),
        FieldChange(field="sshPort", before=22, after=2222),
    )


def test_a_blanked_description_is_recorded_as_the_empty_string():
    storage = replace(STORAGE, description="old words")
    assert storage_diff(storage, TAGS, {"description": None}) == (
        FieldChange(field="description", before="old words", after=""),
    )


def test_the_password_is_recorded_only_as_changed_never_its_value():
    diff = storage_diff(STORAGE, TAGS, {"password": "S3cret-value"})
    assert diff == (FieldChange(field="password", changed=True),)
    assert "S3cret-value" not in repr(diff)


def test_an_empty_password_means_keep_the_current_one():
    assert storage_diff(STORAGE, TAGS, {"password": ""}) == ()


def test_tags_are_recorded_with_what_was_added_and_removed():
    diff = storage_diff(STORAGE, TAGS, {"userTags": ["env::prod", "env::dr"]})
    assert diff == (
        FieldChange(
            field="userTags",
            before=("env::prod", "owner::storage-team"),
            after=("env::prod", "env::dr"),
            added=("env::dr",),
            removed=("owner::storage-team",),
        ),
    )


@given(current=values, wanted=values)
def test_the_diff_names_exactly_the_given_fields_whose_value_would_change(current, wanted):
    storage = replace(
        STORAGE,
        name=current["name"],
        description=current["description"],
        hostname=current["hostname"],
        username=current["username"],
        ssh_port=current["sshPort"],
    )
    tags = tags_of(system=tuple(current["systemTags"]), user=tuple(current["userTags"]))
    diff = {change.field: change for change in storage_diff(storage, tags, wanted)}
    assert set(diff) == {field for field in EDITABLE_FIELDS if not same(field, current[field], wanted[field])}
    for field in TAG_FIELDS:
        if field in diff:
            assert set(diff[field].added) == set(wanted[field]) - set(current[field])
            assert set(diff[field].removed) == set(current[field]) - set(wanted[field])
    for field in PLAIN_FIELDS:
        if field in diff:
            assert diff[field].after == (wanted[field] or "")
    # Sending what the diff says ZStack will hold afterwards changes nothing more.
    after = replace(storage, **{PLAIN_FIELDS[f]: c.after for f, c in diff.items() if f in PLAIN_FIELDS})
    after_tags = tags_of(system=tuple(wanted["systemTags"]), user=tuple(wanted["userTags"]))
    assert storage_diff(after, after_tags, wanted) == ()
