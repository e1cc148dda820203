"""The console's own messages are stored as codes and parameters and worded in the reader's language (issue 13);
ZStack's text stays as sent, labelled as ZStack's; rows holding sentences still read; states are translated."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils import translation

from dashboard.accounts.actor import Actor
from dashboard.accounts.roles import Role, assign_role
from dashboard.audit import messages
from dashboard.audit.log import Action, FieldChange, Outcome, record
from dashboard.audit.messages import describe

pytestmark = pytest.mark.django_db

UUID = "c" * 32


def add(outcome=Outcome.REFUSED, *, attempt=None, changes=(), error_code=None, error_message=None, who="victor"):
    return record(
        actor=Actor(user_id=7, username=who, role=Role.VIEWER, ip="203.0.113.9", user_agent="Firefox/140"),
        action=Action.UPDATE,
        storage_uuid=UUID,
        storage_name="北京-prod",
        outcome=outcome,
        attempt=attempt,
        changes=changes,
        error_code=error_code,
        error_message=error_message,
    )


def in_both(code, text):
    with translation.override("en"):
        english = str(describe(code, text))
    with translation.override("zh-hans"):
        chinese = str(describe(code, text))
    return english, chinese


def test_permission_denied_is_a_code_worded_in_each_language():
    assert in_both(messages.PERMISSION_DENIED, "") == ("Permission denied.", "权限不足。")


def test_a_conflict_names_its_fields_by_their_labels_in_each_language():
    english, chinese = in_both(messages.CONFLICT, messages.params_json(fields=["name", "sshPort"]))
    assert english == "Changed in ZStack since the form was loaded: Name, SSH port."
    assert chinese.startswith("加载表单之后已在 ZStack 中被修改：") and "SSH 端口" in chinese


def test_the_throttled_row_words_its_minute_with_the_one_date_format():
    stored = messages.params_json(limit=20, minute="2026-12-01T00:57:00+00:00")
    english, chinese = in_both(messages.THROTTLED, stored)
    assert english.startswith("More than 20 refused writes") and "2026-12-01 00:57 UTC" in english
    assert "2026年12月1日 00:57 UTC" in chinese and "20" in chinese


def test_validation_errors_are_stored_as_codes_and_worded_for_each_reader():
    """What one person's rejected edit stored reads in the other's language: no "这个字段是必填项。" in an
    English log, no "This field is required." in a Chinese one."""
    with translation.override("zh-hans"):  # the submitter reads Chinese
        stored = messages.invalid_params(
            {
                "name": [ValidationError("This field is required.", code="required")],
                "sshPort": [
                    ValidationError(
                        "Ensure this value is less than or equal to %(limit_value)s.",
                        code="max_value",
                        params={"limit_value": 65535},
                    )
                ],
            }
        )
    assert "这个" not in stored and json.loads(stored)["errors"][0]["code"] == "required"
    english, chinese = in_both(messages.INVALID, stored)
    assert english == "Name: This field is required.; SSH port: Ensure this value is less than or equal to 65535."
    assert "这个字段是必填项。" in chinese and "65535" in chinese and "This field" not in chinese


def test_too_many_validation_errors_keep_whole_errors_within_the_column():
    errors = {f"field{n}": [ValidationError("x" * 300, code="long")] for n in range(40)}
    stored = messages.invalid_params(errors)
    assert len(stored) <= 4000 and json.loads(stored)["errors"]  # parses: whole errors only


def test_zstack_text_is_kept_as_sent_and_labelled_and_a_bare_code_gets_our_sentence():
    said = describe("SYS.1006", "磁盘空间不足 / no space left")
    assert (said.text, said.from_zstack, said.shown_code) == ("磁盘空间不足 / no space left", True, "SYS.1006")
    english, chinese = in_both("sdk.job-lost", "")
    assert "may still complete" in english and "ZStack" in chinese and "may" not in chinese
    assert describe("", "") is None and describe(None, None) is None


def test_rows_that_hold_the_old_sentences_still_read_and_the_known_ones_are_translated():
    assert in_both("", "Permission denied.") == ("Permission denied.", "权限不足。")
    assert in_both("", "Changed in ZStack since the form was loaded: name, description")[1].endswith("名称、简介。")
    deadline = describe("sdk.1001", "Still running at the console's deadline; ZStack may yet complete it.")
    assert (deadline.source, deadline.shown_code) == ("console", "sdk.1001")  # ours, not ZStack's words
    with translation.override("zh-hans"):
        unreachable = describe(
            "sdk.unreachable", "ZStack could not be reached. Check that the management node is running."
        )
    assert unreachable.source == "console" and "ZStack could not" not in unreachable.text
    old = describe("", "sshPort: Ensure this value is less than or equal to 65535.")
    assert (old.text, old.source) == ("sshPort: Ensure this value is less than or equal to 65535.", "stored")
    assert str(describe(messages.INVALID, "{not json")) == ""  # unreadable parameters never break a page


@pytest.fixture
def reader(client):
    def as_reader(language):
        user = get_user_model().objects.create_user(username=f"auditor-{language}", password="x-Pass-123")
        assign_role(user, Role.AUDITOR)
        client.force_login(user)
        client.cookies["django_language"] = language
        return client

    return as_reader


def test_the_log_shows_one_log_in_the_readers_language_whatever_the_writers_was(reader):
    add(error_code=messages.PERMISSION_DENIED)
    add(Outcome.SUCCEEDED, changes=(FieldChange("state", before="Disabled", after="Enabled"),), who="alice")
    add(Outcome.FAILED, error_code="SYS.1006", error_message="no space left on the image store", who="bob")

    chinese = reader("zh-hans").get("/audit/", headers={"accept-language": "zh-hans"}).content.decode()

    assert "权限不足。" in chinese and "Permission denied." not in chinese
    assert "已禁用" in chinese and "已启用" in chinese and ">Disabled<" not in chinese
    assert "ZStack 返回：" in chinese and "no space left on the image store" in chinese  # ZStack's words as sent


def test_the_log_in_english_reads_the_same_rows_in_english(reader):
    add(error_code=messages.PERMISSION_DENIED)
    add(Outcome.SUCCEEDED, changes=(FieldChange("state", before="Disabled", after="Enabled"),), who="alice")

    english = reader("en").get("/audit/", headers={"accept-language": "en"}).content.decode()

    assert "Permission denied." in english and "Disabled" in english and "Enabled" in english
    assert "权限" not in english


def test_a_rejected_password_never_reaches_the_stored_parameters_and_plural_messages_keep_both_forms():
    from django import forms

    class Edit(forms.Form):
        name = forms.CharField(max_length=5)
        password = forms.CharField(max_length=8)

    form = Edit({"name": "too-long-name", "password": "Canary-Secret-Pw-77"})
    assert not form.is_valid()

    stored = messages.invalid_params(form.errors)

    assert "Canary-Secret-Pw-77" not in stored and "too-long-name" not in stored
    english, chinese = in_both(messages.INVALID, stored)
    assert english == (
        "Name: Ensure this value has at most 5 characters (it has 13).; "
        "SSH password: Ensure this value has at most 8 characters (it has 19)."
    )
    assert "名称" in chinese and "5" in chinese and "Ensure" not in chinese
