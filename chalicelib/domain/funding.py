"""Funders and a product's funding configuration (资金方与产品资金路由配置), as data.

Funders are stored as one JSON list (``config/sample/funders.json``), a
product's funding as one JSON document
(``config/sample/product_funding/<PRODUCT>.json``); both are validated by these
models when they are loaded. Pure data: no I/O.

A funder is a branch (the rural bank itself), a participating bank called over
an API (参与行), or the platform's own funds (自有资金). A *channel* is one
funder alone (one share of ratio 1) or a joint loan (联合贷款): several funders
with funding ratios (出资比例) that sum to exactly 1; the first share is the
lead funder (牵头行), who takes the rounding rest (see
``chalicelib.domain.routing.joint_shares``).

A product's funding lists its channels, its routing rules (names of sort keys
registered in ``chalicelib.domain.routing.SORT_KEYS``, in priority order, each
with optional params), the own-funds funder used when every channel refuses
(or ``None``: the result is then ``NO_FUNDER``), and whether the product is a
single-approval product (单笔单批) or a revolving credit line (循环额度).

Acceptance hours are China time (UTC+8, no daylight saving), ``[start, end)``;
``end`` may be ``"24:00"``. A window with ``start > end`` crosses midnight
(``"22:00"``-``"06:00"``); its weekdays (ISO: 1 = Monday .. 7 = Sunday) are
those of the day it *opens*, so Friday 22:00-06:00 covers Saturday 01:00.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from functools import cached_property
from decimal import Decimal
from enum import Enum
from typing import Any, Iterable, Mapping

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from chalicelib.domain.lending_quotas import LendingQuotas

CHINA_TIME = timezone(timedelta(hours=8), "UTC+08:00")

_CODE = r"^[A-Z][A-Z0-9_]{0,31}$"
_HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
_HHMM_END = r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"
_PROVINCE = r"^[1-9][0-9]$"

# Params every routing rule accepts. ``reverse``: sort by this key the other way round.
GENERIC_RULE_PARAMS = frozenset({"reverse"})


class FunderKind(str, Enum):
    BRANCH = "BRANCH"
    PARTICIPATING_BANK = "PARTICIPATING_BANK"
    OWN_FUNDS = "OWN_FUNDS"


class FundingMode(str, Enum):
    SINGLE_APPROVAL = "SINGLE_APPROVAL"  # 单笔单批: each loan is approved by the funder
    CREDIT_LINE = "CREDIT_LINE"  # 循环额度: a revolving line, drawn down


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


class AcceptanceHours(BaseModel):
    """When a funder takes applications: ``[start, end)`` China time, on ``weekdays`` (all when ``None``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: str = Field(default="00:00", pattern=_HHMM)
    end: str = Field(default="24:00", pattern=_HHMM_END)
    weekdays: frozenset[int] | None = None
    @cached_property
    def _window(self) -> tuple[int, int]:
        return _minutes(self.start), _minutes(self.end)

    @field_validator("weekdays")
    @classmethod
    def _iso_weekdays(cls, days: frozenset[int] | None) -> frozenset[int] | None:
        if days is not None and (not days or any(not 1 <= d <= 7 for d in days)):
            raise ValueError("weekdays must be a non-empty set of ISO weekdays 1 (Monday) to 7 (Sunday)")
        return days

    @model_validator(mode="after")
    def _not_empty(self) -> "AcceptanceHours":
        if self.start == self.end:
            raise ValueError("acceptance hours: start equals end (for all day use 00:00-24:00)")
        return self

    def contains(self, now: datetime) -> bool:
        """Whether the aware instant ``now`` lies within these hours (China time)."""
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("now must be an aware datetime")
        local = now.astimezone(CHINA_TIME)
        minute = local.hour * 60 + local.minute
        start, end = self._window
        weekday = local.isoweekday()
        if start < end:
            opened_on = weekday if start <= minute < end else None
        elif minute >= start:  # crosses midnight: the evening part, opened today
            opened_on = weekday
        elif minute < end:  # crosses midnight: the morning part, opened yesterday
            opened_on = 7 if weekday == 1 else weekday - 1
        else:
            opened_on = None
        return opened_on is not None and (self.weekdays is None or opened_on in self.weekdays)


class Funder(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=_CODE)
    name: str = Field(min_length=1, max_length=64)
    kind: FunderKind
    province_code: str | None = Field(default=None, pattern=_PROVINCE)  # ID-number digits 1-2 of its region
    cooperating: bool = True
    position_available: Decimal = Field(ge=0, decimal_places=2)  # 头寸, yuan
    acceptance_hours: AcceptanceHours | None = None  # None: always open
    service_fee_rate: Decimal = Field(ge=0, le=1, decimal_places=8)  # annual, "0.0150" = 1.5%
    answer_timeout_seconds: float = Field(gt=0, le=600)  # no answer by then counts as a refusal
    quotas: LendingQuotas

    def open_at(self, now: datetime) -> bool:
        return self.acceptance_hours is None or self.acceptance_hours.contains(now)


class ChannelShare(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    funder_code: str = Field(pattern=_CODE)
    ratio: Decimal = Field(gt=0, le=1, decimal_places=6)  # 出资比例


class Channel(BaseModel):
    """One funder (a single share of ratio 1) or a joint loan; the first share is the lead."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=_CODE)
    shares: tuple[ChannelShare, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _ratios(self) -> "Channel":
        codes = [share.funder_code for share in self.shares]
        if len(set(codes)) != len(codes):
            raise ValueError(f"channel {self.code}: a funder appears twice")
        total = sum((share.ratio for share in self.shares), Decimal(0))
        if total != 1:
            raise ValueError(f"channel {self.code}: funding ratios sum to {total}, not exactly 1")
        return self

    @property
    def lead(self) -> ChannelShare:
        return self.shares[0]

    @cached_property
    def funder_codes(self) -> tuple[str, ...]:
        return tuple(share.funder_code for share in self.shares)

    @property
    def joint(self) -> bool:
        return len(self.shares) > 1

    @classmethod
    def single(cls, code: str, funder_code: str) -> "Channel":
        return cls(code=code, shares=(ChannelShare(funder_code=funder_code, ratio=Decimal(1)),))


class RoutingRule(BaseModel):
    """A sort key by name (see ``routing.SORT_KEYS``) with optional params; JSON may give just the name."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=64)
    params: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, value: Any) -> Any:
        return {"name": value} if isinstance(value, str) else value

    @field_validator("params")
    @classmethod
    def _known_params(cls, params: dict[str, Any]) -> dict[str, Any]:
        unknown = set(params) - GENERIC_RULE_PARAMS
        if unknown:
            raise ValueError(f"unknown rule params: {', '.join(sorted(unknown))}")
        if "reverse" in params and not isinstance(params["reverse"], bool):
            raise ValueError("param reverse must be true or false")
        return params

    @property
    def reverse(self) -> bool:
        return bool(self.params.get("reverse", False))


class ProductFunding(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    product_code: str = Field(pattern=r"^[A-Z][A-Z0-9_]{1,31}$")
    channels: tuple[Channel, ...] = Field(min_length=1)
    # Empty is loadable, but routing then raises ``routing.NoRoutingRules``.
    routing_rules: tuple[RoutingRule, ...] = ()
    own_funds_fallback: str | None = Field(default=None, pattern=_CODE)
    mode: FundingMode = FundingMode.SINGLE_APPROVAL
    # CREDIT_LINE only: how long a line may be drawn after it is opened.
    line_validity_months: int | None = Field(default=None, ge=1, le=120)

    @model_validator(mode="after")
    def _consistent(self) -> "ProductFunding":
        if (self.mode is FundingMode.CREDIT_LINE) != (self.line_validity_months is not None):
            raise ValueError("line_validity_months is required for a CREDIT_LINE product and only for one")
        codes = [channel.code for channel in self.channels]
        duplicates = sorted({code for code in codes if codes.count(code) > 1})
        if duplicates:
            raise ValueError(f"channel codes not unique: {', '.join(duplicates)}")
        from chalicelib.domain.routing import SORT_KEYS  # the registry lives with the keys

        names = [rule.name for rule in self.routing_rules]
        unknown = [name for name in names if name not in SORT_KEYS]
        if unknown:
            raise ValueError(f"unknown routing rules: {', '.join(unknown)} (known: {', '.join(sorted(SORT_KEYS))})")
        if len(set(names)) != len(names):
            raise ValueError("a routing rule appears twice")
        return self

    @cached_property
    def referenced_funders(self) -> frozenset[str]:
        """Every funder this configuration names (channels and the own-funds fallback)."""
        codes = {code for channel in self.channels for code in channel.funder_codes}
        if self.own_funds_fallback is not None:
            codes.add(self.own_funds_fallback)
        return frozenset(codes)

    def validate_against(self, funders: Mapping[str, Funder] | Iterable[Funder]) -> list[str]:
        """Problems with the funders this configuration refers to (empty when consistent)."""
        problems: list[str] = []
        if isinstance(funders, Mapping):
            by_code = funders
            problems += [f"funder listed under {key} has code {f.code}" for key, f in by_code.items() if key != f.code]
        else:
            listed = list(funders)
            by_code = {f.code: f for f in listed}
            if len(by_code) != len(listed):
                problems.append("funder codes not unique")
        fallback = self.own_funds_fallback
        if self.referenced_funders <= by_code.keys() and (
            fallback is None or by_code[fallback].kind is FunderKind.OWN_FUNDS
        ):
            return problems  # the common case, without walking every channel
        for channel in self.channels:
            for code in channel.funder_codes:
                if code not in by_code:
                    problems.append(f"channel {channel.code}: funder {code} does not exist")
        if fallback is not None:
            if fallback not in by_code:
                problems.append(f"own_funds_fallback: funder {fallback} does not exist")
            elif by_code[fallback].kind is not FunderKind.OWN_FUNDS:
                problems.append(f"own_funds_fallback: funder {fallback} is {by_code[fallback].kind.value}, not OWN_FUNDS")
        return problems


def funders_by_code(funders: Iterable[Funder] | Mapping[str, Funder]) -> dict[str, Funder]:
    """Index funders by code; duplicates are an error."""
    if isinstance(funders, Mapping):
        return dict(funders)
    indexed: dict[str, Funder] = {}
    for funder in funders:
        if funder.code in indexed:
            raise ValueError(f"funder {funder.code} listed twice")
        indexed[funder.code] = funder
    return indexed
