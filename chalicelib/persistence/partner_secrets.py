"""Partner signing secrets, kept as SecureString parameters in SSM Parameter Store.

One parameter per partner, ``{PARTNER_SECRETS path}/{partner_id}/secret``, read
through ``secure_parameters`` (cached ``SECRET_CACHE_SECONDS``).
"""
from __future__ import annotations

from chalicelib import resources, settings
from chalicelib.persistence import secure_parameters

SECRET_CACHE_SECONDS = 300


def parameter_name(partner_id: str) -> str:
    return f"{settings.env(resources.PARTNER_SECRETS.env)}/{partner_id}/secret"


def secret(partner_id: str) -> str | None:
    """The partner's secret, or None if it has none."""
    return secure_parameters.read(parameter_name(partner_id), SECRET_CACHE_SECONDS)


def put_secret(partner_id: str, value: str) -> None:
    """Store a secret (local stack and operators' tooling; deployed handlers only read)."""
    secure_parameters.put(parameter_name(partner_id), value)


def clear_cache() -> None:
    secure_parameters.clear_cache()
