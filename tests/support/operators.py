"""Back-office credentials for tests: the headers an operator's requests carry."""
from __future__ import annotations

from local.seed import operator_token


def operator_headers(operator_id: str, json_body: bool = False) -> dict[str, str]:
    """``Authorization`` (and ``Content-Type`` for a JSON body) of a seeded operator (config/sample/operators.json)."""
    headers = {"authorization": f"Bearer {operator_token(operator_id)}"}
    if json_body:
        headers["content-type"] = "application/json"
    return headers
