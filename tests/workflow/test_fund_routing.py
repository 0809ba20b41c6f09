"""Fund routing on moto's interpreter: channels in rule order, funder timeouts, joint loans, quotas, fallback."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest

from chalicelib.persistence import applications, config_repository, quotas
from local.seed import SAMPLE
from tests.workflow.test_origination_review import CLEAN, finished, person, sfn, submit  # noqa: F401 - fixtures

ALL_DAY = {"start": "00:00", "end": "24:00"}


def funders_open_all_day():
    for raw in json.loads((SAMPLE / "funders.json").read_text(encoding="utf-8")):
        config_repository.put_funder({**raw, "acceptance_hours": ALL_DAY if raw["kind"] != "OWN_FUNDS" else raw.get("acceptance_hours")})


def simulate(**settings):
    config_repository.put_funder_simulator({"approval_rate": 1.0, "timeouts": [], "seed": "t", **settings})
    config_repository.clear_cache()


@pytest.fixture(autouse=True)
def routing_config(aws):
    funders_open_all_day()
    simulate()


def first_ranked_channel():
    """The channel the product's rules put first now (all funders open all day, nothing lent yet)."""
    from datetime import datetime, timezone

    from chalicelib.domain.routing import RoutingContext, rank

    funders = {f.code: f for f in config_repository.funders()}
    context = RoutingContext(amount=Decimal("20000.00"), borrower_province="11", now=datetime.now(timezone.utc))
    return rank(config_repository.product_funding("CONSUMER_STD"), funders, context)[0]


def only_channels(*codes):
    funding = json.loads((SAMPLE / "product_funding" / "CONSUMER_STD.json").read_text(encoding="utf-8"))
    config_repository.put_product_funding({**funding, "channels": [c for c in funding["channels"] if c["code"] in codes]})
    config_repository.clear_cache()


def routed(sfn, aws, post_signed, sequence=CLEAN, **changes):
    return finished(sfn, aws, submit(post_signed, person(sequence, **changes)))


def test_a_joint_channel_makes_a_joint_offer_split_to_the_fen(sfn, aws, post_signed):
    only_channels("CH_DONGCHENG_HUAXIA_JOINT", "CH_XICHENG")
    simulate(approval_rate={"BR_DONGCHENG": 1.0, "PB_HUAXIA_JOINT": 1.0, "BR_XICHENG": 0.0})
    item = routed(sfn, aws, post_signed)
    assert item.status == "OFFERED"
    offer = item.offer
    assert offer["joint"] and [f["funder"] for f in offer["funders"]] == ["BR_DONGCHENG", "PB_HUAXIA_JOINT"]
    assert sum(Decimal(f["amount"]) for f in offer["funders"]) == Decimal(offer["amount"])
    attempts = applications.trail_of(item)["routing"]["attempts"]
    assert attempts[-1]["result"] == "APPROVED" and attempts[-1]["channel"] == "CH_DONGCHENG_HUAXIA_JOINT"
    assert quotas.usage("FUNDER", "PB_HUAXIA_JOINT", "TOTAL")[1] == Decimal("1000000000.00") - Decimal(offer["funders"][1]["amount"])


def test_a_funder_that_times_out_is_a_refusal_and_the_next_channel_approves(sfn, aws, post_signed):
    first = first_ranked_channel()
    simulate(timeouts=[first.lead.funder_code])
    item = routed(sfn, aws, post_signed)
    attempts = applications.trail_of(item)["routing"]["attempts"]
    assert attempts[0]["channel"] == first.code
    assert attempts[0]["result"] == "REFUSED" and attempts[0]["answers"][0]["reason"] == "TIMEOUT"
    assert attempts[1]["result"] == "APPROVED" and item.status == "OFFERED"
    # the refused reservation gave everything back
    limit, remaining = quotas.usage("FUNDER", first.lead.funder_code, "TOTAL")
    assert limit == remaining


def test_all_refusing_falls_back_to_own_funds(sfn, aws, post_signed):
    simulate(approval_rate=0.0)
    item = routed(sfn, aws, post_signed)
    assert item.status == "OFFERED" and item.offer["funders"] == [{"funder": "OWN_FUNDS", "amount": item.offer["amount"]}]
    assert all(a["result"] == "REFUSED" for a in applications.trail_of(item)["routing"]["attempts"][:-1])


