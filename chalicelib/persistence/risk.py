"""Post-loan risk in DynamoDB: warnings, collection cases, the day's overdue marks per customer.

Items of the risk table
-----------------------

===============================  ====================  ==========================================
pk                               sk                    attributes
===============================  ====================  ==========================================
``WARNINGS#<branch>#<day>``      ``<warning id>``      ``warning`` (kind, severity, loan, detail)
``CASE#<loan id>``               ``<case id>``         ``case`` (stage, history...), ``queue``
                                                       (``<branch>#OPEN`` while open: by_queue)
``OVERDUE#<day>#<customer>``     ``<loan id>``         ``branch_code``; TTL
===============================  ====================  ==========================================

Warnings are put once per id (``attribute_not_exists``): a day end run again
writes nothing new. A case is written whole by its deterministic id; the
by_queue index holds only open cases (``queue`` is removed when one closes),
so a branch's queue is one Query. The overdue marks let segments of the day end
that run in parallel count a customer's overdue loans (each writes its mark,
then counts them all).
"""
from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date, datetime, timedelta, timezone
from typing import Any

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib import resources
from chalicelib.domain.collection_cases import CollectionCase
from chalicelib.domain.risk_warnings import RiskWarning
from chalicelib.persistence.models import LazyModel, table_meta

PLATFORM = "PLATFORM"  # the "branch" of a warning that spans branches (the union's operators)
MARK_DAYS = 3


class ByQueue(GlobalSecondaryIndex):
    class Meta:
        index_name = resources.RISK_TABLE.indexes[0].name
        projection = AllProjection()

    queue = UnicodeAttribute(hash_key=True)
    opened_on = UnicodeAttribute(range_key=True)


class RiskItem(LazyModel):
    Meta = table_meta(resources.RISK_TABLE)

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    document = JSONAttribute(null=True)
    queue = UnicodeAttribute(null=True)
    opened_on = UnicodeAttribute(null=True)
    branch_code = UnicodeAttribute(null=True)
    expires_at = NumberAttribute(null=True)
    by_queue = ByQueue()


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, default=lambda v: v.value if hasattr(v, "value") else str(v)))


# -- warnings ---------------------------------------------------------------------------------------


def put_warning(warning: RiskWarning) -> bool:
    """Record a warning once; False when it was recorded before (a day end run again)."""
    item = RiskItem(
        f"WARNINGS#{warning.branch_code or PLATFORM}#{warning.day.isoformat()}", warning.warning_id,
        document=_plain({**asdict(warning), "warning_id": warning.warning_id}),
    )
    try:
        item.save(condition=RiskItem.pk.does_not_exist())
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def warnings(branch_code: str | None, day: date) -> list[dict[str, Any]]:
    """A branch's warnings of a day (``None``: the platform's, spanning branches)."""
    return [item.document for item in RiskItem.query(f"WARNINGS#{branch_code or PLATFORM}#{day.isoformat()}", consistent_read=True)]


# -- collection cases -------------------------------------------------------------------------------


def case_document(case: CollectionCase) -> dict[str, Any]:
    return _plain(asdict(case))


def case_from(document: dict[str, Any]) -> CollectionCase:
    from chalicelib.domain.collection_cases import CaseEvent, CloseReason, StageChange

    return CollectionCase(
        case_id=document["case_id"], loan_id=document["loan_id"], customer_id=document["customer_id"],
        branch_code=document["branch_code"], stage=document["stage"], opened_on=date.fromisoformat(document["opened_on"]),
        closed_on=date.fromisoformat(document["closed_on"]) if document.get("closed_on") else None,
        close_reason=CloseReason(document["close_reason"]) if document.get("close_reason") else None,
        history=tuple(
            StageChange(date.fromisoformat(h["day"]), CaseEvent(h["event"]), h["from_stage"], h["to_stage"], int(h["days_past_due"]))
            for h in document.get("history", ())
        ),
    )


def open_case_of(loan_id: str) -> CollectionCase | None:
    """The loan's open case, if it has one."""
    found = [c for c in map(case_from, cases_of(loan_id)) if c.is_open]
    return found[-1] if found else None


def cases_of(loan_id: str) -> list[dict[str, Any]]:
    """Every case of a loan (open or closed), oldest first, as stored."""
    return [item.document for item in RiskItem.query(f"CASE#{loan_id}", consistent_read=True)]


def put_case(case: CollectionCase) -> None:
    """Write a case whole (its id is deterministic: writing it again is the same write)."""
    RiskItem(
        f"CASE#{case.loan_id}", case.case_id, document=case_document(case), branch_code=case.branch_code,
        queue=f"{case.branch_code}#OPEN" if case.is_open else None, opened_on=case.opened_on.isoformat(),
    ).save()


def open_cases(branch_code: str, limit: int = 100) -> list[dict[str, Any]]:
    """A branch's open collection cases, oldest first (its collectors' queue)."""
    return [item.document for item in RiskItem.by_queue.query(f"{branch_code}#OPEN", limit=limit, scan_index_forward=True)]


# -- a customer's overdue loans on a day ------------------------------------------------------------


def mark_overdue(day: date, customer_id: str, loan_id: str, branch_code: str) -> list[tuple[str, str]]:
    """Mark the loan overdue at ``day``'s close, then every (loan, branch) of the customer marked so far."""
    expires = int((datetime.now(timezone.utc) + timedelta(days=MARK_DAYS)).timestamp())
    pk = f"OVERDUE#{day.isoformat()}#{customer_id}"
    RiskItem(pk, loan_id, branch_code=branch_code, expires_at=expires).save()
    return [(item.sk, item.branch_code) for item in RiskItem.query(pk, consistent_read=True)]

