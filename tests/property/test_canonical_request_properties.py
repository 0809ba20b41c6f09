"""Any path and query a partner may send verifies when signed by the documented rule; a change of one character fails.

The partner signs the canonical form of its target as sent (``canonical_target``). The
server sees what API Gateway hands the function: the path parameters and the query's
parameters decoded once (``local.api_gateway``, the same decoding the local stack uses),
and computes the form from them (``canonical_of_decoded``). The two must agree on every
target whose percent-encoded bytes are UTF-8 text.
"""
from __future__ import annotations

from urllib.parse import unquote, unquote_to_bytes

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from chalicelib.domain.canonical_request import as_sent_forms, canonical_of_decoded, canonical_target, route_segments
from chalicelib.domain.signing import AuthFailure, SignedRequest, sign_target, verify
from local.api_gateway import query_parameters

NOW = 1_790_000_000
SECRET = "partner-secret"
RESERVED = ":@!$&'()*+,;=/?#[]% "
# what may stand in a segment or a query part as sent: letters, reserved characters, non-ASCII, and percent triplets
_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)) | st.sampled_from(list(RESERVED)), max_size=6)
_triplet = st.integers(0, 255).map(lambda b: f"%{b:02x}") | st.integers(0, 255).map(lambda b: f"%{b:02X}")
_piece = st.lists(_text | _triplet, max_size=4).map("".join)


def _utf8(text: str) -> bool:
    try:
        unquote_to_bytes(text).decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


segment = _piece.filter(lambda s: "/" not in s and "?" not in s and "#" not in s).filter(_utf8)
query_part = _piece.filter(lambda s: not any(c in s for c in "&=#")).filter(_utf8)
query = st.lists(st.tuples(query_part, st.one_of(st.none(), query_part)), max_size=4)


def target_of(loan_id: str, parameters: list[tuple[str, str | None]]) -> str:
    text = "&".join(name if value is None else f"{name}={value}" for name, value in parameters)
    return f"/v1/loans/{loan_id}" + (f"?{text}" if text else "")


def server_side(target: str) -> SignedRequest:
    """What the server builds from API Gateway's event for ``target`` (route /v1/loans/{loan_id})."""
    path, _, raw_query = target.partition("?")
    segments = route_segments("/v1/loans/{loan_id}", {"loan_id": unquote(path.split("/")[3])})
    parameters = [(name, value) for name, values in query_parameters(raw_query).items() for value in values]
    return SignedRequest(
        method="GET", path=canonical_of_decoded(segments, parameters), partner_id="P", timestamp=str(NOW),
        nonce="n" * 16, signature=None, body=b"", as_sent=tuple(as_sent_forms(segments, parameters)),
    )


def signed(target: str, request: SignedRequest) -> SignedRequest:
    return SignedRequest(**{**request.__dict__, "signature": sign_target(SECRET, "GET", target, str(NOW), "n" * 16, b"")})


@settings(max_examples=400)
@given(segment, query)
def test_a_target_signed_by_the_rule_verifies_on_the_server(loan_id, parameters):
    target = target_of(loan_id, parameters)
    assume(target.count("/") == 3)
    request = server_side(target)
    assert request.path == canonical_target(target)
    verify(signed(target, request), SECRET, NOW)


@settings(max_examples=400)
@given(segment, query, st.data())
def test_a_change_of_one_character_fails_unless_it_names_the_same_request(loan_id, parameters, data):
    target = target_of(loan_id, parameters)
    assume(target.count("/") == 3)
    position = data.draw(st.integers(len("/v1/loans/"), len(target) - 1) if len(target) > len("/v1/loans/") else st.just(len(target)))
    replacement = data.draw(st.sampled_from(list("aZ0%:+ é/&=?")))
    changed = target[:position] + replacement + target[position + 1 :]
    assume(changed != target and changed.count("/") == 3 and changed.startswith("/v1/loans/"))
    assume(_utf8(changed.partition("?")[0]) and all(_utf8(p) for p in changed.partition("?")[2].replace("=", "&").split("&")))
    request_of_changed = server_side(changed)
    if request_of_changed.path == canonical_target(target):
        # the same decoded request (e.g. %3a for %3A): the canonical form names it once
        assert server_side(target).path == request_of_changed.path
        return
    try:
        verify(signed(target, request_of_changed), SECRET, NOW)
    except AuthFailure as failure:
        assert failure.code == "SIGNATURE_INVALID"
    else:
        # accepted only where the changed target is another spelling of the same request, never another request
        assert canonical_target(target) in (request_of_changed.path, *request_of_changed.as_sent)
        raise AssertionError(f"{target!r} signed, {changed!r} accepted")


@settings(max_examples=300)
@given(st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12), query)
def test_the_canonical_form_of_decoded_parts_is_the_form_of_their_encoding(loan_id, parameters):
    """Decoding the canonical form once gives back the decoded parts: the form names one request."""
    decoded = [(unquote(n), unquote(v or "")) for n, v in parameters if n or v is not None]
    form = canonical_of_decoded(["", "v1", "loans", loan_id], decoded)
    path, _, text = form.partition("?")
    assert unquote(path.split("/")[3]) == loan_id and path.count("/") == 3
    assert sorted((n, v) for n, values in query_parameters(text).items() for v in values) == sorted(decoded)
