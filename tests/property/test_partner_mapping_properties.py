"""Whatever JSON a partner sends, adapting it either works or raises MappingError naming the partner's fields."""
from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.partner_mapping import (
    MAX_FEN,
    Adapted,
    FenToYuan,
    MappingError,
    PartnerMapping,
    YuanToString,
    adapt,
    load_mapping,
)

ROOT = Path(__file__).resolve().parents[2]
PARTNERS = {
    "P_QIANHAI": ROOT / "config" / "sample",
    "P_XINGYUN": ROOT / "config" / "sample",
    "P_THIRD": ROOT / "tests" / "fixtures",
}
MAPPINGS = {p: load_mapping(base / "partner_mappings" / f"{p}.json") for p, base in PARTNERS.items()}
PAYLOADS = {p: json.loads((base / "partner_payloads" / f"{p}.json").read_text(encoding="utf-8")) for p, base in PARTNERS.items()}
EVERY_CONVERTER = PartnerMapping.model_validate({"rules": [
    {"target": "a", "source": "v.a", "convert": "fen_to_yuan"},
    {"target": "b", "source": "v.b", "convert": "yuan_to_string"},
    {"target": "c", "source": "v.c", "convert": {"name": "date", "format": "%Y%m%d"}},
    {"target": "d", "source": "v.d", "convert": "int", "codes": {"1": "ONE"}},
    {"target": "e", "source": "v.e", "convert": {"name": "bool_codes", "true": ["Y", 1], "false": ["N", 0]}},
    {"target": "f", "source": "v.f", "convert": "percent_to_ratio"},
    {"target": "g.h", "source": "v.g[0]", "convert": ["strip", "upper"], "codes": {"X": "EX"}, "required": False},
    {"target": "g.i", "source": "v.g[1].i", "default": "I"},
]})
MAPPINGS["EVERY_CONVERTER"] = EVERY_CONVERTER
PAYLOADS["EVERY_CONVERTER"] = {"v": {"a": 1, "b": 1, "c": "20260101", "d": "1", "e": "Y", "f": "7.2", "g": [" x ", {"i": 0}]}}

scalars = (
    st.none() | st.booleans() | st.integers() | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats() | st.text(max_size=20) | st.sampled_from(["01", "Y", "N", "12", "20261123", "等额本息", "50000.005", "1e3"])
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)


def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path in a JSON value, containers included."""
    found = [prefix] if prefix else []
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in items:
        found += paths(child, prefix + (key,))
    return found


def mutate(payload: dict[str, Any], path: tuple, replacement: Any, delete: bool) -> dict[str, Any]:
    mutated = copy.deepcopy(payload)
    parent = mutated
    for step in path[:-1]:
        parent = parent[step]
    if delete:
        del parent[path[-1]]
    else:
        parent[path[-1]] = replacement
    return mutated


@st.composite
def mutated_payloads(draw: st.DrawFn) -> tuple[str, Any]:
    partner_id = draw(st.sampled_from(sorted(MAPPINGS)))
    payload = PAYLOADS[partner_id]
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        if not paths(payload):
            break
        path = draw(st.sampled_from(paths(payload)))
        payload = mutate(payload, path, draw(json_values), draw(st.booleans()))
    return partner_id, payload


def check(partner_id: str, payload: Any) -> None:
    mapping = MAPPINGS[partner_id]
    try:
        adapted = adapt(mapping, payload)
    except MappingError as exc:
        assert exc.errors
        assert len(set(exc.errors)) == len(exc.errors)
        sources = [rule.source for rule in mapping.rules if rule.source]
        for error in exc.errors:  # a partner field the mapping reads, or one of its containers, or the body
            assert error.field == "body" or any(s == error.field or s.startswith((error.field + ".", error.field + "[")) for s in sources), error
            assert error.message
        return
    assert isinstance(adapted, Adapted)
    assert set(adapted.sources) == {rule.target for rule in mapping.rules if rule.source}
    json.dumps(adapted.standard)  # plain JSON, ready for the standard model


@settings(max_examples=300, deadline=None)
@given(partner_id=st.sampled_from(sorted(MAPPINGS)), payload=json_values)
def test_arbitrary_json_only_ever_raises_mapping_error(partner_id, payload):
    check(partner_id, payload)


@settings(max_examples=500, deadline=None)
@given(case=mutated_payloads())
def test_mutated_sample_payloads_only_ever_raise_mapping_error(case):
    check(*case)


@given(fen=st.integers(min_value=0, max_value=MAX_FEN - 1))
def test_fen_to_yuan_round_trips_exactly(fen):
    yuan = FenToYuan(name="fen_to_yuan").apply(fen)
    assert Decimal(yuan) * 100 == fen
    assert YuanToString(name="yuan_to_string").apply(yuan) == yuan


@given(yuan=st.integers(min_value=0, max_value=10**15 - 1))
def test_whole_yuan_as_a_number_is_the_same_as_its_fen(yuan):
    assert YuanToString(name="yuan_to_string").apply(yuan) == FenToYuan(name="fen_to_yuan").apply(yuan * 100)


@given(value=st.floats())
def test_yuan_numbers_are_taken_only_when_exact_to_the_fen(value):
    try:
        text = YuanToString(name="yuan_to_string").apply(value)
    except ValueError:
        return
    assert Decimal(text) == Decimal(str(value))
    assert Decimal(text).as_tuple().exponent == -2
