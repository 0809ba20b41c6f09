"""The operators' identity provider, a Cognito user pool: signing in, and checking an id token.

- ``sign_in(username, password)``: ``InitiateAuth`` with ``USER_PASSWORD_AUTH`` and the console's
  app client (no secret), the same call on AWS and on moto. Wrong credentials, an unknown, disabled
  or unconfirmed user: ``SignInRefused``; a further step Cognito asks for (a new password, MFA):
  ``ChallengeRequired``.
- ``verify_id_token(token)``: the claims of a Cognito id token whose RS256 signature verifies
  against one of the pool's published keys, issued by the pool (``iss``) to the app client
  (``aud``), an id token (``token_use``), not expired (``exp``) nor issued in the future;
  ``TokenRejected`` otherwise. An access token (``token_use`` ``access``, no ``aud``) is refused.

Where the pool's public keys (its JWKS) come from, cached for an hour (at once again for a token
signed by a key not in the cache, at most once a minute):

- on AWS: ``https://cognito-idp.<region>.amazonaws.com/<pool id>/.well-known/jwks.json`` over
  HTTPS (``amazonaws.com.cn`` in the China regions); the region is the pool id's prefix;
- on the local stack (``STAGE`` ``local`` with a moto server at ``AWS_ENDPOINT_URL``): the same
  path on the moto server, which publishes the public half of the one key moto signs tokens with;
- ``STAGE`` ``local`` without an endpoint (moto in-process: the tests): that same public key as
  moto ships it (``moto/cognitoidp/resources/jwks-public.json.gz``).

Moto's private key ships with moto, so moto's keys are trusted only when ``STAGE`` is ``local``.
"""
from __future__ import annotations

import gzip
import json
import threading
import time
import urllib.request
from dataclasses import dataclass
from importlib import resources as package_files
from typing import Any

from chalicelib import resources, settings
from chalicelib.aws_clients import client

ALGORITHMS = ("RS256",)  # what Cognito signs with; "none" and HMAC are refused
LEEWAY_SECONDS = 5  # clock skew allowed on exp, iat and nbf
MAX_TOKEN_CHARS = 8192
JWKS_MAX_AGE_SECONDS = 3600.0
JWKS_MIN_REFRESH_SECONDS = 60.0  # a token with an unknown key id refetches the keys at most this often
JWKS_TIMEOUT_SECONDS = 5.0


class SignInRefused(Exception):
    """Wrong username or password, or a user who may not sign in (unknown, disabled, unconfirmed)."""


class ChallengeRequired(Exception):
    """Cognito asks for another step (``NEW_PASSWORD_REQUIRED``, ``SOFTWARE_TOKEN_MFA``, ...)."""

    def __init__(self, challenge: str):
        super().__init__(f"signing in needs the {challenge} step")
        self.challenge = challenge


class SignInThrottled(Exception):
    """Cognito's rate limits: too many attempts."""


