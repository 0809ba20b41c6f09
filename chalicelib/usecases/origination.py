"""The origination workflow's steps. For now: acknowledge that the workflow has the application."""
from __future__ import annotations

import json
from typing import Any

from chalicelib import resources, settings
from chalicelib.persistence import applications


class ApplicationNotFound(Exception):
    """The workflow names an application that is not stored (a defined failure of the state machine)."""


def start(sfn_client: Any, application_id: str) -> str:
    """Start the origination of an application; one execution per application, whatever the retries."""
    machine_arn = settings.env(resources.ORIGINATION_MACHINE.env)
    try:
        return sfn_client.start_execution(
            stateMachineArn=machine_arn, name=application_id, input=json.dumps({"application_id": application_id})
        )["executionArn"]
    except sfn_client.exceptions.ExecutionAlreadyExists:
        return machine_arn.replace(":stateMachine:", ":execution:") + f":{application_id}"


def acknowledge(application_id: str) -> dict[str, str]:
    item = applications.get(application_id)
    if item is None:
        raise ApplicationNotFound(application_id)
    return {"application_id": application_id, "status": item.status or ""}
