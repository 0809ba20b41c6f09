"""Who is calling the back-office API. Never a partner: partner signatures open nothing here.

Operators are users of a Cognito user pool (``resources.OPERATOR_POOL``), on AWS and on the local
stack (moto) alike. They sign in with their username and password (``POST /backoffice/session``,
``sign_in``) and send the id token they get as ``Authorization: Bearer <id token>`` on every other
back-office request. ``operator_of`` verifies it (``chalicelib/ports/identity.py``: the signature
against the pool's keys, the issuer, the audience (the console's app client), ``token_use`` ``id``,
the expiry) and makes the operator of its claims: ``cognito:username`` is the operator id,
``name`` the name, ``cognito:groups`` the role and branch (``Operator.from_groups``). A missing,
invalid or expired token, or a user whose groups make no operator: ``NotAnOperator`` (401).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.operator import InconsistentGroups, Operator
from chalicelib.observability import logger
from chalicelib.ports import identity
from chalicelib.usecases.errors import Refusal, Refused


class NotAnOperator(Exception):
    """401 for the back office."""


@dataclass(frozen=True)
class Session:
    id_token: str
    expires_in: int  # seconds the id token is valid for
    operator: Operator


def bearer_token(request: Any) -> str | None:
    header = (request.headers or {}).get("authorization") or ""
    scheme, _, token = header.strip().partition(" ")
    return (token.strip() or None) if scheme.lower() == "bearer" else None


def operator_from_claims(claims: dict[str, Any]) -> Operator:
    """The operator of a verified id token's claims; ``InconsistentGroups`` if they make none."""
    username = claims.get("cognito:username")
    if not isinstance(username, str):
        raise InconsistentGroups("the token names no user")
    name = claims.get("name")
    groups = claims.get("cognito:groups") or []
    if not isinstance(groups, list):
        raise InconsistentGroups("cognito:groups is not a list")
    return Operator.from_groups(username, name if isinstance(name, str) and name else username, groups)


def operator_of(request: Any) -> Operator:
    token = bearer_token(request)
    if token is None:
        raise NotAnOperator("back-office credentials are required: Authorization: Bearer <id token>")
    try:
        claims = identity.verify_id_token(token)
    except identity.TokenRejected as exc:
        logger.info("operator token refused", extra={"reason": exc.reason})
        raise NotAnOperator("the token is not a valid, current operator id token; sign in again") from None
    try:
        return operator_from_claims(claims)
    except InconsistentGroups as exc:
        logger.warning("operator groups inconsistent", extra={"operator": claims.get("cognito:username"), "problem": str(exc)})
        raise NotAnOperator(f"not an operator: {exc}") from None


def sign_in(username: str, password: str) -> Session:
    """Sign an operator in; raises the port's ``SignInRefused``, ``ChallengeRequired`` or
    ``SignInThrottled``, or ``Refused`` (403) for a user whose groups make no operator."""
    signed_in = identity.sign_in(username, password)
    try:
        operator = operator_from_claims(signed_in.claims)
    except InconsistentGroups as exc:
        logger.warning("operator groups inconsistent", extra={"operator": signed_in.claims.get("cognito:username"), "problem": str(exc)})
        raise Refused(Refusal.FORBIDDEN, "NOT_AN_OPERATOR", f"this user is not a back-office operator: {exc}") from None
    expires_in = max(0, int(signed_in.claims["exp"]) - int(time.time()))
    logger.info("operator signed in", extra={"operator": operator.operator_id, "role": operator.role.value, "branch": operator.branch_code})
    return Session(id_token=signed_in.id_token, expires_in=expires_in, operator=operator)
