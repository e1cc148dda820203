"""Property tests (Hypothesis) of what users type: the edit form, the list filters, the audit filters.

Whatever arrives, the console answers below 500, and input it rejects never reaches ZStack: the
simulator records every request it gets (simulator/README.md, /_sim/requests). Examples: 1,000 per
test with CI=true, 50 otherwise (profiles in tests/conftest.py).
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dashboard.accounts.roles import Role
from dashboard.audit.log import Action, Outcome
from dashboard.storages.forms import StorageFilterForm
from tests.storage_helpers import make_user

# slow: each property makes many real HTTP round trips to the simulator (make test runs them, test-fast not).
pytestmark = [pytest.mark.django_db, pytest.mark.slow]

# Any text a browser can send in a form field (no surrogates: they cannot be UTF-8 encoded), short and
# long, with the characters that tend to matter: NUL, newlines, quotes, SQL LIKE and ZStack query operators.
SPECIAL = st.sampled_from(
    [
        "\x00",
        "\n",
        "\r\n",
        "'",
        '"',
        "%",
        "_",
        "!=",
        ">=",
        "<=",
        "!?=",
        "!~=",
        "=",
        ",",
        "&",
        "<script>",
        "  ",
        "\u200b",
        "名称",
        "../",
        ";",
        "\t",
    ]
)
ANY_TEXT = st.one_of(
    st.text(st.characters(exclude_categories=("Cs",)), max_size=40),
    st.lists(st.one_of(SPECIAL, st.text(max_size=5)), max_size=8).map("".join),
    st.text(st.characters(exclude_categories=("Cs",)), min_size=250, max_size=300),
)


class FormFields(HTMLParser):
    """The name and value of every field of the page's edit form, hidden ones included, as a browser
    would submit them unchanged."""

    def __init__(self):
        super().__init__()
        self.fields: dict[str, str] = {}
        self._in_form = False
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("id") or "").startswith("storage-edit-"):
            self._in_form = True
        elif self._in_form and tag == "input" and attrs.get("name") and attrs.get("type") not in {"submit", "button"}:
            self.fields[attrs["name"]] = attrs.get("value") or ""
        elif self._in_form and tag == "textarea":
            self._textarea = attrs["name"]
            self.fields[self._textarea] = ""

    def handle_data(self, data):
        if self._textarea:
            self.fields[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "form":
            self._in_form = False


def _form_fields(html: str) -> dict[str, str]:
    parser = FormFields()
    parser.feed(html)
    parser.close()
    # A browser drops the newline that opens a <textarea>'s content; so do we.
    return {k: v[1:] if v.startswith("\n") else v for k, v in parser.fields.items()}


def _field_values(field: str):
    """Plausible and hostile values for one of the edit form's fields; None keeps the loaded value."""
    plausible = {
        "name": st.from_regex(r"\A[a-z][a-z0-9-]{0,20}\Z"),
        "description": st.text(max_size=60),
        "hostname": st.one_of(st.from_regex(r"\A[a-z]{1,10}(\.[a-z]{1,10}){0,2}\Z"), st.ip_addresses(v=4).map(str)),
        "username": st.from_regex(r"\A[a-z_][a-z0-9_]{0,15}\Z"),
        "password": st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=30),
        "sshPort": st.integers(-10, 70000).map(str),
        "systemTags": st.lists(st.from_regex(r"\A[a-z]{1,8}::[a-z0-9]{1,8}\Z"), max_size=3).map("\n".join),
        "userTags": st.lists(st.text(max_size=12), max_size=3).map("\r\n".join),
    }[field]
    return st.one_of(st.none(), plausible, ANY_TEXT)


EDITED = st.fixed_dictionaries(
    {
        f: _field_values(f)
        for f in ("name", "description", "hostname", "username", "password", "sshPort", "systemTags", "userTags")
    }
)


def test_the_edit_form_never_fails_and_what_it_rejects_never_reaches_zstack(client, zstack_simulator, settings):
    settings.ZSTACK_URL = zstack_simulator.url
    client.force_login(make_user(Role.ADMIN, "property-admin"))

    @given(edits=EDITED, storage_index=st.integers(0, 2))
    def check(edits, storage_index):
        zstack_simulator.reset()
        uuid = zstack_simulator.storages()[storage_index]["uuid"]
        page = client.get(f"/storages/{uuid}/edit/")
        assert page.status_code == 200
        data = _form_fields(page.content.decode())
        assert {"name", "hostname", "sshPort", "loaded"} <= set(data)  # the form was found
        data.update({k: v for k, v in edits.items() if v is not None})
        zstack_simulator.clear_requests()

        response = client.post(f"/storages/{uuid}/edit/", data)

        assert response.status_code < 500, (response.status_code, data)
        assert response.status_code in {302, 409, 422}, response.status_code
        refused_by_zstack = "SYS.1007" in response.content.decode()  # e.g. a system tag no ZStack pattern accepts
        if response.status_code == 422 and not refused_by_zstack:  # the form rejected it: nothing was sent
            assert zstack_simulator.requests() == []
        if refused_by_zstack:  # valid for the form, refused by ZStack through its job: no PUT of the refused tag
            assert all(r["method"] != "PUT" or "systemTags" not in str(r["body"]) for r in zstack_simulator.requests())

    check()


