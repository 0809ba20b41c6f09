"""A partner downloads an archived document from its presigned link over plain HTTP, from the running local stack."""
from __future__ import annotations

import hashlib
import re
import urllib.request
from datetime import datetime, timezone
from urllib.parse import urlsplit

import pytest

from chalicelib import aws_clients, resources
from local.stack import local_environment

pytestmark = pytest.mark.e2e

PDF = b"%PDF-1.7\n% the signed contract of AP20261123-143501-a3f9c0d2e1\n" + bytes(range(256)) * 16 + b"\n%%EOF\n"


def local_stack_bucket(local_stack) -> str:
    [name] = re.findall(rf"^\s+{resources.ARCHIVE_BUCKET.env}=(\S+)$", "\n".join(local_stack.output), re.M)
    return name


@pytest.fixture
def archive_of(local_stack, monkeypatch):
    """``persistence.archive`` in this process, pointed at the running stack's moto server and bucket."""
    printed = dict(re.findall(r"^\s+([A-Z][A-Z0-9_]+)=(\S+)$", "\n".join(local_stack.output), re.M))
    port = int(urlsplit(local_stack.aws_endpoint).port)
    for name, value in {**local_environment(port), **printed}.items():
        monkeypatch.setenv(name, value)
    aws_clients._client.cache_clear()
    from chalicelib.persistence import archive

    yield archive
    aws_clients._client.cache_clear()


def test_a_presigned_link_downloads_the_exact_bytes_without_credentials(archive_of, local_stack):
    archived = archive_of.put("BR_DONGCHENG", "AP20261123-143501-a3f9c0d2e1", "contract", PDF, datetime.now(timezone.utc))
    url = archive_of.link(archived.key, archived.version_id)
    bucket = local_stack_bucket(local_stack)
    assert url.startswith(f"{local_stack.aws_endpoint}/{bucket}/{archived.key}?")  # path-style on the local endpoint
    # A partner's plain HTTP client: no AWS SDK, no credentials, no signing of its own.
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
        body = response.read()
    assert body == PDF
    assert hashlib.sha256(body).hexdigest() == archived.sha256
    # The current version's link (no version id) downloads the same bytes.
    with urllib.request.urlopen(archive_of.link(archived.key), timeout=10) as response:
        assert response.read() == PDF
