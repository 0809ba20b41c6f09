"""The canonical path and query: the contract's worked examples and rules, one by one."""
from __future__ import annotations

import pytest

from chalicelib.domain.canonical_request import as_sent_forms, canonical_of_decoded, canonical_target, route_segments


@pytest.mark.parametrize(
    "sent, canonical",
    [
        # the contract's worked examples
        ("/v1/loans/x:y", "/v1/loans/x%3Ay"),
        ("/v1/loans/%e4%b8%ad", "/v1/loans/%E4%B8%AD"),
        ("/v1/events?limit=10&after=a%20b", "/v1/events?after=a%20b&limit=10"),
        # a plain path is itself
        ("/v1/loans/LN20261207-1", "/v1/loans/LN20261207-1"),
        ("/v1/quotes", "/v1/quotes"),
        # unreserved characters stay, everything else is encoded with uppercase hex
        ("/v1/loans/a-b.c_d~e", "/v1/loans/a-b.c_d~e"),
        ("/v1/loans/中", "/v1/loans/%E4%B8%AD"),
        ("/v1/loans/a b", "/v1/loans/a%20b"),
        ("/v1/loans/a+b", "/v1/loans/a%2Bb"),
        ("/v1/loans/%7E", "/v1/loans/~"),
        # decoded once only: an encoded percent sign stays a percent sign
        ("/v1/loans/100%25", "/v1/loans/100%25"),
        ("/v1/loans/%2541", "/v1/loans/%2541"),
        # an encoded slash is part of its segment
        ("/v1/loans/a%2Fb", "/v1/loans/a%2Fb"),
        # a stray percent sign is a percent sign
        ("/v1/loans/100%", "/v1/loans/100%25"),
        ("/v1/loans/%zz", "/v1/loans/%25zz"),
        # bytes that are not UTF-8 are kept as bytes
        ("/v1/loans/%ff", "/v1/loans/%FF"),
        # the query: + is a plus sign, sorted by name then value, a name alone has an empty value
        ("/v1/events?after=a+b", "/v1/events?after=a%2Bb"),
        ("/v1/events?b=2&a=2&a=1", "/v1/events?a=1&a=2&b=2"),
        ("/v1/events?flag", "/v1/events?flag="),
        ("/v1/events?x=a=b", "/v1/events?x=a%3Db"),
        ("/v1/events?%61=1", "/v1/events?a=1"),
        # no parameters is no query string; empty parameters name nothing
        ("/v1/events?", "/v1/events"),
        ("/v1/events?limit=1&&", "/v1/events?limit=1"),
    ],
)
def test_the_canonical_form_of_what_is_sent(sent, canonical):
    assert canonical_target(sent) == canonical


def test_the_canonical_form_is_its_own_canonical_form():
    for sent in ("/v1/loans/x:y", "/v1/events?limit=10&after=a%20b", "/v1/loans/%ff?q=%E4%B8%AD+"):
        assert canonical_target(canonical_target(sent)) == canonical_target(sent)


def test_what_api_gateway_hands_the_function_gives_the_same_form():
    segments = route_segments("/v1/loans/{loan_id}", {"loan_id": "x:y"})
    assert segments == ["", "v1", "loans", "x:y"]
    assert canonical_of_decoded(segments, []) == "/v1/loans/x%3Ay"
    assert canonical_of_decoded(["", "v1", "loans", "a/b"], []) == "/v1/loans/a%2Fb"
    assert canonical_of_decoded(["", "v1", "loans", "100%"], []) == "/v1/loans/100%25"  # never decoded again
    assert canonical_of_decoded(["", "v1", "events"], [("limit", "10"), ("after", "a b")]) == "/v1/events?after=a%20b&limit=10"


def test_the_spellings_as_sent_cover_what_common_clients_send():
    forms = as_sent_forms(["", "v1", "loans", "x:y"], [])
    assert "/v1/loans/x:y" in forms and "/v1/loans/x%3Ay" not in forms  # the canonical form is not repeated
    query = as_sent_forms(["", "v1", "events"], [("limit", "10"), ("after", "a b")])
    assert "/v1/events?limit=10&after=a%20b" in query  # the order sent, encoded
    assert "/v1/events?limit=10&after=a+b" in query  # as an HTML form (and the server before the rule) spells it
    assert as_sent_forms(["", "v1", "quotes"], []) == []  # a plain path has one spelling


def test_the_path_as_the_gateway_saw_it_is_a_spelling_only_when_it_names_the_same_segments():
    segments = ["", "v1", "loans", "中"]
    assert "/v1/loans/%e4%b8%ad" in as_sent_forms(segments, [], "/v1/loans/%e4%b8%ad")  # lowercase hex, as sent
    assert as_sent_forms(segments, [("limit", "1")], "/v1/loans/%e4%b8%ad")[-1] == "/v1/loans/%e4%b8%ad?limit=1"
    for other in ("/v1/loans/%e4%b8%ae", "/v1/loans/%25e4%25b8%25ad", "/v1/loans/中/x", "/api/v1/loans/%e4%b8%ad"):
        assert not any(form.startswith(other) for form in as_sent_forms(segments, [], other)), other
