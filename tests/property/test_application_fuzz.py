"""Fuzz POST /v1/applications, standard and mapped: whatever a partner sends, never a 5xx."""
from __future__ import annotations

import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.applications import STANDARD, partner_payload

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=10,
)


def leaf_paths(value, prefix=()):
    if isinstance(value, dict):
        for key, child in value.items():
            yield from leaf_paths(child, prefix + (key,))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from leaf_paths(child, prefix + (index,))
    else:
        yield prefix


def mutated(base):
    paths = list(leaf_paths(base))

    @st.composite
    def build(draw):
        body = copy.deepcopy(base)
        for path in draw(st.lists(st.sampled_from(paths), min_size=1, max_size=4, unique=True)):
            target = body
            for step in path[:-1]:
                target = target[step]
            if draw(st.booleans()):
                target[path[-1]] = draw(json_values)
            elif isinstance(target, dict):
                del target[path[-1]]
        return body

    return build()


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.mark.parametrize("partner_id", ["P_DEMO", "P_QIANHAI", "P_XINGYUN"])
def test_no_application_answers_5xx(post_signed, aws, partner_id):
    base = STANDARD if partner_id == "P_DEMO" else partner_payload(partner_id)

    @SETTINGS
    @given(payload=mutated(base) | json_values)
    def check(payload):
        response = post_signed("/v1/applications", payload, partner_id=partner_id, secret=aws.secrets[partner_id])
        assert response.status_code < 500, response.body
        body = json.loads(response.body)
        if response.status_code >= 400:
            assert set(body) == {"code", "message", "details"}
            assert all(set(d) == {"field", "message"} for d in body["details"])

    check()
