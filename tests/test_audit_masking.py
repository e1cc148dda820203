"""What auditors see (issue 9): connection values are shown in the audit views and exports by default (auditing
a change needs them), and AUDIT_MASK_CONNECTION_VALUES hides them there, leaving the stored rows whole."""

import csv
import io
import json
import re

import pytest
from django.urls import reverse

from dashboard.accounts.roles import Role
from dashboard.audit import chain
from dashboard.audit.log import Action, FieldChange, Outcome
from tests.test_audit_views import add_event, client_for, streamed_text

pytestmark = pytest.mark.django_db

CONNECTION_VALUES = ("10.9.8.7", "10.9.8.8", "backup-ops", "2222", "owner::carol")


def shows(text: str, value: str) -> bool:
    """The value as a value, not as four digits inside a row's hash, job id or token (the log shows those)."""
    return re.search(rf"(?<![0-9A-Za-z]){re.escape(value)}(?![0-9A-Za-z])", text) is not None


CHANGES = (
    FieldChange("name", before="bs-old", after="bs-new"),
    FieldChange("hostname", before="10.9.8.7", after="10.9.8.8"),
    FieldChange("username", before="root", after="backup-ops"),
    FieldChange("sshPort", before=22, after=2222),
    FieldChange("userTags", added=("owner::carol",), removed=()),
    FieldChange("password"),
)


@pytest.fixture
def changed_connection(db):
    return add_event(action=Action.UPDATE, outcome=Outcome.SUCCEEDED, changes=CHANGES)


def exports(client) -> tuple[str, str]:
    return (
        streamed_text(client.get(reverse("audit:export_csv"))),
        streamed_text(client.get(reverse("audit:export_json"))),
    )


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.ADMIN])
def test_auditors_see_connection_values_by_default(client, changed_connection, role):
    client = client_for(client, role)

    html, (csv_text, json_text) = client.get(reverse("audit:log")).content.decode(), exports(client)

    for value in CONNECTION_VALUES:
        assert value in html and value in csv_text and value in json_text


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.ADMIN])
def test_the_setting_masks_connection_values_in_the_log_and_both_exports(client, changed_connection, settings, role):
    settings.AUDIT_MASK_CONNECTION_VALUES = True
    client = client_for(client, role)

    html = client.get(reverse("audit:log")).content.decode()
    csv_text, json_text = exports(client)

    for value in CONNECTION_VALUES:
        assert not (shows(html, value) or shows(csv_text, value) or shows(json_text, value)), value
    assert "bs-new" in html and "bs-new" in csv_text  # other fields stay readable
    assert html.count("changed (the value is masked on this site)") == 4
    [row] = csv.DictReader(io.StringIO(csv_text))
    assert json.loads(row["changes_json"])[1] == {"field": "hostname", "changed": True, "masked": True}
    assert "Host name or IP address: changed (the value is masked on this site)" in row["changes"]
    assert json.loads(json_text)[0]["changes"][4] == {"field": "userTags", "changed": True, "masked": True}


def test_masking_changes_what_is_shown_not_what_is_stored(changed_connection, settings):
    settings.AUDIT_MASK_CONNECTION_VALUES = True

    changed_connection.refresh_from_db()

    assert changed_connection.changes[1] == {"field": "hostname", "before": "10.9.8.7", "after": "10.9.8.8"}
    assert chain.verify().ok
