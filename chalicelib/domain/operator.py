"""Back-office operators: platform operators see every branch; branch staff only their own.

Who an operator is comes from the identity provider (a Cognito user pool): the user's groups say
their role and branch. The group names are defined here, once: ``role-<ROLE>`` (every user is in
exactly one) and ``branch-<BRANCH CODE>`` (exactly one, except platform operators, who are in none).
Groups with neither prefix are not the platform's and are ignored.
"""
from __future__ import annotations

from enum import Enum
from typing import Iterable

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

ROLE_GROUP_PREFIX = "role-"
BRANCH_GROUP_PREFIX = "branch-"


class Role(str, Enum):
    PLATFORM = "PLATFORM"  # 省联社: every branch
    BRANCH_OPERATOR = "BRANCH_OPERATOR"
    REVIEWER = "REVIEWER"  # 审核员: decides manual reviews of their branch
    AUDITOR = "AUDITOR"  # read only


class InconsistentGroups(ValueError):
    """A user's groups make no operator: no role, two roles, an unknown role, a missing or extra branch."""


class Operator(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    operator_id: str = Field(pattern=r"^[a-z][a-z0-9_.-]{1,63}$")
    name: str = Field(min_length=1, max_length=64)
    role: Role
    branch_code: str | None = Field(default=None, pattern=r"^[A-Z][A-Z0-9_]{1,31}$")  # None only for platform operators

    @model_validator(mode="after")
    def _branch_staff_have_a_branch(self) -> "Operator":
        if (self.role is Role.PLATFORM) != (self.branch_code is None):
            raise ValueError("platform operators have no branch; everyone else has exactly one")
        return self

    def sees(self, branch_code: str | None) -> bool:
        return self.role is Role.PLATFORM or (branch_code is not None and branch_code == self.branch_code)

    def may_review(self, branch_code: str | None) -> bool:
        return self.role in (Role.REVIEWER, Role.PLATFORM) and self.sees(branch_code)

    @classmethod
    def from_groups(cls, operator_id: str, name: str, groups: Iterable[str]) -> "Operator":
        """The operator a signed-in user is, from their groups; ``InconsistentGroups`` if they make none.

        A user in no role group, in two, in an unknown one, a platform operator in a branch group,
        branch staff in no branch group or in several: refused. Nobody gets a role or a branch by a guess.
        """
        names = [g for g in groups if isinstance(g, str)]
        roles = sorted({g.removeprefix(ROLE_GROUP_PREFIX) for g in names if g.startswith(ROLE_GROUP_PREFIX)})
        branches = sorted({g.removeprefix(BRANCH_GROUP_PREFIX) for g in names if g.startswith(BRANCH_GROUP_PREFIX)})
        if len(roles) != 1:
            listed = ", ".join(ROLE_GROUP_PREFIX + r for r in roles) or "none"
            raise InconsistentGroups(f"a user is in exactly one role group, not {len(roles)} ({listed})")
        if roles[0] not in Role.__members__:
            raise InconsistentGroups(f"{ROLE_GROUP_PREFIX}{roles[0]} is not a role")
        role = Role(roles[0])
        if role is Role.PLATFORM and branches:
            raise InconsistentGroups("a platform operator is in no branch group")
        if role is not Role.PLATFORM and len(branches) != 1:
            raise InconsistentGroups(f"a {role.value} is in exactly one branch group, not {len(branches)}")
        try:
            return cls(operator_id=operator_id, name=name, role=role, branch_code=branches[0] if branches else None)
        except ValidationError as exc:
            fields = ", ".join(sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"]})) or "operator"
            raise InconsistentGroups(f"not a valid operator ({fields})") from None


def role_group(role: Role) -> str:
    return ROLE_GROUP_PREFIX + Role(role).value


def branch_group(branch_code: str) -> str:
    return BRANCH_GROUP_PREFIX + branch_code


def role_groups() -> tuple[str, ...]:
    """Every role's group: what an identity provider must have."""
    return tuple(role_group(role) for role in Role)


def groups_of(operator: Operator) -> tuple[str, ...]:
    """The groups (of ours) a user is in, exactly, to be ``operator``."""
    branch = (branch_group(operator.branch_code),) if operator.branch_code else ()
    return (role_group(operator.role), *branch)
