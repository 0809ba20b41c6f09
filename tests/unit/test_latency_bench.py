"""The pure parts of ``bench/latency.py`` (percentiles, API routes, steps, the cold call set apart) and the
per-invocation records ``bench/aws_meter.py`` keeps for it. No AWS, no moto."""
from __future__ import annotations

import collections

import pytest

from bench.aws_meter import Invocation, Meter
from bench.latency import group, percentile, route_of, rows, step_of, step_stats

ROUTES = ("/v1/applications", "/v1/applications/{application_id}", "/v1/applications/{application_id}/acceptance",
          "/v1/applications/search", "/v1/loans/{loan_id}/repayments", "/v1/events")


def inv(function: str, started: float, phase: str = "origination", wall: float = 0.010, aws: float = 0.004, calls: int = 3,
        label: str | None = None) -> Invocation:
    return Invocation(phase, function, wall=wall, aws_wall=aws, calls=calls, started=started, label=label,
                      services=collections.Counter({"dynamodb.GetItem": calls}))


def test_percentiles_interpolate_between_the_closest_ranks():
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == pytest.approx(2.5)  # unsorted input
    assert percentile(list(range(1, 101)), 95) == pytest.approx(95.05)  # numpy's default
    assert percentile(list(range(1, 101)), 0) == 1 and percentile(list(range(1, 101)), 100) == 100
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) is None
    with pytest.raises(ValueError):
        percentile([1.0], 101)


@pytest.mark.parametrize("method, path, route", [
    ("post", "/v1/applications", "POST /v1/applications"),
    ("GET", "/v1/applications/AP20261129-000001", "GET /v1/applications/{application_id}"),
    ("POST", "/v1/applications/AP1/acceptance", "POST /v1/applications/{application_id}/acceptance"),
    ("GET", "/v1/applications/search?status=OFFERED", "GET /v1/applications/search"),  # a literal segment beats a variable
    ("POST", "/v1/loans/LN1/repayments/", "POST /v1/loans/{loan_id}/repayments"),
    ("GET", "/v1/nowhere/x?y=1", "GET /v1/nowhere/x"),  # no route: the path as it is
])
def test_a_request_is_grouped_by_its_route_whatever_the_ids_in_its_path(method, path, route):
    assert route_of(method, path, ROUTES) == route


def test_a_step_is_the_function_with_its_label():
    assert step_of(inv("sign_contract", 1.0)) == "sign_contract"
    assert step_of(inv("api_handler", 1.0, label="POST /v1/applications")) == "api_handler POST /v1/applications"


def test_the_first_call_of_each_step_is_the_cold_one_and_warm_up_phases_are_left_out():
    calls = [
        inv("review_close", 5.0),
        inv("review_close", 2.0, phase="warm-up loan"),  # the first in the process, though listed later
        inv("review_close", 3.0, phase="warm-up loan"),  # warm, but the warm-up's: left out
        inv("review_close", 6.0),
        inv("day_end_close_loans", 0.5, phase="warm-up day end"),
        inv("day_end_close_loans", 1.0, phase="day end, no loans"),  # other work: left out
        inv("day_end_close_loans", 9.0, phase="day end"),
        inv("api_handler", 8.0, label="GET /v1/events"),  # called once: cold only
    ]
    steps = group(calls)
    assert list(steps) == ["review_close", "day_end_close_loans", "api_handler GET /v1/events"]  # by first measured call
    assert steps["review_close"].cold.started == 2.0
    assert [i.started for i in steps["review_close"].measured] == [5.0, 6.0]
    assert [i.started for i in steps["day_end_close_loans"].measured] == [9.0]
    assert steps["api_handler GET /v1/events"].measured == []
    assert [i.started for i in group(calls, left_out=())["day_end_close_loans"].measured] == [1.0, 9.0]


def test_own_time_is_wall_less_the_aws_calls_and_the_cold_call_is_shown_apart():
    calls = [inv("disburse_loan", 0.0, phase="warm-up loan", wall=0.500, aws=0.100, calls=13)]
    calls += [inv("disburse_loan", 1.0 + k, wall=0.010 * (k + 1) + 0.040, aws=0.040, calls=12) for k in range(20)]
    stats = step_stats(group(calls)["disburse_loan"])
    assert stats["invocations"] == 20 and stats["errors"] == 0
    assert stats["own_ms"]["median"] == pytest.approx(105.0)  # own times 10, 20, ..., 200 ms
    assert stats["own_ms"]["p95"] == pytest.approx(190.5)
    assert stats["aws_ms"]["median"] == pytest.approx(40.0) and stats["aws_calls"]["median"] == 12
    assert stats["aws_calls_by_operation"] == {"dynamodb.GetItem": pytest.approx(12.0)}
    assert stats["cold"] == {"phase": "warm-up loan", "own_ms": pytest.approx(400.0), "aws_ms": pytest.approx(100.0), "aws_calls": 13, "error": None}


def test_a_step_never_measured_shows_only_its_cold_call():
    stats = {"api_handler GET /v1/events": step_stats(group([inv("api_handler", 1.0, label="GET /v1/events")])["api_handler GET /v1/events"])}
    assert rows(stats) == [["api_handler GET /v1/events", "0", "-", "-", "-", "-", "-", "6.0", "4.0", "3"]]


def test_the_meter_keeps_when_each_invocation_began_and_its_label():
    meter = Meter()
    meter.label("GET /v1/events")  # outside an invocation: nothing
    meter.start("origination")
    with meter.invocation("api_handler"):
        meter.label("POST /v1/applications")
    with meter.invocation("review_close"):
        pass
    meter.stop()
    first, second = meter.phases["origination"].invocations
    assert (first.function, first.label, second.label) == ("api_handler", "POST /v1/applications", None)
    assert 0 < first.started <= second.started
