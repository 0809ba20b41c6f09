"""Signatures over paths and queries that need encoding, through Chalice's test client.

The test client's gateway hands the app the event API Gateway would (the path and
the query decoded once: ``local.api_gateway``), so these are the requests a partner
sends to AWS. Each is signed by the contract's rule (the canonical path and query)
and must get past authentication to the answer its route gives: a 404 for an id
nobody issued, a 400 for an invented cursor, never a 401. A signature over a
spelling of another request, or with one character changed, is refused.
"""
from __future__ import annotations

import secrets
import time
from typing import Any

import pytest

from chalicelib.domain import canonical_request
from chalicelib.domain.signing import sign

TARGETS = [
    # (as sent, the canonical path and query, the answer past authentication)
    ("/v1/loans/x:y", "/v1/loans/x%3Ay", (404, "NOT_FOUND")),
    ("/v1/loans/x%3Ay", "/v1/loans/x%3Ay", (404, "NOT_FOUND")),
    ("/v1/loans/0%C3%A9", "/v1/loans/0%C3%A9", (404, "NOT_FOUND")),
    ("/v1/loans/%E8%B4%B7%E6%AC%BE", "/v1/loans/%E8%B4%B7%E6%AC%BE", (404, "NOT_FOUND")),
    ("/v1/loans/a%2Fb", "/v1/loans/a%2Fb", (404, "NOT_FOUND")),
    ("/v1/loans/a%20b/schedule", "/v1/loans/a%20b/schedule", (404, "NOT_FOUND")),
    ("/v1/loans/a+b!$'()*,;=@", "/v1/loans/a%2Bb%21%24%27%28%29%2A%2C%3B%3D%40", (404, "NOT_FOUND")),
    ("/v1/loans/%7Etilde~", "/v1/loans/~tilde~", (404, "NOT_FOUND")),
    ("/v1/loans/100%25", "/v1/loans/100%25", (404, "NOT_FOUND")),
    ("/v1/applications/APP%3A1", "/v1/applications/APP%3A1", (404, "NOT_FOUND")),
    ("/v1/events?after=a%20b", "/v1/events?after=a%20b", (400, "INVALID_INPUT")),
    ("/v1/events?after=a+b", "/v1/events?after=a%2Bb", (400, "INVALID_INPUT")),
    ("/v1/events?limit=5&after=%E8%B4%B7", "/v1/events?after=%E8%B4%B7&limit=5", (400, "INVALID_INPUT")),
    ("/v1/events?limit=2&limit=1&after=z", "/v1/events?after=z&limit=1&limit=2", (400, "INVALID_INPUT")),
    ("/v1/events?limit=5", "/v1/events?limit=5", (200, None)),
    ("/v1/events?limit=%35", "/v1/events?limit=5", (200, None)),
    ("/v1/events?limit=5&", "/v1/events?limit=5", (200, None)),
]


def _get(client: Any, target: str, secret: str, signed_path: str, partner: str = "P_DEMO") -> tuple[int, dict[str, Any]]:
    ts, nonce = str(int(time.time())), secrets.token_hex(16)
    headers = {
        "x-partner-id": partner,
        "x-timestamp": ts,
        "x-nonce": nonce,
        "x-signature": sign(secret, "GET", signed_path, ts, nonce, b""),
    }
    response = client.http.get(target, headers=headers)
    return response.status_code, response.json_body


@pytest.mark.parametrize(("target", "canonical", "answer"), TARGETS, ids=[t[0] for t in TARGETS])
def test_a_request_signed_over_its_canonical_form_gets_past_authentication(client, aws, target, canonical, answer):
    assert canonical_request.canonical_target(target) == canonical  # the documented rule, as the client computes it
    status, body = _get(client, target, aws.secrets["P_DEMO"], canonical)
    assert (status, body.get("code")) == answer, body


@pytest.mark.parametrize(
    ("target", "signed_as"),
    [
        ("/v1/loans/x:y", "/v1/loans/x:y"),  # the path exactly as sent
        ("/v1/loans/x@y,z", "/v1/loans/x@y,z"),  # encoded only where a path must be
        ("/v1/loans/%e4%b8%ad", "/v1/loans/%e4%b8%ad"),  # lowercase hex, exactly as sent
        ("/v1/events?limit=5&after=a%20b", "/v1/events?limit=5&after=a%20b"),  # the query in the order sent
        ("/v1/events?after=a%20b", "/v1/events?after=a+b"),  # what the server signed before the canonical rule
    ],
)
def test_until_the_transition_ends_a_signature_over_the_target_as_sent_verifies(client, aws, target, signed_as, monkeypatch):
    secret = aws.secrets["P_DEMO"]
    assert _get(client, target, secret, signed_as)[0] != 401

    from chalicelib.api import http

    after_the_transition = time.mktime((2027, 7, 1, 12, 0, 0, 0, 0, 0))
    monkeypatch.setattr(http.time, "time", lambda: after_the_transition)
    ts, nonce = str(int(after_the_transition)), secrets.token_hex(16)
    headers = {"x-partner-id": "P_DEMO", "x-timestamp": ts, "x-nonce": nonce, "x-signature": sign(secret, "GET", signed_as, ts, nonce, b"")}
    response = client.http.get(target, headers=headers)
    assert response.status_code == 401 and response.json_body["code"] == "SIGNATURE_INVALID"
    assert canonical_request.canonical_target(target) in response.json_body["message"]  # it names what to sign


@pytest.mark.parametrize(
    ("target", "signed_as"),
    [
        ("/v1/loans/x:y", "/v1/loans/x%3AY"),  # one character changed
        ("/v1/loans/x%3Ay", "/v1/loans/x%253Ay"),  # double-encoded: another id
        ("/v1/loans/a%2Fb", "/v1/loans/a/b"),  # another path
        ("/v1/events?after=a+b", "/v1/events?after=a%20b"),  # a space is not a plus
        ("/v1/events?limit=5", "/v1/events?limit=6"),
        ("/v1/events?limit=5", "/v1/events"),  # the query left out
        ("/v1/events?limit=5&limit=6", "/v1/events?limit=5"),  # a repeated parameter left out
    ],
)
def test_a_signature_over_another_request_is_refused(client, aws, target, signed_as):
    status, body = _get(client, target, aws.secrets["P_DEMO"], signed_as)
    assert (status, body["code"]) == (401, "SIGNATURE_INVALID"), body


def test_the_partner_client_signs_what_it_sends(aws, client, monkeypatch):
    """The project's own partner client (requests' prepared request, its path as requests encodes it) signs by the rule."""
    import requests

    from local.partner_client import PartnerSignature

    for url, params, answer in [
        ("http://api.example/v1/loans/x:y 贷;1", {}, (404, "NOT_FOUND")),
        ("http://api.example/v1/events", {"limit": "5", "after": "a b+c/贷"}, (400, "INVALID_INPUT")),
        ("http://api.example/v1/events", {"limit": "5"}, (200, None)),
    ]:
        prepared = requests.Request("GET", url, params=params).prepare()
        PartnerSignature("P_DEMO", aws.secrets["P_DEMO"])(prepared)
        headers = {name.lower(): value for name, value in prepared.headers.items()}
        response = client.http.get(prepared.path_url, headers=headers)
        assert (response.status_code, response.json_body.get("code")) == answer, (prepared.path_url, response.json_body)
