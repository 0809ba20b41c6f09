"""The real day_end.asl.json on moto's interpreter, its Task states running the app's handlers."""
from __future__ import annotations

import json

import boto3
import pytest

import app
from chalicelib.persistence import config_repository
from local.lambda_runtime import LambdaContext
from tests.conftest import load_event
from tests.support.aws import BUSINESS_DATE, wait_for_execution


@pytest.fixture
def sfn(aws):
    return boto3.client("stepfunctions")


def run(sfn, aws, business_date: str, name: str):
    arn = aws.provisioned.state_machine_arns["day_end"]
    payload = {  # as day_end.start makes it
        "business_date": business_date, "reconcile_date": business_date, "segments": [{"segment": i, "total": 2} for i in range(2)],
        "branches": ["BR_DONGCHENG"], "partners": ["P_DEMO"],
    }
    started = sfn.start_execution(stateMachineArn=arn, name=name, input=json.dumps(payload))
    return wait_for_execution(sfn, started["executionArn"])


def test_the_schedule_starts_the_day_end_which_advances_the_business_date(sfn, aws):
    result = app.start_day_end(load_event("schedule_start_day_end.json"), LambdaContext("start_day_end"))
    assert result["business_date"] == "2026-11-23"
    done = wait_for_execution(sfn, result["execution_arn"])
    assert done["status"] == "SUCCEEDED"
    assert json.loads(done["output"])["advanced"] == {"closed": "2026-11-23", "business_date": "2026-11-24"}
    config_repository.clear_cache()
    assert config_repository.business_date().isoformat() == "2026-11-24"
    # each of the local stack's 2 segments of loans closed, each branch reported, each partner reconciled, the date advanced
    called = [i.function for i in aws.runtime.invocations]
    assert called.count("day_end_close_loans") == 2 and called[-1] == "advance_business_date"
    assert called.count("day_end_credit_report") == len(config_repository.branches())
    assert called.count("day_end_reconcile") == len(config_repository.partner_ids())


def test_a_second_schedule_firing_for_the_same_day_starts_nothing(sfn, aws):
    first = app.start_day_end(load_event("schedule_start_day_end.json"), LambdaContext("start_day_end"))
    second = app.start_day_end(load_event("schedule_start_day_end.json"), LambdaContext("start_day_end"))
    assert first["execution_arn"] == second["execution_arn"]  # while it runs: the same execution
    wait_for_execution(sfn, first["execution_arn"])
    third = app.start_day_end(load_event("schedule_start_day_end.json"), LambdaContext("start_day_end"))
    assert third["business_date"] == "2026-11-24"  # once it ended, the next firing is the next day's
    wait_for_execution(sfn, third["execution_arn"])
    assert len(sfn.list_executions(stateMachineArn=aws.provisioned.state_machine_arns["day_end"])["executions"]) == 2


def test_running_the_same_day_end_again_changes_nothing(sfn, aws):
    assert run(sfn, aws, "2026-11-23", "first")["status"] == "SUCCEEDED"
    again = run(sfn, aws, "2026-11-23", "retry")
    assert again["status"] == "SUCCEEDED"
    assert json.loads(again["output"])["advanced"]["business_date"] == "2026-11-24"
    config_repository.clear_cache()
    assert config_repository.business_date().isoformat() == "2026-11-24"


def test_days_run_one_after_another(sfn, aws):
    for day in range(23, 30):
        assert run(sfn, aws, f"2026-11-{day}", f"d{day}")["status"] == "SUCCEEDED"
    config_repository.clear_cache()
    assert config_repository.business_date().isoformat() == "2026-11-30"


def test_closing_a_day_that_is_not_the_business_date_fails_in_a_defined_state(sfn, aws):
    done = run(sfn, aws, "2026-11-01", "stale")
    assert (done["status"], done["error"]) == ("FAILED", "BusinessDateConflict")
    config_repository.clear_cache()
    assert config_repository.business_date() == BUSINESS_DATE


def test_a_failing_step_is_caught_and_ends_in_day_end_failed(sfn, aws):
    done = run(sfn, aws, "not-a-date", "broken")
    assert (done["status"], done["error"]) == ("FAILED", "DayEndFailed")
    history = sfn.get_execution_history(executionArn=done["executionArn"])["events"]
    failure = next(e for e in history if e["type"] == "LambdaFunctionFailed" or e["type"] == "TaskFailed")
    assert "ValueError" in json.dumps(failure, default=str)


def test_a_day_end_that_failed_is_run_again_by_the_next_firing_under_a_new_name(sfn, aws, monkeypatch):
    from chalicelib.usecases import loan_day_end

    def broken(*args, **kwargs):
        raise RuntimeError("the loans table is unreachable")

    with monkeypatch.context() as patched:
        patched.setattr(loan_day_end, "close_segment", broken)
        first = app.start_day_end(load_event("schedule_start_day_end.json"), LambdaContext("start_day_end"))
        assert wait_for_execution(sfn, first["execution_arn"])["status"] == "FAILED"
    called = [i.function for i in aws.runtime.invocations]
    assert "day_end_close_loans" in called and "advance_business_date" not in called
    config_repository.clear_cache()
    assert config_repository.business_date() == BUSINESS_DATE  # not advanced
    second = app.start_day_end(load_event("schedule_start_day_end.json"), LambdaContext("start_day_end"))
    assert (second["business_date"], second["run"]) == ("2026-11-23", 2) and second["execution_arn"].endswith(":day-end-2026-11-23-run2")
    assert wait_for_execution(sfn, second["execution_arn"])["status"] == "SUCCEEDED"
    config_repository.clear_cache()
    assert config_repository.business_date().isoformat() == "2026-11-24"
