"""The request event as API Gateway (REST, Lambda proxy) hands it to the function, for Chalice's local gateway.

Chalice's local server and test client put a path parameter into the event exactly as
sent (``0%C3%A9``) and parse the query as an HTML form does (a ``+`` becomes a space).
API Gateway decodes both once: a path parameter ``0%C3%A9`` arrives as ``0é``, ``x:y``
as ``x:y``, ``%2F`` as ``/``; a query value ``a%20b`` as ``a b`` and ``a+b`` as
``a+b``. ``install`` makes the local gateway do the same, so the partner API is
tested locally on what it will see on AWS. Local only, never deployed.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlparse


def query_parameters(query: str) -> dict[str, list[str]]:
    """API Gateway's ``multiValueQueryStringParameters``: each name and value decoded once, ``+`` kept, in order."""
    parameters: dict[str, list[str]] = {}
    for part in query.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        parameters.setdefault(unquote(name), []).append(unquote(value))
    return parameters


def install() -> None:
    """Chalice's local gateway (its server and its test client) hands the function API Gateway's event."""
    from chalice import local

    if getattr(local.RouteMatcher, "_as_api_gateway", False):
        return
    original_match = local.RouteMatcher.match_route
    original_event = local.LambdaEventConverter.create_lambda_event

    def match_route(self: Any, url: str) -> Any:
        matched = original_match(self, url)
        captured = {name: unquote(value) for name, value in matched.captured.items()}
        return local.MatchResult(matched.route, captured, query_parameters(urlparse(url).query))

    def create_lambda_event(self: Any, method: str, path: str, headers: dict[str, str], body: bytes | None = None) -> Any:
        event = original_event(self, method, path, headers, body)
        event["resource"] = event["requestContext"]["resourcePath"]
        event["path"] = unquote(urlparse(path).path)
        event["httpMethod"] = method
        return event

    local.RouteMatcher.match_route = match_route
    local.LambdaEventConverter.create_lambda_event = create_lambda_event
    local.RouteMatcher._as_api_gateway = True
