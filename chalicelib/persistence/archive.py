"""The archive (影像平台): signed contracts and credit-inquiry authorisations in S3.

- One object per document: ``<branch_code>/<application_id>/<kind>.pdf``. Keys and
  metadata carry no personal data: the branch code, the application id, the kind
  and the document's SHA-256, nothing else.
- The bucket (``resources.ARCHIVE_BUCKET``) is versioned and encrypted with the
  archive key (SSE-KMS, named on every write as well); with Object Lock, each
  version is written in COMPLIANCE mode until ``now + ARCHIVE_RETENTION_DAYS``,
  so nobody, the root user included, can delete or shorten it before then.
- S3 verifies each upload against the SHA-256 sent with it (``ChecksumSHA256``);
  the hex digest is kept as metadata, so ``head`` answers it without KMS.
- ``put`` is idempotent: when the current version of the key has the same SHA-256,
  it answers that version and writes nothing (a retried workflow step). Two
  concurrent writes of the same bytes may both write a version; both are kept.
- ``link`` is a presigned GET: a partner downloads with a plain HTTP client and
  no AWS credentials, for ``CONTRACT_LINK_SECONDS`` (and at most as long as the
  signing function's own credentials last: the link is signed with them).

Permissions (``infrastructure/stack.py``): ``head`` and ``get`` need
``s3:GetObject``/``s3:GetObjectVersion`` and ``s3:ListBucket`` (without it S3
answers a missing key with 403 instead of 404), ``get`` also ``kms:Decrypt`` on
the archive key; ``put`` needs ``s3:PutObject``, ``s3:PutObjectRetention`` and
``kms:GenerateDataKey``.
"""
from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib import resources, settings
from chalicelib.aws_clients import client

BUCKET = resources.ARCHIVE_BUCKET
KINDS = ("contract", "authorisation")
CONTENT_TYPE = "application/pdf"
MAX_LINK_SECONDS = 7 * 24 * 3600  # the longest a SigV4 presigned URL may be valid
_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")
_PERSONAL_DIGITS = re.compile(r"\d{11,}")  # shaped like an ID, mobile or card number
_ABSENT = {"404", "NoSuchKey", "NoSuchVersion"}


class ArchiveIntegrityError(RuntimeError):
    """A document read back does not match the SHA-256 it was archived with."""


@dataclass(frozen=True)
class Archived:
    key: str
    version_id: str | None
    sha256: str  # hex
    size: int


def _segment(name: str, value: str) -> str:
    if not isinstance(value, str) or not _SEGMENT.fullmatch(value):
        raise ValueError(f"{name} must be letters, digits, '_' and '-': {value!r}")
    if _PERSONAL_DIGITS.search(value):
        raise ValueError(f"{name} looks like personal data; archive keys must not carry any")
    return value


def document_key(branch_code: str, application_id: str, kind: str) -> str:
    """``<branch_code>/<application_id>/<kind>.pdf``; ``kind`` is "contract" or "authorisation"."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}: {kind!r}")
    return f"{_segment('branch_code', branch_code)}/{_segment('application_id', application_id)}/{kind}.pdf"


def bucket_name() -> str:
    return settings.env(BUCKET.env)


def retain_until(now: datetime) -> datetime:
    """How long a version written at ``now`` is locked: ``now + ARCHIVE_RETENTION_DAYS``."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    return now + timedelta(days=int(settings.env("ARCHIVE_RETENTION_DAYS")))


def _version(params: dict[str, Any], version_id: str | None) -> dict[str, Any]:
    return {**params, "VersionId": version_id} if version_id else params


def head(key: str, version_id: str | None = None) -> Archived | None:
    """The document's current (or given) version, or None if there is none (or it was deleted)."""
    from botocore.exceptions import ClientError

    try:
        found = client("s3").head_object(**_version({"Bucket": bucket_name(), "Key": key}, version_id))
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in _ABSENT:
            return None
        raise
    return Archived(key, found.get("VersionId"), found.get("Metadata", {}).get("sha256", ""), int(found["ContentLength"]))


def get(key: str, version_id: str | None = None) -> bytes:
    """The document's bytes, checked against the SHA-256 it was archived with. KeyError if absent."""
    from botocore.exceptions import ClientError

    try:
        found = client("s3").get_object(**_version({"Bucket": bucket_name(), "Key": key}, version_id))
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in _ABSENT:
            raise KeyError(key if version_id is None else f"{key}?versionId={version_id}") from exc
        raise
    body: bytes = found["Body"].read()
    expected = found.get("Metadata", {}).get("sha256")
    if expected and hashlib.sha256(body).hexdigest() != expected:
        raise ArchiveIntegrityError(f"{key} ({found.get('VersionId')}) does not match its SHA-256")
    return body


def put(branch_code: str, application_id: str, kind: str, body: bytes, now: datetime) -> Archived:
    """Archive a document; answer the current version instead if it already has these bytes."""
    key = document_key(branch_code, application_id, kind)
    digest = hashlib.sha256(body)
    sha256 = digest.hexdigest()
    current = head(key)
    if current is not None and current.sha256 == sha256:
        return current
    params: dict[str, Any] = {
        "Bucket": bucket_name(),
        "Key": key,
        "Body": body,
        "ContentType": CONTENT_TYPE,
        "ChecksumAlgorithm": "SHA256",
        "ChecksumSHA256": base64.b64encode(digest.digest()).decode("ascii"),  # S3 refuses the upload if it differs
        "Metadata": {"sha256": sha256},
        "ServerSideEncryption": "aws:kms",
        "SSEKMSKeyId": settings.env(resources.all_resources()[BUCKET.key].env),
        "BucketKeyEnabled": True,
    }
    if BUCKET.object_lock:
        params["ObjectLockMode"] = "COMPLIANCE"
        params["ObjectLockRetainUntilDate"] = retain_until(now)
    written = client("s3").put_object(**params)
    return Archived(key, written.get("VersionId"), sha256, len(body))


def link(key: str, version_id: str | None = None, seconds: int | None = None) -> str:
    """A presigned GET of the document (the given version, else the current one), valid ``seconds``
    (default CONTRACT_LINK_SECONDS). Signing makes no AWS call: the key's existence is not checked."""
    if seconds is None:
        seconds = int(settings.env("CONTRACT_LINK_SECONDS"))
    if not 0 < seconds <= MAX_LINK_SECONDS:
        raise ValueError(f"a link is valid between 1 second and {MAX_LINK_SECONDS} seconds: {seconds}")
    params = _version({"Bucket": bucket_name(), "Key": key}, version_id)
    return client("s3").generate_presigned_url("get_object", Params=params, ExpiresIn=seconds, HttpMethod="GET")
