"""Starting a leg of the origination workflow (``statemachines/origination.asl.json``).

The workflow is Express, priced per request and duration rather than per state transition, and
so runs in legs that end where a person is awaited: REVIEW (the intake starts it: review, then
routing or the manual review queue), DRAWDOWN (a drawdown on a credit line: routing), ROUTE (a
reviewer approved: routing), ANSWER (the borrower answered the offer: declined, or signed and
disbursed), DISBURSE (a payment whose outcome is still unknown, queried again). What waits for a
person, and a leg that stalled, is kept by the origination watch (``usecases/origination_watch``).

An Express execution runs at least once and its name does not make it unique, so every step is
safe to run twice, even at once; each leg's execution is named ``<application>-<leg>-<n>`` (the
first, REVIEW or DRAWDOWN, by the application alone) so that its history can be found.
"""
from __future__ import annotations

import json
import secrets
from typing import Any

from chalicelib import resources, settings

LEGS = ("REVIEW", "DRAWDOWN", "ROUTE", "ANSWER", "DISBURSE")


class ApplicationNotFound(Exception):
    """The workflow names an application that is not stored (a defined failure of the state machine)."""


def start(sfn_client: Any, application_id: str, review_timeout_seconds: int) -> str:
    """Start the origination of an application (its REVIEW leg).

    ``review_timeout_seconds``: how long a manual review may wait before the
    application expires (the product's ``manual_review_hours``).
    """
    return _start(sfn_client, application_id, "REVIEW", application_id, {"review_timeout_seconds": review_timeout_seconds})


def start_drawdown(sfn_client: Any, application_id: str) -> str:
    """Start the origination of a drawdown on a credit line: straight to routing (the line was reviewed)."""
    return _start(sfn_client, application_id, "DRAWDOWN", application_id, {"review_timeout_seconds": 0})


def resume(sfn_client: Any, application_id: str, leg: str, **fields: Any) -> str:
    """Start a leg again or a later one: ROUTE, ANSWER (with ``answer={"accepted": ...}``), DISBURSE;
    REVIEW again (with ``review_timeout_seconds``) for one that stalled."""
    if leg not in LEGS:
        raise ValueError(f"not a leg: {leg!r}")
    name = f"{application_id}-{leg.lower()}-{secrets.token_hex(4)}"
    return _start(sfn_client, application_id, leg, name, {"review_timeout_seconds": 0, **fields})


def _start(sfn_client: Any, application_id: str, leg: str, name: str, fields: dict[str, Any]) -> str:
    machine_arn = settings.env(resources.ORIGINATION_MACHINE.env)
    payload = {"application_id": application_id, "kind": leg, **fields}
    try:
        return sfn_client.start_execution(stateMachineArn=machine_arn, name=name, input=json.dumps(payload))["executionArn"]
    except sfn_client.exceptions.ExecutionAlreadyExists:
        return machine_arn.replace(":stateMachine:", ":execution:") + f":{name}"
