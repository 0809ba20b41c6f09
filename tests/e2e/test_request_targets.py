"""Over HTTP, bytes as a partner's client puts them on the wire: targets that need encoding, and methods nobody declared.

``http.client`` sends each request target exactly as written (``requests`` would
normalise it), so these are the spellings the contract's canonical rule is about.
"""
from __future__ import annotations

import http.client
import json
import secrets
import time
from urllib.parse import urlsplit

import pytest

from chalicelib.domain.canonical_request import canonical_target
from chalicelib.domain.signing import sign

pytestmark = pytest.mark.e2e


def _send(local_stack, method: str, target: str, signed_path: str | None = None) -> tuple[int, dict[str, str], bytes]:
    url = urlsplit(local_stack.api_url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    headers = {}
    if signed_path is not None:
        ts, nonce = str(int(time.time())), secrets.token_hex(16)
        headers = {
            "X-Partner-Id": "P_DEMO",
            "X-Timestamp": ts,
            "X-Nonce": nonce,
            "X-Signature": sign(local_stack.secrets["P_DEMO"], method, signed_path, ts, nonce, b""),
        }
    connection.request(method, url.path.rstrip("/") + target, headers=headers)
    response = connection.getresponse()
    answer = response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    connection.close()
    return answer


@pytest.mark.parametrize(
    ("target", "answer"),
    [
        ("/v1/loans/x:y", (404, "NOT_FOUND")),
        ("/v1/loans/0%C3%A9", (404, "NOT_FOUND")),
        ("/v1/loans/%E8%B4%B7;v=1", (404, "NOT_FOUND")),
        ("/v1/loans/a%2Fb/schedule", (404, "NOT_FOUND")),
        ("/v1/events?after=a%20b", (400, "INVALID_INPUT")),
        ("/v1/events?limit=3&after=a+b%2B%E8%B4%B7", (400, "INVALID_INPUT")),
        ("/v1/events?limit=%33", (200, None)),
    ],
)
def test_a_target_signed_over_its_canonical_form_is_answered_by_its_route(local_stack, target, answer):
    status, _, body = _send(local_stack, "GET", target, canonical_target(target))
    assert (status, json.loads(body).get("code")) == answer, body


def test_a_target_signed_with_one_character_changed_is_refused(local_stack):
    status, _, body = _send(local_stack, "GET", "/v1/loans/x:y", "/v1/loans/x%3Az")
    assert (status, json.loads(body)["code"]) == (401, "SIGNATURE_INVALID")


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "QUERY", "BREW", "DELETE", "PUT"])
def test_a_method_the_resource_does_not_declare_answers_405_with_allow_in_the_contract_shape(local_stack, method):
    status, headers, body = _send(local_stack, method, "/v1/loans/LN1")
    assert (status, headers.get("allow"), headers.get("content-type")) == (405, "GET", "application/json"), body
    assert json.loads(body)["code"] == "METHOD_NOT_ALLOWED"


def test_options_lists_the_resource_s_methods_and_an_unknown_resource_is_404(local_stack):
    status, headers, _ = _send(local_stack, "OPTIONS", "/v1/applications")
    assert (status, headers.get("allow")) == (204, "POST")
    status, headers, body = _send(local_stack, "TRACE", "/v1/nothing-here")
    assert (status, headers.get("content-type"), json.loads(body)["code"]) == (404, "application/json", "NOT_FOUND")
