"""Back-office operators: platform operators see every branch; branch staff only their own."""
from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Role(str, Enum):
    PLATFORM = "PLATFORM"  # 省联社: every branch
    BRANCH_OPERATOR = "BRANCH_OPERATOR"
    REVIEWER = "REVIEWER"  # 审核员: decides manual reviews of their branch
    AUDITOR = "AUDITOR"  # read only


class Operator(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    operator_id: str = Field(pattern=r"^[a-z][a-z0-9_.-]{1,63}$")
    name: str = Field(min_length=1, max_length=64)
    role: Role
    branch_code: str | None = None  # None only for platform operators

    @model_validator(mode="after")
    def _branch_staff_have_a_branch(self) -> "Operator":
        if (self.role is Role.PLATFORM) != (self.branch_code is None):
            raise ValueError("platform operators have no branch; everyone else has exactly one")
        return self

    def sees(self, branch_code: str | None) -> bool:
        return self.role is Role.PLATFORM or (branch_code is not None and branch_code == self.branch_code)

    def may_review(self, branch_code: str | None) -> bool:
        return self.role in (Role.REVIEWER, Role.PLATFORM) and self.sees(branch_code)
