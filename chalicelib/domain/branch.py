"""A branch (二级法人行社): an independent county bank that owns its customers, quota and ledger."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.domain.lending_quotas import LendingQuotas


class Branch(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    branch_code: str = Field(pattern=r"^[A-Z][A-Z0-9_]{1,31}$")
    name: str = Field(min_length=1, max_length=64)
    division_codes: tuple[str, ...] = Field(default=(), description="6-digit county codes served (ID digits 1-6)")
    # The branch's own lending limits (额度管控) for the loans it books, whoever funds them;
    # None: the branch sets none beyond its funders'.
    quotas: LendingQuotas | None = None
    # The code the credit bureau knows the bank by (金融机构代码); None: its branch code without "_".
    institution_code: str | None = Field(default=None, pattern=r"^[A-Za-z0-9]{1,32}$")

    @property
    def bureau_code(self) -> str:
        return self.institution_code or self.branch_code.replace("_", "")
