"""The audit log page and its exports: permissions, filters, diff display, streaming and CSV safety."""

import csv
import io
import json
import unittest.mock as mock
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dashboard.accounts.actor import Actor
from dashboard.accounts.roles import Role, assign_role
from dashboard.audit import exports, selectors
from dashboard.audit.log import Action, FieldChange, Outcome, record

pytestmark = pytest.mark.django_db

STORAGE_A = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
STORAGE_B = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
REQUIRED_CSV_COLUMNS = [
    "timestamp",
    "actor",
    "action",
    "storage_uuid",
    "storage_name",
    "outcome",
    "error_code",
    "changes",
    "correlation_id",
]


def client_for(client, role):
    user = get_user_model().objects.create_user(username=f"{role.value}-user", password="x-Pass-123")
    assign_role(user, role)
    client.force_login(user)
    return client


def actor(name="alice", role=Role.ADMIN):
    return Actor(user_id=1, username=name, role=role, ip="198.51.100.7", user_agent="pytest")


def add_event(
    *,
    who="alice",
    action=Action.UPDATE,
    uuid=STORAGE_A,
    name="bs-a",
    outcome=Outcome.SUCCEEDED,
    changes=(),
    error_code=None,
    error_message=None,
):
    return record(
        actor=actor(who),
        action=action,
        storage_uuid=uuid,
        storage_name=name,
        outcome=outcome,
        changes=changes,
        error_code=error_code,
        error_message=error_message,
        correlation_id="job-9",
    )


def streamed_bytes(response) -> bytes:
    assert isinstance(response, StreamingHttpResponse)
    return b"".join(response.streaming_content)


def streamed_text(response) -> str:
    """The text of an export, without the CSV's byte-order mark (tested on its own below)."""
    return streamed_bytes(response).decode().removeprefix("\ufeff")


# --- permissions -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["audit:log", "audit:export_csv", "audit:export_json"])
def test_anonymous_visitors_are_redirected_to_the_login_page(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", ["audit:log", "audit:export_csv", "audit:export_json"])
def test_viewers_get_403_on_the_log_and_the_exports(client, name):
    assert client_for(client, Role.VIEWER).get(reverse(name)).status_code == 403


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.ADMIN])
@pytest.mark.parametrize("name", ["audit:log", "audit:export_csv", "audit:export_json"])
def test_auditors_and_admins_can_read_the_log_and_the_exports(client, role, name):
    add_event()
    assert client_for(client, role).get(reverse(name)).status_code == 200


def test_the_interface_urls_are_the_documented_ones():
    assert (reverse("audit:log"), reverse("audit:export_csv"), reverse("audit:export_json")) == (
        "/audit/",
        "/audit/export.csv",
        "/audit/export.json",
    )


# --- the page ----------------------------------------------------------------------------------------------


def test_the_log_shows_events_newest_first_with_a_readable_per_field_diff(client):
    add_event(name="first-event")
    add_event(
        name="bs-a",
        changes=(
            FieldChange("hostname", before="10.0.0.1", after="10.0.0.2"),
            FieldChange("password", before="s3cret-old", after="s3cret-new"),
            FieldChange("userTags", added=("gold",), removed=("silver",)),
        ),
    )

    html = client_for(client, Role.AUDITOR).get(reverse("audit:log")).content.decode()

    assert html.index('id="audit-event-2"') < html.index('id="audit-event-1"')
    assert "10.0.0.1" in html and "10.0.0.2" in html and "Host name or IP address" in html
    assert "SSH password" in html and "the value is never recorded" in html and "s3cret" not in html
    assert "+gold" in html and "−silver" in html


def test_the_log_is_paged(client):
    for _ in range(51):
        add_event()
    auditor = client_for(client, Role.AUDITOR)

    first = auditor.get(reverse("audit:log")).content.decode()
    second = auditor.get(reverse("audit:log"), {"page": 2}).content.decode()

    assert 'id="audit-event-51"' in first and 'id="audit-event-1"' not in first and "Page 1 of 2" in first
    assert 'id="audit-event-1"' in second and 'id="audit-event-2"' not in second


