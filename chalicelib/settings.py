"""Configuration from the environment, read lazily at each use.

Nothing here is read at import time: moto must start before clients are made,
and Chalice's test client sets the environment only during a call. Only names
declared in ``resources.py`` may be read, so the code cannot depend on a
variable that the CDK stack does not set.
"""
from __future__ import annotations

import os

from chalicelib import resources


class ConfigurationError(RuntimeError):
    """A required environment variable is missing: a deployment error, never the caller's."""


def env(name: str, default: str | None = None) -> str:
    if name not in resources.all_env_names():
        raise ConfigurationError(f"{name} is not declared in chalicelib/resources.py")
    value = os.environ.get(name, default)
    if value is None or value == "":
        raise ConfigurationError(f"environment variable {name} is not set")
    return value


def resource_env(resource_id: str) -> str:
    """The deployed name or ARN of a declared resource."""
    return env(resources.all_resources()[resource_id].env)


def table_name(table: resources.Table) -> str:
    return env(table.env)


def region() -> str:
    """The AWS region (set by the Lambda runtime; the local stack sets it too)."""
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def aws_endpoint() -> str | None:
    """An endpoint override (the local stack's moto server); None on AWS.

    Boto3 reads it itself; clients are keyed by it so that a new local stack
    gets new clients.
    """
    return os.environ.get("AWS_ENDPOINT_URL") or None


def stage() -> str:
    return env("STAGE", "local")


def config_cache_seconds() -> float:
    return float(env("CONFIG_CACHE_SECONDS", "30"))
