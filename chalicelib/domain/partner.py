"""A partner (助贷渠道): who it is, whether it may call, and what it may offer."""
from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, ConfigDict, Field


class PartnerStatus(str, Enum):
    ACTIVE = "ACTIVE"
    DISABLED = "DISABLED"


class Partner(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    partner_id: str = Field(pattern=r"^[A-Z][A-Z0-9_]{1,31}$")
    name: str = Field(min_length=1, max_length=64)
    status: PartnerStatus = PartnerStatus.ACTIVE
    products: tuple[str, ...] = ()
    default_branch: str | None = None
    rate_limit_per_minute: int = Field(default=600, ge=1, le=1_000_000)
    # The partner posts its own format, converted by its mapping (config ``MAPPING#<partner_id>``);
    # False: it posts the standard application.
    uses_mapping: bool = False

    @property
    def active(self) -> bool:
        return self.status is PartnerStatus.ACTIVE

    def offers(self, product_code: str) -> bool:
        return product_code in self.products
