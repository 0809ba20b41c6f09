"""Funding routing (资金路由): order a product's channels, split joint loans, say what to skip.

Pure and deterministic; no I/O. The application layer takes the ``RoutingPlan``
and tries ``plan.to_try()`` one by one (reserving quota, waiting at most the
funder's ``answer_timeout_seconds``; no answer is a refusal) until a funder
approves. When all refuse the result is the own-funds fallback if the product
has one (it is the plan's last candidate), else ``NO_FUNDER``
(无可用资金通道).

Ordering. ``rank`` sorts the product's channels by its routing rules in
priority order: the first rule decides, the next breaks its ties, and so on;
channels still tied keep their configuration order (the sort is stable). Each
rule is a *sort key*: a small function ``(channel, funders, context) ->
tuple`` registered by name in ``SORT_KEYS`` (smaller sorts first). A rule's
``{"reverse": true}`` param turns its order round. A new rule is one function
with ``@sort_key("name")``; configurations may then name it.

The seed's rules and how they read a joint channel:

- ``preferred_cooperation``: channels with a funder the borrower has borrowed
  from before first (any of a joint channel's funders counts);
- ``region_match``: channels whose *lead* funder is in the borrower's province
  (ID-number digits 1-2) first (the lead books the loan: 牵头行属地);
- ``balance``: the channel whose *lead* funder has lent least so far first
  (the lead carries the relationship; participants' balances are not compared);
- ``fee_rate``: the highest service fee first; a joint channel's fee is the
  ratio-weighted mean of its funders' rates.

Skipping. A channel is skipped (kept in the plan with its reasons, for the
routing trail) when any of its funders is not cooperating (``NOT_COOPERATING``),
has a position (头寸) below its share (``POSITION_SHORT``) or is outside its
acceptance hours (``OUTSIDE_HOURS``). Reasons are written ``"REASON:FUNDER"``.
Quotas are not checked here: they are reserved, atomically, when a funder is
tried.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Callable, Iterable, Mapping

from chalicelib.domain.funding import Channel, Funder, FundingMode, ProductFunding, funders_by_code
from chalicelib.domain.money import ZERO, format_amount, format_rate, precise, to_fen

NOT_COOPERATING = "NOT_COOPERATING"
POSITION_SHORT = "POSITION_SHORT"
OUTSIDE_HOURS = "OUTSIDE_HOURS"
NO_FUNDER = "NO_FUNDER"  # 无可用资金通道: every channel refused or was skipped, and no own funds
FALLBACK_CHANNEL_CODE = "OWN_FUNDS_FALLBACK"


class RoutingConfigError(ValueError):
    """The product's funding configuration cannot be routed."""


class NoRoutingRules(RoutingConfigError):
    """The product has no routing configuration (产品未配置产品路由规则)."""

    def __init__(self, message: str = "product has no routing rules (产品未配置产品路由规则)") -> None:
        super().__init__(message)


@dataclass(frozen=True, kw_only=True)
class RoutingContext:
    """What routing knows of one application.

    ``borrower_province``: digits 1-2 of the borrower's ID number (``province_of``);
    ``previous_funders``: codes of funders the borrower has borrowed from;
    ``lent_so_far``: amount each funder has lent so far, yuan (missing = 0);
    ``now``: an aware datetime (compared in China time).
    """

    amount: Decimal
    borrower_province: str | None
    previous_funders: frozenset[str] = frozenset()
    lent_so_far: Mapping[str, Decimal] = field(default_factory=dict)
    now: datetime

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal) or self.amount <= 0 or to_fen(self.amount) != self.amount:
            raise ValueError("amount must be a positive Decimal in yuan, to the fen")
        if self.borrower_province is not None and not (
            len(self.borrower_province) == 2 and self.borrower_province.isascii() and self.borrower_province.isdigit()
        ):
            raise ValueError("borrower_province must be the two digits of the ID number's province, or None")
        if not isinstance(self.now, datetime) or self.now.tzinfo is None or self.now.utcoffset() is None:
            raise ValueError("now must be an aware datetime")
        object.__setattr__(self, "previous_funders", frozenset(self.previous_funders))


def province_of(id_number: str) -> str:
    """The province part of a resident ID number (digits 1-2)."""
    return id_number[:2]


SortKey = Callable[[Channel, Mapping[str, Funder], RoutingContext], tuple]
SORT_KEYS: dict[str, SortKey] = {}


def sort_key(name: str) -> Callable[[SortKey], SortKey]:
    """Register a sort key under ``name`` (the name routing configurations use)."""

    def register(function: SortKey) -> SortKey:
        if name in SORT_KEYS:
            raise ValueError(f"sort key {name} registered twice")
        SORT_KEYS[name] = function
        return function

    return register


@sort_key("preferred_cooperation")
def preferred_cooperation(channel: Channel, funders: Mapping[str, Funder], context: RoutingContext) -> tuple:
    """Funders the borrower has borrowed from before first (any funder of a joint channel)."""
    return (0 if any(code in context.previous_funders for code in channel.funder_codes) else 1,)


