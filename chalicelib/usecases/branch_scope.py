"""Which branches an operator's back-office request covers.

Branch staff (branch operators, reviewers, auditors) see their own branch only;
platform operators see every branch and may narrow to one. A ``branch_code``
filter naming a branch the operator may not see is 403 ``BRANCH_FORBIDDEN``
(as the configuration pages answer); a branch that does not exist, for an
operator who may see every branch, is a bad parameter (400). A single resource
of another branch is not found (404): ``visible`` says whether to show it.
"""
from __future__ import annotations

from chalicelib.domain.operator import Operator
from chalicelib.domain.product import Violation
from chalicelib.persistence import config_repository
from chalicelib.usecases.errors import Refusal, Refused, invalid_input


def branches(operator: Operator, branch_code: str | None) -> list[str]:
    """The branch codes a list or a figure covers, in configuration order."""
    if branch_code is not None:
        if not operator.sees(branch_code):
            raise forbidden()
        if operator.branch_code != branch_code and config_repository.branch(branch_code) is None:
            raise invalid_input("query", [Violation("branch_code", f"no such branch: {branch_code}")])
        return [branch_code]
    if operator.branch_code is not None:
        return [operator.branch_code]
    return [branch.branch_code for branch in config_repository.branches()]


def forbidden() -> Refused:
    """What a filter naming a branch the operator may not see answers: 403."""
    return Refused(Refusal.FORBIDDEN, "BRANCH_FORBIDDEN", "you may see only your own branch")


def visible(operator: Operator, branch_code: str | None) -> bool:
    return operator.sees(branch_code)


def not_found(what: str) -> Refused:
    """What another branch's resource, or one that does not exist, answers: the same 404."""
    return Refused(Refusal.NOT_FOUND, "NOT_FOUND", f"no such {what}")
