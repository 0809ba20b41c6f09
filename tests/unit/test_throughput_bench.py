"""``bench/throughput.py``'s arithmetic: what a loan asks of each published limit, and the loans a
second each allows, from a cost model's figures. No AWS."""
from __future__ import annotations

import json

import pytest

from bench.throughput import LIMITS, demands, limits


def cost_figures() -> dict:
    return {
        "figures": {
            "loans": 10,
            "measured": {"per_loan": {"origination": {"apigateway.rest.requests": 3.0}, "repayment": {"apigateway.rest.requests": 1.0}}},
            "functions": {
                "api_handler": {"invocations": 40, "mean_modelled_ms": 100.0},
                "sign_contract": {"invocations": 10, "mean_modelled_ms": 700.0},
                "day_end_close_loans": {"invocations": 2, "mean_modelled_ms": 10_000.0},  # the night: not a loan's
            },
            "express": {"legs_per_loan": 2.0},
            "wru_per_loan_by_table": {"applications": [60.0, 20.0], "loans": [30.0, 3.0]},
            "item_sizes": {"quotas": 245},
        }
    }


def test_a_loan_asks_its_requests_its_lambda_seconds_and_its_busiest_tables_units():
    asked = demands(cost_figures())
    assert asked["apigateway.requests_per_second"][0] == 4.0
    assert asked["lambda.concurrency"][0] == pytest.approx((40 * 0.1 + 10 * 0.7) / 10)  # 1.1 s, the night left out
    assert asked["stepfunctions.express.start_execution_per_second"][0] == 2.0
    assert asked["dynamodb.table_write_units_per_second"][0] == 80.0 and "applications" in asked["dynamodb.table_write_units_per_second"][1]
    assert asked["dynamodb.partition_write_units_per_second"][0] == 2  # a quota item under 1 KB, in a transaction


def test_the_limits_are_sorted_lowest_first_each_quota_over_what_a_loan_asks():
    published = json.loads(LIMITS.read_text(encoding="utf-8"))
    found = limits(cost_figures(), published)
    rates = [limit.loans_per_second for limit in found]
    assert rates == sorted(rates)
    by_key = {limit.key: limit for limit in found}
    assert by_key["lambda.concurrency"].loans_per_second == pytest.approx(1000 / 1.1)
    assert by_key["dynamodb.new_on_demand_table_write_units_per_second"].loans_per_second == pytest.approx(4000 / 80)
    assert all(entry["url"].startswith("https://") and entry["design"] for entry in published["limits"].values())
