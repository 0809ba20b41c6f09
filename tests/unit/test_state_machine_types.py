"""What AWS allows an Express workflow, checked on the definitions (moto's interpreter would run an
Express machine that AWS refuses or cuts short): no waiting for a callback or for another workflow,
an execution timeout within Express's five minutes, and every wait inside it bounded."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import pytest

from chalicelib import resources

ROOT = Path(__file__).resolve().parents[2]
EXPRESS_SECONDS = 300
EXPRESS = [m for m in resources.STATE_MACHINES if m.type == "EXPRESS"]


def states(definition: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, state in definition["States"].items():
        yield name, state
        for branch in state.get("Branches", []):
            yield from states(branch)
        if "ItemProcessor" in state or "Iterator" in state:
            yield from states(state.get("ItemProcessor") or state["Iterator"])


def test_origination_is_express():
    assert resources.ORIGINATION_MACHINE in EXPRESS


@pytest.mark.parametrize("machine", EXPRESS, ids=lambda m: m.id)
def test_an_express_machine_never_waits_for_a_callback_and_ends_within_five_minutes(machine):
    definition = json.loads((ROOT / "statemachines" / machine.definition).read_text(encoding="utf-8"))
    assert 0 < definition.get("TimeoutSeconds", 0) <= EXPRESS_SECONDS
    for name, state in states(definition):
        resource = state.get("Resource", "")
        assert not resource.endswith((".waitForTaskToken", ".sync", ".sync:2")), f"{name}: {resource} is not allowed in Express"
        if state["Type"] == "Wait":
            assert "Seconds" in state or "SecondsPath" in state, f"{name}: an Express wait must be a bounded number of seconds"
        for retry in state.get("Retry", []):
            waits = sum(min(retry.get("IntervalSeconds", 1) * retry.get("BackoffRate", 2.0) ** i, retry.get("MaxDelaySeconds", 10**9))
                        for i in range(retry.get("MaxAttempts", 3)))
            assert waits < EXPRESS_SECONDS, f"{name}: its retries alone wait {waits:.0f} s"
