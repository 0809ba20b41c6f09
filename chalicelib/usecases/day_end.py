"""The day end (日终): for now, closing business day T and opening T+1.

Later steps (accrual, days past due, reconciliation, reporting) run before the
date advances, in the day-end state machine.
"""
from __future__ import annotations

import json
from datetime import date
from typing import Any

from chalicelib import resources, settings
from chalicelib.persistence import config_repository


def execution_name(business_date: date) -> str:
    """One day-end execution per business date: a re-fired schedule cannot start a second."""
    return f"day-end-{business_date.isoformat()}"


def start(sfn_client: Any) -> dict[str, Any]:
    """Start the day end of the current business date.

    The execution is named after the day, so a schedule that fires twice never
    runs two day ends: Step Functions answers the running execution for the
    same name and input, and ``ExecutionAlreadyExists`` once it has ended.
    """
    day = config_repository.business_date()
    machine_arn = settings.env(resources.DAY_END_MACHINE.env)
    name = execution_name(day)
    try:
        arn = sfn_client.start_execution(stateMachineArn=machine_arn, name=name, input=json.dumps({"business_date": day.isoformat()}))["executionArn"]
    except sfn_client.exceptions.ExecutionAlreadyExists:
        arn = machine_arn.replace(":stateMachine:", ":execution:") + f":{name}"
    return {"business_date": day.isoformat(), "execution_arn": arn}


def advance(closing: date) -> dict[str, str]:
    opened = config_repository.advance_business_date(closing)
    return {"closed": closing.isoformat(), "business_date": opened.isoformat()}
