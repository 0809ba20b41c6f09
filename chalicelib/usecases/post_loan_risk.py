"""The back office reads post-loan risk (贷后风险): the collections queue and the day end's warnings.

- **Scope.** Branch staff (every role but ``PLATFORM``) see only their branch:
  without a ``branch_code`` they get their own; naming another branch is refused
  (403 ``BRANCH_FORBIDDEN``). Platform operators see every branch: a branch they
  name, or, without one, every branch in turn (by branch code).
- **The collections queue** (催收): a branch's open collection cases (the day end
  opens, escalates and closes them: ``domain/collection_cases``), oldest first
  (by the day opened), optionally of one ``queue`` (``CollectionCase.queue``:
  today each branch has one queue, named by its branch code) and one ``stage``
  (a stage of the collection policy, e.g. ``M2``). Each case shows its loan as it
  stands after the last day end (``as_of``: the business date's eve) with the
  repayments since: days past due, the overdue amount (principal, interest and
  penalty of the installments overdue), outstanding principal, class.
- **Warnings** (风险预警) of one day (default: the last day closed), of a branch,
  optionally of one ``kind``. Warnings that span branches (a customer overdue at
  several branches; a partner's reconciliation breaks) are the platform's, named
  ``branch_code=PLATFORM``: platform operators see them (and get them last when
  they name no branch); auditors see the platform's ``RECONCILIATION_BREAK``
  warnings (they see reconciliation), not the others, which name other branches'
  loans; other branch staff see none of them.

A page holds at most ``limit`` items. A filter is applied to what is read, so a
page reads at most ``MAX_EXAMINED`` items: when that runs out first, the page is
shorter and its ``next_cursor`` goes on from where the reading stopped.
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Callable, Iterator

from chalicelib.domain.loan import Loan
from chalicelib.domain.money import ZERO, format_amount
from chalicelib.domain.operator import Operator, Role
from chalicelib.domain.product import Violation
from chalicelib.domain.risk_warnings import WarningKind
from chalicelib.persistence import config_repository, risk_queries
from chalicelib.persistence.risk import PLATFORM, case_from
from chalicelib.usecases import branch_scope
from chalicelib.usecases.errors import Refusal, Refused, invalid_input

MAX_EXAMINED = 1000


def _bad_cursor() -> Refused:
    return invalid_input("query", [Violation("cursor", "is not a cursor this list gave (use the next_cursor of the page before)")])


def last_closed_day() -> date:
    """The last business day whose day end has run: the eve of the business date."""
    return config_repository.business_date() - timedelta(days=1)


def _from(parts: list[str], at: dict[str, Any] | None, key: str) -> tuple[list[str], Any]:
    """The parts (branches) left to read from a cursor, and the position within the first of them."""
    if at is None:
        return parts, None
    part = at.get("branch")
    if part not in parts:
        raise _bad_cursor()
    return parts[parts.index(part):], at.get(key)


def _collect(
    parts: list[str], read: Callable[[str, Any], Iterator[tuple[dict[str, Any], Any]]], start: Any,
    accept: Callable[[dict[str, Any]], bool], limit: int, key: str,
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Up to ``limit`` accepted items over the parts in turn, and the cursor position after them.

    Reads one more accepted item than it answers, to tell whether there is a next page; stops at
    ``MAX_EXAMINED`` items read (then the position is the last item read)."""
    items: list[dict[str, Any]] = []
    last: dict[str, Any] | None = None
    examined = 0
    for index, part in enumerate(parts):
        try:
            found = read(part, start if index == 0 else None)
            for document, position in found:
                examined += 1
                if accept(document):
                    if len(items) == limit:
                        return items, last
                    items.append(document)
                    last = {"branch": part, key: position}
                if examined >= MAX_EXAMINED:
                    return items, {"branch": part, key: position}
        except ValueError:
            raise _bad_cursor() from None
    return items, None


# -- the collections queue ----------------------------------------------------------------------


