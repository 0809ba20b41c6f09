"""Risk rules: CEL expressions kept in a product's review policy, each with a reason code.

A rule is data, not Python: its ``expression`` is a CEL (Common Expression
Language, https://cel.dev) expression over the application's facts dictionary
(the schema is in ``chalicelib.domain.decision``). The expression says when the
rule *fires*, i.e. describes the bad case: ``applicant_age < 18 || applicant_age > 60``
fires for an applicant outside the age range. A fired rule's ``outcome`` is
``REJECT`` or ``REFER`` (manual review).

The evaluator is ``common-expression-language`` (a Rust CEL implementation with
Python bindings). Expressions are compiled once per distinct text (a
process-wide cache) when the configuration loads; an expression that does not
compile refuses the whole configuration, naming the rule. Evaluation never
raises: an expression that fails (a missing fact, ``null`` in a comparison,
integer division by zero, a non-boolean result) counts as fired with outcome
``REFER`` and a note, so a person looks at the application rather than the
review crashing or silently passing it.

CEL does not mix ``int`` and ``double`` in arithmetic (``income / term_months``
needs ``double(term_months)``); comparisons across the two are fine
(``monthly_income < 3000``). Money facts (``Decimal``) are seen by CEL as
``double``: fine for thresholds, and no amount is ever computed here.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Iterator, Literal, Mapping

import cel
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, RootModel, model_validator

Outcome = Literal["REJECT", "REFER"]
REJECT: Outcome = "REJECT"
REFER: Outcome = "REFER"

RULE_CODE_PATTERN = r"^R_[A-Z0-9_]{1,40}$"
EXPRESSION_MAX = 2000


@functools.lru_cache(maxsize=4096)
def compile_expression(text: str) -> Any:
    """The compiled CEL program for ``text``, compiled once per distinct text.

    Raises ``ValueError`` (from the CEL parser) when the text is not a valid expression.
    """
    return cel.compile(text)


class Rule(BaseModel):
    """One rule: fires when ``expression`` is true over the facts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=RULE_CODE_PATTERN)  # the reason code, e.g. "R_AGE_RANGE"
    expression: str = Field(min_length=1, max_length=EXPRESSION_MAX)
    description: str = Field(default="", max_length=500)
    outcome: Outcome

    _program: Any = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _compiles(self) -> "Rule":
        try:
            program = compile_expression(self.expression)
        except Exception as exc:  # the binding raises ValueError; refuse anything it raises
            first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ValueError(f"rule {self.code}: the expression does not compile: {first_line}") from None
        self._program = program
        return self

    @property
    def program(self) -> Any:
        if self._program is None:  # a copy made without validation (model_construct)
            self._program = compile_expression(self.expression)
        return self._program


class RuleSet(RootModel[tuple[Rule, ...]]):
    """The rules of a policy, in order; codes are unique."""

    model_config = ConfigDict(frozen=True)

    @model_validator(mode="after")
    def _unique_codes(self) -> "RuleSet":
        seen: set[str] = set()
        for rule in self.root:
            if rule.code in seen:
                raise ValueError(f"rule {rule.code} appears more than once")
            seen.add(rule.code)
        return self

    def __iter__(self) -> Iterator[Rule]:  # type: ignore[override]
        return iter(self.root)

    def __len__(self) -> int:
        return len(self.root)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(rule.code for rule in self.root)


@dataclass(frozen=True)
class RuleResult:
    code: str
    outcome: Outcome
    fired: bool
    note: str | None = None  # why an expression that failed counts as fired

    def to_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {"code": self.code, "outcome": self.outcome, "fired": self.fired}
        if self.note is not None:
            found["note"] = self.note
        return found


def _cel_value(value: Any) -> Any:
    """A fact as CEL sees it: enums by value, dates as ISO text, containers recursively."""
    if value is None or isinstance(value, (bool, int, float, str, Decimal)):
        return value
    if isinstance(value, Enum):
        return _cel_value(value.value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): _cel_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_cel_value(item) for item in value]
    return str(value)


def _note(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"evaluation failed ({type(exc).__name__}: {text[:200]}); referred for manual review"


def evaluate(ruleset: RuleSet, facts: Mapping[str, Any]) -> list[RuleResult]:
    """Each rule's result over ``facts``, in the rule set's order. Never raises."""
    try:
        context = cel.Context({str(key): _cel_value(value) for key, value in facts.items()})
    except Exception as exc:  # a fact CEL cannot take: every rule is referred, none silently passes
        note = _note(exc)
        return [RuleResult(rule.code, REFER, True, note) for rule in ruleset]
    results = []
    for rule in ruleset:
        try:
            value = rule.program.execute(context)
        except Exception as exc:  # noqa: BLE001 - a failing rule refers, it never crashes the review
            results.append(RuleResult(rule.code, REFER, True, _note(exc)))
            continue
        if value is True or value is False:
            results.append(RuleResult(rule.code, rule.outcome, value))
        else:
            note = f"the expression gave {type(value).__name__}, not a boolean; referred for manual review"
            results.append(RuleResult(rule.code, REFER, True, note))
    return results
