"""Every route × role × method against the expected table below. The routes come from the URLconf:
a new URL without a row here fails test_every_route_has_a_row, so no URL goes out unconsidered.

Cells are (GET, POST, DELETE) status codes, for a request without parameters or body (the test
client sends no CSRF token and does not check it). 302 for anonymous visitors is the login redirect.
"""

from __future__ import annotations

import pytest

from dashboard.accounts.roles import Role
from tests.storage_helpers import make_user
from tests.urlconf import path_for, routes

METHODS = ("GET", "POST", "DELETE")
ANONYMOUS = "anonymous"
#                          GET   POST  DELETE
PUBLIC_ONLY = (200, 405, 405)
LOGIN_FIRST = (302, 302, 302)
READ = (200, 405, 405)
DENIED_READ = (403, 405, 405)
DENIED_ACTION = (405, 403, 405)

EXPECTED: dict[str, dict[str, tuple[int, int, int]]] = {
    "healthz": {ANONYMOUS: PUBLIC_ONLY, "viewer": PUBLIC_ONLY, "auditor": PUBLIC_ONLY, "admin": PUBLIC_ONLY},
    # POST without fields: the form again with its errors.
    "login": {
        ANONYMOUS: (200, 200, 405),
        "viewer": (200, 200, 405),
        "auditor": (200, 200, 405),
        "admin": (200, 200, 405),
    },
    # GET asks for confirmation; logging out is a POST; logged out, it sends to the login page.
    "logout": {ANONYMOUS: LOGIN_FIRST, "viewer": (200, 302, 405), "auditor": (200, 302, 405), "admin": (200, 302, 405)},
    # Django's set_language redirects back whatever the method (it changes the language on POST only).
    "set_language": {ANONYMOUS: LOGIN_FIRST, "viewer": LOGIN_FIRST, "auditor": LOGIN_FIRST, "admin": LOGIN_FIRST},
    "storages:list": {ANONYMOUS: LOGIN_FIRST, "viewer": READ, "auditor": READ, "admin": READ},
    "storages:detail": {ANONYMOUS: LOGIN_FIRST, "viewer": READ, "auditor": READ, "admin": READ},
    "storages:card": {ANONYMOUS: LOGIN_FIRST, "viewer": READ, "auditor": READ, "admin": READ},
    # An empty POST is an invalid form: 422, and ZStack is not asked.
    "storages:edit": {
        ANONYMOUS: LOGIN_FIRST,
        "viewer": (403, 403, 405),
        "auditor": (403, 403, 405),
        "admin": (200, 422, 405),
    },
    # Actions are POSTs; a plain form post is answered with a redirect to the detail page.
    "storages:reconnect": {
        ANONYMOUS: LOGIN_FIRST,
        "viewer": DENIED_ACTION,
        "auditor": DENIED_ACTION,
        "admin": (405, 302, 405),
    },
    "storages:enable": {
        ANONYMOUS: LOGIN_FIRST,
        "viewer": DENIED_ACTION,
        "auditor": DENIED_ACTION,
        "admin": (405, 302, 405),
    },
    # GET asks for confirmation.
    "storages:disable": {
        ANONYMOUS: LOGIN_FIRST,
        "viewer": (403, 403, 405),
        "auditor": (403, 403, 405),
        "admin": (200, 302, 405),
    },
    # Issue 12: GET asks for confirmation, POST reclaims (a plain form post: redirect to the detail page).
    "storages:reclaim": {
        ANONYMOUS: LOGIN_FIRST,
        "viewer": (403, 403, 405),
        "auditor": (403, 403, 405),
        "admin": (200, 302, 405),
    },
    # Issue 12: the images on a storage, for every role (without htmx: the detail page).
    "storages:images": {ANONYMOUS: LOGIN_FIRST, "viewer": READ, "auditor": READ, "admin": READ},
    # A write's progress, for admins: an unknown submission shows the storage's detail page.
    "storages:submission": {ANONYMOUS: LOGIN_FIRST, "viewer": DENIED_READ, "auditor": DENIED_READ, "admin": READ},
    "audit:log": {ANONYMOUS: LOGIN_FIRST, "viewer": DENIED_READ, "auditor": READ, "admin": READ},
    "audit:export_csv": {ANONYMOUS: LOGIN_FIRST, "viewer": DENIED_READ, "auditor": READ, "admin": READ},
    "audit:export_json": {ANONYMOUS: LOGIN_FIRST, "viewer": DENIED_READ, "auditor": READ, "admin": READ},
    # Issue 12: the capacity overview, for every role.
    "capacity:overview": {ANONYMOUS: LOGIN_FIRST, "viewer": READ, "auditor": READ, "admin": READ},
    # A storage's own thresholds, set by admins: an empty POST is an invalid form (422, recorded as invalid);
    # other roles get 403 (their POST recorded as refused).
    "capacity:thresholds": {
        ANONYMOUS: LOGIN_FIRST,
        "viewer": (403, 403, 405),
        "auditor": (403, 403, 405),
        "admin": (200, 422, 405),
    },
    # The thresholds section alone (htmx's Cancel), for every role.
    "capacity:thresholds_show": {ANONYMOUS: LOGIN_FIRST, "viewer": READ, "auditor": READ, "admin": READ},
    # Back to the defaults; a plain form post is answered with a redirect to the detail page.
    "capacity:thresholds_reset": {
        ANONYMOUS: LOGIN_FIRST,
        "viewer": DENIED_ACTION,
        "auditor": DENIED_ACTION,
        "admin": (405, 302, 405),
    },
    # RedirectView redirects every method to the list.
    "home": {ANONYMOUS: LOGIN_FIRST, "viewer": LOGIN_FIRST, "auditor": LOGIN_FIRST, "admin": LOGIN_FIRST},
}
PUBLIC = {"healthz", "login", "logout", "set_language"}


def test_every_route_has_a_row_and_every_row_a_route():
    assert list(routes()) == list(EXPECTED), "add the new route to EXPECTED (or remove the old one)"


@pytest.mark.django_db
@pytest.mark.slow  # every route x every method, per role: the widest sweep of the suite
@pytest.mark.parametrize("role", [ANONYMOUS, *(r.value for r in Role)])
def test_every_route_answers_each_method_as_the_table_says(client, zstack_settings, role):
    user = None if role == ANONYMOUS else make_user(Role(role), f"matrix-{role}")
    uuid = zstack_settings.storages()[0]["uuid"]
    mismatches = []
    for name, expected_by_role in EXPECTED.items():
        for method, expected in zip(METHODS, expected_by_role[role], strict=True):
            client.logout()
            if user is not None:
                client.force_login(user)
            response = getattr(client, method.lower())(path_for(name, uuid))
            if response.status_code != expected:
                mismatches.append(f"{method} {name}: {response.status_code}, expected {expected}")
            if role == ANONYMOUS and name not in PUBLIC and response.status_code == 302:
                assert response["Location"].startswith("/accounts/login/?next="), name
    assert mismatches == []