@sort_key("region_match")
def region_match(channel: Channel, funders: Mapping[str, Funder], context: RoutingContext) -> tuple:
    """The lead funder in the borrower's province first."""
    province = funders[channel.lead.funder_code].province_code
    return (0 if context.borrower_province is not None and province == context.borrower_province else 1,)


@sort_key("balance")
def balance(channel: Channel, funders: Mapping[str, Funder], context: RoutingContext) -> tuple:
    """Least lent so far first; a joint channel counts its lead's lending."""
    return (context.lent_so_far.get(channel.lead.funder_code, ZERO),)


@sort_key("fee_rate")
def fee_rate(channel: Channel, funders: Mapping[str, Funder], context: RoutingContext) -> tuple:
    """Highest service fee rate first; a joint channel's is weighted by the funding ratios."""
    if len(channel.shares) == 1:
        return (-funders[channel.lead.funder_code].service_fee_rate,)
    with precise():
        weighted = sum((share.ratio * funders[share.funder_code].service_fee_rate for share in channel.shares), Decimal(0))
    return (-weighted,)


def _require_rules(product_funding: ProductFunding | None) -> ProductFunding:
    if product_funding is None or not product_funding.routing_rules:
        raise NoRoutingRules()
    unknown = [rule.name for rule in product_funding.routing_rules if rule.name not in SORT_KEYS]
    if unknown:  # registered keys may have changed since the configuration was validated
        raise RoutingConfigError(f"unknown routing rules: {', '.join(unknown)}")
    return product_funding


def _checked_funders(product_funding: ProductFunding, funders: Mapping[str, Funder] | Iterable[Funder]) -> Mapping[str, Funder]:
    indexed = funders if isinstance(funders, Mapping) else funders_by_code(funders)
    problems = product_funding.validate_against(indexed)
    if problems:
        raise RoutingConfigError(f"product {product_funding.product_code}: " + "; ".join(problems))
    return indexed


def _rank(product_funding: ProductFunding, funders: Mapping[str, Funder], context: RoutingContext) -> list[Channel]:
    ordered = list(product_funding.channels)
    # Stable sorts from the last rule to the first: the first rule decides, later ones break ties.
    for rule in reversed(product_funding.routing_rules):
        key = SORT_KEYS[rule.name]
        ordered.sort(key=lambda channel: key(channel, funders, context), reverse=rule.reverse)
    return ordered


def rank(
    product_funding: ProductFunding | None,
    funders: Mapping[str, Funder] | Iterable[Funder],
    context: RoutingContext,
) -> list[Channel]:
    """The product's channels in the order to try them (ties keep configuration order)."""
    checked = _require_rules(product_funding)
    return _rank(checked, _checked_funders(checked, funders), context)


def joint_shares(amount: Decimal, channel: Channel) -> dict[str, Decimal]:
    """Each funder's share of ``amount``: non-leads ``to_fen(amount * ratio)``, the lead the rest.

    The shares sum to ``amount`` exactly. A non-lead is within half a fen of
    ``amount * ratio``; the lead within half a fen per other funder.
    """
    if not isinstance(amount, Decimal) or amount < 0 or to_fen(amount) != amount:
        raise ValueError("amount must be a non-negative Decimal in yuan, to the fen")
    if len(channel.shares) == 1:
        return {channel.lead.funder_code: amount}
    shares: dict[str, Decimal] = {}
    rest = amount
    with precise():
        for share in channel.shares[1:]:
            part = to_fen(amount * share.ratio)
            shares[share.funder_code] = part
            rest -= part
    if rest < 0:
        raise ValueError(f"channel {channel.code}: amount {format_amount(amount)} too small to split (lead share negative)")
    return {channel.lead.funder_code: to_fen(rest), **shares}


def skip_reasons(
    channel: Channel,
    funders: Mapping[str, Funder],
    context: RoutingContext,
    shares: Mapping[str, Decimal],
) -> list[str]:
    """Why the channel cannot be tried now, per funder as ``"REASON:FUNDER"`` (empty: try it)."""
    reasons: list[str] = []
    for share in channel.shares:
        funder = funders[share.funder_code]
        if not funder.cooperating:
            reasons.append(f"{NOT_COOPERATING}:{funder.code}")
        if funder.position_available < shares[funder.code]:
            reasons.append(f"{POSITION_SHORT}:{funder.code}")
        if not funder.open_at(context.now):
            reasons.append(f"{OUTSIDE_HOURS}:{funder.code}")
    return reasons


@dataclass(frozen=True)
class Candidate:
    """A channel in the plan: its place, each funder's share, and why it is skipped (if it is)."""

    position: int  # 1-based place in the order; the fallback comes after every ranked channel
    channel: Channel
    shares: Mapping[str, Decimal]
    skip_reasons: tuple[str, ...]
    fallback: bool = False

    @property
    def skipped(self) -> bool:
        return bool(self.skip_reasons)

    def trail(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "channel": self.channel.code,
            "fallback": self.fallback,
            "shares": [
                {
                    "funder_code": share.funder_code,
                    "ratio": format_rate(share.ratio),
                    "amount": format_amount(self.shares[share.funder_code]),
                    "lead": index == 0,
                }
                for index, share in enumerate(self.channel.shares)
            ],
            "skipped": self.skipped,
            "skip_reasons": list(self.skip_reasons),
        }


