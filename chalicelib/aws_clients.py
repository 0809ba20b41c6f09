"""Boto3 clients, made on first use (never at import: moto must start first)."""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from chalicelib import settings


@lru_cache(maxsize=32)
def _client(service: str, region: str, endpoint: str | None) -> Any:
    import boto3

    return boto3.client(service, region_name=region)


def client(service: str) -> Any:
    """A client for ``service``, rebuilt when the region or endpoint (a local stack) changes."""
    return _client(service, settings.region(), settings.aws_endpoint())
