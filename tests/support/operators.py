"""Back-office credentials for tests: the headers an operator's requests carry.

A real Cognito id token of a seeded operator (``config/sample/operators.json``, passwords from
``local.seed.operator_password``), got from the moto user pool of the running test with
``InitiateAuth`` (USER_PASSWORD_AUTH), as the console gets it through ``POST /backoffice/session``.
Tokens are cached per app client and operator: each test's moto has a new pool and client.
"""
from __future__ import annotations

import time

from chalicelib import resources, settings
from local.seed import operator_password

_tokens: dict[tuple[str, str], tuple[str, float]] = {}


def id_token(operator_id: str) -> str:
    """The id token of a seeded operator (signed in to the current moto user pool)."""
    import boto3

    client_id = settings.resource_env(resources.CONSOLE_CLIENT.id)
    cached = _tokens.get((client_id, operator_id))
    if cached and cached[1] > time.time() + 60:
        return cached[0]
    answer = boto3.client("cognito-idp", region_name=settings.region()).initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": operator_id, "PASSWORD": operator_password(operator_id)},
    )
    token = answer["AuthenticationResult"]["IdToken"]
    if len(_tokens) > 256:
        _tokens.clear()
    _tokens[(client_id, operator_id)] = (token, time.time() + answer["AuthenticationResult"]["ExpiresIn"])
    return token


def operator_headers(operator_id: str, json_body: bool = False) -> dict[str, str]:
    """``Authorization`` (and ``Content-Type`` for a JSON body) of a seeded operator (config/sample/operators.json)."""
    headers = {"authorization": f"Bearer {id_token(operator_id)}"}
    if json_body:
        headers["content-type"] = "application/json"
    return headers
