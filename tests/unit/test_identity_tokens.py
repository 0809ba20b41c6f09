"""Checking operators' id tokens (chalicelib/ports/identity.py), without AWS: tokens signed here."""
from __future__ import annotations

import json
import time

import pytest

from chalicelib.ports import identity
from tests.support import tokens

POOL, CLIENT = "us-east-1_Operators1", "console-client-id"
GROUPS = ["role-REVIEWER", "branch-BR_XICHENG"]


@pytest.fixture(autouse=True)
def local_pool(monkeypatch):
    monkeypatch.setenv("STAGE", "local")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("OPERATOR_USER_POOL_ID", POOL)
    monkeypatch.setenv("OPERATOR_USER_POOL_CLIENT_ID", CLIENT)
    identity.clear_cache()
    yield
    identity.clear_cache()


def claims(**changes):
    return tokens.id_claims(POOL, CLIENT, "reviewer.xicheng", GROUPS, "西城审核员", **changes)


def test_moto_publishes_the_public_half_of_the_key_it_signs_with():
    [public] = tokens.moto_jwks()["keys"]
    private = tokens.moto_jwks(private=True)
    assert (public["kid"], public["alg"], public["kty"]) == (private["kid"], "RS256", "RSA")
    assert (public["n"], public["e"]) == (private["n"], private["e"])
    assert "d" not in public


def test_a_valid_id_token_gives_its_claims():
    verified = identity.verify_id_token(tokens.signed(claims()))
    assert (verified["cognito:username"], verified["name"], verified["cognito:groups"]) == ("reviewer.xicheng", "西城审核员", GROUPS)


def another_rsa_key():
    from joserfc.jwk import RSAKey

    return RSAKey.generate_key(2048, parameters={"kid": tokens.MOTO_KID})


@pytest.mark.parametrize(
    "make, reason",
    [
        (lambda: tokens.signed(claims(exp=int(time.time()) - 60)), "expired"),
        (lambda: tokens.signed(claims(aud="another-client")), "aud"),
        (lambda: tokens.signed(claims(aud=[CLIENT, "another-client"])), "aud"),
        (lambda: tokens.signed(claims(iss="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Elsewhere")), "iss"),
        (lambda: tokens.signed(claims(iss=f"https://evil.example/{POOL}")), "iss"),
        (lambda: tokens.signed(claims(token_use="access", aud=None, client_id=CLIENT)), "access token"),
        (lambda: tokens.signed(claims(token_use="access")), "access token with an aud"),
        (lambda: tokens.signed(claims(exp=None)), "no expiry"),
        (lambda: tokens.signed(claims(iat=int(time.time()) + 600)), "issued in the future"),
        (lambda: tokens.signed(claims(nbf=int(time.time()) + 600)), "not yet valid"),
        (lambda: tokens.signed(claims(**{"cognito:username": None})), "no username"),
        (lambda: tokens.with_payload(tokens.signed(claims()), **{"cognito:groups": ["role-PLATFORM"]}), "tampered"),
        (lambda: tokens.with_payload(tokens.signed(claims(exp=int(time.time()) - 60)), exp=int(time.time()) + 3600), "tampered"),
        (lambda: tokens.signed(claims(), key=another_rsa_key()), "another key"),
        (lambda: tokens.unsigned(claims()), "alg none"),
        (lambda: tokens.hmac_with_public_key(claims()), "HS256"),
        (lambda: "not-a-token", "garbage"),
        (lambda: "a.b.c", "garbage"),
        (lambda: "", "empty"),
        (lambda: tokens.signed(claims(padding="x" * 9000)), "too long"),
    ],
)
def test_a_token_that_is_not_a_current_id_token_of_the_pool_for_the_client_is_rejected(make, reason):
    with pytest.raises(identity.TokenRejected):
        identity.verify_id_token(make())


def test_on_aws_the_keys_come_from_the_pool_s_https_address_and_moto_s_are_never_trusted(monkeypatch):
    monkeypatch.setenv("STAGE", "prod")
    fetched = []

    class Answer:
        def __init__(self, body):
            self.body = body

        def read(self):
            return self.body

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    def urlopen(request, timeout):
        fetched.append((request.full_url, timeout))
        return Answer(json.dumps(tokens.moto_jwks()).encode())

    monkeypatch.setattr(identity.urllib.request, "urlopen", urlopen)
    identity.verify_id_token(tokens.signed(claims()))
    identity.verify_id_token(tokens.signed(claims()))
    assert fetched == [(f"https://cognito-idp.us-east-1.amazonaws.com/{POOL}/.well-known/jwks.json", identity.JWKS_TIMEOUT_SECONDS)]  # cached

    with pytest.raises(identity.TokenRejected):  # a key the pool does not publish: fetched again, still unknown
        identity.verify_id_token(tokens.signed(claims(), key=another_rsa_key(), header={"alg": "RS256", "kid": "rotated"}))
    assert len(fetched) == 1  # not again within a minute of the last fetch


def test_the_issuer_and_keys_address_follow_the_pool_s_region(monkeypatch):
    monkeypatch.setenv("STAGE", "prod")
    assert identity.issuer("cn-north-1_abc") == "https://cognito-idp.cn-north-1.amazonaws.com.cn/cn-north-1_abc"
    assert identity.jwks_url("eu-west-1_abc") == "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc/.well-known/jwks.json"
    monkeypatch.setenv("STAGE", "local")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5000")
    assert identity.jwks_url(POOL) == f"http://127.0.0.1:5000/{POOL}/.well-known/jwks.json"
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    assert identity.jwks_url(POOL) is None  # moto in-process: its key file


def test_operator_of_reads_only_a_bearer_token():
    from chalicelib.usecases.operator_auth import NotAnOperator, operator_of

    class Request:
        def __init__(self, authorization):
            self.headers = {"authorization": authorization} if authorization is not None else {}

    token = tokens.signed(claims())
    assert operator_of(Request(f"Bearer {token}")).operator_id == "reviewer.xicheng"
    assert operator_of(Request(f"bearer  {token} ")).branch_code == "BR_XICHENG"
    for header in (None, "", "Bearer", "Bearer ", f"Basic {token}", token, f"Token {token}"):
        with pytest.raises(NotAnOperator):
            operator_of(Request(header))
    for groups in ([], ["role-REVIEWER"], ["role-PLATFORM", "branch-BR_XICHENG"], ["role-REVIEWER", "role-AUDITOR", "branch-BR_XICHENG"]):
        with pytest.raises(NotAnOperator, match="not an operator"):
            operator_of(Request("Bearer " + tokens.signed(claims(**{"cognito:groups": groups}))))
