"""How every kind of answer (or no answer) maps to the ZStackError family (docs/zstack-protocol.md §7).

These drive ``ZStackClient._request`` through an injected fake ``requests.Session``, so each
status/body combination is exact; the same paths over real HTTP are in test_zstack_client.py.
"""

import json

import pytest
import requests
from requests.structures import CaseInsensitiveDict
from urllib3.exceptions import MaxRetryError, NewConnectionError

from dashboard.zstack import errors, jobs
from dashboard.zstack.client import ZStackClient
from dashboard.zstack.inventory import JobTicket
from tests.sim_helpers import run_job

SESSION = "5e55" * 8
STORAGE = "b5" * 16


def answer(status, body=b"", headers=None):
    response = requests.Response()
    response.status_code = status
    response._content = body if isinstance(body, bytes) else json.dumps(body).encode()
    response.headers = CaseInsensitiveDict(headers or {})  # ZStack sends no Content-Type (§1)
    return response


class FakeHttp:
    """Plays the given answers in order (the last one repeats); records every call."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls = []

    def request(self, method, url, **kwargs):
        self.calls.append((method, url, kwargs))
        result = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(result, BaseException):
            raise result
        return result

    def methods(self):
        return [method for method, _, _ in self.calls]


def client_with(*answers, **kwargs):
    http = FakeHttp(*answers)
    client = ZStackClient("http://zstack.test:8080", "admin", "Canary-Pw-7f3e", session=http, **kwargs)
    client._session_uuid = SESSION  # skip the login exchange; test_zstack_client.py covers it
    client.retry_backoff = 0
    return client, http


ERROR_WITH_CAUSE = {
    "error": {
        "code": "SYS.1006",
        "description": "An operation failed",
        "details": "cannot connect to 10.0.0.5",
        "cause": {
            "code": "SYS.1000",
            "description": "An internal error happened in system",
            "details": "ssh refused",
            "cause": {"code": "ORG.ZSTACK.STORAGE.BACKUP.10001", "details": "port 22 closed"},
        },
    }
}


def test_a_503_json_error_keeps_code_description_details_and_the_cause_chain():
    client, _ = client_with(answer(503, ERROR_WITH_CAUSE))
    with pytest.raises(errors.OperationFailed) as caught:
        client.query_zones()
    error = caught.value
    assert (error.code, error.description, error.details) == (
        "SYS.1006",
        "An operation failed",
        "cannot connect to 10.0.0.5",
    )
    assert error.http_status == 503
    assert [c.code for c in error.causes] == ["SYS.1000", "ORG.ZSTACK.STORAGE.BACKUP.10001"]
    assert error.causes[1].details == "port 22 closed"
    assert error.user_message == "cannot connect to 10.0.0.5"


@pytest.mark.parametrize(
    ("code", "error_class"),
    [
        ("ID.1000", errors.AuthenticationFailed),
        ("ID.1002", errors.PermissionDenied),
        ("SYS.1001", errors.ZStackTimeout),
        ("SYS.1003", errors.ResourceNotFound),
        ("SYS.1007", errors.InvalidArgument),
        ("SYS.1010", errors.ZStackUnavailable),
        ("SYS.1005", errors.OperationFailed),
    ],
)
def test_each_zstack_code_maps_to_the_error_named_by_what_to_do_next(code, error_class):
    client, _ = client_with(answer(503, {"error": {"code": code, "details": "d"}}))
    with pytest.raises(error_class) as caught:
        client.query_zones()
    assert caught.value.code == code


def test_a_400_plain_text_is_an_invalid_argument_carrying_the_text():
    text = b"Invalid query parameter. 'limit' must be an integer"
    client, _ = client_with(answer(400, text))
    with pytest.raises(errors.InvalidArgument) as caught:
        client.query_zones()
    assert caught.value.details == text.decode()
    assert caught.value.http_status == 400
    assert caught.value.code == "sdk.1000"


@pytest.mark.parametrize(
    ("status", "text"),
    [
        (404, b"no api mapping to /v1/nowhere"),
        (405, b"only GET method is allowed"),
        (500, b""),
        (500, b"java.lang.NullPointerException"),
    ],
)
def test_404_405_and_500_texts_are_protocol_errors(status, text):
    client, _ = client_with(answer(status, text))
    with pytest.raises(errors.ProtocolError) as caught:
        client.query_zones()
    assert caught.value.http_status == status
    assert caught.value.code == "sdk.1000"
    assert text.decode() in str(caught.value)


@pytest.mark.parametrize("body", [b"", b"   ", b"{not json", b"[1, 2]", b"<html>oops</html>"])
def test_an_empty_or_malformed_success_body_is_a_protocol_error(body):
    client, _ = client_with(answer(200, body))
    with pytest.raises(errors.ProtocolError) as caught:
        client.query_zones()
    assert caught.value.code == "sdk.1002"


def test_a_503_that_is_not_zstack_json_is_a_protocol_error_with_the_text():
    client, _ = client_with(answer(503, b"Service Temporarily Unavailable"))
    with pytest.raises(errors.ProtocolError) as caught:
        client.query_zones()
    assert "Service Temporarily Unavailable" in caught.value.details


def test_a_success_without_content_type_is_parsed():
    client, _ = client_with(answer(200, {"inventories": [{"uuid": "z" * 32, "name": "zone-1"}], "schema": {}}))
    page = client.query_zones()
    assert [zone.name for zone in page.items] == ["zone-1"]


def test_inventories_that_are_not_a_list_of_objects_are_a_protocol_error():
    client, _ = client_with(answer(200, {"inventories": "nope"}))
    with pytest.raises(errors.ProtocolError):
        client.query_zones()


@pytest.mark.parametrize(
    ("exception", "error_class"),
    [
        (requests.ConnectionError("refused"), errors.ZStackUnavailable),
        (requests.ConnectTimeout("connect timed out"), errors.ZStackUnavailable),
        (requests.ReadTimeout("read timed out"), errors.ZStackTimeout),
        (requests.exceptions.ChunkedEncodingError("dropped"), errors.ZStackUnavailable),
    ],
)
def test_transport_failures_map_to_unavailable_or_timeout(exception, error_class):
    client, _ = client_with(exception)
    with pytest.raises(error_class):
        client.query_zones()


def test_a_failed_get_is_retried_twice_then_succeeds():
    client, http = client_with(
        requests.ConnectionError("reset"), requests.ConnectionError("reset"), answer(200, {"inventories": []})
    )
    assert client.query_zones().items == ()
    assert http.methods() == ["GET", "GET", "GET"]


def test_a_get_gives_up_after_two_retries():
    client, http = client_with(requests.ConnectionError("reset"))
    with pytest.raises(errors.ZStackUnavailable):
        client.query_zones()
    assert http.methods() == ["GET", "GET", "GET"]


def test_a_read_timeout_is_not_retried():
    client, http = client_with(requests.ReadTimeout("slow"))
    with pytest.raises(errors.ZStackTimeout):
        client.query_zones()
    assert http.methods() == ["GET"]


def test_a_put_is_never_retried_and_a_lost_connection_after_sending_leaves_the_outcome_unknown():
    client, http = client_with(requests.ConnectionError("reset"))
    with pytest.raises(errors.OutcomeUnknown) as caught:
        client.submit_update(STORAGE, name="n", job_uuid="ab" * 16)
    assert http.methods() == ["PUT"]
    assert caught.value.job_uuid == "ab" * 16
    assert "may still complete" in caught.value.user_message


def refused() -> requests.ConnectionError:
    """What requests raises when the port refuses the connection: nothing was sent."""
    reason = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused")
    return requests.ConnectionError(MaxRetryError(None, "/zstack/v1/backup-storage", reason=reason))


def test_a_refused_connection_on_a_put_is_unavailable_because_nothing_was_sent():
    client, http = client_with(refused())
    with pytest.raises(errors.ZStackUnavailable) as caught:
        client.submit_update(STORAGE, name="n", job_uuid="ab" * 16)
    assert not isinstance(caught.value, errors.OutcomeUnknown)
    assert http.methods() == ["PUT"]


def test_a_connect_timeout_on_a_put_is_unavailable_because_nothing_was_sent():
    client, _ = client_with(requests.ConnectTimeout("connect timed out"))
    with pytest.raises(errors.ZStackUnavailable):
        client.submit_change_state(STORAGE, "disable", job_uuid="ab" * 16)


# The mappings below are also proven against the simulator over real HTTP (tests/test_zstack_client.py,
# "Each kind of lost or unreadable answer to a write"); these pin the pure mapping.


@pytest.mark.parametrize("status", [502, 504])
def test_a_proxy_error_on_a_put_leaves_the_outcome_unknown_but_on_a_get_means_unreachable(status):
    client, _ = client_with(answer(status, b"Bad Gateway"))
    with pytest.raises(errors.OutcomeUnknown):
        client.submit_reconnect(STORAGE, job_uuid="ab" * 16)
    client, _ = client_with(answer(status, b"Bad Gateway"))
    with pytest.raises(errors.ZStackUnavailable):
        client.query_zones()


def test_an_accepted_job_whose_polls_cannot_reach_zstack_raises_unavailable_to_be_looked_at_again():
    client, http = client_with(
        answer(202, {"location": "http://mn/zstack/v1/api-jobs/" + "a" * 32}), requests.ConnectionError("reset")
    )
    ticket = client.submit_change_state(STORAGE, "disable", job_uuid="a" * 32)
    with pytest.raises(errors.ZStackUnavailable) as caught:  # the job's fate is unknown: not a failure
        client.poll_job(ticket)
    assert not isinstance(caught.value, errors.OutcomeUnknown)
    assert http.methods() == ["PUT", "GET", "GET", "GET"]  # polls are reads: retried


def test_an_accepted_job_that_fails_with_sys_1010_is_a_definite_failure():
    client, _ = client_with(
        answer(202, {"location": "http://mn/zstack/v1/api-jobs/" + "a" * 32}),
        answer(503, {"error": {"code": "SYS.1010", "details": "not ready"}}),
    )
    status = client.poll_job(client.submit_change_state(STORAGE, "disable", job_uuid="a" * 32))
    assert status.done and isinstance(status.error, errors.ZStackUnavailable)
    assert not isinstance(status.error, errors.OutcomeUnknown)
    assert status.error.job_uuid == "a" * 32


def test_logging_in_over_a_lost_connection_is_unavailable_not_an_unknown_outcome():
    http = FakeHttp(requests.ConnectionError("reset"))
    client = ZStackClient("http://zstack.test:8080", "admin", "Canary-Pw-7f3e", session=http)
    with pytest.raises(errors.ZStackUnavailable) as caught:
        client.query_zones()
    assert not isinstance(caught.value, errors.OutcomeUnknown)


def test_timeouts_and_lost_jobs_are_kinds_of_unknown_outcome():
    assert issubclass(errors.ZStackTimeout, errors.OutcomeUnknown)
    assert issubclass(errors.JobLost, errors.OutcomeUnknown)
    assert not issubclass(errors.ZStackUnavailable, errors.OutcomeUnknown)


def test_every_call_carries_a_timeout():
    client, http = client_with(answer(200, {"inventories": []}), timeout=3.5)
    client.query_zones()
    assert http.calls[0][2]["timeout"] == 3.5


def test_a_job_that_answers_404_is_lost_and_names_its_job():
    client, _ = client_with(
        answer(202, {"location": "http://10.9.9.9:8080/zstack/v1/api-jobs/" + "c" * 32}),
        answer(404, b"the job has been expired"),
    )
    ticket = client.submit_reconnect(STORAGE, job_uuid="c" * 32)
    with pytest.raises(errors.JobLost) as caught:
        client.poll_job(ticket)
    assert caught.value.job_uuid == "c" * 32
    assert caught.value.details == "the job has been expired"


def test_a_job_failure_is_raised_with_its_code_and_job_uuid():
    client, _ = client_with(
        answer(202, {"location": "http://mn/zstack/v1/api-jobs/" + "d" * 32}),
        answer(503, {"error": {"code": "SYS.1007", "details": "sshPort out of range"}}),
    )
    with pytest.raises(errors.InvalidArgument) as caught:
        run_job(client, client.submit_update(STORAGE, ssh_port=70000, job_uuid="d" * 32))
    assert caught.value.job_uuid == "d" * 32


def test_a_running_job_is_not_done_and_a_synchronous_answer_needs_no_poll():
    client, http = client_with(answer(202, {"location": "http://mn/zstack/v1/api-jobs/" + "e" * 32}), answer(202, {}))
    ticket = client.submit_change_state(STORAGE, "disable", job_uuid="e" * 32)
    assert client.poll_job(ticket).done is False
    assert http.methods() == ["PUT", "GET"]
    answered = JobTicket(job_uuid="e" * 32, poll_path=None, result={"inventory": {"uuid": STORAGE}})
    assert client.poll_job(answered).body == {"inventory": {"uuid": STORAGE}}
    assert http.methods() == ["PUT", "GET"]


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("http://172.20.0.10:8080/zstack/v1/api-jobs/" + "a1" * 16, "/api-jobs/" + "a1" * 16),
        ("https://mn.example:443/proxy/zstack/v1/api-jobs/" + "a2" * 16 + "/", "/api-jobs/" + "a2" * 16),
        (None, "/api-jobs/" + "99" * 16),
        ("http://mn/elsewhere", "/api-jobs/" + "99" * 16),
    ],
)
def test_the_job_location_keeps_only_the_job_id(location, expected):
    assert jobs.job_path(location, "99" * 16) == expected


def test_polls_go_to_the_configured_host_not_the_advertised_one():
    client, http = client_with(
        answer(202, {"location": "http://172.20.0.10:8080/zstack/v1/api-jobs/" + "a" * 32}),
        answer(200, {"inventory": {"uuid": STORAGE, "state": "Enabled"}}),
    )
    run_job(client, client.submit_change_state(STORAGE, "enable", job_uuid="a" * 32))
    assert http.calls[1][0:2] == ("GET", "http://zstack.test:8080/zstack/v1/api-jobs/" + "a" * 32)


def test_a_single_string_is_refused_as_a_condition_list():
    client, http = client_with(answer(200, {"inventories": []}))
    with pytest.raises(TypeError):
        client.query_zones("name=zone-1")
    assert http.calls == []


def test_secrets_echoed_by_the_server_are_scrubbed_from_error_texts():
    echoed = {
        "error": {
            "code": "SYS.1007",
            "description": "bad",
            "details": "password ssh-Secret-99 rejected for session " + SESSION,
        }
    }
    client, _ = client_with(answer(202, {"location": "http://mn/zstack/v1/api-jobs/" + "b" * 32}), answer(503, echoed))
    ticket = client.submit_update(STORAGE, password="ssh-Secret-99", job_uuid="b" * 32)
    with pytest.raises(errors.InvalidArgument) as caught:
        run_job(client, ticket, secrets=("ssh-Secret-99",))
    text = str(caught.value) + repr(caught.value) + caught.value.user_message
    assert "ssh-Secret-99" not in text
    assert SESSION not in text


def test_transport_error_texts_never_hold_the_logout_url_with_the_session():
    client, _ = client_with(requests.ConnectionError(f"Max retries exceeded with url: /accounts/sessions/{SESSION}"))
    with pytest.raises(errors.ZStackError) as caught:
        client.logout()
    assert SESSION not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__context__ is None


def test_the_user_message_of_an_unreachable_zstack_is_a_plain_sentence():
    client, _ = client_with(requests.ConnectionError("refused"))
    with pytest.raises(errors.ZStackUnavailable) as caught:
        client.query_zones()
    assert "could not be reached" in caught.value.user_message
