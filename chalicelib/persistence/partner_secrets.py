"""Partner signing secrets, kept as SecureString parameters in SSM Parameter Store.

Read through Powertools Parameters, which caches each value for
``SECRET_CACHE_SECONDS`` so a warm function does not call SSM on every request.
Boto3 and Powertools Parameters are imported on first use, not at cold start.
"""
from __future__ import annotations

from typing import Any

from chalicelib import resources, settings

SECRET_CACHE_SECONDS = 300

_provider: Any = None
_provider_key: tuple[str | None, ...] | None = None


def parameter_name(partner_id: str) -> str:
    return f"{settings.env(resources.PARTNER_SECRETS.env)}/{partner_id}/secret"


def _ssm() -> Any:
    global _provider, _provider_key
    key = (settings.region(), settings.aws_endpoint())
    if _provider is None or key != _provider_key:
        import boto3
        from aws_lambda_powertools.utilities.parameters import SSMProvider

        _provider = SSMProvider(boto3_client=boto3.client("ssm", region_name=settings.region()))
        _provider_key = key
    return _provider


def secret(partner_id: str) -> str | None:
    """The partner's secret, or None if it has none."""
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

    try:
        return _ssm().get(parameter_name(partner_id), decrypt=True, max_age=SECRET_CACHE_SECONDS)
    except GetParameterError as exc:
        if "ParameterNotFound" in str(exc):
            return None
        raise


def put_secret(partner_id: str, value: str) -> None:
    """Store a secret (local stack and operators' tooling; deployed handlers only read)."""
    import boto3

    boto3.client("ssm", region_name=settings.region()).put_parameter(
        Name=parameter_name(partner_id),
        Value=value,
        Type="SecureString",
        KeyId=settings.env(resources.SECRETS_KEY.env),
        Overwrite=True,
    )
    clear_cache()


def clear_cache() -> None:
    global _provider, _provider_key
    _provider, _provider_key = None, None
