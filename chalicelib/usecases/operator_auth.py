"""Who is calling the back-office API. Never a partner: partner signatures open nothing here.

On AWS the back-office routes are IAM-authorised by API Gateway; the caller's
IAM principal (``requestContext.identity.userArn``) is looked up in the
configuration (``OPERATOR#<arn>``). On the local stack, where there is no IAM,
an operator sends ``Authorization: Bearer <token>``; tokens are stored hashed
(``OPERATOR_TOKEN#<sha256>``) and accepted only when ``STAGE`` is ``local``.
"""
from __future__ import annotations

import hashlib
from typing import Any

from chalicelib import settings
from chalicelib.domain.operator import Operator
from chalicelib.persistence import config_repository


class NotAnOperator(Exception):
    """401 for the back office."""


def token_key(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def operator_of(request: Any) -> Operator:
    event = request.to_original_event()
    principal = ((event.get("requestContext") or {}).get("identity") or {}).get("userArn")
    if principal:
        operator = config_repository.operator(f"OPERATOR#{principal}")
    elif settings.stage() == "local":
        header = request.headers.get("authorization") or ""
        token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
        operator = config_repository.operator(f"OPERATOR_TOKEN#{token_key(token)}") if token else None
    else:
        operator = None
    if operator is None:
        raise NotAnOperator("back-office credentials are required")
    return operator
