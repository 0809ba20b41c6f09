"""The origination watch (进件巡检): what no workflow execution waits for.

Origination runs in Express legs that end where a person is awaited (``usecases/origination``),
so deadlines and lost legs are kept here, by a schedule (every few minutes). For each branch:

- **deadlines** (the sparse ``by_due`` index: only what waits, by deadline): a manual review past
  its ``waits_until`` ends EXPIRED (``review.close``), an offer past its ``expires_at`` ends EXPIRED
  (``offers.close``: the reservation released, a line the offer would open closed);
- **stalled legs** (``by_branch_status``, bounded by the time of the last change, so a quiet branch
  costs one empty query a status): an application still RECEIVED or REVIEWING, ROUTING, or SIGNING
  with its answer given, ``STALL_SECONDS`` after its last change (a leg that timed out, a start
  that was lost), has its leg started again; a DISBURSING one whose payment is still being queried
  (SENT), its DISBURSE leg, one query a round (IN_DOUBT is the operators').
- **legs that keep stalling** end where the workflow's own catch would end them: a leg started
  again ``MAX_RESTARTS`` times (``ORIGINATION_MAX_RESTARTS``) and stalled once more is closed as
  failed (a review: REJECTED with REVIEW_ERROR; routing: NO_FUNDER with ROUTING_ERROR, what it
  reserved released; signing: CANCELLED with SIGNING_FAILED, the reservation released). A payment
  is never given up here: its queries are bounded by ``PAYMENT_QUERY_ATTEMPTS`` (then IN_DOUBT).

Every step it starts or runs is safe to run again; two watches at once do no harm either (the
closes are conditional, the legs idempotent).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from chalicelib import settings
from chalicelib.domain.application_status import ApplicationStatus as S
from chalicelib.observability import logger, metrics
from chalicelib.persistence import applications, config_repository, loans

STALL_SECONDS = "ORIGINATION_STALL_SECONDS"  # a leg this long without a change is started again
MAX_RESTARTS = "ORIGINATION_MAX_RESTARTS"  # legs started again before one that stalls once more is closed as failed
PAGE = 100  # applications a branch and kind each round at most (the rest on the next round)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def sweep(sfn: Any, now: datetime | None = None) -> dict[str, int]:
    """One round over every branch; how many of each kind it closed or started."""
    now = now or _now()
    done = {"reviews_expired": 0, "offers_expired": 0, "legs_restarted": 0, "legs_failed": 0, "payments_queried": 0}
    stalled_before = (now - timedelta(seconds=int(settings.env(STALL_SECONDS, "600")))).isoformat()
    for branch in config_repository.branches():
        for item in applications.due(branch.branch_code, now.isoformat(), limit=PAGE):
            try:
                done[_expire(item)] += 1
            except applications.StatusConflict:  # answered or decided meanwhile: no longer waiting
                continue
        for status in (S.RECEIVED, S.REVIEWING, S.ROUTING, S.SIGNING, S.DISBURSING):
            for item in applications.changed_before(branch.branch_code, status.value, stalled_before, limit=PAGE):
                try:
                    kind = _restart(sfn, item)
                except applications.StatusConflict:  # its leg moved it on meanwhile
                    continue
                if kind:
                    done[kind] += 1
    for kind, count in done.items():
        if count:
            metrics.add_metric(name=f"Watch{''.join(w.title() for w in kind.split('_'))}", unit=MetricUnit.Count, value=count)
    (logger.info if any(done.values()) else logger.debug)("origination watch", extra=done)
    return done


def _expire(item: Any) -> str:
    from chalicelib.usecases import offers, review

    if item.status == S.MANUAL_REVIEW.value:
        review.close(item.application_id, "EXPIRED")
        return "reviews_expired"
    offers.close(item.application_id, "EXPIRED")
    return "offers_expired"


def _restart(sfn: Any, item: Any) -> str | None:
    from chalicelib.usecases import origination

    status = item.status
    accepted = bool((item.acceptance or {}).get("accepted"))
    if status == S.DISBURSING.value or (status == S.SIGNING.value and not accepted):
        pass  # a payment is queried, never given up here; a SIGNING without an answer is not the watch's
    elif int(item.watch_restarts or 0) >= int(settings.env(MAX_RESTARTS, "3")):
        return _fail(item)
    else:
        applications.count_restart(item)
    if status in (S.RECEIVED.value, S.REVIEWING.value):
        product = config_repository.product(item.product_code or "")
        hours = product.manual_review_hours if product else 72
        origination.resume(sfn, item.application_id, "REVIEW", review_timeout_seconds=hours * 3600)
    elif status == S.ROUTING.value:
        origination.resume(sfn, item.application_id, "ROUTE")
    elif status == S.SIGNING.value and accepted:
        origination.resume(sfn, item.application_id, "ANSWER", answer={"accepted": True})
    elif status == S.DISBURSING.value and _payment_open(item):
        origination.resume(sfn, item.application_id, "DISBURSE")
        return "payments_queried"
    else:
        return None
    logger.warning("a stalled origination leg started again", extra={"application_id": item.application_id, "status": status})
    return "legs_restarted"


def _fail(item: Any) -> str:
    """A leg that kept stalling ends as its workflow's catch would end it (the module's docstring)."""
    from chalicelib.usecases import fund_routing, offers, review

    if item.status == S.ROUTING.value:
        fund_routing.routing_failed(item.application_id)
    elif item.status == S.SIGNING.value:
        offers.close(item.application_id, "SIGNING_FAILED")
    else:
        review.close(item.application_id, "FAILED")
    logger.error("a stalled origination leg closed as failed after its restarts",
                 extra={"application_id": item.application_id, "status": item.status, "restarts": int(item.watch_restarts or 0)})
    return "legs_failed"


def _payment_open(item: Any) -> bool:
    """A loan booked whose payment is still being queried (not IN_DOUBT: that is the operators')."""
    record = loans.record(item.loan_id) if item.loan_id else None
    return record is None or (record.payment or {}).get("state") != "IN_DOUBT"
