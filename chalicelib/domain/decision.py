"""The credit decision: approve with a limit and a risk-based rate, reject with reasons, or manual review.

A ``ReviewPolicy`` is data (``config/sample/review_policies/<PRODUCT>.json``):
the product's rules (CEL, see ``chalicelib.domain.rules``), anti-fraud limits,
score cut-offs, score bands with their rates and limit caps, and the income
multiple of the limit model. A branch overrides it with a JSON document of its
own (``review_policies/overrides/<BRANCH>.json``, applied by
``ReviewPolicy.with_overrides``): rules replaced or added by code, rules
disabled by code, cut-offs, band rates and caps, the income multiple, fraud
limits. No code changes.

``decide`` is pure and deterministic. In this order:

1. any anti-fraud hit -> REJECT (the hits' codes);
2. any fired REJECT rule -> REJECT (the rules' codes);
3. score below ``reject_below`` -> REJECT (``D_SCORE_BELOW_CUTOFF``);
   (1-3 together: every reason that applies is listed, fraud first.)
4. no score band holds the score -> MANUAL_REVIEW (``D_NO_SCORE_BAND``);
5. the limit (below) is under the product minimum -> REJECT
   (``D_LIMIT_BELOW_MINIMUM``): not even a person could approve it;
6. any fired REFER rule, or the score in the grey band
   ``[reject_below, refer_below)`` -> MANUAL_REVIEW (the rules' codes,
   ``D_SCORE_GREY_BAND``), with the proposed limit and rate for the reviewer;
7. otherwise APPROVE.

The limit is the least of: the requested amount, the product maximum,
``income_multiple * monthly_income`` (cut down to the fen, so the cap is never
exceeded) and the score band's ``limit_cap``. All are amounts in fen, so the
limit needs no rounding (it is still put through the half-up fen rounding).
The rate is the band's ``annual_rate``.

``Decision.trail()`` is the JSON-ready record kept with the application: every
input fact, every rule result, every fraud hit, the score and PD, the caps of
the limit, the reasons, and the policy (version, branch override, digest of its
full content), enough to say a year later why it was decided so.

Facts dictionary (``application_facts``; the rules see the same dictionary,
money as CEL ``double``). Facts the caller does not have are left out or set
to ``None``; a rule reading them then fails and refers (never passes):

=============================  ========  =====================================================
name                           type      meaning
=============================  ========  =====================================================
applicant_age                  int       whole years on the application date, from the ID number
applicant_sex                  str       "M" / "F", from the ID number
province_code                  str       ID number digits 1-2
monthly_income                 Decimal   declared monthly income, yuan (required by ``decide``)
requested_amount               Decimal   amount applied for, yuan (required by ``decide``)
term_months                    int       term applied for
repayment_method               str       ``RepaymentMethod`` value
purpose                        str       ``Purpose`` value
occupation                     str       ``Occupation`` value
education                      str       ``Education`` value
marital_status                 str       ``MaritalStatus`` value
bureau_report_found            bool      the credit bureau has a report for the person
bureau_overdue_count_24m       int       overdue occurrences (any account) in the last 24 months
bureau_max_overdue_months_24m  int       the longest overdue, in months, in the last 24 months
bureau_current_overdue         bool      some account is overdue now
bureau_current_overdue_amount  Decimal   amount overdue now, yuan
bureau_inquiries_3m            int       loan / card approval inquiries by institutions, last 3 months (多头借贷)
bureau_inquiries_1m            int       the same, last month
bureau_lenders_open            int       distinct institutions with an open loan
bureau_debt_total              Decimal   outstanding balance of all loans and cards, yuan
bureau_monthly_repayment       Decimal   monthly repayments due on existing debt, yuan
existing_customer              bool      the person already borrows from this branch
=============================  ========  =====================================================
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from enum import Enum
from typing import Any, Mapping, Sequence

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from chalicelib.domain.antifraud import FraudHit, FraudLimits
from chalicelib.domain.money import FEN, format_amount, format_rate, to_fen
from chalicelib.domain.product import Product, Violation
from chalicelib.domain.rules import REFER, REJECT, Rule, RuleResult, RuleSet

D_SCORE_BELOW_CUTOFF = "D_SCORE_BELOW_CUTOFF"
D_SCORE_GREY_BAND = "D_SCORE_GREY_BAND"
D_NO_SCORE_BAND = "D_NO_SCORE_BAND"
D_LIMIT_BELOW_MINIMUM = "D_LIMIT_BELOW_MINIMUM"

_CODE = r"^[A-Z][A-Z0-9_]{0,31}$"


class DecisionOutcome(str, Enum):
    APPROVE = "APPROVE"
    REJECT = "REJECT"
    MANUAL_REVIEW = "MANUAL_REVIEW"


class ScoreBand(BaseModel):
    """Scores ``min_score..max_score`` (both included) get this rate and at most this limit."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=_CODE)
    min_score: int
    max_score: int
    annual_rate: Decimal = Field(ge=0, le=Decimal("0.36"))
    limit_cap: Decimal = Field(gt=0, decimal_places=2)

    @model_validator(mode="after")
    def _ordered(self) -> "ScoreBand":
        if self.min_score > self.max_score:
            raise ValueError(f"band {self.code}: min_score is above max_score")
        return self


