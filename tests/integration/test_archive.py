"""The archive (影像平台) on moto in-process: the bucket as provisioned, and ``persistence.archive``."""
from __future__ import annotations

import base64
import hashlib
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from botocore.exceptions import ClientError

from chalicelib import resources
from chalicelib.persistence import archive
from local.stack import REGION

BRANCH, APPLICATION = "BR_DONGCHENG", "AP20261123-143501-a3f9c0d2e1"
PDF = b"%PDF-1.7\n% a signed contract\n" + bytes(range(256)) * 4 + b"\n%%EOF\n"


@pytest.fixture
def s3(aws):
    return boto3.client("s3", region_name=REGION)


@pytest.fixture
def bucket(aws):
    return aws.env[resources.ARCHIVE_BUCKET.env]


def now() -> datetime:
    return datetime.now(timezone.utc)


def versions(s3, bucket, key):
    return s3.list_object_versions(Bucket=bucket, Prefix=key).get("Versions", [])


# -- the bucket as provisioned ---------------------------------------------------------------


def test_the_archive_bucket_is_versioned_locked_encrypted_with_its_key_and_private(s3, bucket, aws):
    assert bucket == f"zhudai-local-archive-123456789012-{REGION}"
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    lock = s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
    assert lock["ObjectLockEnabled"] == "Enabled"
    retention = lock["Rule"]["DefaultRetention"]
    assert (retention["Mode"], retention["Days"]) == ("COMPLIANCE", 1)  # ARCHIVE_RETENTION_DAYS of the local stack
    [rule] = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": aws.env[resources.ARCHIVE_KEY.env]}
    assert rule["BucketKeyEnabled"] is True
    blocked = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert blocked == {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}


# -- keys ------------------------------------------------------------------------------------


def test_documents_are_keyed_by_branch_application_and_kind():
    assert archive.document_key(BRANCH, APPLICATION, "contract") == f"{BRANCH}/{APPLICATION}/contract.pdf"
    assert archive.document_key(BRANCH, APPLICATION, "authorisation") == f"{BRANCH}/{APPLICATION}/authorisation.pdf"


@pytest.mark.parametrize(
    "branch, application, kind",
    [
        (BRANCH, APPLICATION, "receipt"),  # not a kind of document the archive keeps
        (BRANCH, "../AP1", "contract"),  # a key must not climb out of its prefix
        ("BR/X", APPLICATION, "contract"),
        (BRANCH, "", "contract"),
        (BRANCH, "110101199003071234", "contract"),  # an ID number is personal data
        (BRANCH, "AP-13800138000", "contract"),  # so is a mobile number
    ],
)
def test_a_key_refuses_other_kinds_paths_and_personal_data(branch, application, kind):
    with pytest.raises(ValueError):
        archive.document_key(branch, application, kind)


# -- put, get, head --------------------------------------------------------------------------


def test_a_document_round_trips(aws):
    archived = archive.put(BRANCH, APPLICATION, "contract", PDF, now())
    assert archived.key == f"{BRANCH}/{APPLICATION}/contract.pdf"
    assert archived.version_id and archived.size == len(PDF)
    assert archive.get(archived.key) == PDF
    assert archive.get(archived.key, archived.version_id) == PDF
    assert archive.head(archived.key) == archive.head(archived.key, archived.version_id) == archived


