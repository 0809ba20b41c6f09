"""An offer and the borrower's answer (要约与承诺): take it, or let the offer expire.

The origination workflow's leg ends when the offer is made (OFFERED, its
deadline the offer's ``expires_at``); nothing waits in the workflow. The owning
partner posts the borrower's answer:

- accepted: ``OFFERED`` -> ``SIGNING``, and the workflow's ANSWER leg signs the
  contract and disburses;
- declined: ``OFFERED`` -> ``CANCELLED``, and the ANSWER leg releases the
  reservation.

The answer is recorded on the application first (one conditional write: of two
different answers racing, one wins; the same answer again is a replay), then
the ANSWER leg is started. A replay starts it again while its work is not done
(the first start may have been lost); every step of it is safe to run twice.

The offer ends (``close``) EXPIRED when no answer came in time (the origination
watch, at ``expires_at``), CANCELLED when declined or when signing failed for
good; each end releases what routing reserved and closes a credit line the
offer would have opened.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel, ConfigDict, Field

from chalicelib.domain.application_status import ApplicationStatus as S
from chalicelib.domain.credit_line import DRAWDOWN
from chalicelib.domain.product import Violation
from chalicelib.domain.wire import Timestamp
from chalicelib.observability import logger, metrics
from chalicelib.persistence import applications, credit_lines, quotas
from chalicelib.usecases.errors import Refusal, Refused, invalid_input, parse_body
from chalicelib.usecases import origination
from chalicelib.usecases.origination import ApplicationNotFound

CLOCK_SKEW = timedelta(minutes=5)  # an answer "accepted" this far in the future is still believed
ENDS = {"EXPIRED": S.EXPIRED, "DECLINED": S.CANCELLED, "SIGNING_FAILED": S.CANCELLED}


class Answer(BaseModel):
    """``POST /v1/applications/{id}/acceptance``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    accepted: bool = Field(strict=True)
    accepted_at: Timestamp


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _parse(payload: Any) -> Answer:
    return parse_body(Answer, payload, "answer")


def _replay(item: Any, answer: Answer, sfn: Any) -> dict[str, Any]:
    if bool(item.acceptance["accepted"]) != answer.accepted:
        given = "accepted" if item.acceptance["accepted"] else "declined"
        raise Refused(Refusal.CONFLICT, "ANSWER_CONFLICT", f"the borrower already {given} this offer", [Violation("accepted", f"already {given}")])
    if _unfinished(item):
        _go_on(sfn, item.application_id, answer.accepted)
    return {"application_id": item.application_id, "status": item.status, "accepted": answer.accepted}


def _unfinished(item: Any) -> bool:
    """The answer's leg has work left: an accepted offer not signed yet, a declined one still holding quota."""
    if item.status == S.SIGNING.value:
        return not item.contract
    return item.status == S.CANCELLED.value and bool((item.offer or {}).get("reservation")) and not _released(item)


def _released(item: Any) -> bool:
    reservation = quotas.get_reservation(item.offer["reservation"])
    return reservation is None or reservation.status == quotas.RELEASED


def _go_on(sfn: Any, application_id: str, accepted: bool) -> None:
    origination.resume(sfn, application_id, "ANSWER", answer={"accepted": accepted})


def answer(partner: Any, application_id: str, payload: Any, sfn: Any) -> dict[str, Any]:
    """The owning partner tells the borrower's answer; idempotent for the same answer."""
    item = applications.get(application_id) if application_id.startswith("AP") else None
    if item is None or item.partner_id != partner.partner_id:
        raise Refused(Refusal.NOT_FOUND, "NOT_FOUND", "no such application")
    given = _parse(payload)
    now = _now()
    if given.accepted_at > now + CLOCK_SKEW:
        raise invalid_input("answer", [Violation("accepted_at", "must not be in the future")])
    if item.acceptance is not None:
        return _replay(item, given, sfn)
    if item.status == S.EXPIRED.value or (item.status == S.OFFERED.value and now >= datetime.fromisoformat(item.offer["expires_at"])):
        raise Refused(Refusal.BUSINESS_RULE, "OFFER_EXPIRED", "the offer has expired", [Violation("accepted", "the offer expired")])
    if item.status != S.OFFERED.value:
        raise Refused(Refusal.BUSINESS_RULE, "NO_OPEN_OFFER", f"the application is {item.status}: there is no offer to answer")
    to = S.SIGNING if given.accepted else S.CANCELLED
    record = {"accepted": given.accepted, "accepted_at": given.accepted_at.isoformat(), "received_at": now.isoformat()}
    try:
        item = applications.transition(application_id, to.value, {S.OFFERED.value}, now.isoformat(), acceptance=record)
    except applications.StatusConflict:
        item = applications.get(application_id)
        if item is not None and item.acceptance is not None:  # a concurrent answer won
            return _replay(item, given, sfn)
        raise Refused(Refusal.BUSINESS_RULE, "NO_OPEN_OFFER", "the offer closed meanwhile") from None
    _go_on(sfn, application_id, given.accepted)
    metrics.add_metric(name="OffersAccepted" if given.accepted else "OffersDeclined", unit=MetricUnit.Count, value=1)
    logger.info("offer answered", extra={"application_id": application_id, "accepted": given.accepted})
    return {"application_id": application_id, "status": to.value, "accepted": given.accepted}


def close(application_id: str, end: str) -> dict[str, Any]:
    """Workflow step: the offer ends (EXPIRED, DECLINED, SIGNING_FAILED); what it held is released."""
    if end not in ENDS:
        raise ValueError(f"unknown end {end!r}")
    item = applications.get(application_id)
    if item is None:
        raise ApplicationNotFound(application_id)
    now = _now()
    # The end first, under the condition that the offer is still where this end may come from (an
    # expiry only from OFFERED: an answer that won the race keeps its quota), then what it held is
    # released: a step run again finds the end made and releases (once, however often it runs).
    allowed = {S.SIGNING.value} if end == "SIGNING_FAILED" else {S.OFFERED.value}
    status = ENDS[end]
    reasons = (item.decision or {}).get("reasons", [])
    reason = {"EXPIRED": "OFFER_EXPIRED", "DECLINED": "OFFER_DECLINED", "SIGNING_FAILED": "SIGNING_FAILED"}[end]
    decision = {**(item.decision or {}), "reasons": reasons if reason in reasons else [*reasons, reason]}
    applications.transition(application_id, status.value, allowed, now.isoformat(), decision=decision)
    reservation = (item.offer or {}).get("reservation")
    if reservation:
        quotas.release(reservation, now)
    line_id = (item.offer or {}).get("credit_line_id")
    if line_id and item.kind != DRAWDOWN:
        credit_lines.close(line_id, now.isoformat())
    return {"application_id": application_id, "status": status.value}