LIST_PARAMS = st.fixed_dictionaries(
    {},
    optional={
        "q": st.one_of(ANY_TEXT, st.sampled_from(["bs", "prod", "bs-prod-bj-01", "%", "_"])),
        "state": st.one_of(ANY_TEXT, st.sampled_from(["Enabled", "Disabled"])),
        "status": st.one_of(ANY_TEXT, st.sampled_from(["Connected", "Disconnected", "Connecting"])),
        "zone": ANY_TEXT,
        "sort": st.one_of(ANY_TEXT, st.sampled_from(["name", "-name", "totalCapacity", "-availableCapacity"])),
        "page": st.one_of(ANY_TEXT, st.integers(-3, 10**12).map(str)),
        "page_size": st.one_of(ANY_TEXT, st.sampled_from(["10", "25", "50", "100"])),
    },
)


def _upstream(sim) -> list[tuple]:
    return [(r["method"], r["path"], r["query"]) for r in sim.requests() if not r["path"].endswith("/accounts/login")]


def test_the_list_filters_never_fail_and_an_invalid_filter_never_reaches_zstack(client, zstack_simulator, settings):
    """An invalid filter is dropped (the list falls back to its default): what ZStack is asked is exactly
    what it is asked without that filter."""
    settings.ZSTACK_URL = zstack_simulator.url
    client.force_login(make_user(Role.VIEWER, "property-viewer"))
    client.get("/storages/")  # the console's ZStack session and zone names, so both requests below start equal

    @given(params=LIST_PARAMS)
    def check(params):
        form = StorageFilterForm(params)
        form.is_valid()
        valid_only = {k: v for k, v in params.items() if k not in form.errors}

        zstack_simulator.clear_requests()
        # follow: a URL with empty or default parameters is redirected to the clean one (presenters.clean_query)
        response = client.get("/storages/?" + urlencode(params), follow=True)
        asked = sorted(_upstream(zstack_simulator))  # the page's two reads run at once: in either order
        zstack_simulator.clear_requests()
        client.get("/storages/?" + urlencode(valid_only), follow=True)

        assert response.status_code == 200, (response.status_code, params)
        assert asked == sorted(_upstream(zstack_simulator)), (params, form.errors)

    check()


AUDIT_PARAMS = st.fixed_dictionaries(
    {},
    optional={
        "since": st.one_of(ANY_TEXT, st.datetimes().map(lambda d: d.strftime("%Y-%m-%dT%H:%M"))),
        "until": st.one_of(ANY_TEXT, st.datetimes().map(lambda d: d.isoformat())),
        "actor": st.one_of(ANY_TEXT, st.just("alice")),
        "storage": ANY_TEXT,
        "action": st.one_of(ANY_TEXT, st.sampled_from([a.value for a in Action])),
        "outcome": st.one_of(ANY_TEXT, st.sampled_from([o.value for o in Outcome])),
        "field": ANY_TEXT,
        "page": st.one_of(ANY_TEXT, st.integers(-3, 10**12).map(str)),
    },
)


def test_the_audit_filters_never_fail_and_never_call_zstack(client, zstack_simulator, settings):
    settings.ZSTACK_URL = zstack_simulator.url
    client.force_login(make_user(Role.AUDITOR, "property-auditor"))
    from dashboard.accounts.actor import Actor
    from dashboard.audit import log as audit

    audit.record(
        actor=Actor.system("alice"),
        action=Action.UPDATE,
        storage_uuid="a" * 32,
        storage_name="bs",
        outcome=Outcome.INVALID,
    )
    zstack_simulator.clear_requests()

    @given(params=AUDIT_PARAMS, export=st.booleans())
    def check(params, export):
        response = client.get(("/audit/export.csv?" if export else "/audit/?") + urlencode(params))
        if export and response.status_code == 200:
            b"".join(response.streaming_content)  # the export fails, if at all, while streaming
        assert response.status_code in {200, 400}, (response.status_code, params)
        assert zstack_simulator.requests() == []

    check()
