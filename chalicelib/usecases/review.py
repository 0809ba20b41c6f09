"""The review (审批): the origination workflow's steps from RECEIVED to a decision.

- ``query_bureau``: REVIEWING; the credit report, reused while valid, else
  queried as the application's branch with the applicant's consent.
- ``decide``: anti-fraud, rules, scorecard, decision; the trail is stored (an item
  of its own, ``applications.save_trail``, put before the decision that refers to it).
- ``await_manual``: MANUAL_REVIEW with its deadline, in the branch's queue
  (the workflow's leg ends); ``manual_decision`` (a reviewer, through the back
  office) approves (the ROUTE leg started) or rejects; the origination watch
  expires it at the deadline.
- ``close``: the review's end: approved (ROUTING, ready for fund routing),
  REJECTED, EXPIRED (the manual review waited too long), or REJECTED with a
  reason when the bureau or a step failed for good. No application stays in
  REVIEWING after its leg ended (the watch starts a stalled one again), nor in
  MANUAL_REVIEW past its deadline.
"""
from __future__ import annotations

import functools
import json
from datetime import datetime, timedelta, timezone
from typing import Any

from chalicelib import resources, settings
from chalicelib.domain.application_status import ApplicationStatus as S
from chalicelib.persistence import applications, credit_reports, pii_vault
from chalicelib.ports.credit_bureau import BureauQuery, CreditBureau, reusable
from chalicelib.usecases.errors import Refusal, Refused
from chalicelib.usecases import origination
from chalicelib.usecases.origination import ApplicationNotFound


def _now() -> datetime:
    return datetime.now(timezone.utc)


@functools.cache
def _simulator() -> CreditBureau:
    from chalicelib.ports.credit_bureau import SimulatedCreditBureau

    return SimulatedCreditBureau()


def bureau() -> CreditBureau:
    """The configured credit bureau: the simulator (sandboxes, the local stack) or the bank's gateway."""
    if settings.env("CREDIT_BUREAU_MODE", "simulator") == "simulator":
        return _simulator()
    from aws_lambda_powertools.utilities import parameters

    from chalicelib.ports.credit_bureau import HttpCreditBureau

    path = settings.env(resources.BUREAU_CREDENTIALS.env)
    return HttpCreditBureau(
        base_url=settings.env("CREDIT_BUREAU_URL"),
        client_id=parameters.get_parameter(f"{path}/client_id", decrypt=True, max_age=300),
        client_secret=parameters.get_parameter(f"{path}/client_secret", decrypt=True, max_age=300),
        timeout_seconds=8.0,
    )


def _application(application_id: str) -> applications.ApplicationItem:
    item = applications.get(application_id)
    if item is None:
        raise ApplicationNotFound(application_id)
    return item


def query_bureau(application_id: str, port: CreditBureau | None = None) -> dict[str, Any]:
    item = _application(application_id)
    now = _now()
    applications.transition(application_id, S.REVIEWING.value, {S.RECEIVED.value}, now.isoformat())
    report_key = credit_reports.key(item.id_hash, item.branch_code)
    validity = int(settings.env("CREDIT_REPORT_VALIDITY_DAYS", "30"))
    queried = credit_reports.queried_at(report_key)
    if queried is not None and reusable(queried, now, validity):
        return {"report_key": report_key, "reused": True}
    personal = pii_vault.unseal(item.sealed_pii, {"application_id": application_id})
    report = (port or bureau()).query(
        BureauQuery(
            id_number=personal["id_number"],
            name=personal["name"],
            querying_branch=item.branch_code,
            consent_reference=f"{application_id}/consents.credit_inquiry",
            subject_hash=item.id_hash,
        )
    )
    credit_reports.save(report_key, now, report.to_dict(), validity)
    return {"report_key": report_key, "reused": False}


def await_manual(application_id: str, review_timeout_seconds: int) -> dict[str, str]:
    """Workflow step: into the branch's manual review queue, with its deadline (the workflow's leg
    ends here; the reviewer's decision or the origination watch, at the deadline, goes on)."""
    now = _now()
    deadline = now + timedelta(seconds=int(review_timeout_seconds))
    item = applications.transition(
        application_id, S.MANUAL_REVIEW.value, {S.REVIEWING.value}, now.isoformat(), waits_until=deadline.isoformat()
    )
    return {"application_id": application_id, "status": item.status}


ENDS = {
    "APPROVED": (S.ROUTING, None),
    "REJECTED": (S.REJECTED, None),
    "EXPIRED": (S.EXPIRED, "MANUAL_REVIEW_EXPIRED"),
    "BUREAU_FAILED": (S.REJECTED, "BUREAU_UNAVAILABLE"),
    "FAILED": (S.REJECTED, "REVIEW_ERROR"),
}


def close(application_id: str, end: str, manual: dict[str, Any] | None = None) -> dict[str, str]:
    """The review's end; ``manual``: the reviewer's decision, recorded in the application's ``trail``
    by the same conditional write (only the reviewer whose change of status won records theirs)."""
    status, reason = ENDS[end]
    item = _application(application_id)
    decision = dict(item.decision or {})
    if reason and reason not in decision.get("reasons", []):
        decision.update(outcome="REJECT" if status is S.REJECTED else status.value, reasons=[*decision.get("reasons", []), reason])
    extra = {"trail": {**(item.trail or {}), "manual_review": manual}} if manual else {}
    applications.transition(
        application_id,
        status.value,
        {S.RECEIVED.value, S.REVIEWING.value, S.MANUAL_REVIEW.value} if not manual else {S.MANUAL_REVIEW.value},
        _now().isoformat(),
        strict=bool(manual),
        decision=decision or None,
        **extra,
    )
    return {"application_id": application_id, "status": status.value}