class TokenRejected(Exception):
    """Not a valid id token of the pool for the app client. ``reason`` is for logs, never a secret."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class SignedIn:
    id_token: str
    claims: dict[str, Any]


def pool_id() -> str:
    return settings.resource_env(resources.OPERATOR_POOL.id)


def client_id() -> str:
    return settings.resource_env(resources.CONSOLE_CLIENT.id)


def region_of(pool: str) -> str:
    """A pool id is ``<region>_<id>``."""
    region, _, rest = pool.partition("_")
    if not region or not rest:
        raise settings.ConfigurationError(f"{resources.OPERATOR_POOL.env} is not a user pool id")
    return region


def issuer(pool: str) -> str:
    region = region_of(pool)
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"https://cognito-idp.{region}.{suffix}/{pool}"


def jwks_url(pool: str) -> str | None:
    """Where the pool's keys are published; None: moto's own key file (local, in-process)."""
    if settings.stage() != "local":
        return f"{issuer(pool)}/.well-known/jwks.json"
    endpoint = settings.aws_endpoint()
    return f"{endpoint.rstrip('/')}/{pool}/.well-known/jwks.json" if endpoint else None


# -- signing in ----------------------------------------------------------------------------------

_REFUSED = {"NotAuthorizedException", "UserNotFoundException", "UserNotConfirmedException", "PasswordResetRequiredException"}
_THROTTLED = {"TooManyRequestsException", "LimitExceededException", "TooManyFailedAttemptsException"}


def sign_in(username: str, password: str) -> SignedIn:
    """The id token (verified) of a user who signs in with their password."""
    from botocore.exceptions import ClientError

    try:
        answer = client("cognito-idp").initiate_auth(
            ClientId=client_id(),
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": password},
        )
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in _REFUSED:
            raise SignInRefused(code) from None
        if code in _THROTTLED:
            raise SignInThrottled(code) from None
        raise
    if answer.get("ChallengeName"):
        raise ChallengeRequired(answer["ChallengeName"])
    token = answer["AuthenticationResult"]["IdToken"]
    return SignedIn(id_token=token, claims=verify_id_token(token))


# -- checking a token ------------------------------------------------------------------------------


@dataclass
class _Keys:
    key_set: Any  # joserfc.jwk.KeySet
    fetched: float


_keys: dict[str, _Keys] = {}
_lock = threading.Lock()


def clear_cache() -> None:
    with _lock:
        _keys.clear()


def _fetch(url: str | None) -> dict[str, Any]:
    if url is None:
        if settings.stage() != "local":  # never: jwks_url gives a URL off the local stage
            raise settings.ConfigurationError("moto's keys are trusted only on the local stack")
        packaged = package_files.files("moto.cognitoidp").joinpath("resources", "jwks-public.json.gz")
        return json.loads(gzip.decompress(packaged.read_bytes()))
    if not url.startswith("https://") and settings.stage() != "local":
        raise settings.ConfigurationError(f"the pool's keys must be fetched over HTTPS, not {url}")
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=JWKS_TIMEOUT_SECONDS) as response:  # noqa: S310 - https (or the local moto server)
        return json.loads(response.read())


def _key_set(pool: str, refresh: bool = False) -> Any:
    """The pool's keys, cached; ``refresh`` refetches them unless they were fetched a minute ago."""
    from joserfc.jwk import KeySet

    url = jwks_url(pool)
    cache_key = f"{pool}|{url}"
    now = time.monotonic()
    with _lock:
        cached = _keys.get(cache_key)
        fresh = cached is not None and now - cached.fetched < JWKS_MAX_AGE_SECONDS
        if fresh and not (refresh and now - cached.fetched >= JWKS_MIN_REFRESH_SECONDS):
            return cached.key_set
    key_set = KeySet.import_key_set(_fetch(url))
    with _lock:
        _keys[cache_key] = _Keys(key_set, time.monotonic())
    return key_set


def verify_id_token(token: str) -> dict[str, Any]:
    """The claims of a valid id token of the operators' pool for the console's app client."""
    from joserfc import jwt
    from joserfc.errors import InvalidKeyIdError, JoseError

    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS or token.count(".") != 2:
        raise TokenRejected("not a compact JWS")
    pool = pool_id()
    try:
        try:
            decoded = jwt.decode(token, _key_set(pool), algorithms=list(ALGORITHMS))
        except InvalidKeyIdError:  # the pool may have rotated its keys
            decoded = jwt.decode(token, _key_set(pool, refresh=True), algorithms=list(ALGORITHMS))
        claims = decoded.claims
        jwt.JWTClaimsRegistry(
            leeway=LEEWAY_SECONDS,
            iss={"essential": True, "value": issuer(pool)},
            aud={"essential": True, "value": client_id()},
            token_use={"essential": True, "value": "id"},
            exp={"essential": True},
            sub={"essential": True},
            **{"cognito:username": {"essential": True}},
        ).validate(claims)
    except JoseError as exc:
        raise TokenRejected(str(exc) or type(exc).__name__) from None
    except (ValueError, TypeError, KeyError) as exc:  # a malformed header or payload
        raise TokenRejected(type(exc).__name__) from None
    if isinstance(claims.get("aud"), list):  # Cognito's id tokens have one audience
        raise TokenRejected("aud")
    return claims
