"""The statuses of an application, as the partner API names them."""
from __future__ import annotations

from enum import Enum


class ApplicationStatus(str, Enum):
    RECEIVED = "RECEIVED"
    REVIEWING = "REVIEWING"
    MANUAL_REVIEW = "MANUAL_REVIEW"
    REJECTED = "REJECTED"
    ROUTING = "ROUTING"
    NO_FUNDER = "NO_FUNDER"
    OFFERED = "OFFERED"
    SIGNING = "SIGNING"
    DISBURSING = "DISBURSING"
    DISBURSED = "DISBURSED"
    DISBURSEMENT_FAILED = "DISBURSEMENT_FAILED"
    EXPIRED = "EXPIRED"
    CANCELLED = "CANCELLED"