def test_an_htmx_filter_request_gets_only_the_results_fragment(client):
    add_event()
    response = client_for(client, Role.AUDITOR).get(
        reverse("audit:log"), {"actor": "ali"}, headers={"HX-Request": "true"}
    )

    html = response.content.decode()
    assert html.lstrip().startswith("<section") and 'id="audit-results"' in html
    assert "<html" not in html and "<form" not in html
    assert "HX-Request" in response["Vary"]


def test_the_full_page_has_a_labelled_get_filter_form_that_htmx_submits_to_the_results(client):
    html = client_for(client, Role.AUDITOR).get(reverse("audit:log")).content.decode()

    assert 'method="get"' in html and 'hx-get="/audit/"' in html and 'hx-target="#audit-results"' in html
    assert 'hx-push-url="true"' in html
    for name in ("since", "until", "actor", "storage", "action", "outcome", "field"):
        assert f'for="id_{name}"' in html and f'name="{name}"' in html


def test_invalid_filters_are_reported_not_ignored(client):
    add_event()
    response = client_for(client, Role.AUDITOR).get(reverse("audit:log"), {"since": "not a date"})

    html = response.content.decode()
    assert response.status_code == 200 and 'role="alert"' in html and 'id="audit-event-1"' not in html


def test_invalid_filters_do_not_count_or_read_the_audit_table(client):
    add_event()
    auditor = client_for(client, Role.AUDITOR)

    with CaptureQueriesContext(connection) as queries:
        response = auditor.get(reverse("audit:log"), {"since": "not a date", "page": "2"})

    assert response.status_code == 200
    assert not [q["sql"] for q in queries if "audit_auditevent" in q["sql"]]


EDITED_FIELDS = ("name", "description", "hostname", "username", "password", "sshPort", "systemTags", "userTags")


class _PageText(HTMLParser):
    """The visible <label> text per `for` id, the id of each form control, and the field names shown in
    each audit row's diff (the <strong> of each item of its ul.tag-list), in page order."""

    def __init__(self) -> None:
        super().__init__()
        self.labels: dict[str, str] = {}
        self.controls: dict[str, str] = {}  # id -> name
        self.diff_names: dict[str, list[str]] = {}  # audit row id -> field names shown
        self._label_for: str | None = None
        self._row: str | None = None
        self._in_diff = False
        self._strong: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "label":
            self._label_for = attrs.get("for")
            self.labels[self._label_for] = ""
        elif tag in ("input", "textarea", "select") and attrs.get("id"):
            self.controls[attrs["id"]] = attrs.get("name")
        elif tag == "tr" and (attrs.get("id") or "").startswith("audit-event-"):
            self._row = attrs["id"]
            self.diff_names[self._row] = []
        elif tag == "ul" and self._row and "tag-list" in (attrs.get("class") or "").split():
            self._in_diff = True
        elif tag == "strong" and self._in_diff:
            self._strong = []

    def handle_endtag(self, tag):
        if tag == "label":
            self._label_for = None
        elif tag == "strong" and self._strong is not None:
            self.diff_names[self._row].append("".join(self._strong).strip())
            self._strong = None
        elif tag == "ul":
            self._in_diff = False
        elif tag == "tr":
            self._row = None

    def handle_data(self, data):
        if self._label_for is not None:
            self.labels[self._label_for] += data
        if self._strong is not None:
            self._strong.append(data)


def page_text(response) -> _PageText:
    assert response.status_code == 200
    parser = _PageText()
    parser.feed(response.content.decode())
    return parser


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_audit_log_names_each_field_as_the_edit_form_labels_it(client, zstack_settings, language):
    storage = zstack_settings.storages()[0]
    admin = client_for(client, Role.ADMIN)  # may both edit and read the audit log
    event = add_event(
        uuid=storage["uuid"],
        name=storage["name"],
        changes=(
            FieldChange("name", before="old", after="new"),
            FieldChange("description", before="", after="d"),
            FieldChange("hostname", before="192.0.2.1", after="192.0.2.2"),
            FieldChange("username", before="root", after="zs"),
            FieldChange("password", changed=True),
            FieldChange("sshPort", before=22, after=2222),
            FieldChange("systemTags", added=("a::b",)),
            FieldChange("userTags", removed=("c::d",)),
        ),
    )

    form = page_text(admin.get(reverse("storages:edit", args=[storage["uuid"]]), HTTP_ACCEPT_LANGUAGE=language))
    log = page_text(admin.get(reverse("audit:log"), HTTP_ACCEPT_LANGUAGE=language))

    # each edit input has its visible label (label for= the input's id)
    assert all(form.controls.get(f"id_{name}") == name for name in EDITED_FIELDS), form.controls
    form_labels = [" ".join(form.labels.get(f"id_{name}", "").split()) for name in EDITED_FIELDS]
    # the diff lists the changes in the order they were recorded
    log_labels = log.diff_names[f"audit-event-{event.sequence}"]
    assert log_labels == form_labels
    assert all(
        label and label != name for label, name in zip(form_labels, EDITED_FIELDS, strict=True)
    )  # words, not API names
    assert len(set(form_labels)) == len(EDITED_FIELDS)


