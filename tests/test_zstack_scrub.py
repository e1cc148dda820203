"""Every encoding of a secret is scrubbed from what ZStack (or a proxy) echoes back (issue 9): literal,
JSON-escaped in its ASCII and non-ASCII forms, HTML-escaped, URL-encoded, and inside an error's ``details``.
The error text is what the audit trail stores, pages show and logs print, so scrubbing it at the transport
keeps the secret out of all of them."""

import html
import json
import re
from urllib.parse import quote, quote_plus

import pytest
import requests

from dashboard.zstack import errors, transport

SECRET = 'p"密\\X'  # a quote, a non-ASCII character and a backslash: each encoding writes them differently
WHAT = "PUT /zstack/v1/backup-storage/image-store/abc/actions"


def json_escaped(secret: str, *, ascii_only: bool) -> str:
    return json.dumps(secret, ensure_ascii=ascii_only)[1:-1]


ENCODINGS = {
    "literal": SECRET,
    "json-ascii": json_escaped(SECRET, ascii_only=True),  # p\"\u5bc6\\X
    "json-ascii-upper-hex": json_escaped(SECRET, ascii_only=True).replace("\\u5bc6", "\\u5BC6"),
    "json-non-ascii": json_escaped(SECRET, ascii_only=False),  # p\"密\\X
    "json-every-char-escaped": "".join(f"\\u{ord(c):04x}" for c in SECRET),
    "json-in-json": json_escaped(json_escaped(SECRET, ascii_only=True), ascii_only=True),
    "html": html.escape(SECRET),  # p&quot;密\X
    "html-numeric": "".join(f"&#{ord(c)};" for c in SECRET),
    "html-hex": "".join(f"&#x{ord(c):X};" for c in SECRET),
    "url": quote(SECRET, safe=""),  # p%22%E5%AF%86%5CX
    "url-lower-hex": re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote(SECRET, safe="")),
}


@pytest.mark.parametrize("echoed", ENCODINGS.values(), ids=ENCODINGS.keys())
def test_each_encoding_of_a_secret_is_scrubbed(echoed):
    text = f"update refused: password={echoed} is not accepted"

    scrubbed = transport.scrub(text, [SECRET])

    assert scrubbed == "update refused: password=****** is not accepted"


def test_a_secret_with_spaces_is_scrubbed_when_form_encoded():
    secret = "two words & more"

    assert transport.scrub(f"body: password={quote_plus(secret)}&x=1", [secret]) == "body: password=******&x=1"


def test_a_secret_beyond_the_basic_plane_is_scrubbed_from_its_json_surrogate_pair():
    secret = "k😀y"

    assert transport.scrub(json.dumps({"p": secret}), [secret]) == '{"p": "******"}'


def test_scrubbing_leaves_other_text_alone():
    text = 'password "p" is wrong; 密 and \\X are fine on their own'

    assert transport.scrub(text, [SECRET]) == text


def response(status: int, body: str) -> requests.Response:
    answer = requests.Response()
    answer.status_code, answer._content = status, body.encode("utf-8")
    return answer


@pytest.mark.parametrize("echoed", ENCODINGS.values(), ids=ENCODINGS.keys())
def test_each_encoding_is_scrubbed_from_a_zstack_errors_details(echoed):
    # A 503 carries ZStack's ErrorCode as JSON; its details (and its cause's) may quote the request.
    body = json.dumps(
        {
            "error": {
                "code": "SYS.1007",
                "description": "bad request",
                "details": f"cannot apply password {echoed}",
                "cause": {"code": "SYS.1000", "details": f"sshpass -p {echoed}"},
            }
        }
    )
    with pytest.raises(errors.ZStackError) as caught:
        transport.decode(response(503, body), WHAT, secrets=(SECRET,), write=True)

    error = caught.value
    shown = " ".join(
        [str(error), repr(error), error.user_message, str(error.details), json.dumps(vars(error), default=str)]
    )
    assert "******" in error.details
    for encoding in {echoed, *ENCODINGS.values()}:
        assert encoding not in shown


@pytest.mark.parametrize("status", [400, 500, 502])
def test_a_json_escaped_secret_in_a_plain_text_error_body_is_scrubbed(status):
    body = '{"request": {"password": "' + ENCODINGS["json-ascii"] + '"}}'

    with pytest.raises(errors.ZStackError) as caught:
        transport.decode(response(status, body), WHAT, secrets=(SECRET,), write=False)

    assert ENCODINGS["json-ascii"] not in str(caught.value) and "******" in str(caught.value)
