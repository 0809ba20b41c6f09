"""The canonical path and query that a partner's request signature covers.

The partner API contract ("Signing every request") builds it as AWS Signature V4
builds its canonical URI and query:

- the path split on ``/``; each segment percent-decoded once, then encoded again
  byte by byte from its UTF-8: ``A-Z a-z 0-9 - . _ ~`` as they are, every other
  byte as ``%XX`` with uppercase hex; joined with ``/``;
- with a query string: ``?``, then its parameters split on ``&``, each name and
  value decoded once the same way (a ``+`` is a plus sign, not a space) and
  encoded again, sorted by name and then by value, each ``name=value`` (a
  parameter without ``=`` has an empty value), joined with ``&``.

Two entries compute it, and they agree on every request (property tests):

- ``canonical_target`` from the path and query exactly as sent on the wire: what
  a partner's client signs, and what a server that sees the raw request checks;
- ``canonical_of_decoded`` from what API Gateway hands the function: the route's
  segments with its path parameters and the query parameters, all already
  decoded once (so they are encoded here, never decoded again: a ``%`` in a
  decoded value is a percent sign).

Empty parameters (``a=1&&b=2``, a trailing ``&``) name nothing and are left out,
and a query string of no parameters is no query string: API Gateway hands the
function neither. Pure: no I/O.
"""
from __future__ import annotations

from typing import Iterable, Sequence
from urllib.parse import quote, unquote_to_bytes

UNRESERVED = "-._~"  # with A-Z a-z 0-9, which quote() never encodes


def encode(value: str | bytes) -> str:
    """``value``'s UTF-8 bytes, unreserved ones as they are, every other as ``%XX`` (uppercase hex)."""
    return quote(value, safe=UNRESERVED)


def _decoded_once(text: str) -> bytes:
    """Percent-decoded once, to bytes: ``%XX`` becomes its byte; a ``+`` and a stray ``%`` stay as they are."""
    return unquote_to_bytes(text)


def canonical_path(path: str) -> str:
    """The canonical form of a path as sent: each ``/``-separated segment decoded once and encoded again."""
    return "/".join(encode(_decoded_once(segment)) for segment in path.split("/"))


def query_parameters(query: str) -> list[tuple[bytes, bytes]]:
    """The parameters of a query string as sent, each name and value decoded once (``+`` kept a plus)."""
    parameters = []
    for part in query.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        parameters.append((_decoded_once(name), _decoded_once(value)))
    return parameters


def canonical_query(parameters: Iterable[tuple[str | bytes, str | bytes]]) -> str:
    """Decoded ``(name, value)`` pairs, encoded and sorted by name and then by value, joined with ``&``."""
    encoded = sorted((encode(name), encode(value)) for name, value in parameters)
    return "&".join(f"{name}={value}" for name, value in encoded)


def _with_query(path: str, query: str) -> str:
    return f"{path}?{query}" if query else path


def canonical_target(target: str) -> str:
    """The canonical path and query of a request target exactly as sent (``/v1/events?limit=10&after=a%20b``)."""
    path, _, query = target.partition("?")
    return _with_query(canonical_path(path), canonical_query(query_parameters(query)))


def canonical_of_decoded(segments: Sequence[str], parameters: Iterable[tuple[str, str]]) -> str:
    """The canonical path and query from decoded parts: the path's segments (``["", "v1", "loans", "x:y"]``)
    and the query's ``(name, value)`` pairs, each decoded once already (as API Gateway hands them)."""
    return _with_query("/".join(encode(segment) for segment in segments), canonical_query(parameters))


def route_segments(route: str, path_parameters: dict[str, str]) -> list[str]:
    """A route template's segments (``/v1/loans/{loan_id}``) with its decoded path parameters put in."""
    segments = []
    for segment in route.split("/"):
        if segment.startswith("{") and segment.endswith("}"):
            segment = path_parameters.get(segment[1:-1], "")
        segments.append(segment)
    return segments


# Until this day (inclusive, the server's UTC date) a signature over the path and query exactly as
# sent verifies as well (the contract's transition rule). The server cannot see the bytes as sent
# (API Gateway decodes them), so it tries the spellings a client sends for the same decoded request:
# its path segments encoded in full or only where a URI path requires (RFC 3986's pchar), and its
# query in the order sent, encoded in full, only where a URI query requires, or as HTML forms do
# (a space as "+", as the server before the canonical rule computed it). Each spelling names the
# same decoded path and parameters that the server acts on, so none lets a signature cover another request.
AS_SENT_ACCEPTED_UNTIL = "2027-06-30"

_PATH_AS_SENT = "-._~!$&'()*+,;=:@"  # RFC 3986 pchar (unreserved, sub-delims, ":" and "@")
_QUERY_AS_SENT = "-._~!$'()*,;:@/?"  # a query's characters, less the "&", "=" and "+" that delimit or mean


def _form_encoded(value: str) -> str:
    return quote(value, safe=UNRESERVED).replace("%20", "+")


def as_sent_forms(segments: Sequence[str], parameters: Sequence[tuple[str, str]], raw_path: str | None = None) -> list[str]:
    """The other spellings of the same decoded request (see ``AS_SENT_ACCEPTED_UNTIL``), canonical form excluded.

    ``raw_path``, the path as the gateway saw it on the wire when it hands that on too (API
    Gateway's REST ``path``), is one more spelling, taken only when it names the same segments.
    """
    canonical = canonical_of_decoded(segments, parameters)
    paths = ["/".join(encode(s) for s in segments), "/".join(quote(s, safe=_PATH_AS_SENT) for s in segments)]
    if raw_path and raw_path not in paths and canonical_path(raw_path) == paths[0]:
        paths.append(raw_path)
    queries = [canonical_query(parameters)] if parameters else [""]
    if parameters:
        for encoder in (encode, lambda v: quote(v, safe=_QUERY_AS_SENT), _form_encoded):
            queries.append("&".join(f"{encoder(name)}={encoder(value)}" for name, value in parameters))
    forms: list[str] = []
    for path in paths:
        for query in queries:
            form = _with_query(path, query)
            if form != canonical and form not in forms:
                forms.append(form)
    return forms