# --- filters (shared by page and exports) -------------------------------------------------------------------


@pytest.fixture
def varied_events():
    add_event(
        who="alice", uuid=STORAGE_A, name="bs-alpha", changes=(FieldChange("name", before="x", after="bs-alpha"),)
    )
    add_event(
        who="bob",
        uuid=STORAGE_B,
        name="bs-beta",
        action=Action.RECONNECT,
        outcome=Outcome.FAILED,
        error_code="SYS.1006",
    )
    add_event(who="bob", uuid=STORAGE_A, name="bs-alpha", changes=(FieldChange("password", changed=True),))
    add_event(who="carol", uuid=STORAGE_B, name="bs-beta", action=Action.DISABLE, outcome=Outcome.REFUSED)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, [4, 3, 2, 1]),
        ({"actor": "bob"}, [3, 2]),
        ({"storage": STORAGE_B}, [4, 2]),
        ({"storage": "alpha"}, [3, 1]),
        ({"action": "storage.reconnect"}, [2]),
        ({"outcome": "refused"}, [4]),
        ({"field": "password"}, [3]),
        ({"field": "name"}, [1]),
        ({"actor": "bob", "storage": STORAGE_A}, [3]),
    ],
)
def test_each_filter_narrows_the_csv_export(client, varied_events, filters, expected):
    text = streamed_text(client_for(client, Role.AUDITOR).get(reverse("audit:export_csv"), filters))

    rows = list(csv.DictReader(io.StringIO(text)))
    assert [int(row["sequence"]) for row in rows] == expected


def test_the_time_range_filter_uses_from_and_until(client, varied_events):
    now = timezone.now()
    auditor = client_for(client, Role.AUDITOR)
    fmt = "%Y-%m-%dT%H:%M:%S"

    future = auditor.get(reverse("audit:export_json"), {"since": (now + timedelta(hours=1)).strftime(fmt)})
    past = auditor.get(reverse("audit:export_json"), {"until": (now - timedelta(hours=1)).strftime(fmt)})
    around = auditor.get(
        reverse("audit:export_json"),
        {"since": (now - timedelta(hours=1)).strftime(fmt), "until": (now + timedelta(hours=1)).strftime(fmt)},
    )

    assert json.loads(streamed_text(future)) == [] and json.loads(streamed_text(past)) == []
    assert len(json.loads(streamed_text(around))) == 4


def test_the_page_applies_the_same_filters(client, varied_events):
    html = client_for(client, Role.AUDITOR).get(reverse("audit:log"), {"outcome": "failed"}).content.decode()

    assert 'id="audit-event-2"' in html and 'id="audit-event-1"' not in html and 'id="audit-event-4"' not in html
    assert "/audit/export.csv?outcome=failed" in html  # the export links carry the filters


# --- exports --------------------------------------------------------------------------------------------------


def test_the_csv_export_is_streamed_with_the_documented_header(client, varied_events):
    response = client_for(client, Role.AUDITOR).get(reverse("audit:export_csv"))

    assert response["Content-Type"].startswith("text/csv") and "attachment" in response["Content-Disposition"]
    header = next(csv.reader(io.StringIO(streamed_text(response))))
    assert header[: len(REQUIRED_CSV_COLUMNS)] == REQUIRED_CSV_COLUMNS
    assert {"role", "ip", "user_agent", "error_message", "duration_ms", "sequence", "hash"} <= set(header)


