"""The back-office dashboard: the business date's applications, approvals and disbursements, the
quotas' use and the loans' five-tier classes, for the branches the operator sees.

Every figure is read from what is kept up to date where it changes, never by
reading the applications or loans themselves (see ``persistence/applications.py``
and ``persistence/loan_class_counts.py`` for why and how):

- ``applications_by_status``: of the applications received on the business date,
  how many are in each status now; ``approval_rate``: of those the review has
  decided, the share it approved (``domain/dashboard.py``), ``None`` before any;
- ``disbursed_by_branch``: the loans disbursed on the business date, how many
  and how much, per branch;
- ``quota_use``: each branch's lending quota (its TOTAL and the business date's
  daily one) and each funder's (``persistence/quotas.py``), with what is used and
  what is left. A funder that is a branch (kind ``BRANCH``: its code is the
  branch's) carries that ``branch_code``; other funders (a participating bank,
  the platform's own funds) are shown to platform operators looking at every
  branch, and have ``branch_code`` null;
- ``loans_by_class``: the ACTIVE loans in each class.

A few reads per branch: the counters' shards in one ``BatchGetItem``, a Query
of the class counts, two quota items (and their shards) per branch and funder.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from chalicelib.domain import dashboard
from chalicelib.domain.funding import FunderKind
from chalicelib.domain.money import ZERO, format_amount
from chalicelib.domain.operator import Operator
from chalicelib.persistence import applications, config_repository, loan_class_counts, quotas
from chalicelib.usecases import branch_scope

TOTAL = "TOTAL"


def _quota_row(kind: str, code: str, period: Any, branch_code: str | None, funder: str | None) -> dict[str, Any] | None:
    found = quotas.usage(kind, code, period)
    if found is None:
        return None
    limit, remaining = found
    return {
        "branch_code": branch_code,
        "funder": funder,
        "period": TOTAL if period == TOTAL else period.isoformat(),
        "limit": format_amount(limit),
        "used": format_amount(limit - remaining),
        "remaining": format_amount(remaining),
    }


def _quota_use(branches: list[str], every_branch: bool, day: date) -> list[dict[str, Any]]:
    rows = []
    for branch in branches:
        rows += [_quota_row("BRANCH", branch, period, branch, None) for period in (TOTAL, day)]
    for funder in config_repository.funders():
        own = funder.kind is FunderKind.BRANCH
        if (own and funder.code in branches) or (not own and every_branch):
            rows += [_quota_row("FUNDER", funder.code, period, funder.code if own else None, funder.code) for period in (TOTAL, day)]
    return [row for row in rows if row is not None]


def _disbursed(branches: list[str], counters: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    rows = []
    for branch in branches:
        shards = counters.get(branch, [])
        count = sum(int(s.get("disbursed") or 0) for s in shards)
        amount = sum((Decimal(s.get("disbursed_amount") or ZERO) for s in shards), ZERO)
        rows.append({"branch_code": branch, "count": count, "amount": format_amount(amount)})
    return rows


def view(operator: Operator, branch_code: str | None) -> dict[str, Any]:
    """``GET /backoffice/dashboard``."""
    branches = branch_scope.branches(operator, branch_code)
    day = config_repository.business_date()
    counters = applications.counts(branches, day.isoformat())
    shards = [shard for branch in branches for shard in counters.get(branch, [])]
    approved, rejected = dashboard.decisions(shards)
    classes = loan_class_counts.counts(branches)
    return {
        "business_date": day.isoformat(),
        "branch_code": branches[0] if branch_code is not None or operator.branch_code is not None else None,
        "applications_by_status": dashboard.by_status(shards),
        "approval_rate": dashboard.format_rate(dashboard.approval_rate(approved, rejected)),
        "decided": {"approved": approved, "rejected": rejected},
        "disbursed_by_branch": _disbursed(branches, counters),
        "quota_use": _quota_use(branches, operator.branch_code is None and branch_code is None, day),
        "loans_by_class": dashboard.by_class(shard for branch in branches for shard in classes.get(branch, [])),
    }