def manual_decision(operator: Any, application_id: str, outcome: str, comment: str, sfn: Any) -> dict[str, str]:
    """A reviewer of the application's branch approves or rejects. The decision is one conditional
    write (MANUAL_REVIEW -> ROUTING or REJECTED, the decision in the trail): of two reviewers, one
    decides. An approval then starts the workflow's ROUTE leg."""
    item = applications.get(application_id)
    if item is None or not operator.may_review(item.branch_code):
        raise Refused(Refusal.NOT_FOUND, "NOT_FOUND", "no such application in your branch's queue")
    if item.status != S.MANUAL_REVIEW.value:
        raise Refused(Refusal.CONFLICT, "NOT_IN_MANUAL_REVIEW", f"the application is {item.status}")
    now = _now()
    if item.waits_until and now >= datetime.fromisoformat(item.waits_until):
        raise Refused(Refusal.CONFLICT, "REVIEW_CLOSED", "the review expired")
    manual = {"outcome": outcome, "by": operator.operator_id, "comment": comment, "at": now.isoformat()}
    try:
        close(application_id, "APPROVED" if outcome == "APPROVE" else "REJECTED", manual=manual)
    except applications.StatusConflict as exc:
        raise Refused(Refusal.CONFLICT, "REVIEW_CLOSED", "the review expired or was already decided") from exc
    if outcome == "APPROVE":
        origination.resume(sfn, application_id, "ROUTE")
    return {"application_id": application_id, "outcome": outcome}


def _blacklisted(kind: str, value_hash: str) -> bool:
    from chalicelib.persistence import config_repository

    return config_repository.blacklisted(kind, value_hash)


def decide(application_id: str, report_key: str) -> dict[str, Any]:
    """Anti-fraud, rules, scorecard and the decision; stores the decision and its trail.

    The trail (a few KB) is an item of its own, put before the decision is stored: the application
    item, rewritten at every later change of status, does not carry it (``persistence/applications.py``).
    A step retried puts it again; a retry that finds the review over puts nothing."""
    from chalicelib.domain import antifraud, rules
    from chalicelib.domain.decision import decide as decide_on
    from chalicelib.domain.identity import parse_resident_id
    from chalicelib.domain.review_facts import application_facts, scorecard_inputs
    from chalicelib.persistence import config_repository, fraud_signals
    from chalicelib.ports.credit_bureau import CreditReport

    item = _application(application_id)
    if item.status != S.REVIEWING.value:  # decided and moved on: its trail is not rewritten
        raise applications.StatusConflict(f"application {application_id} is {item.status}, not {S.REVIEWING.value}")
    now = _now()
    product = config_repository.product(item.product_code)
    policy = config_repository.review_policy(item.product_code, item.branch_code)
    card = config_repository.scorecard(item.product_code)
    found = credit_reports.find(report_key)
    if product is None or policy is None or card is None or found is None:
        raise LookupError(f"missing configuration or report for {application_id}")
    report = CreditReport.from_dict(found[1])
    personal = pii_vault.unseal(item.sealed_pii, {"application_id": application_id})
    resident = parse_resident_id(personal["id_number"], today=now.date())
    facts = application_facts(item.application, resident, report.facts(), config_repository.business_date())

    window = policy.fraud_limits.window_days
    mobile_hash, card_hash = pii_vault.keyed_hash("mobile:" + personal["mobile"]), pii_vault.keyed_hash("card:" + personal["card_number"])
    fraud_facts = antifraud.FraudFacts(
        id_blacklisted=report.blacklisted or _blacklisted("ID", item.id_hash),
        mobile_blacklisted=_blacklisted("MOBILE", mobile_hash),
        card_blacklisted=_blacklisted("CARD", card_hash),
        distinct_ids_for_mobile_in_window=fraud_signals.people_using("MOBILE", mobile_hash, item.id_hash, now, window),
        distinct_ids_for_card_in_window=fraud_signals.people_using("CARD", card_hash, item.id_hash, now, window),
        applications_by_person_in_window=fraud_signals.applications_of(item.id_hash, application_id, now, window),
        id_valid=True,
        applicant_age=facts["applicant_age"],
    )
    hits = antifraud.check(fraud_facts, policy.fraud_limits)
    results = rules.evaluate(policy.rules, facts)
    scored = card.score(scorecard_inputs(facts))
    decision = decide_on(policy, product, facts, scored.score, scored.pd, results, hits)
    trail = decision.trail() | {
        "fraud_facts": fraud_facts.to_dict(),
        "scorecard": {"version": card.version, "contributions": [list(c) for c in scored.contributions]},
        "bureau": {"report_id": report.report_id, "queried_at": report.queried_at.isoformat(), "source": report.source},
        "decided_at": now.isoformat(),
    }
    full = json.loads(json.dumps(trail, default=str))
    summary = {k: full[k] for k in ("outcome", "reasons", "approved_limit", "annual_rate", "band", "score", "pd")}
    applications.save_trail(application_id, applications.REVIEW, full)
    applications.transition(application_id, S.REVIEWING.value, {S.REVIEWING.value}, now.isoformat(), decision=summary)
    return {"outcome": decision.outcome.value, "reasons": list(decision.reasons)}