def stage_codes() -> tuple[str, ...]:
    return tuple(s.code for s in config_repository.collection_policy().stages)


def _money(value: Decimal) -> str:
    return format_amount(value)


def _case_view(document: dict[str, Any], loan: Loan | None, as_of: date) -> dict[str, Any]:
    case = case_from(document)
    view: dict[str, Any] = {
        "case_id": case.case_id,
        "loan_id": case.loan_id,
        "customer_id": case.customer_id,
        "branch_code": case.branch_code,
        "queue": case.queue,
        "stage": case.stage,
        "opened_on": case.opened_on.isoformat(),
        "last_changed": case.last_changed.isoformat(),
        "as_of": as_of.isoformat(),
        "days_past_due": None,
        "overdue_amount": None,
        "overdue_principal": None,
        "outstanding_principal": None,
        "loan_class": None,
        "partner_id": None,
        "product_code": None,
    }
    if loan is not None:
        overdue = loan.overdue(as_of)
        view.update(
            days_past_due=loan.days_past_due(as_of),
            overdue_amount=_money(sum((i.unpaid for i in overdue), ZERO)),
            overdue_principal=_money(sum((i.unpaid_principal for i in overdue), ZERO)),
            outstanding_principal=_money(loan.outstanding_principal),
            loan_class=loan.loan_class.value,
            partner_id=loan.partner_id,
            product_code=loan.product_code,
        )
    return view


def collection_queue(
    operator: Operator, branch_code: str | None, queue: str | None, stage: str | None, at: dict[str, Any] | None, limit: int
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """A page of open collection cases in the operator's scope, and the position after it."""
    if stage is not None and stage not in stage_codes():
        raise invalid_input("query", [Violation("stage", f"must be a stage of the collection policy: {', '.join(stage_codes())}")])
    parts, start = _from(branch_scope.branches(operator, branch_code), at, "key")

    def accept(document: dict[str, Any]) -> bool:
        if stage is not None and document.get("stage") != stage:
            return False
        return queue is None or case_from(document).queue == queue

    documents, position = _collect(parts, risk_queries.open_cases, start, accept, limit, "key")
    as_of = last_closed_day()
    found = risk_queries.loans(d["loan_id"] for d in documents)
    return [_case_view(d, found.get(d["loan_id"]), as_of) for d in documents], position


# -- warnings -----------------------------------------------------------------------------------


def warning_list(
    operator: Operator, day: date | None, branch_code: str | None, kind: str | None, at: dict[str, Any] | None, limit: int
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """A page of a day's warnings in the operator's scope, and the position after it."""
    if kind is not None and kind not in {k.value for k in WarningKind}:
        raise invalid_input("query", [Violation("kind", f"must be one of {', '.join(k.value for k in WarningKind)}")])
    day = day or last_closed_day()
    if branch_code == PLATFORM:
        if operator.role is Role.AUDITOR:
            if kind not in (None, WarningKind.RECONCILIATION_BREAK.value):
                raise Refused(Refusal.FORBIDDEN, "FORBIDDEN", "auditors see only the platform's reconciliation breaks")
            kind = WarningKind.RECONCILIATION_BREAK.value
        elif operator.role is not Role.PLATFORM:
            raise branch_scope.forbidden()
        parts = [PLATFORM]
    else:
        parts = branch_scope.branches(operator, branch_code)
        if branch_code is None and operator.role is Role.PLATFORM:
            parts.append(PLATFORM)
    if at is not None and (at.get("day") != day.isoformat() or at.get("kind") != kind):
        raise _bad_cursor()
    parts, start = _from(parts, at, "after")

    def read(part: str, after: Any) -> Iterator[tuple[dict[str, Any], Any]]:
        return risk_queries.warnings(None if part == PLATFORM else part, day, kind, after)

    items, position = _collect(parts, read, start, lambda _: True, limit, "after")
    return items, None if position is None else {**position, "day": day.isoformat(), "kind": kind}
