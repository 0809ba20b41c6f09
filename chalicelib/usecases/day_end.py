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
    """Start the day end of the current business date; a second start of the same day is a no-op."""
    day = config_repository.business_date()
    name = execution_name(day)
    arn = settings.env(resources.DAY_END_MACHINE.env)
    try:
        started = sfn_client.start_execution(
            stateMachineArn=arn, name=name, input=json.dumps({"business_date": day.isoformat()})
        )
        return {"business_date": day.isoformat(), "execution_arn": started["executionArn"], "started": True}
    except sfn_client.exceptions.ExecutionAlreadyExists:
        return {"business_date": day.isoformat(), "execution_name": name, "started": False}


def advance(closing: date) -> dict[str, str]:
    opened = config_repository.advance_business_date(closing)
    return {"closed": closing.isoformat(), "business_date": opened.isoformat()}