def test_the_csv_export_carries_each_events_fields(client, varied_events):
    rows = list(
        csv.DictReader(io.StringIO(streamed_text(client_for(client, Role.AUDITOR).get(reverse("audit:export_csv")))))
    )

    failed = next(r for r in rows if r["sequence"] == "2")
    assert (failed["actor"], failed["action"], failed["storage_uuid"], failed["storage_name"]) == (
        "bob",
        "storage.reconnect",
        STORAGE_B,
        "bs-beta",
    )
    assert (failed["outcome"], failed["error_code"], failed["correlation_id"]) == ("failed", "SYS.1006", "job-9")
    password = next(r for r in rows if r["sequence"] == "3")
    assert json.loads(password["changes_json"]) == [{"field": "password", "changed": True}]
    assert password["changes"] == "SSH password: changed (the value is never recorded)"


def test_the_exports_read_the_database_in_chunks_not_all_at_once(client, varied_events):
    seen = []
    original = type(selectors.events_matching({})).iterator

    def spy(self, chunk_size=None):
        seen.append(chunk_size)
        return original(self, chunk_size=chunk_size)

    with mock.patch.object(type(selectors.events_matching({})), "iterator", spy):
        auditor = client_for(client, Role.AUDITOR)
        streamed_text(auditor.get(reverse("audit:export_csv")))
        streamed_text(auditor.get(reverse("audit:export_json")))
    assert seen == [exports.CHUNK_SIZE, exports.CHUNK_SIZE]


def test_the_json_export_is_streamed_and_parses_as_a_list_of_events(client, varied_events):
    response = client_for(client, Role.AUDITOR).get(reverse("audit:export_json"), {"actor": "carol"})

    events = json.loads(streamed_text(response))
    assert response["Content-Type"] == "application/json"
    assert [e["sequence"] for e in events] == [4]
    assert events[0]["outcome"] == "refused" and events[0]["action"] == "storage.disable"