def test_all_refusing_without_own_funds_is_no_funder_with_nothing_reserved(sfn, aws, post_signed):
    funding = json.loads((SAMPLE / "product_funding" / "CONSUMER_STD.json").read_text(encoding="utf-8"))
    config_repository.put_product_funding({**funding, "own_funds_fallback": None})
    simulate(approval_rate=0.0)
    item = routed(sfn, aws, post_signed)
    assert item.status == "NO_FUNDER" and item.offer is None
    for funder in ("BR_DONGCHENG", "BR_XICHENG", "BR_CHAOYANG", "PB_HUAXIA_JOINT"):
        limit, remaining = quotas.usage("FUNDER", funder, "TOTAL")
        assert limit == remaining, funder


def test_a_funder_out_of_quota_is_passed_over(sfn, aws, post_signed):
    first = first_ranked_channel()
    quotas.set_limit("FUNDER", first.lead.funder_code, "TOTAL", Decimal("100.00"))
    item = routed(sfn, aws, post_signed)
    attempts = applications.trail_of(item)["routing"]["attempts"]
    assert attempts[0] == {"channel": first.code, "result": "QUOTA_REFUSED", "answers": []}
    assert item.status == "OFFERED" and item.offer["channel"] != first.code


def test_the_branch_quota_is_reserved_with_the_funders_and_given_back_on_refusal(sfn, aws, post_signed):
    simulate(approval_rate={"BR_DONGCHENG": 0.0, "BR_XICHENG": 1.0, "BR_CHAOYANG": 1.0, "PB_HUAXIA_JOINT": 1.0})
    item = routed(sfn, aws, post_signed)
    assert item.status == "OFFERED"
    amount = Decimal(item.offer["amount"])
    limit, remaining = quotas.usage("BRANCH", item.branch_code, "TOTAL")
    assert limit - remaining == amount  # the approved try only; refused tries gave theirs back
    today = quotas.day(config_repository.business_date())
    daily_limit, daily_remaining = quotas.usage("BRANCH", item.branch_code, today)
    assert daily_limit - daily_remaining == amount
    assert quotas.usage("BRANCH_CUSTOMER", f"{item.branch_code}.{item.customer_id}", "TOTAL")[1] == Decimal("500000.00") - amount


def test_a_branch_out_of_quota_stops_every_channel_and_own_funds_too(sfn, aws, post_signed):
    quotas.set_limit("BRANCH", "BR_DONGCHENG", "TOTAL", Decimal("100.00"))
    item = routed(sfn, aws, post_signed)
    assert item.branch_code == "BR_DONGCHENG"
    assert item.status == "NO_FUNDER"
    assert {a["result"] for a in applications.trail_of(item)["routing"]["attempts"]} == {"QUOTA_REFUSED"}
    for funder in ("BR_DONGCHENG", "BR_XICHENG", "BR_CHAOYANG", "PB_HUAXIA_JOINT", "OWN_FUNDS"):
        limit, remaining = quotas.usage("FUNDER", funder, "TOTAL")
        assert limit == remaining, funder


def test_a_product_without_routing_rules_ends_in_no_funder_with_the_reason(sfn, aws, post_signed):
    from chalicelib.persistence.models import ConfigItem

    ConfigItem("FUNDING#CONSUMER_STD", "CURRENT").delete()
    config_repository.clear_cache()
    item = routed(sfn, aws, post_signed)
    assert item.status == "NO_FUNDER" and "ROUTING_ERROR" in item.decision["reasons"]


def test_the_partner_sees_the_offer(sfn, aws, post_signed, client):
    from tests.support.signing import signed_headers

    item = routed(sfn, aws, post_signed)
    path = f"/v1/applications/{item.application_id}"
    shown = json.loads(client.http.get(path, headers=signed_headers("P_DEMO", aws.secrets["P_DEMO"], "GET", path, b"")).body)
    assert shown["status"] == "OFFERED"
    assert set(shown["offer"]) == {"type", "amount", "annual_rate", "term_months", "funders", "joint", "expires_at"}
    assert shown["offer"]["type"] == "LOAN" and shown["kind"] == "APPLICATION"
    assert shown["routing"][-1]["result"] == "APPROVED"
    assert set(shown["routing"][-1]["answers"][0]) == {"funder", "approved", "reason", "ms"}