def test_the_sha256_is_the_documents_and_s3_was_given_it_to_check(s3, bucket, aws):
    archived = archive.put(BRANCH, APPLICATION, "authorisation", PDF, now())
    assert archived.sha256 == hashlib.sha256(PDF).hexdigest()
    stored = s3.head_object(Bucket=bucket, Key=archived.key, ChecksumMode="ENABLED")
    assert stored["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(PDF).digest()).decode()
    assert stored["Metadata"] == {"sha256": archived.sha256}  # nothing else, and nothing personal
    assert stored["ContentType"] == "application/pdf"


def test_each_document_is_encrypted_with_the_archive_key(s3, bucket, aws):
    archived = archive.put(BRANCH, APPLICATION, "contract", PDF, now())
    stored = s3.head_object(Bucket=bucket, Key=archived.key)
    assert stored["ServerSideEncryption"] == "aws:kms"
    assert stored["SSEKMSKeyId"].endswith(aws.env[resources.ARCHIVE_KEY.env])


def test_the_same_bytes_again_answer_the_same_version_and_write_nothing(s3, bucket, aws):
    first = archive.put(BRANCH, APPLICATION, "contract", PDF, now())
    again = archive.put(BRANCH, APPLICATION, "contract", PDF, now() + timedelta(minutes=5))
    assert again == first
    assert [v["VersionId"] for v in versions(s3, bucket, first.key)] == [first.version_id]


def test_different_bytes_make_a_new_version_and_both_are_kept(s3, bucket, aws):
    first = archive.put(BRANCH, APPLICATION, "contract", PDF, now())
    changed = PDF.replace(b"a signed contract", b"a signed contract, re-issued")
    second = archive.put(BRANCH, APPLICATION, "contract", changed, now())
    assert second.key == first.key and second.version_id != first.version_id
    assert second.sha256 == hashlib.sha256(changed).hexdigest()
    assert {v["VersionId"] for v in versions(s3, bucket, first.key)} == {first.version_id, second.version_id}
    assert archive.get(first.key) == changed
    assert archive.get(first.key, first.version_id) == PDF
    assert archive.head(first.key) == second


def test_a_missing_document_has_no_head_and_cannot_be_read(aws):
    key = archive.document_key(BRANCH, APPLICATION, "contract")
    assert archive.head(key) is None
    with pytest.raises(KeyError):
        archive.get(key)


def test_a_document_altered_behind_the_archives_back_is_refused(s3, bucket, aws):
    archived = archive.put(BRANCH, APPLICATION, "contract", PDF, now())
    # As if the bytes had been replaced without the archive: a version whose metadata no longer matches.
    tampered = s3.put_object(
        Bucket=bucket, Key=archived.key, Body=b"%PDF-1.7 forged", Metadata={"sha256": archived.sha256}, ChecksumAlgorithm="SHA256"
    )
    with pytest.raises(archive.ArchiveIntegrityError):
        archive.get(archived.key, tampered["VersionId"])


# -- Object Lock -----------------------------------------------------------------------------


def test_each_version_is_locked_in_compliance_mode_for_the_configured_days(s3, bucket, aws, monkeypatch):
    monkeypatch.setenv("ARCHIVE_RETENTION_DAYS", "3650")
    written_at = now()
    archived = archive.put(BRANCH, APPLICATION, "contract", PDF, written_at)
    stored = s3.head_object(Bucket=bucket, Key=archived.key, VersionId=archived.version_id)
    assert stored["ObjectLockMode"] == "COMPLIANCE"
    assert abs(stored["ObjectLockRetainUntilDate"] - (written_at + timedelta(days=3650))) < timedelta(seconds=2)


def test_a_locked_version_cannot_be_deleted(s3, bucket, aws):
    archived = archive.put(BRANCH, APPLICATION, "contract", PDF, now())
    with pytest.raises(ClientError) as refused:
        s3.delete_object(Bucket=bucket, Key=archived.key, VersionId=archived.version_id)
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    # Compliance mode ignores the governance bypass.
    with pytest.raises(ClientError):
        s3.delete_object(Bucket=bucket, Key=archived.key, VersionId=archived.version_id, BypassGovernanceRetention=True)
    assert archive.get(archived.key, archived.version_id) == PDF


def test_a_delete_only_hides_the_document_behind_a_marker(s3, bucket, aws):
    archived = archive.put(BRANCH, APPLICATION, "contract", PDF, now())
    s3.delete_object(Bucket=bucket, Key=archived.key)  # no version: a delete marker, which the lock allows
    assert archive.head(archived.key) is None
    assert archive.get(archived.key, archived.version_id) == PDF  # the locked version is still there
    again = archive.put(BRANCH, APPLICATION, "contract", PDF, now())  # archiving again makes a current version
    assert again.version_id != archived.version_id and archive.get(again.key) == PDF


def test_the_retention_runs_from_an_aware_time():
    with pytest.raises(ValueError):
        archive.retain_until(datetime(2026, 11, 23, 12, 0))


# -- links -----------------------------------------------------------------------------------


def test_a_link_is_a_sigv4_presigned_get_of_the_version_valid_for_the_configured_seconds(aws):
    archived = archive.put(BRANCH, APPLICATION, "contract", PDF, now())
    url = urlsplit(archive.link(archived.key, archived.version_id))
    query = parse_qs(url.query)
    assert url.path.endswith("/" + archived.key)
    assert query["versionId"] == [archived.version_id]
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]  # SSE-KMS objects need SigV4
    assert query["X-Amz-Expires"] == ["600"]  # CONTRACT_LINK_SECONDS of the local stack
    assert parse_qs(urlsplit(archive.link(archived.key, seconds=60)).query)["X-Amz-Expires"] == ["60"]
    assert "versionId" not in parse_qs(urlsplit(archive.link(archived.key)).query)


@pytest.mark.parametrize("seconds", [0, -1, 7 * 24 * 3600 + 1])
def test_a_link_lasts_between_a_second_and_seven_days(aws, seconds):
    with pytest.raises(ValueError):
        archive.link(archive.document_key(BRANCH, APPLICATION, "contract"), seconds=seconds)
