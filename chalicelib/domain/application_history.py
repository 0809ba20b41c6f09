"""What an application went through, as the back office shows it: its timeline and its review.

``timeline`` puts in time order every status the application took (its
``status_history``: ``[status, at]`` pairs kept by each change of status) and
the events recorded with it: the review's decision, a reviewer's manual
decision, the fund routing, the borrower's answer to the offer, the signed
contract, the disbursement. An application stored before its statuses were
kept shows the status it was created in and the one it is in now.

The review is read from the decision's ``trail`` (what the decision rested on,
see ``domain/decision.py``): ``bureau_summary`` (the report's id, time and
source, and the bureau facts the rules and the scorecard used), ``score``,
``rule_results``; ``documents`` lists the archived documents with their
SHA-256.

Free text written by people (a reviewer's comment) is passed through
``masking.scrub``: a number typed into a comment is masked like any other.

Pure: no I/O.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Iterable, Mapping

from chalicelib.domain.masking import scrub

BUREAU_FACT_PREFIX = "bureau_"
DOCUMENT_KINDS = ("contract", "authorisation")
_LATEST = datetime.max.replace(tzinfo=timezone.utc)


def _when(text: Any) -> datetime:
    """An entry's time for ordering (an unreadable one goes last)."""
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        return _LATEST
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _statuses(history: Iterable[Any] | None, created_at: str | None, initial: str | None, status: str | None, updated_at: str | None) -> list[dict[str, Any]]:
    entries = [{"at": at, "kind": "STATUS", "status": name} for name, at in (history or ())]
    if entries:
        return entries
    if initial:  # stored before statuses were kept: where it began and where it is
        entries.append({"at": created_at, "kind": "STATUS", "status": initial})
    if status and status != initial:
        entries.append({"at": updated_at, "kind": "STATUS", "status": status})
    return entries


def _events(trail: Mapping[str, Any], acceptance: Mapping[str, Any] | None, contract: Mapping[str, Any] | None, disbursement: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if trail.get("decided_at"):
        found.append({"at": trail["decided_at"], "kind": "DECISION", "outcome": trail.get("outcome"), "reasons": list(trail.get("reasons") or ())})
    manual = trail.get("manual_review")
    if manual:
        found.append({
            "at": manual.get("at"), "kind": "MANUAL_REVIEW", "outcome": manual.get("outcome"), "by": manual.get("by"),
            "comment": scrub(str(manual.get("comment") or "")),
        })
    routing = trail.get("routing")
    if routing and routing.get("routed_at"):
        attempts = routing.get("attempts") or []
        approved = [a for a in attempts if a.get("result") != "REFUSED"]
        found.append({
            "at": routing["routed_at"], "kind": "ROUTING", "channels_tried": len(attempts),
            "channel": approved[-1].get("channel") if approved else None,
        })
    if acceptance:
        found.append({"at": acceptance.get("received_at") or acceptance.get("accepted_at"), "kind": "ANSWER", "accepted": bool(acceptance.get("accepted"))})
    if contract and contract.get("signed_at"):
        found.append({
            "at": contract["signed_at"], "kind": "CONTRACT_SIGNED", "contract_no": contract.get("contract_no"),
            "sha256": (contract.get("contract") or {}).get("sha256"),
        })
    if disbursement:
        if disbursement.get("failed_at"):
            found.append({"at": disbursement["failed_at"], "kind": "DISBURSEMENT_FAILED", "reason": disbursement.get("reason")})
        elif disbursement.get("paid_at"):
            found.append({
                "at": disbursement["paid_at"], "kind": "DISBURSED", "loan_id": disbursement.get("loan_id"),
                "payment_reference": disbursement.get("payment_reference"),
            })
    return found


def timeline(
    *,
    created_at: str | None,
    initial_status: str | None,
    status_history: Iterable[Any] | None,
    status: str | None,
    updated_at: str | None,
    trail: Mapping[str, Any] | None = None,
    acceptance: Mapping[str, Any] | None = None,
    contract: Mapping[str, Any] | None = None,
    disbursement: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Every status and recorded event, oldest first (a status before an event of the same moment)."""
    statuses = _statuses(status_history, created_at, initial_status, status, updated_at)
    events = _events(trail or {}, acceptance, contract, disbursement)
    ordered = sorted(enumerate(statuses + events), key=lambda pair: (_when(pair[1]["at"]), pair[0]))
    return [entry for _, entry in ordered]


def bureau_summary(trail: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The credit report the review used: its id, time and source, and the bureau facts taken from it."""
    trail = trail or {}
    bureau = trail.get("bureau")
    if not bureau:
        return None
    facts = {name: value for name, value in (trail.get("inputs") or {}).items() if name.startswith(BUREAU_FACT_PREFIX)}
    return {"report_id": bureau.get("report_id"), "queried_at": bureau.get("queried_at"), "source": bureau.get("source"), "facts": facts}


def score(trail: Mapping[str, Any] | None, decision: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The scorecard's score, band and PD, each characteristic's points, and the decision's reasons."""
    trail, decision = trail or {}, decision or {}
    if trail.get("score") is None and decision.get("score") is None:
        return None
    card = trail.get("scorecard") or {}
    return {
        "score": trail.get("score", decision.get("score")),
        "band": trail.get("band", decision.get("band")),
        "pd": trail.get("pd", decision.get("pd")),
        "scorecard_version": card.get("version"),
        "contributions": list(card.get("contributions") or ()),
        "reasons": list(decision.get("reasons") or trail.get("reasons") or ()),
    }


def decision_trail(trail: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The review's part of the trail (the routing and the manual review are shown on their own)."""
    if not trail:
        return None
    review = {name: value for name, value in trail.items() if name not in ("routing", "manual_review")}
    return review or None


def manual_review(record: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A reviewer's decision as recorded, the comment scrubbed."""
    if not record:
        return None
    return {**record, "comment": scrub(str(record.get("comment") or ""))}


def documents(contract: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The archived documents: the signed contract and the credit-inquiry authorisation, with their SHA-256."""
    found = []
    for kind in DOCUMENT_KINDS:
        document = (contract or {}).get(kind)
        if isinstance(document, Mapping) and document.get("key"):
            found.append({"kind": kind, "key": document["key"], "sha256": document.get("sha256")})
    return found