@dataclass(frozen=True)
class RoutingPlan:
    product_code: str
    mode: FundingMode
    amount: Decimal
    rules: tuple[str, ...]
    candidates: tuple[Candidate, ...]  # every channel, in rank order, skipped ones included
    fallback: Candidate | None  # the own-funds channel, when the product has one

    def to_try(self) -> list[Candidate]:
        """The channels to try in order (not skipped), the own-funds fallback last if it can be tried."""
        ready = [candidate for candidate in self.candidates if not candidate.skipped]
        if self.fallback is not None and not self.fallback.skipped:
            ready.append(self.fallback)
        return ready

    @property
    def if_all_refuse(self) -> str:
        """What routing ends with when every ranked channel refuses: the own-funds channel or ``NO_FUNDER``."""
        if self.fallback is not None and not self.fallback.skipped:
            return self.fallback.channel.code
        return NO_FUNDER

    def trail(self) -> dict[str, Any]:
        """JSON-ready: the order, each channel's shares and skip reasons (the start of the routing trail)."""
        return {
            "product_code": self.product_code,
            "mode": self.mode.value,
            "amount": format_amount(self.amount),
            "rules": list(self.rules),
            "candidates": [candidate.trail() for candidate in self.candidates],
            "fallback": None if self.fallback is None else self.fallback.trail(),
            "if_all_refuse": self.if_all_refuse,
        }


def _candidate(position: int, channel: Channel, funders: Mapping[str, Funder], context: RoutingContext, fallback: bool = False) -> Candidate:
    shares = joint_shares(context.amount, channel)
    return Candidate(position, channel, shares, tuple(skip_reasons(channel, funders, context, shares)), fallback)


def plan(
    product_funding: ProductFunding | None,
    funders: Mapping[str, Funder] | Iterable[Funder],
    context: RoutingContext,
) -> RoutingPlan:
    """Rank the product's channels, split each one's shares, note what to skip, add the own-funds fallback."""
    checked = _require_rules(product_funding)
    indexed = _checked_funders(checked, funders)
    ordered = _rank(checked, indexed, context)
    candidates = tuple(_candidate(index, channel, indexed, context) for index, channel in enumerate(ordered, start=1))
    fallback = None
    if checked.own_funds_fallback is not None:
        own = Channel.single(FALLBACK_CHANNEL_CODE, checked.own_funds_fallback)
        fallback = _candidate(len(candidates) + 1, own, indexed, context, fallback=True)
    return RoutingPlan(
        product_code=checked.product_code,
        mode=checked.mode,
        amount=context.amount,
        rules=tuple(rule.name for rule in checked.routing_rules),
        candidates=candidates,
        fallback=fallback,
    )


CREDIT_LINE_RULE = "credit_line"  # the "rule" of a drawdown's plan: the line's own channel


def drawdown_plan(
    product_code: str,
    line_channel: Channel,
    product_funding: ProductFunding | None,
    funders: Mapping[str, Funder] | Iterable[Funder],
    context: RoutingContext,
) -> RoutingPlan:
    """A drawdown on a credit line (用信): the line's channel alone, then the product's own funds.

    The product's routing rules are not consulted: the line's funders approved the
    line and take its drawdowns. They are still skipped when not cooperating, short
    of position or outside their hours (the trail says why). Without a funding
    configuration, or without own funds, the drawdown fails when the line's funders
    refuse (``NO_FUNDER``).
    """
    indexed = funders if isinstance(funders, Mapping) else funders_by_code(funders)
    missing = [code for code in line_channel.funder_codes if code not in indexed]
    if missing:
        raise RoutingConfigError(f"the credit line's funders do not exist: {', '.join(missing)}")
    fallback = None
    if product_funding is not None and product_funding.own_funds_fallback is not None:
        _checked_funders(product_funding, indexed)
        own = Channel.single(FALLBACK_CHANNEL_CODE, product_funding.own_funds_fallback)
        fallback = _candidate(2, own, indexed, context, fallback=True)
    return RoutingPlan(
        product_code=product_code,
        mode=FundingMode.CREDIT_LINE,
        amount=context.amount,
        rules=(CREDIT_LINE_RULE,),
        candidates=(_candidate(1, line_channel, indexed, context),),
        fallback=fallback,
    )


__all__ = [
    "FALLBACK_CHANNEL_CODE",
    "NOT_COOPERATING",
    "NO_FUNDER",
    "OUTSIDE_HOURS",
    "POSITION_SHORT",
    "SORT_KEYS",
    "Candidate",
    "NoRoutingRules",
    "RoutingConfigError",
    "RoutingContext",
    "RoutingPlan",
    "SortKey",
    "balance",
    "drawdown_plan",
    "fee_rate",
    "joint_shares",
    "plan",
    "preferred_cooperation",
    "province_of",
    "rank",
    "region_match",
    "skip_reasons",
    "sort_key",
]
