"""What a partner API resource answers to a method it does not declare.

A resource of ``/v1/`` declares its methods in the partner contract (docs/openapi.yaml).
Any other method of HTTP that API Gateway routes (GET, HEAD, POST, PUT, PATCH, DELETE)
answers 405 ``METHOD_NOT_ALLOWED`` in the contract's error shape with an ``Allow`` header
listing the declared methods (RFC 9110, 15.5.6), and OPTIONS answers 204 with the same
``Allow``. Both are answered by the app itself, so API Gateway (where a method with no
integration would answer 403 "Missing Authentication Token") and the local stack agree;
neither needs a signature, as neither tells more than the published contract.
"""
from __future__ import annotations

import json
from typing import Any, Mapping

from chalice import Response

PREFIX = "/v1/"
ROUTED = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
RESPONDER = "undeclared_method"  # the view name of the routes registered for undeclared methods


def declared(routes: Mapping[str, Mapping[str, Any]], path: str) -> list[str]:
    """The methods the contract declares on a route (its own views, not the undeclared-method responder)."""
    return sorted(method for method, entry in routes.get(path, {}).items() if entry.view_name != RESPONDER)


def undeclared(routes: Mapping[str, Mapping[str, Any]]) -> dict[str, list[str]]:
    """Per partner API route, the routed methods it does not declare."""
    return {
        path: [method for method in ROUTED if method not in declared(routes, path)]
        for path in routes
        if path.startswith(PREFIX) and declared(routes, path)
    }


def answer(allowed: list[str], method: str) -> Response:
    """The answer to ``method`` on a resource that allows ``allowed``."""
    allow = ", ".join(allowed)
    if method == "OPTIONS":
        return Response(body="", status_code=204, headers={"Allow": allow})
    body = {"code": "METHOD_NOT_ALLOWED", "message": f"{method} is not a method of this resource; it allows {allow}", "details": []}
    return Response(body=json.dumps(body), status_code=405, headers={"Allow": allow, "Content-Type": "application/json"})