@pytest.mark.parametrize("payload", ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"])
def test_csv_cells_that_look_like_formulas_are_neutralised(client, payload):
    add_event(name=payload, error_message=payload, changes=(FieldChange("description", before=payload, after="ok"),))

    text = streamed_text(client_for(client, Role.AUDITOR).get(reverse("audit:export_csv")))

    row = next(csv.DictReader(io.StringIO(text)))
    assert row["storage_name"] == "'" + payload and row["error_message"] == "'" + payload
    assert row["changes_json"].startswith("[")  # JSON text starts with "[": safe as it is
    assert row["changes"] == f"Description: {payload} \u2192 ok"  # starts with the field's label: safe as it is


def test_the_csv_starts_with_a_byte_order_mark_for_excel_and_the_json_does_not(client):
    add_event(name="北京生产存储", changes=(FieldChange("description", before="旧", after="新"),))
    auditor = client_for(client, Role.AUDITOR)

    csv_bytes = streamed_bytes(auditor.get(reverse("audit:export_csv")))
    json_bytes = streamed_bytes(auditor.get(reverse("audit:export_json")))

    assert csv_bytes.startswith(b"\xef\xbb\xbftimestamp,") and csv_bytes.count(b"\xef\xbb\xbf") == 1
    row = next(csv.DictReader(io.StringIO(csv_bytes.decode("utf-8-sig"))))
    assert row["storage_name"] == "北京生产存储" and row["changes"] == "Description: 旧 \u2192 新"
    assert json_bytes.startswith(b"[") and json.loads(json_bytes)[0]["changes"] == [
        {"field": "description", "before": "旧", "after": "新"}
    ]


def test_the_csv_changes_read_as_text_in_the_exporters_language_with_each_parts_result(client):
    add_event(
        outcome=Outcome.PARTIAL,
        changes=(
            FieldChange("state", before="Enabled", after="Disabled", job="j1", result="succeeded"),
            FieldChange(
                "userTags",
                added=("gold",),
                removed=("old",),
                job="j2",
                result="failed",
                error_code="SYS.1007",
                error_message="tag rejected",
            ),
            FieldChange("hostname", before="", after="10.0.0.2"),
        ),
        error_code="console.permission-denied",
    )
    auditor = client_for(client, Role.AUDITOR)

    english = next(csv.DictReader(io.StringIO(streamed_text(auditor.get(reverse("audit:export_csv"))))))
    chinese = next(
        csv.DictReader(
            io.StringIO(streamed_text(auditor.get(reverse("audit:export_csv"), headers={"accept-language": "zh-hans"})))
        )
    )

    assert english["changes"] == (
        "State: Enabled \u2192 Disabled; User tags: +gold \u2212old (failed: tag rejected); "
        "Host name or IP address: (empty) \u2192 10.0.0.2"
    )
    assert english["reason"] == "Permission denied." and english["timestamp"].endswith("+00:00")
    assert chinese["changes"].startswith("启用状态: 已启用 \u2192 已禁用; ") and chinese["reason"] == "权限不足。"
    assert chinese["timestamp"] == english["timestamp"]  # ISO 8601 UTC whatever the language


def test_a_formula_inside_the_changes_json_cannot_start_a_cell():
    assert exports.neutralise([{"field": "name", "after": "=1+1"}]).startswith("[")
    assert exports.neutralise("=1+1") == "'=1+1" and exports.neutralise("plain") == "plain"
    assert exports.neutralise(None) == "" and exports.neutralise(42) == "42"


def test_invalid_export_filters_get_400(client):
    response = client_for(client, Role.AUDITOR).get(reverse("audit:export_csv"), {"outcome": "exploded"})
    assert response.status_code == 400


# --- one entry per submission (issue 13) ------------------------------------------------------------------


def test_an_attempt_and_its_outcome_are_one_entry_with_the_details_behind_a_disclosure(client):
    changes = (FieldChange("name", before="old", after="bs-new"), FieldChange("userTags", added=("gold",)))
    attempt = add_event(outcome=Outcome.ATTEMPTED, changes=changes)
    outcome = record(
        actor=actor(),
        action=Action.UPDATE,
        storage_uuid=STORAGE_A,
        storage_name="bs-a",
        outcome=Outcome.PARTIAL,
        attempt=attempt,
        changes=(
            FieldChange("name", before="old", after="bs-new", job="job-9", result="succeeded"),
            FieldChange("userTags", added=("gold",), job="job-10", result="failed", error_code="SYS.1007"),
        ),
        error_code="SYS.1007",
    )
    add_event(who="erin", uuid="not a uuid", outcome=Outcome.REFUSED, error_code="console.permission-denied")

    html = client_for(client, Role.AUDITOR).get(reverse("audit:log")).content.decode()

    rows = html.split("<tbody>")[1].split("</tbody>")[0].count("<tr")
    assert rows == 2 and "2 entries, newest first." in html
    entry = html[html.index(f'id="audit-event-{attempt.sequence}"') :]
    entry = entry[: entry.index("</tr>")]
    details = entry[entry.index("<details") : entry.index("</details>")]
    # Address, browser, job ids and hashes only inside the disclosure; the row says who, what and how it ended.
    for hidden in ("198.51.100.7", "pytest", "job-9", "job-10", attempt.hash, outcome.hash):
        assert hidden in details and entry.count(hidden) == 1
    assert "<summary>Details" in details and "Partly succeeded" in entry and "SYS.1007" in entry
    assert f'href="/storages/{STORAGE_A}/">bs-a</a>' in entry  # the storage, linked
    assert "Permission denied." in html and "/storages/not" not in html  # no link where no storage page can be


def test_paging_counts_entries_and_never_splits_a_submission(client):
    for n in range(3):
        attempt = add_event(who=f"user{n}", outcome=Outcome.ATTEMPTED)
        record(
            actor=actor(f"user{n}"),
            action=Action.UPDATE,
            storage_uuid=STORAGE_A,
            storage_name="bs-a",
            outcome=Outcome.SUCCEEDED,
            attempt=attempt,
        )
    auditor = client_for(client, Role.AUDITOR)

    with mock.patch("dashboard.audit.views.PAGE_SIZE", 2):
        first = auditor.get(reverse("audit:log")).content.decode()
        second = auditor.get(reverse("audit:log"), {"page": 2}).content.decode()

    assert "Page 1 of 2" in first and 'id="audit-event-5"' in first and 'id="audit-event-3"' in first
    assert 'id="audit-event-1"' in second and second.count("audit-entry") == 1
    assert "No. 2 (Succeeded)" in second  # the outcome row sits with its attempt on the attempt's page
