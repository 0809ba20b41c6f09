"""The pure parts of ``bench/cost_model.py`` and ``bench/aws_meter.py``: the price table and its
arithmetic, DynamoDB's capacity units from item sizes, S3's price classes, state transitions from
histories. No AWS, no moto."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.aws_meter import index_write_units, read_units, s3_class, write_units
from bench.cost_model import (
    COLUMNS,
    PRICES,
    at_scale,
    cost_by_service,
    express_usage,
    provisioned,
    sfn_log_event_bytes,
    xray_sampled,
    day_end_split,
    distributed_map_transitions,
    check_child_workflow,
    lambda_gb_seconds,
    load_prices,
    standard_transitions,
)
from bench.ledger import item_size
from chalicelib.resources import Index

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def prices():
    return load_prices()


def test_the_price_table_is_one_dated_region_with_a_source_for_every_price(prices):
    assert (prices.region, prices.as_of) == ("us-east-1", "2026-11-29")
    for price in prices.prices.values():
        assert price.url.startswith("https://aws.amazon.com/") and price.per > 0 and price.usd >= 0 and price.unit


def test_the_prices_the_model_relies_on(prices):
    assert prices["dynamodb.on_demand.write_request_units"].cost(1_000_000) == pytest.approx(0.625)  # since 2024-11-01
    assert prices["dynamodb.on_demand.read_request_units"].cost(1_000_000) == pytest.approx(0.125)
    assert prices["stepfunctions.standard.transitions"].cost(1) == pytest.approx(0.000025)
    assert prices["lambda.requests"].cost(1_000_000) == pytest.approx(0.20)
    assert prices["lambda.duration.x86_64"].cost(1) == pytest.approx(0.0000166667)
    assert prices["s3.standard.tier1_requests"].cost(1000) == pytest.approx(0.005)
    assert prices["kms.requests"].cost(10_000) == pytest.approx(0.03)
    assert prices["apigateway.rest.requests"].cost(1_000_000) == pytest.approx(3.50)


def test_a_price_without_a_source_is_refused(tmp_path):
    document = json.loads(PRICES.read_text(encoding="utf-8"))
    document["prices"]["lambda.requests"]["url"] = ""
    bad = tmp_path / "prices.json"
    bad.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ValueError, match="lambda.requests"):
        load_prices(bad)


def test_costs_add_up_by_service(prices):
    costs = cost_by_service({
        "dynamodb.on_demand.write_request_units": 2_000_000,
        "dynamodb.on_demand.read_request_units": 4_000_000,
        "stepfunctions.standard.transitions": 14_000,
        "lambda.requests": 1_000_000,
        "lambda.duration.x86_64": 60_000,
    }, prices)
    assert costs["DynamoDB"] == pytest.approx(2 * 0.625 + 4 * 0.125)
    assert costs["Step Functions"] == pytest.approx(0.35)
    assert costs["Lambda"] == pytest.approx(0.20 + 60_000 * 0.0000166667)
    with pytest.raises(KeyError):
        cost_by_service({"lambda.gigawatts": 1}, prices)


def test_lambda_is_billed_per_millisecond_at_its_memory():
    assert lambda_gb_seconds(1.2, 128) == pytest.approx(2 * 0.125 / 1000)
    assert lambda_gb_seconds(0.0, 1024) == pytest.approx(1 / 1000)  # at least 1 ms
    assert lambda_gb_seconds(1000, 2048) == pytest.approx(2.0)


@pytest.mark.parametrize("size, transactional, units", [(0, False, 1), (1024, False, 1), (1025, False, 2), (2900, False, 3), (2900, True, 6), (100, True, 2)])
def test_write_units_are_one_a_kilobyte_two_in_a_transaction(size, transactional, units):
    assert write_units(size, transactional) == units


@pytest.mark.parametrize("size, consistent, transactional, units", [
    (0, True, False, 1.0), (4096, True, False, 1.0), (4097, True, False, 2.0), (4097, False, False, 1.0),
    (100, False, False, 0.5), (9000, True, True, 6.0),
])
def test_read_units_are_one_per_four_kilobytes_half_eventually_consistent(size, consistent, transactional, units):
    assert read_units(size, consistent, transactional) == units


def test_an_item_is_sized_by_dynamodbs_rules():
    assert item_size({"pk": {"S": "ab"}, "n": {"N": "123"}}) == 2 + 2 + 1 + 3  # names + a string's bytes + a number's digits/2 + 1
    assert item_size({"m": {"M": {"k": {"S": "x"}}}}) == 1 + 3 + (1 + 1 + 1)


def item(status, updated, extra="x"):
    return {"pk": {"S": "A1"}, "branch_status": {"S": status}, "updated_at": {"S": updated}, "body": {"S": extra * 1500}}


def test_an_index_entry_moved_costs_its_delete_and_its_put():
    index = Index("by_branch_status", "branch_status", "updated_at")  # projection ALL
    before, after = item("B#RECEIVED", "t1"), item("B#REVIEWING", "t2")
    assert index_write_units(before, after, index, ("pk",)) == 2 + 2  # 1.5 KB each side
    assert index_write_units(before, item("B#RECEIVED", "t1", "y"), index, ("pk",)) == 2  # same keys, another attribute: one update
    assert index_write_units(before, before, index, ("pk",)) == 0


def test_a_keys_only_index_is_written_only_when_its_keys_change():
    index = Index("by_branch_status", "branch_status", "updated_at", projection="KEYS_ONLY")
    assert index_write_units(item("S", "t1"), item("S", "t1", "y"), index, ("pk",)) == 0
    assert index_write_units(item("S", "t1"), item("S", "t2"), index, ("pk",)) == 2


def test_a_sparse_index_is_written_only_for_items_that_have_its_keys():
    index = Index("by_loan", "loan_id", "posted_at")
    plain = {"pk": {"S": "BALANCE#1"}, "debit": {"N": "1"}}
    assert index_write_units(None, plain, index, ("pk",)) == 0
    assert index_write_units(None, {**plain, "loan_id": {"S": "L1"}, "posted_at": {"S": "t"}}, index, ("pk",)) == 1


@pytest.mark.parametrize("operation, tier", [("PutObject", "tier1"), ("ListObjectsV2", "tier1"), ("CopyObject", "tier1"), ("GetObject", "tier2"),
                                             ("HeadObject", "tier2"), ("DeleteObject", "free")])
def test_s3_requests_by_price_class(operation, tier):
    assert s3_class(operation) == tier


def test_state_transitions_are_the_states_entered_and_the_retries():
    history = [{"type": t} for t in (
        "ExecutionStarted", "ChoiceStateEntered", "ChoiceStateExited",
        "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskFailed", "TaskScheduled", "TaskStarted", "TaskSucceeded", "TaskStateExited",
        "SucceedStateEntered", "SucceedStateExited", "ExecutionSucceeded",
    )]
    assert standard_transitions(history) == 3 + 1  # Choice, Task, Succeed, and the Task's retry


def test_distributed_map_children_are_charged_their_start_and_their_states():
    # 2 children: one closed its segment in one chunk, the other in two: (1 + 2 + 1) + (1 + 4 + 1)
    assert distributed_map_transitions(children=2, chunks=3) == 10
    check_child_workflow(json.loads((ROOT / "statemachines" / "day_end.asl.json").read_text(encoding="utf-8")))


def test_a_child_workflow_of_another_shape_is_refused():
    definition = json.loads((ROOT / "statemachines" / "day_end.asl.json").read_text(encoding="utf-8"))
    definition["States"]["CloseLoans"]["ItemProcessor"]["States"]["Extra"] = {"Type": "Pass", "End": True}
    with pytest.raises(RuntimeError):
        check_child_workflow(definition)


def test_the_day_ends_credit_bureau_parts_belong_to_the_night_not_to_the_loans():
    night = {"dynamodb.on_demand.write_request_units": 130.0, "s3.standard.tier1_requests": 7.0, "s3.standard.tier2_requests": 6.0}
    empty = {"dynamodb.on_demand.write_request_units": 10.0, "s3.standard.tier1_requests": 3.0, "s3.standard.tier2_requests": 4.0}
    variable, parts = day_end_split(night, empty, segments=2, branches=1)
    assert variable == {"dynamodb.on_demand.write_request_units": 120.0, "s3.standard.tier1_requests": 0.0, "s3.standard.tier2_requests": 0.0}
    assert parts == {"s3.standard.tier1_requests": 2.0, "s3.standard.tier2_requests": 1.0}


def test_an_express_leg_is_billed_per_100_ms_at_64_mb():
    from datetime import datetime, timedelta

    start = datetime(2026, 11, 29, 12, 0, 0)
    events = [{"timestamp": start}, {"timestamp": start + timedelta(milliseconds=230)}]
    assert express_usage(events) == pytest.approx(0.3 * 64 / 1024)
    assert express_usage([{"timestamp": start}]) == pytest.approx(0.1 * 64 / 1024)  # at least one 100 ms step
    assert express_usage([]) == 0.0


def test_x_rays_default_rule_records_a_request_a_second_and_five_percent_of_the_rest():
    assert xray_sampled(1000) == 1.0  # far below a request a second: every one
    assert xray_sampled(86_400) == pytest.approx(1.0)
    assert xray_sampled(86_400 * 11) == pytest.approx((1 + 0.05 * 10) / 11)
    assert xray_sampled(86_400 * 1_000_000) == pytest.approx(0.05, abs=1e-4)


def test_request_units_become_capacity_hours_at_the_utilisation_kept():
    q = provisioned({"dynamodb.on_demand.write_request_units": 3600, "dynamodb.on_demand.read_request_units": 1800, "lambda.requests": 3}, 0.5)
    assert q == {"dynamodb.provisioned.wcu_hours": 2.0, "dynamodb.provisioned.rcu_hours": 1.0, "lambda.requests": 3}


def test_at_scale_the_nights_fixed_part_is_spread_over_the_days_loans_and_x_ray_samples(prices):
    per_loan = {c: {"xray.traces_recorded": 1.0, "dynamodb.on_demand.write_request_units": 36.0} for c, _ in COLUMNS}
    per_loan["day end, fixed"] = {"stepfunctions.standard.transitions": 99.0}
    scale = at_scale(per_loan, {"stepfunctions.standard.transitions": 1000.0}, 1_000_000, 0.6)
    assert scale["day end, fixed"]["stepfunctions.standard.transitions"] == pytest.approx(0.001)
    assert scale["origination"]["xray.traces_recorded"] == pytest.approx(xray_sampled(3_000_000))  # 3 columns trace
    assert scale["origination"]["dynamodb.provisioned.wcu_hours"] == pytest.approx(36 / 3600 / 0.6)
    assert "dynamodb.on_demand.write_request_units" not in scale["origination"]
    assert per_loan["origination"]["dynamodb.on_demand.write_request_units"] == 36.0  # the measured figures untouched
    # a write unit provisioned at 60% costs less than on demand at these list prices
    on_demand = cost_by_service({"dynamodb.on_demand.write_request_units": 1.0}, prices)["DynamoDB"]
    at_60 = cost_by_service(provisioned({"dynamodb.on_demand.write_request_units": 1.0}, 0.6), prices)["DynamoDB"]
    assert at_60 < on_demand / 2


def test_a_machine_logging_errors_only_logs_nothing_of_a_successful_execution():
    from datetime import datetime

    at = datetime(2026, 11, 29, 12, 0, 0)
    ok = [{"id": 1, "type": "ExecutionStarted", "timestamp": at}, {"id": 2, "type": "ExecutionSucceeded", "timestamp": at}]
    failed = [*ok[:1], {"id": 2, "type": "TaskFailed", "timestamp": at}, {"id": 3, "type": "ExecutionFailed", "timestamp": at}]
    assert sfn_log_event_bytes(ok)[0] == 2 and sfn_log_event_bytes(ok, "ERROR") == (0, 0.0)
    assert sfn_log_event_bytes(failed, "ERROR")[0] == 2
