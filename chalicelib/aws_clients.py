"""Boto3 clients, made on first use (never at import: moto must start first)."""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from chalicelib import settings


def _config(service: str) -> Any:
    """S3 signs with SigV4 always: botocore presigns with SigV2 in us-east-1 otherwise, which
    S3 refuses for SSE-KMS objects. Addressing stays automatic: virtual-hosted on AWS, and
    path-style against an IP endpoint (the local stack), so presigned links work on both."""
    if service != "s3":
        return None
    from botocore.config import Config

    return Config(signature_version="s3v4")


@lru_cache(maxsize=32)
def _client(service: str, region: str, endpoint: str | None) -> Any:
    import boto3

    return boto3.client(service, region_name=region, config=_config(service))


def client(service: str) -> Any:
    """A client for ``service``, rebuilt when the region or endpoint (a local stack) changes."""
    return _client(service, settings.region(), settings.aws_endpoint())
