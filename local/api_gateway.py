"""The request event as API Gateway (REST, Lambda proxy) hands it to the function, for Chalice's local gateway.

Chalice's local server and test client put a path parameter into the event exactly as
sent (``0%C3%A9``) and parse the query as an HTML form does (a ``+`` becomes a space).
API Gateway decodes both once: a path parameter ``0%C3%A9`` arrives as ``0é``, ``x:y``
as ``x:y``, ``%2F`` as ``/``; a query value ``a%20b`` as ``a b`` and ``a+b`` as
``a+b`` (the event's ``path`` stays as sent). ``install`` makes the local gateway do the same, so the partner API is
tested locally on what it will see on AWS. Local only, never deployed.
"""
from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any, Mapping
from urllib.parse import unquote, urlsplit


def query_parameters(query: str) -> dict[str, list[str]]:
    """API Gateway's ``multiValueQueryStringParameters``: each name and value decoded once, ``+`` kept, in order."""
    parameters: dict[str, list[str]] = {}
    for part in query.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        parameters.setdefault(unquote(name), []).append(unquote(value))
    return parameters


def refusal(routes: Mapping[str, Any], method: str | None, target: str | None, code: int, message: str | None) -> tuple[int, dict[str, str], bytes]:
    """The answer to a request the local HTTP server refuses before the app sees it, in the contract's shape.

    A method it has no handler for (TRACE, CONNECT, QUERY, a made-up one: the server's 501)
    answers 405 with ``Allow`` on a partner resource, as the app answers the methods API
    Gateway routes (``chalicelib.api.methods``); on AWS, API Gateway refuses such methods
    itself, in the same shape (the stack's gateway responses). Anything else keeps its status.
    """
    from chalice.local import RouteMatcher

    from chalicelib.api import methods

    if code == HTTPStatus.NOT_IMPLEMENTED and method and target:
        try:
            route = RouteMatcher(list(routes)).match_route(urlsplit(target).path.replace(";", "%3B")).route
        except ValueError:
            route = None
        allowed = methods.declared(routes, route) if route else []
        if allowed:
            response = methods.answer(allowed, method)
            return response.status_code, dict(response.headers), response.body.encode("utf-8")
        code, message = HTTPStatus.NOT_FOUND, f"no resource {urlsplit(target).path}"
    status = HTTPStatus(code)
    body = {"code": status.name, "message": message or status.phrase, "details": []}
    return status.value, {"Content-Type": "application/json"}, json.dumps(body).encode("utf-8")


def install() -> None:
    """Chalice's local gateway (its server and its test client) hands the function API Gateway's event."""
    from chalice import local

    if getattr(local.RouteMatcher, "_as_api_gateway", False):
        return
    original_match = local.RouteMatcher.match_route
    original_event = local.LambdaEventConverter.create_lambda_event

    def match_route(self: Any, url: str) -> Any:
        parts = urlsplit(url)
        # Chalice splits a path on ";" (urlparse's path parameters); API Gateway keeps it in the segment.
        matched = original_match(self, parts.path.replace(";", "%3B"))
        captured = {name: unquote(value) for name, value in matched.captured.items()}
        return local.MatchResult(matched.route, captured, query_parameters(parts.query))

    def create_lambda_event(self: Any, method: str, path: str, headers: dict[str, str], body: bytes | None = None) -> Any:
        event = original_event(self, method, path, headers, body)
        event["resource"] = event["requestContext"]["resourcePath"]
        event["path"] = urlsplit(path).path  # as on the wire: REST APIs hand ``path`` on still percent-encoded
        event["httpMethod"] = method
        return event

    local.RouteMatcher.match_route = match_route
    local.LambdaEventConverter.create_lambda_event = create_lambda_event
    local.RouteMatcher._as_api_gateway = True
