"""Partner adapters as data: a partner's own application format, mapped onto the standard one.

A mapping is a JSON document (see ``config/sample/partner_mappings``) holding a
list of rules. Each rule fills one field of the standard application
(``target``, a dot path such as ``applicant.id_number``) either from the
partner's payload (``source``, a path such as ``persons[0].idNo``) or with a
constant (``const``). A value read from the payload goes through the rule's
converters in order (``convert``), then through its code table (``codes``,
partner code -> standard value). A missing or null source is an error unless
the rule has a (non-null) ``default`` or says ``"required": false`` (then the target is
left out). Fields of the payload that no rule reads are ignored.

``adapt`` only reshapes; validating the result is the standard model's job.
Every error names the partner's own field, and ``partner_field`` translates
the standard model's error locations back into the partner's fields.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal, Sequence, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, JsonValue, StrictInt, StrictStr, ValidationError, model_validator

MAX_FEN = 10**17  # 15 digits of yuan, as money.parse_amount allows
_SOURCE = re.compile(r"^[^.\[\]]+(\[[0-9]+\])*(\.[^.\[\]]+(\[[0-9]+\])*)*$")
_TARGET = re.compile(r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*$")
_STEP = re.compile(r"([^.\[\]]+)|\[([0-9]+)\]")
# ASCII digits only, matched whole (fullmatch: "$" would let a trailing newline through)
_YUAN_TEXT = re.compile(r"[0-9]{1,15}(\.[0-9]{1,2})?")
_PERCENT_TEXT = re.compile(r"[0-9]{1,3}(\.[0-9]{1,6})?")  # the ratio keeps <= 8 decimals
_INT_TEXT = re.compile(r"[0-9]{1,18}")


@dataclass(frozen=True)
class FieldError:
    field: str  # the partner's field path, e.g. "loanInfo.amtFen"; "body" for the payload itself
    message: str


class MappingError(Exception):
    """The payload cannot be mapped; ``errors`` names every partner field at fault."""

    def __init__(self, errors: list[FieldError]):
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors


@dataclass(frozen=True)
class Adapted:
    standard: dict[str, Any]  # the standard application, nested, not yet validated
    sources: dict[str, str] = field(default_factory=dict)  # standard path -> partner path


# --- converters: each takes one JSON value and returns one, or raises ValueError ---

class _Converter(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FenToYuan(_Converter):
    name: Literal["fen_to_yuan"]

    def apply(self, value: Any) -> Any:
        if type(value) is not int or value < 0:
            raise ValueError("must be a whole, non-negative number of fen (an integer)")
        if value >= MAX_FEN:
            raise ValueError("is too large")
        return f"{value // 100}.{value % 100:02d}"


class YuanToString(_Converter):
    name: Literal["yuan_to_string"]

    def apply(self, value: Any) -> Any:
        if isinstance(value, str) and _YUAN_TEXT.fullmatch(value):
            return f"{Decimal(value):.2f}"
        if type(value) not in (int, float) or type(value) is int and not 0 <= value < 10**15:
            raise ValueError("must be a non-negative amount in yuan with at most 2 decimals")
        amount = Decimal(str(value))  # 0.1 + 0.2 reads as 0.30000000000000004 and is refused
        if not amount.is_finite() or amount < 0 or amount >= 10**15 or amount.as_tuple().exponent < -2:
            raise ValueError("must be a non-negative amount in yuan with at most 2 decimals")
        return f"{amount + 0:.2f}"  # + 0 turns -0.0 into 0


class Date(_Converter):
    name: Literal["date"]
    format: str = Field(min_length=2)  # strptime pattern, e.g. "%Y%m%d"

    def apply(self, value: Any) -> Any:
        if not isinstance(value, str):
            raise ValueError(f"must be a date as {self.format}")
        try:
            parsed = datetime.strptime(value, self.format)
        except ValueError:
            parsed = None
        if parsed is None or parsed.strftime(self.format) != value:  # strptime alone takes "2026113" for %Y%m%d
            raise ValueError(f"must be a real date as {self.format}")
        return parsed.date().isoformat()


class ToInt(_Converter):
    name: Literal["int"]

    def apply(self, value: Any) -> Any:
        if type(value) is int:
            return value
        if isinstance(value, str) and _INT_TEXT.fullmatch(value):
            return int(value)
        raise ValueError("must be a whole number")


class BoolCodes(_Converter):
    name: Literal["bool_codes"]
    true: tuple[StrictStr | StrictInt, ...] = Field(min_length=1)
    false: tuple[StrictStr | StrictInt, ...] = Field(min_length=1)

    def apply(self, value: Any) -> Any:
        for result, codes in ((True, self.true), (False, self.false)):
            if any(type(value) is type(code) and value == code for code in codes):
                return result
        raise ValueError(f"must be one of {', '.join(json.dumps(c, ensure_ascii=False) for c in self.true + self.false)}")


class PercentToRatio(_Converter):
    name: Literal["percent_to_ratio"]

    def apply(self, value: Any) -> Any:
        text = str(value) if type(value) in (int, float) else value
        if not isinstance(text, str) or not _PERCENT_TEXT.fullmatch(text):
            raise ValueError("must be a percentage such as 7.2 (at most 6 decimals)")
        return f"{Decimal(text).scaleb(-2).normalize():f}"


class Upper(_Converter):
    name: Literal["upper"]

    def apply(self, value: Any) -> Any:
        if not isinstance(value, str):
            raise ValueError("must be text")
        return value.upper()


class Strip(_Converter):
    name: Literal["strip"]

    def apply(self, value: Any) -> Any:
        if not isinstance(value, str):
            raise ValueError("must be text")
        return value.strip()


def _named(value: Any) -> Any:
    """``"fen_to_yuan"`` is short for ``{"name": "fen_to_yuan"}``; one converter is short for a list of one."""
    items = value if isinstance(value, list) else [value]
    return [{"name": item} if isinstance(item, str) else item for item in items]


Converter = Annotated[
    Union[FenToYuan, YuanToString, Date, ToInt, BoolCodes, PercentToRatio, Upper, Strip],
    Field(discriminator="name"),
]


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    target: str = Field(pattern=_TARGET.pattern)
    source: str | None = Field(default=None, pattern=_SOURCE.pattern)
    convert: Annotated[tuple[Converter, ...], BeforeValidator(_named)] = ()
    codes: dict[str, JsonValue] | None = Field(default=None, min_length=1)
    default: JsonValue = None
    const: JsonValue = None
    required: bool = True

    # null means absent for const and default (a null standard value is no value), so that
    # model_dump() -> model_validate() gives the same rule back.

    @model_validator(mode="after")
    def _one_origin(self) -> Rule:
        if (self.const is None) == (self.source is None):
            raise ValueError("a rule needs exactly one of source and const")
        if self.const is not None and (self.convert or self.codes is not None or self.default is not None or not self.required):
            raise ValueError("a const rule takes no convert, codes, default or required")
        return self


class PartnerMapping(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = ""
    rules: tuple[Rule, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _distinct_targets(self) -> PartnerMapping:
        targets = sorted(rule.target for rule in self.rules)
        for first, second in zip(targets, targets[1:]):
            if first == second or second.startswith(first + "."):
                raise ValueError(f"targets overlap: {first} and {second}")
        return self


# --- loading ---

def load_mapping(path: str | Path) -> PartnerMapping:
    """One mapping file; a bad one is a ValueError naming the file, so it is refused before any partner calls."""
    try:
        return PartnerMapping.model_validate_json(Path(path).read_text(encoding="utf-8"))
    except ValidationError as exc:
        raise ValueError(f"partner mapping {path} is invalid: {exc}") from exc


def load_mappings(directory: str | Path) -> dict[str, PartnerMapping]:
    """Every ``<PARTNER_ID>.json`` in the directory, keyed by the partner id (the file's stem)."""
    return {path.stem: load_mapping(path) for path in sorted(Path(directory).glob("*.json"))}


# --- the interpreter ---

_MISSING = object()


class _WrongContainer(Exception):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.error = FieldError(field, message)


@lru_cache(maxsize=1024)
def _steps(path: str) -> tuple[str | int, ...]:
    """``persons[0].idNo`` -> ``("persons", 0, "idNo")``."""
    return tuple(key if key else int(index) for key, index in _STEP.findall(path))


def _path_text(steps: Sequence[str | int]) -> str:
    text = ""
    for step in steps:
        text += f"[{step}]" if isinstance(step, int) else ("." if text else "") + str(step)
    return text


def _read(payload: Any, path: str) -> Any:
    """The value at ``path``, or ``_MISSING`` (null counts as missing)."""
    value = payload
    steps = _steps(path)
    for depth, step in enumerate(steps):
        if isinstance(step, int):
            if not isinstance(value, list):
                raise _WrongContainer(_path_text(steps[:depth]), "must be a list")
            value = value[step] if step < len(value) else None
        else:
            if not isinstance(value, dict):
                raise _WrongContainer(_path_text(steps[:depth]), "must be an object")
            value = value.get(step)
        if value is None:
            return _MISSING
    return value


def _convert(rule: Rule, value: Any) -> Any:
    for converter in rule.convert:
        value = converter.apply(value)
    if rule.codes is not None:
        key = str(value) if type(value) is int else value  # JSON keys are text: code 1 is "1"
        if not isinstance(key, str) or key not in rule.codes:
            raise ValueError(f"is not a known code; expected one of {', '.join(rule.codes)}")
        value = rule.codes[key]
    return value


def _put(standard: dict[str, Any], target: str, value: Any) -> None:
    *parents, last = target.split(".")
    for key in parents:
        standard = standard.setdefault(key, {})
    standard[last] = value


def adapt(mapping: PartnerMapping, payload: Any) -> Adapted:
    """The standard application (not yet validated) from a partner's payload.

    Raises MappingError, and nothing else, listing every partner field at fault.
    """
    if not isinstance(payload, dict):
        raise MappingError([FieldError("body", "must be a JSON object")])
    standard: dict[str, Any] = {}
    sources: dict[str, str] = {}
    errors: list[FieldError] = []
    for rule in mapping.rules:
        if rule.source is None:
            _put(standard, rule.target, rule.const)
            continue
        sources[rule.target] = rule.source
        try:
            value = _read(payload, rule.source)
            if value is not _MISSING:
                _put(standard, rule.target, _convert(rule, value))
            elif rule.default is not None:
                _put(standard, rule.target, rule.default)
            elif rule.required:
                errors.append(FieldError(rule.source, "is required"))
        except _WrongContainer as exc:
            errors.append(exc.error)
        except ValueError as exc:
            errors.append(FieldError(rule.source, str(exc)))
    if errors:
        raise MappingError(list(dict.fromkeys(errors)))  # one wrong container may break many rules
    return Adapted(standard, sources)


def partner_field(standard_path: str | Sequence[str | int], sources: dict[str, str]) -> str:
    """The partner's field for a standard path (or a pydantic ``loc``); the standard path itself when unmapped."""
    path = standard_path if isinstance(standard_path, str) else _path_text(standard_path)
    if not path:
        return "body"
    if path in sources:
        return sources[path]
    steps = _steps(path)
    for cut in range(len(steps) - 1, 0, -1):  # below a mapped path: continue under its source
        mapped = sources.get(_path_text(steps[:cut]))
        if mapped is not None:
            return _path_text((*_steps(mapped), *steps[cut:]))
    # above mapped paths (e.g. "applicant" as a whole): the partner's object holding all of them, if one does
    holders = [_steps(src)[:-1] for std, src in sources.items() if std.startswith(path + ".")]
    common = holders[0] if holders else ()
    for holder in holders[1:]:
        same = 0
        while same < min(len(common), len(holder)) and common[same] == holder[same]:
            same += 1
        common = common[:same]
    return _path_text(common) if common else path
