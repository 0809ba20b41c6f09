"""The back office's sign-in, for the console: operators, never partners.

=======  ======================  ==============================================================
method   path                    answers
=======  ======================  ==============================================================
POST     /backoffice/session     ``{"username", "password"}`` -> 200 ``{"id_token", "expires_in",
                                 "operator": {"operator_id", "name", "role", "branch_code"}}``;
                                 400 (field paths); 401 ``NOT_AUTHENTICATED`` (wrong credentials,
                                 or a partner's signed request), ``CHALLENGE_REQUIRED`` (a new
                                 password or MFA first); 403 ``NOT_AN_OPERATOR`` (the user's groups
                                 make no operator); 429 ``RATE_LIMITED``
GET      /backoffice/me          200 the operator of the ``Authorization: Bearer <id token>``; 401
=======  ======================  ==============================================================

Every other back-office route takes the id token as ``Authorization: Bearer <id token>`` (see
``chalicelib/usecases/operator_auth.py``). Answers carrying a token are never cached.
"""
from __future__ import annotations

import json
from typing import Any

from chalice import Response
from pydantic import BaseModel, ConfigDict, Field

from chalicelib.api import http
from chalicelib.api.errors import ApiError
from chalicelib.domain.operator import Operator
from chalicelib.observability import logger
from chalicelib.ports import identity
from chalicelib.usecases import operator_auth

PARTNER_HEADERS = ("x-partner-id", "x-signature")
NO_STORE = {"Content-Type": "application/json", "Cache-Control": "no-store", "Pragma": "no-cache"}


class Credentials(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    username: str = Field(min_length=1, max_length=128)
    password: str = Field(min_length=1, max_length=256, repr=False)


def operator_view(operator: Operator) -> dict[str, Any]:
    return {"operator_id": operator.operator_id, "name": operator.name, "role": operator.role.value, "branch_code": operator.branch_code}


def _no_store(status: int, body: Any) -> Response:
    return Response(body=json.dumps(body, ensure_ascii=False), status_code=status, headers=dict(NO_STORE))


def sign_in(request: Any) -> Response:
    if any((request.headers or {}).get(name) for name in PARTNER_HEADERS):
        raise ApiError(401, "NOT_AUTHENTICATED", "partner credentials open nothing in the back office")
    credentials: Credentials = http.parse(Credentials, request.raw_body or b"")
    try:
        session = operator_auth.sign_in(credentials.username, credentials.password)
    except identity.SignInRefused as exc:
        logger.info("operator sign-in refused", extra={"reason": str(exc)})  # not the username: it may be anything typed
        raise ApiError(401, "NOT_AUTHENTICATED", "wrong username or password") from None
    except identity.ChallengeRequired as exc:
        logger.info("operator sign-in needs a challenge", extra={"challenge": exc.challenge})
        raise ApiError(401, "CHALLENGE_REQUIRED", f"signing in needs the {exc.challenge} step, which an administrator must settle first") from None
    except identity.SignInThrottled:
        raise ApiError(429, "RATE_LIMITED", "too many sign-in attempts; wait a moment") from None
    return _no_store(200, {"id_token": session.id_token, "expires_in": session.expires_in, "operator": operator_view(session.operator)})


def me(request: Any) -> Response:
    return _no_store(200, operator_view(operator_auth.operator_of(request)))
