"""Forged and altered JWTs for the back office's token checks.

``signed`` signs claims with moto's private key: the key moto signs its Cognito tokens with, and the
one whose public half the local stack trusts, so a forged token fails only for what it changes.
"""
from __future__ import annotations

import base64
import gzip
import json
import time
from importlib import resources as package_files
from typing import Any

MOTO_KID = "dummy"  # the key id moto puts in every token it signs


def moto_jwks(private: bool = False) -> dict[str, Any]:
    name = "jwks-private.json.gz" if private else "jwks-public.json.gz"
    return json.loads(gzip.decompress(package_files.files("moto.cognitoidp").joinpath("resources", name).read_bytes()))


def moto_private_key() -> Any:
    from joserfc.jwk import RSAKey

    return RSAKey.import_key(moto_jwks(private=True))


def id_claims(pool_id: str, app_client_id: str, username: str, groups: list[str], name: str = "某人", /, **changes: Any) -> dict[str, Any]:
    """The claims of a Cognito id token of ``username`` in ``groups``, as moto and Cognito write them."""
    now = int(time.time())
    claims = {
        "iss": f"https://cognito-idp.{pool_id.split('_')[0]}.amazonaws.com/{pool_id}",
        "sub": "5c7e0b6e-0000-4000-8000-000000000001",
        "aud": app_client_id,
        "token_use": "id",
        "auth_time": now,
        "iat": now,
        "exp": now + 3600,
        "cognito:username": username,
        "name": name,
        "cognito:groups": groups,
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def signed(claims: dict[str, Any], key: Any = None, header: dict[str, Any] | None = None) -> str:
    from joserfc import jwt

    return jwt.encode(header or {"alg": "RS256", "kid": MOTO_KID}, claims, key or moto_private_key())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def with_payload(token: str, **changes: Any) -> str:
    """The token with its payload changed and its signature kept (tampered with)."""
    header, payload, signature = token.split(".")
    claims = {**json.loads(_unb64(payload)), **changes}
    return ".".join((header, _b64(json.dumps(claims, separators=(",", ":")).encode()), signature))


def unsigned(claims: dict[str, Any]) -> str:
    """``alg: none``: no signature at all."""
    return ".".join((_b64(b'{"alg":"none","typ":"JWT"}'), _b64(json.dumps(claims).encode()), ""))


def hmac_with_public_key(claims: dict[str, Any]) -> str:
    """HS256 keyed with the public key's text: the classic algorithm confusion."""
    import hashlib
    import hmac

    header = _b64(json.dumps({"alg": "HS256", "kid": MOTO_KID}).encode())
    payload = _b64(json.dumps(claims).encode())
    secret = json.dumps(moto_jwks()).encode()
    signature = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"
