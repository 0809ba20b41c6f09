"""The day-end files in S3 (the reports bucket): credit-bureau files, partners' reconciliation files, reports.

=============================================  ==============================================
key                                            what
=============================================  ==============================================
``credit-reports/<branch>/<day>.sealed.json``  a branch's credit-bureau file of the day, sealed
                                               (it holds names and ID numbers)
``credit-reports/parts/<day>/<run>/<branch>/``  the day end's parts of it, one per segment chunk
                                               (sealed; expired after ``PARTS_EXPIRE_DAYS``)
``reconciliation/inbound/<partner>/<day>.csv``  the partner's file of its day (uploaded by the
                                               partner through a presigned link; S3 event)
``reconciliation/reports/<partner>/<day>.csv``  the reconciliation report of that day
``reconciliation/reports/<partner>/<day>.json`` its summary (status, totals, breaks; see
                                               ``persistence/reconciliation_reports.py``)
=============================================  ==============================================

The bucket is versioned and encrypted with the archive key (SSE-KMS); writing
a file again makes a new version, never loses the old.
"""
from __future__ import annotations

import re
from datetime import date
from typing import Any

from chalicelib import resources, settings
from chalicelib.aws_clients import client

INBOUND = "reconciliation/inbound/"
_INBOUND_KEY = re.compile(r"reconciliation/inbound/(?P<partner>[A-Z][A-Z0-9_]{1,31})/(?P<day>[0-9]{4}-[0-9]{2}-[0-9]{2})\.csv")


def bucket_name() -> str:
    return settings.env(resources.REPORTS_BUCKET.env)


def credit_report_key(branch_code: str, day: date) -> str:
    return f"credit-reports/{branch_code}/{day.isoformat()}.sealed.json"


def inbound_key(partner_id: str, day: date) -> str:
    return f"{INBOUND}{partner_id}/{day.isoformat()}.csv"


def report_key(partner_id: str, day: date) -> str:
    return f"reconciliation/reports/{partner_id}/{day.isoformat()}.csv"


def parse_inbound_key(key: str) -> tuple[str, date] | None:
    """(partner, day) of an inbound file's key; None for any other key."""
    found = _INBOUND_KEY.fullmatch(key)
    if found is None:
        return None
    try:
        return found["partner"], date.fromisoformat(found["day"])
    except ValueError:
        return None


def put(key: str, body: bytes, content_type: str = "text/csv; charset=utf-8") -> str | None:
    """Write (a new version when it exists); the version id."""
    return client("s3").put_object(Bucket=bucket_name(), Key=key, Body=body, ContentType=content_type).get("VersionId")


def get(key: str) -> bytes | None:
    """The file's latest version, or None when there is none."""
    s3 = client("s3")
    try:
        return s3.get_object(Bucket=bucket_name(), Key=key)["Body"].read()
    except s3.exceptions.NoSuchKey:
        return None


def keys(prefix: str) -> list[str]:
    """The keys under ``prefix``, in key order (ListObjectsV2, every page)."""
    pages = client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket_name(), Prefix=prefix)
    return [o["Key"] for page in pages for o in page.get("Contents", ())]


def upload_link(key: str, seconds: int) -> dict[str, Any]:
    """A presigned PUT for a partner to upload its file with a plain HTTP client."""
    url = client("s3").generate_presigned_url(
        "put_object", Params={"Bucket": bucket_name(), "Key": key, "ContentType": "text/csv"}, ExpiresIn=seconds
    )
    return {"url": url, "method": "PUT", "headers": {"Content-Type": "text/csv"}, "expires_in": seconds}
