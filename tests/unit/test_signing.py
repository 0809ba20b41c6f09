import hashlib
import hmac

import pytest

from chalicelib.domain.signing import AuthFailure, SignedRequest, check_headers, sign, string_to_sign, verify

NOW = 1_790_000_000


def request(**overrides):
    base = dict(method="POST", path="/v1/quotes", partner_id="P_DEMO", timestamp=str(NOW), nonce="a" * 16, signature=None, body=b'{"a":1}')
    base.update(overrides)
    if base["signature"] is None:
        base["signature"] = sign("s3cret", base["method"], base["path"], base["timestamp"], base["nonce"], base["body"])
    return SignedRequest(**base)


def test_string_to_sign_is_the_contracts():
    body = b'{"a":1}'
    expected = "POST\n/v1/quotes\n1790000000\nabcdefghijklmnop\n" + hashlib.sha256(body).hexdigest()
    assert string_to_sign("post", "/v1/quotes", "1790000000", "abcdefghijklmnop", body) == expected
    assert sign("k", "POST", "/v1/quotes", "1790000000", "abcdefghijklmnop", body) == hmac.new(b"k", expected.encode(), hashlib.sha256).hexdigest()


def test_an_empty_body_hashes_the_empty_string():
    assert string_to_sign("GET", "/v1/x", "1", "n" * 16, b"").endswith(hashlib.sha256(b"").hexdigest())


def test_a_good_request_passes():
    r = request()
    check_headers(r, NOW)
    verify(r, "s3cret", NOW)


@pytest.mark.parametrize(
    "overrides, code",
    [
        ({"partner_id": None}, "PARTNER_UNKNOWN"),
        ({"signature": "ABC"}, "SIGNATURE_INVALID"),
        ({"nonce": "short"}, "SIGNATURE_INVALID"),
        ({"nonce": "a" * 65}, "SIGNATURE_INVALID"),
        ({"nonce": "a" * 15 + "!"}, "SIGNATURE_INVALID"),
        ({"timestamp": "abc"}, "TIMESTAMP_EXPIRED"),
        ({"timestamp": str(NOW - 301)}, "TIMESTAMP_EXPIRED"),
        ({"timestamp": str(NOW + 301)}, "TIMESTAMP_EXPIRED"),
    ],
)
def test_header_failures(overrides, code):
    with pytest.raises(AuthFailure) as failure:
        check_headers(request(**overrides), NOW)
    assert failure.value.code == code


def test_the_window_is_inclusive_at_300_seconds():
    check_headers(request(timestamp=str(NOW - 300)), NOW)


@pytest.mark.parametrize("field, value", [("body", b'{"a":2}'), ("path", "/v1/quotes?x=1"), ("method", "PUT"), ("nonce", "b" * 16), ("timestamp", str(NOW + 1))])
def test_any_tampered_part_breaks_the_signature(field, value):
    signature = request().signature
    with pytest.raises(AuthFailure) as failure:
        verify(request(**{field: value, "signature": signature}), "s3cret", NOW)
    assert failure.value.code == "SIGNATURE_INVALID"


def test_a_wrong_key_breaks_the_signature():
    with pytest.raises(AuthFailure):
        verify(request(), "another-secret", NOW)


def test_a_signature_over_another_spelling_verifies_until_the_transition_ends():
    """Until 2027-06-30 (the contract) a signature over the path as sent verifies too; from 2027-07-01 only the canonical one."""
    from datetime import datetime, timezone

    as_sent = "/v1/loans/x:y"
    signed = request(path=as_sent)
    canonical = SignedRequest(**{**signed.__dict__, "path": "/v1/loans/x%3Ay", "as_sent": (as_sent,)})
    last_day = datetime(2027, 6, 30, 23, 59, 59, tzinfo=timezone.utc).timestamp()
    verify(canonical, "s3cret", last_day)
    with pytest.raises(AuthFailure) as failure:
        verify(canonical, "s3cret", last_day + 1)
    assert failure.value.code == "SIGNATURE_INVALID" and "/v1/loans/x%3Ay" in failure.value.message


def test_a_signature_over_none_of_the_spellings_fails():
    signed = request(path="/v1/loans/x:z")
    with pytest.raises(AuthFailure):
        verify(SignedRequest(**{**signed.__dict__, "path": "/v1/loans/x%3Ay", "as_sent": ("/v1/loans/x:y",)}), "s3cret", NOW)
