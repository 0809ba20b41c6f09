"""Starting the origination workflow of an application."""
from __future__ import annotations

import json
from typing import Any

from chalicelib import resources, settings


class ApplicationNotFound(Exception):
    """The workflow names an application that is not stored (a defined failure of the state machine)."""


def start(sfn_client: Any, application_id: str, review_timeout_seconds: int) -> str:
    """Start the origination of an application; one execution per application, whatever the retries.

    ``review_timeout_seconds``: how long a manual review may wait before the
    application expires (the product's ``manual_review_hours``).
    """
    return _start(sfn_client, application_id, {"kind": "APPLICATION", "review_timeout_seconds": review_timeout_seconds})


def start_drawdown(sfn_client: Any, application_id: str) -> str:
    """Start the origination of a drawdown on a credit line: straight to routing (the line was reviewed)."""
    return _start(sfn_client, application_id, {"kind": "DRAWDOWN", "review_timeout_seconds": 0})


def _start(sfn_client: Any, application_id: str, payload: dict[str, Any]) -> str:
    machine_arn = settings.env(resources.ORIGINATION_MACHINE.env)
    payload = {"application_id": application_id, **payload}
    try:
        return sfn_client.start_execution(stateMachineArn=machine_arn, name=application_id, input=json.dumps(payload))["executionArn"]
    except sfn_client.exceptions.ExecutionAlreadyExists:
        return machine_arn.replace(":stateMachine:", ":execution:") + f":{application_id}"
