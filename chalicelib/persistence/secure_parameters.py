"""SecureString parameters in SSM Parameter Store: partner secrets, signing credentials.

Read decrypted through Powertools Parameters, which caches each value for the
caller's ``max_age`` so a warm function does not call SSM on every request.
The provider is made on first use (never at import: moto must start first) and
remade when the region or endpoint changes (a new local stack). Written
encrypted with a declared KMS key, by the local stack and operators' tooling:
deployed handlers only read.
"""
from __future__ import annotations

from typing import Any

from chalicelib import resources, settings

_provider: Any = None
_provider_key: tuple[str | None, ...] | None = None


def _ssm() -> Any:
    global _provider, _provider_key
    key = (settings.region(), settings.aws_endpoint())
    if _provider is None or key != _provider_key:
        import boto3
        from aws_lambda_powertools.utilities.parameters import SSMProvider

        _provider = SSMProvider(boto3_client=boto3.client("ssm", region_name=settings.region()))
        _provider_key = key
    return _provider


def read(name: str, max_age: int) -> str | None:
    """The parameter's decrypted value, or None when there is no such parameter."""
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

    try:
        return _ssm().get(name, decrypt=True, max_age=max_age)
    except GetParameterError as exc:
        if "ParameterNotFound" in str(exc):
            return None
        raise


def put(name: str, value: str, key: resources.Key = resources.SECRETS_KEY) -> None:
    """Store ``value`` as a SecureString encrypted with ``key``; this process reads it at once."""
    from chalicelib import aws_clients

    aws_clients.client("ssm").put_parameter(Name=name, Value=value, Type="SecureString", KeyId=settings.env(key.env), Overwrite=True)
    clear_cache()


def clear_cache() -> None:
    global _provider, _provider_key
    _provider, _provider_key = None, None
