"""The back-office API for operators (never partners): the manual review queue and its decisions."""
from __future__ import annotations

from typing import Any, Literal

from chalice import Response
from pydantic import BaseModel, ConfigDict, Field

from chalicelib.api import http
from chalicelib.aws_clients import client
from chalicelib.domain.application_status import ApplicationStatus
from chalicelib.observability import logger
from chalicelib.persistence import applications
from chalicelib.usecases import review
from chalicelib.usecases.errors import Refusal, Refused
from chalicelib.usecases.operator_auth import operator_of


class ManualDecision(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    outcome: Literal["APPROVE", "REJECT"]
    comment: str = Field(min_length=1, max_length=500)


def _summary(item: Any, trail: dict[str, Any]) -> dict[str, Any]:
    return {
        "application_id": item.application_id,
        "partner_id": item.partner_id,
        "branch_code": item.branch_code,
        "status": item.status,
        "updated_at": item.updated_at,
        "application": item.application,
        "decision": item.decision,
        "trail": trail or None,
    }


def review_queue(request: Any) -> Response:
    operator = operator_of(request)
    branch = (request.query_params or {}).get("branch") or operator.branch_code
    if branch is None or not operator.sees(branch):
        raise Refused(Refusal.FORBIDDEN, "BRANCH_FORBIDDEN", "choose a branch you may see (?branch=)")
    items = applications.queue(branch, ApplicationStatus.MANUAL_REVIEW.value)
    trails = applications.trails_of(items)  # every item's trail in one BatchGetItem
    applications.documents_of(items)  # and every item's document (its ``application``) in another
    return http.json_response(200, {"branch_code": branch, "items": [_summary(i, t) for i, t in zip(items, trails)]})


def decide(request: Any, application_id: str) -> Response:
    operator = operator_of(request)
    body: ManualDecision = http.parse(ManualDecision, request.raw_body or b"")
    done = review.manual_decision(operator, application_id, body.outcome, body.comment, client("stepfunctions"))
    logger.info("manual review decided", extra={"application_id": application_id, "operator": operator.operator_id, "outcome": body.outcome})
    return http.json_response(200, done)
