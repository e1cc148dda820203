"""The edit and filter forms: limits mirror ZStack's (docs/zstack-protocol.md §4.2); tags one per line."""

from __future__ import annotations

import pytest
from django.core import signing

from dashboard.storages import selectors
from dashboard.storages.forms import StorageEditForm, StorageFilterForm, sign_snapshot, split_tags, validate_host
from dashboard.storages.submissions import new_token

UUID = "b5" * 16
LOADED = {
    "name": "bs-1",
    "description": "",
    "hostname": "192.0.2.1",
    "username": "root",
    "sshPort": 22,
    "systemTags": [],
    "userTags": [],
}
VALID = {
    "name": "bs-1",
    "description": "",
    "hostname": "192.0.2.1",
    "username": "root",
    "password": "",
    "sshPort": "22",
    "systemTags": "",
    "userTags": "",
    "loaded": sign_snapshot(UUID, LOADED),
    "submission": new_token(UUID, "storage.update"),
}


def form(**overrides) -> StorageEditForm:
    return StorageEditForm({**VALID, **overrides}, uuid=UUID)


def test_the_form_has_exactly_the_documented_fields_named_as_the_api_names_them():
    assert list(StorageEditForm().fields) == [
        "name",
        "description",
        "hostname",
        "username",
        "password",
        "sshPort",
        "systemTags",
        "userTags",
        "loaded",
        "submission",
    ]


def test_the_loaded_snapshot_round_trips_and_never_holds_the_password():
    bound = form()
    assert bound.is_valid() and bound.loaded_values == LOADED
    prefilled = StorageEditForm.for_storage(UUID, {**LOADED, "password": "Canary-Form-Pw"})
    snapshot = signing.loads(prefilled.initial["loaded"], salt="storages.edit.loaded")
    assert "password" not in snapshot["values"] and "Canary-Form-Pw" not in prefilled.initial["loaded"]


@pytest.mark.parametrize(
    "loaded",
    [
        "",
        "not-signed",
        VALID["loaded"][:-2] + "xx",
        sign_snapshot("c6" * 16, LOADED),  # another storage's snapshot
        signing.dumps({"uuid": UUID, "values": {"name": "x"}}, salt="storages.edit.loaded"),  # fields missing
    ],
)
def test_a_missing_tampered_or_foreign_snapshot_is_a_form_error(loaded):
    bound = form(loaded=loaded)
    assert not bound.is_valid()
    assert "could not be verified" in " ".join(bound.errors["loaded"])


@pytest.mark.parametrize(
    "field, ok, too_long",
    [
        ("name", 255, 256),
        ("username", 255, 256),
        ("password", 255, 256),
        ("description", 2048, 2049),
    ],
)
def test_text_limits_mirror_zstack(field, ok, too_long):
    assert form(**{field: "a" * ok}).is_valid()
    assert field in form(**{field: "a" * too_long}).errors


def test_a_host_name_is_limited_to_255_characters_too():
    assert "hostname" in form(hostname=("a" * 60 + ".") * 5).errors


@pytest.mark.parametrize(
    "port, valid",
    [("1", True), ("65535", True), ("0", False), ("65536", False), ("22.5", False), ("ssh", False), ("", False)],
)
def test_the_ssh_port_is_an_integer_from_1_to_65535(port, valid):
    assert form(sshPort=port).is_valid() is valid


@pytest.mark.parametrize("host", ["192.0.2.1", "2001:db8::1", "imagestore-01.example.com", "localhost", "a.b-c.d."])
def test_valid_host_names_and_addresses_are_accepted(host):
    validate_host(host)


@pytest.mark.parametrize(
    "host",
    [
        "bad host",
        "-lead.example.com",
        "trail-.example.com",
        "10.0.0.999",
        "a..b",
        "x" * 64 + ".com",
        "host_name.example",
        "http://example.com",
    ],
)
def test_invalid_host_names_are_rejected(host):
    assert "hostname" in form(hostname=host).errors


def test_tags_are_one_per_line_and_trimmed():
    assert split_tags("  a::1 \r\nb::2\n") == ("a::1", "b::2")
    assert split_tags("") == ()
    cleaned = form(userTags=" env::prod \n team::x ")
    assert cleaned.is_valid() and cleaned.cleaned_data["userTags"] == ("env::prod", "team::x")


@pytest.mark.parametrize(
    "text, message", [("a\n\nb", "Line 2 is empty"), ("a\n  \nb", "Line 2 is empty"), ("a\nb\na", "Line 3 repeats")]
)
def test_empty_and_duplicate_tag_lines_are_errors(text, message):
    bound = form(systemTags=text)
    assert not bound.is_valid()
    assert any(message in error for error in bound.errors["systemTags"])


