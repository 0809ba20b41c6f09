"""Scorecards are data: bins and points per characteristic, base points, and score to PD.

A scorecard is a JSON document (see ``config/sample/scorecards``), trained
offline by ``tools/train_scorecard.py`` and validated by this model when it is
loaded: the bins of a numeric characteristic are half-open ``[lower, upper)``,
listed in order, contiguous, and cover the whole line (first ``lower`` and last
``upper`` null); the categories of a categorical one are unique across its bins.

Scoring is pure Python (no pandas or numpy in the Lambda): the score is the
base points plus, per characteristic, the points of the bin its fact falls in,
or ``missing_points`` when the fact is absent or null. A category that no bin
lists, or a fact of the wrong type, is an error (``ValueError``), never a
silent default. The result carries the contributions for the decision trail
("why this score"): they add up to the score.

PD = 1 / (1 + exp(-(intercept + slope * score))), computed in ``Decimal`` and
rounded to 6 places; the slope must be negative, so a higher score never has a
higher PD.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from enum import Enum
from pathlib import Path
from typing import Any, Literal, Mapping, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

PD_PLACES = Decimal("0.000001")
BASE = "base_points"
MISSING = "missing"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)




class Bin(_Strict):
    """Either a numeric range ``[lower, upper)`` (null: unbounded) or a set of categories."""

    lower: Decimal | None = Field(default=None, allow_inf_nan=False)
    upper: Decimal | None = Field(default=None, allow_inf_nan=False)
    values: tuple[str, ...] | None = None
    points: int = Field(strict=True)

    @model_validator(mode="after")
    def _one_kind(self) -> "Bin":
        given = self.model_fields_set
        if self.values is not None:
            if given & {"lower", "upper"}:
                raise ValueError("a bin has either values or lower/upper, not both")
            if not self.values:
                raise ValueError("a categorical bin needs at least one value")
            if len(set(self.values)) != len(self.values):
                raise ValueError("a categorical bin lists a value twice")
        else:
            if not {"lower", "upper"} <= given:
                raise ValueError("a numeric bin gives both lower and upper (null for unbounded)")
            if self.lower is not None and self.upper is not None and self.lower >= self.upper:
                raise ValueError("a numeric bin's lower must be below its upper")
        return self

    @property
    def is_numeric(self) -> bool:
        return self.values is None

    @property
    def label(self) -> str:
        if self.values is not None:
            return ",".join(self.values)
        if self.lower is None and self.upper is None:
            return "any"
        if self.lower is None:
            return f"< {self.upper}"
        if self.upper is None:
            return f">= {self.lower}"
        return f"[{self.lower}, {self.upper})"

    def holds(self, value: Any) -> bool:
        if self.values is not None:
            return value in self.values
        return (self.lower is None or value >= self.lower) and (self.upper is None or value < self.upper)


class Characteristic(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    source: str = Field(min_length=1, max_length=300)
    bins: tuple[Bin, ...] = Field(min_length=1)
    missing_points: int = Field(strict=True)

    @field_validator("bins")
    @classmethod
    def _bins_partition(cls, bins: tuple[Bin, ...]) -> tuple[Bin, ...]:
        kinds = {b.is_numeric for b in bins}
        if len(kinds) != 1:
            raise ValueError("bins mix numeric ranges and categories")
        if kinds == {True}:
            if bins[0].lower is not None:
                raise ValueError("the first bin's lower must be null (the bins must cover the whole line)")
            if bins[-1].upper is not None:
                raise ValueError("the last bin's upper must be null (the bins must cover the whole line)")
            for before, after in zip(bins, bins[1:]):
                if before.upper is None or after.lower is None:
                    raise ValueError("only the first bin may have a null lower and only the last a null upper")
                if before.upper < after.lower:
                    raise ValueError(f"gap between bins: [{before.upper}, {after.lower}) falls in none")
                if before.upper > after.lower:
                    raise ValueError(f"bins overlap on [{after.lower}, {before.upper})")
        else:
            seen: set[str] = set()
            for b in bins:
                twice = seen & set(b.values or ())
                if twice:
                    raise ValueError(f"categories in more than one bin: {', '.join(sorted(twice))}")
                seen |= set(b.values or ())
        return bins

    @property
    def kind(self) -> Literal["numeric", "categorical"]:
        return "numeric" if self.bins[0].is_numeric else "categorical"

    def bin_for(self, value: Any) -> Bin | None:
        """The bin a fact falls in; None when the fact is missing. ValueError when it fits no bin."""
        if value is None:
            return None
        if self.kind == "numeric":
            value = _number(self.name, value)
        else:
            if isinstance(value, Enum):
                value = value.value
            if not isinstance(value, str):
                raise ValueError(f"{self.name}: must be a category (string), not {type(value).__name__}")
        for b in self.bins:
            if b.holds(value):
                return b
        raise ValueError(f"{self.name}: {value!r} is in no bin of the scorecard")


def _number(name: str, value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise ValueError(f"{name}: must be a number, not {type(value).__name__}")
    number = Decimal(value) if not isinstance(value, float) else Decimal(repr(value))
    if not number.is_finite():
        raise ValueError(f"{name}: must be a finite number")
    return number


class ScoreToPd(_Strict):
    """PD = 1 / (1 + exp(-(intercept + slope * score)))."""

    intercept: Decimal = Field(allow_inf_nan=False)
    slope: Decimal = Field(lt=0, allow_inf_nan=False)


class Validation(_Strict):
    """How the card did on the held-out part of its training data."""

    auc: float = Field(ge=0, le=1)
    gini: float = Field(ge=-1, le=1)
    rows_test: int = Field(strict=True, gt=0)
    bad_rate_test: float | None = Field(default=None, ge=0, le=1)

    @model_validator(mode="after")
    def _gini_is_2auc_minus_1(self) -> "Validation":
        if abs(self.gini - (2 * self.auc - 1)) > 0.001:
            raise ValueError("gini must be 2 * auc - 1")
        return self


class Contribution(NamedTuple):
    characteristic: str
    bin: str
    points: int


@dataclass(frozen=True)
class ScoreResult:
    score: int
    pd: Decimal
    contributions: list[Contribution]


class Scorecard(_Strict):
    version: str = Field(min_length=1, max_length=32)
    trained_on: str = Field(min_length=1, max_length=300)
    base_score: int = Field(strict=True)
    odds_at_base: Decimal = Field(gt=0, allow_inf_nan=False)
    pdo: Decimal = Field(gt=0, allow_inf_nan=False)
    base_points: int = Field(strict=True)
    characteristics: tuple[Characteristic, ...] = Field(min_length=1)
    score_to_pd: ScoreToPd
    validation: Validation
    notes: tuple[str, ...] = ()

    @field_validator("characteristics")
    @classmethod
    def _names_unique(cls, characteristics: tuple[Characteristic, ...]) -> tuple[Characteristic, ...]:
        names = [c.name for c in characteristics]
        if len(set(names)) != len(names):
            raise ValueError("a characteristic is listed twice")
        return characteristics

    @model_validator(mode="after")
    def _pd_matches_the_scaling(self) -> "Scorecard":
        # At base_score the odds (good:bad) are odds_at_base, and pdo points double them.
        log_odds_bad = float(self.score_to_pd.intercept) + float(self.score_to_pd.slope) * self.base_score
        if abs(log_odds_bad + math.log(self.odds_at_base)) > 1e-3:
            raise ValueError("score_to_pd does not give odds_at_base at base_score")
        if abs(float(self.score_to_pd.slope) * float(self.pdo) + math.log(2)) > 1e-3:
            raise ValueError("score_to_pd's slope does not double the odds every pdo points")
        return self

    def pd_for(self, score: int) -> Decimal:
        with localcontext() as ctx:
            ctx.prec = 28
            z = self.score_to_pd.intercept + self.score_to_pd.slope * score
            # exp(-z) overflows only for absurd scores; clamp to keep PD within [0, 1].
            z = max(min(z, Decimal(700)), Decimal(-700))
            pd = Decimal(1) / (Decimal(1) + (-z).exp())
            return pd.quantize(PD_PLACES, rounding=ROUND_HALF_EVEN)

    def score(self, facts: Mapping[str, Any]) -> ScoreResult:
        contributions = [Contribution(BASE, "base", self.base_points)]
        for c in self.characteristics:
            found = c.bin_for(facts.get(c.name))
            if found is None:
                contributions.append(Contribution(c.name, MISSING, c.missing_points))
            else:
                contributions.append(Contribution(c.name, found.label, found.points))
        total = sum(p.points for p in contributions)
        return ScoreResult(score=total, pd=self.pd_for(total), contributions=contributions)


def load_scorecard(path: str | Path) -> Scorecard:
    return Scorecard.model_validate_json(Path(path).read_text(encoding="utf-8"))