class BandOverride(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    annual_rate: Decimal | None = None
    limit_cap: Decimal | None = None


class BranchOverrides(BaseModel):
    """A branch's changes to a product's review policy; anything left out is the product's."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    branch_code: str = Field(pattern=_CODE)
    product_code: str = Field(pattern=_CODE)
    version: str = Field(min_length=1, max_length=64)
    rules: tuple[Rule, ...] = ()  # each replaces the rule of the same code, or is added
    disable_rules: tuple[str, ...] = ()  # codes of the product's rules that do not apply at this branch
    reject_below: int | None = None
    refer_below: int | None = None
    income_multiple: Decimal | None = None
    bands: dict[str, BandOverride] = Field(default_factory=dict)  # by band code
    fraud_limits: dict[str, Any] = Field(default_factory=dict)  # fields of FraudLimits


class ReviewPolicy(BaseModel):
    """How a product's applications are reviewed (data)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    product_code: str = Field(pattern=_CODE)
    version: str = Field(min_length=1, max_length=64)
    branch_code: str | None = None  # set by with_overrides
    override_version: str | None = None  # set by with_overrides
    rules: RuleSet
    fraud_limits: FraudLimits = FraudLimits()
    reject_below: int
    refer_below: int
    bands: tuple[ScoreBand, ...] = Field(min_length=1)
    income_multiple: Decimal = Field(gt=0, le=1000)

    _digest: str = PrivateAttr(default="")

    @model_validator(mode="after")
    def _consistent(self) -> "ReviewPolicy":
        if self.reject_below > self.refer_below:
            raise ValueError("reject_below is above refer_below")
        codes = [band.code for band in self.bands]
        if len(set(codes)) != len(codes):
            raise ValueError("band codes must be unique")
        for low, high in zip(self.bands, self.bands[1:]):
            if high.min_score != low.max_score + 1:
                raise ValueError(f"bands {low.code} and {high.code} must be in ascending order, without gap or overlap")
        if self.bands[0].min_score > self.reject_below:
            raise ValueError("the bands must cover every score from reject_below up")
        if self.refer_below > self.bands[-1].max_score + 1:
            raise ValueError("refer_below is above the highest band")
        return self

    def model_post_init(self, __context: Any) -> None:
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        self._digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    @property
    def digest(self) -> str:
        """SHA-256 of the policy's full content: two policies with the same digest decide alike."""
        return self._digest

    def band_for(self, score: int) -> ScoreBand | None:
        for band in self.bands:
            if band.min_score <= score <= band.max_score:
                return band
        return None

    def violations(self, product: Product) -> list[Violation]:
        """What in this policy does not fit the product (check when both are loaded)."""
        found = []
        if product.code != self.product_code:
            found.append(Violation("product_code", f"the policy is for {self.product_code}, not {product.code}"))
        for band in self.bands:
            if not product.quote_rate_min <= band.annual_rate <= product.quote_rate_max:
                found.append(
                    Violation(
                        f"bands.{band.code}.annual_rate",
                        f"must be from {format_rate(product.quote_rate_min)} to {format_rate(product.quote_rate_max)}",
                    )
                )
        return found

    def with_overrides(self, branch_overrides: Mapping[str, Any]) -> "ReviewPolicy":
        """This (product) policy with a branch's overrides applied; the result is validated whole."""
        if self.branch_code is not None:
            raise ValueError(f"the policy already has the overrides of {self.branch_code}; apply them to the product's policy")
        overrides = BranchOverrides.model_validate(branch_overrides)
        if overrides.product_code != self.product_code:
            raise ValueError(f"the overrides are for {overrides.product_code}, not {self.product_code}")
        rules = {rule.code: rule for rule in self.rules}
        for code in overrides.disable_rules:
            if code not in rules:
                raise ValueError(f"disable_rules: {code} is not a rule of {self.product_code}")
            del rules[code]
        for rule in overrides.rules:
            rules[rule.code] = rule  # replaced in place, or added at the end
        bands = {band.code: band for band in self.bands}
        for code, change in overrides.bands.items():
            if code not in bands:
                raise ValueError(f"bands: {code} is not a band of {self.product_code}")
            bands[code] = ScoreBand.model_validate(
                {**bands[code].model_dump(), **change.model_dump(exclude_none=True)}
            )
        merged = {
            "product_code": self.product_code,
            "version": self.version,
            "branch_code": overrides.branch_code,
            "override_version": overrides.version,
            "rules": tuple(rules.values()),
            "fraud_limits": {**self.fraud_limits.model_dump(), **overrides.fraud_limits},
            "reject_below": self.reject_below if overrides.reject_below is None else overrides.reject_below,
            "refer_below": self.refer_below if overrides.refer_below is None else overrides.refer_below,
            "bands": tuple(bands.values()),
            "income_multiple": self.income_multiple if overrides.income_multiple is None else overrides.income_multiple,
        }
        return ReviewPolicy.model_validate(merged)

    def summary(self) -> dict[str, Any]:
        return {
            "product_code": self.product_code,
            "version": self.version,
            "branch_code": self.branch_code,
            "override_version": self.override_version,
            "digest": self.digest,
            "reject_below": self.reject_below,
            "refer_below": self.refer_below,
            "income_multiple": _json_value(self.income_multiple),
        }


def _json_value(value: Any) -> Any:
    """A fact in JSON: Decimal as text (never float), enums by value, dates in ISO form."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Enum):
        return _json_value(value.value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): _json_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_json_value(item) for item in value]
    return str(value)


def _money_fact(facts: Mapping[str, Any], name: str) -> Decimal:
    value = facts.get(name)
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, str)):
        raise ValueError(f"the fact {name} must be an amount (Decimal), not {type(value).__name__}")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"the fact {name} is not an amount") from None
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"the fact {name} must be a finite amount of at least 0")
    return amount


def _unique(codes: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(codes))


@dataclass(frozen=True)
class Decision:
    outcome: DecisionOutcome
    reasons: tuple[str, ...]
    approved_limit: Decimal | None  # the limit when approved; the proposal when MANUAL_REVIEW; None when rejected
    annual_rate: Decimal | None  # the same
    band: str | None
    score: int
    pd: Decimal
    facts: Mapping[str, Any]
    rule_results: tuple[RuleResult, ...]
    fraud_hits: tuple[FraudHit, ...]
    limit_caps: Mapping[str, Decimal]
    policy: Mapping[str, Any]
    product: Mapping[str, Any]

    def trail(self) -> dict[str, Any]:
        """Everything this decision was made from and why, as JSON-ready values."""
        return {
            "outcome": self.outcome.value,
            "reasons": list(self.reasons),
            "approved_limit": None if self.approved_limit is None else format_amount(self.approved_limit),
            "annual_rate": None if self.annual_rate is None else format_rate(self.annual_rate),
            "band": self.band,
            "score": self.score,
            "pd": _json_value(self.pd),
            "inputs": _json_value(self.facts),
            "rule_results": [result.to_dict() for result in self.rule_results],
            "fraud_hits": [hit.to_dict() for hit in self.fraud_hits],
            "limit_caps": {name: format_amount(cap) for name, cap in self.limit_caps.items()},
            "policy": dict(self.policy),
            "product": dict(self.product),
        }


def decide(
    policy: ReviewPolicy,
    product: Product,
    application_facts: Mapping[str, Any],
    score: int,
    pd: Decimal,
    rule_results: Sequence[RuleResult],
    fraud_hits: Sequence[FraudHit],
) -> Decision:
    """The decision on one application (see the module docstring for the order)."""
    if product.code != policy.product_code:
        raise ValueError(f"the policy is for {policy.product_code}, not {product.code}")
    if isinstance(score, bool) or not isinstance(score, int):
        raise ValueError("the score must be an int")
    requested = _money_fact(application_facts, "requested_amount")
    income = _money_fact(application_facts, "monthly_income")

    band = policy.band_for(score)
    caps = {
        "requested_amount": requested,
        "product_max": product.amount_max,
        "income_cap": (policy.income_multiple * income).quantize(FEN, rounding=ROUND_DOWN),
    }
    if band is not None:
        caps["band_cap"] = band.limit_cap

    fraud_codes = _unique([hit.code for hit in fraud_hits])
    reject_codes = _unique([r.code for r in rule_results if r.fired and r.outcome == REJECT])
    refer_codes = _unique([r.code for r in rule_results if r.fired and r.outcome == REFER])

    limit: Decimal | None = None
    rate: Decimal | None = None
    if fraud_codes or reject_codes or score < policy.reject_below:
        outcome = DecisionOutcome.REJECT
        reasons = fraud_codes + reject_codes + ([D_SCORE_BELOW_CUTOFF] if score < policy.reject_below else [])
    elif band is None:
        outcome = DecisionOutcome.MANUAL_REVIEW
        reasons = refer_codes + [D_NO_SCORE_BAND]
    else:
        proposed = to_fen(min(caps.values()))
        if proposed < product.amount_min:
            outcome = DecisionOutcome.REJECT
            reasons = [D_LIMIT_BELOW_MINIMUM]
        else:
            limit, rate = proposed, band.annual_rate
            grey = score < policy.refer_below
            if refer_codes or grey:
                outcome = DecisionOutcome.MANUAL_REVIEW
                reasons = refer_codes + ([D_SCORE_GREY_BAND] if grey else [])
            else:
                outcome = DecisionOutcome.APPROVE
                reasons = []

    return Decision(
        outcome=outcome,
        reasons=tuple(reasons),
        approved_limit=limit,
        annual_rate=rate,
        band=None if band is None else band.code,
        score=score,
        pd=pd,
        facts=dict(application_facts),
        rule_results=tuple(rule_results),
        fraud_hits=tuple(fraud_hits),
        limit_caps=caps,
        policy=policy.summary(),
        product={
            "code": product.code,
            "amount_min": format_amount(product.amount_min),
            "amount_max": format_amount(product.amount_max),
        },
    )