def test_a_blank_password_keeps_the_current_one_and_is_never_rendered():
    bound = form(password="")
    assert bound.is_valid() and bound.cleaned_data["password"] == ""
    assert "value=" not in str(form(password="secret-value")["password"])


def test_the_password_is_not_stripped():
    bound = form(password=" spaced ")
    assert bound.is_valid() and bound.cleaned_data["password"] == " spaced "


def test_a_blank_name_is_an_error():
    assert "name" in form(name="   ").errors


def test_filter_form_defaults_and_falls_back_on_invalid_values():
    assert StorageFilterForm({}).filters() == {
        "q": "",
        "state": "",
        "status": "",
        "zone": "",
        "capacity": "",
        "sort": "name",
        "page": 1,
        "page_size": 25,
    }
    filters = StorageFilterForm(
        {
            "q": " web ",
            "state": "Disabled",
            "sort": "-lastOpDate",
            "page": "3",
            "page_size": "50",
            "status": "Nope",
            "zone": "bad zone!",
            "capacity": "full",
        }
    ).filters()
    assert filters == {
        "q": "web",
        "state": "Disabled",
        "status": "",
        "zone": "",
        "capacity": "",
        "sort": "-lastOpDate",
        "page": 3,
        "page_size": 50,
    }


def test_filter_search_may_not_hold_operators_that_break_zstack_conditions():
    for q in ("a!=b", "x>=1", "y<=2", "a!?=b", "a!~=b"):
        assert "q" in StorageFilterForm({"q": q}).errors
        with pytest.raises(ValueError):
            selectors.search_conditions(q=q)


def test_search_operators_that_come_after_like_in_zstacks_order_stay_literal():
    # "~=" is found first, at the start, so these are part of the value (docs/zstack-protocol.md §6.2).
    for q in ("a~=b", "a?=b", "a=b", "a>b"):
        assert StorageFilterForm({"q": q}).is_valid()
        assert selectors.search_conditions(q=q) == [f"name~=%{q}%"]


def test_the_search_help_says_percent_and_underscore_are_wildcards():
    help_text = str(StorageFilterForm().fields["q"].help_text)
    assert "%" in help_text and "_" in help_text


def test_a_tag_with_a_null_character_is_refused_with_its_line():
    bound = form(userTags="env::prod\nbad\x00tag")
    assert not bound.is_valid()
    assert bound.errors["userTags"] == ["Line 2 contains a null character."]


# --- messages that state the rule (issue 13) ----------------------------------------------------------


@pytest.mark.parametrize("port", ["0", "65536", "-1", "22.5", "ssh"])
def test_a_bad_ssh_port_gets_the_rule_not_djangos_stock_text(port):
    assert form(sshPort=port).errors["sshPort"] == ["SSH port must be between 1 and 65535."]


def test_a_missing_ssh_port_says_what_to_enter():
    assert form(sshPort="").errors["sshPort"] == ["Enter the SSH port (usually 22)."]


@pytest.mark.parametrize(
    "field, limit, label",
    [
        ("name", 255, "The name"),
        ("username", 255, "The SSH user"),
        ("password", 255, "The SSH password"),
        ("description", 2048, "The description"),
    ],
)
def test_too_long_text_names_the_field_its_limit_and_the_length_given(field, limit, label):
    errors = form(**{field: "a" * (limit + 3)}).errors[field]
    assert errors == [f"{label} must be at most {limit} characters (it has {limit + 3})."]
    assert not any("Ensure this value" in error for error in errors)


def test_a_too_long_hostname_states_the_limit():
    errors = form(hostname="a" * 256).errors["hostname"]
    assert "The hostname must be at most 255 characters (it has 256)." in errors


def test_a_tag_may_be_as_long_as_zstack_keeps_and_no_longer():
    at_limit = "env::" + "x" * (2048 - 5)
    assert form(userTags=at_limit).is_valid()
    bound = form(userTags="env::prod\n" + at_limit + "x")
    assert bound.errors["userTags"] == ["Line 2 is 2049 characters long: ZStack keeps tags of at most 2048 characters."]


@pytest.mark.parametrize("character", ["\t", "\x1b", "\x7f", "\x01"])
def test_a_tag_with_a_control_character_is_refused_with_its_line(character):
    bound = form(systemTags=f"priority::high\nbad{character}tag")
    assert not bound.is_valid()
    assert bound.errors["systemTags"] == [
        "Line 2 contains a control character (such as a tab): a tag is plain text on one line."
    ]


def test_the_tag_help_hints_at_zstacks_key_value_convention_and_the_limit():
    for field in ("systemTags", "userTags"):
        help_text = str(StorageEditForm().fields[field].help_text)
        assert "key::value" in help_text and "2048" in help_text
