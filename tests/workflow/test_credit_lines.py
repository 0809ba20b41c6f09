"""Credit lines on moto's interpreter: a line approved (授信), drawdowns (用信) to the line's funder.

The line application runs the whole origination (review, then routing asks the
funders for a line); a drawdown skips review and goes to the line's channel,
then own funds, reserving from the line and the branch's and funders' quotas.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from chalicelib.persistence import applications, config_repository, credit_lines, quotas
from local.seed import SAMPLE
from tests.support.signing import signed_headers
from tests.workflow.test_fund_routing import simulate
from tests.workflow.test_fund_routing import routing_config  # noqa: F401 - autouse fixture
from tests.workflow.test_origination_review import CLEAN, ended, finished, person, sfn, submit  # noqa: F401 - fixtures

LINE_FUNDERS = ("BR_DONGCHENG", "BR_CHAOYANG", "PB_HUAXIA_JOINT", "OWN_FUNDS")


def line_application(post_signed, sequence=CLEAN, amount="50000.00", number=None):
    body = person(sequence, product_code="CONSUMER_LINE", amount=amount, term_months=12)
    if number:
        body["partner_application_no"] = number
    return submit(post_signed, body)


def offered_line(sfn, aws, post_signed, **kwargs):
    item = finished(sfn, aws, line_application(post_signed, **kwargs))
    assert item.status == "OFFERED", item.decision
    return item


def open_line(sfn, aws, post_signed, **kwargs):
    """A line offered, accepted by the borrower, its agreement signed: ACTIVE."""
    return open_line_accepting(sfn, aws, post_signed, offered_line(sfn, aws, post_signed, **kwargs))


def open_line_accepting(sfn, aws, post_signed, item):
    accepted = post_signed(f"/v1/applications/{item.application_id}/acceptance", {"accepted": True, "accepted_at": datetime.now(timezone.utc).isoformat()})
    assert accepted.status_code == 200, accepted.body
    signed = ended(sfn, aws, item.application_id)
    assert signed.contract and credit_lines.get(item.credit_line_id).status.value == "ACTIVE", signed.decision
    return signed


def draw(post_signed, line_id, number, amount="5000.00", term_months=6, **changes):
    body = {"partner_application_no": number, "amount": amount, "term_months": term_months, "repayment_method": "EQUAL_INSTALLMENT", "purpose": "CONSUMPTION", **changes}
    return post_signed(f"/v1/credit-lines/{line_id}/drawdowns", body)


def drawn(sfn, aws, post_signed, line_id, number, **kwargs):
    response = draw(post_signed, line_id, number, **kwargs)
    assert response.status_code == 202, response.body
    return finished(sfn, aws, json.loads(response.body)["application_id"])


def get_line(client, aws, line_id, partner="P_DEMO"):
    path = f"/v1/credit-lines/{line_id}"
    response = client.http.get(path, headers=signed_headers(partner, aws.secrets.get(partner, aws.secrets["P_DEMO"]), "GET", path, b""))
    return response.status_code, json.loads(response.body)


def funder_totals():
    return {code: quotas.usage("FUNDER", code, "TOTAL") for code in LINE_FUNDERS}


def test_an_approved_line_application_opens_a_line_with_the_approving_funder_and_reserves_nothing(sfn, aws, post_signed, client):
    before = funder_totals()
    item = offered_line(sfn, aws, post_signed)
    offer = item.offer
    assert offer["type"] == "CREDIT_LINE" and offer["credit_line_id"] == item.credit_line_id
    assert credit_lines.get(item.credit_line_id).status.value == "PENDING"  # until the borrower accepts and it is signed
    pending = draw(post_signed, item.credit_line_id, "D0000")
    assert pending.status_code == 422 and json.loads(pending.body)["code"] == "CREDIT_LINE_NOT_USABLE"
    item = open_line_accepting(sfn, aws, post_signed, item)
    line = credit_lines.get(item.credit_line_id)
    assert line is not None and line.status.value == "ACTIVE"
    assert line.limit == Decimal(item.decision["approved_limit"]) == Decimal(offer["amount"])
    assert line.channel.code == offer["channel"] and line.branch_code == item.branch_code
    assert (line.expires_on - line.opened_on).days in range(365, 367)
    assert funder_totals() == before  # a line lends nothing yet
    assert applications.trail_of(item)["routing"]["attempts"][-1]["answers"][0]["approved"]
    status, shown = get_line(client, aws, line.credit_line_id)
    assert status == 200
    assert shown["limit"] == shown["available"] == offer["amount"] and shown["status"] == "ACTIVE"
    assert shown["funders"][0]["funder"] == line.channel.lead.funder_code


def test_a_drawdown_goes_to_the_line_s_funder_and_takes_from_the_line(sfn, aws, post_signed, client):
    line_item = open_line(sfn, aws, post_signed)
    line = credit_lines.get(line_item.credit_line_id)
    item = drawn(sfn, aws, post_signed, line.credit_line_id, "D0001", amount="5000.00")
    assert item.status == "OFFERED" and item.kind == "DRAWDOWN"
    assert item.offer["type"] == "DRAWDOWN" and item.offer["credit_line_id"] == line.credit_line_id
    assert item.offer["channel"] == line.channel.code and item.offer["amount"] == "5000.00"
    assert applications.trail_of(item)["routing"]["rules"] == ["credit_line"]
    assert "bureau" not in applications.trail_of(item)  # not reviewed again
    status, shown = get_line(client, aws, line.credit_line_id)
    assert Decimal(shown["available"]) == line.limit - Decimal("5000.00")
    lead = line.channel.lead.funder_code
    limit, remaining = quotas.usage("FUNDER", lead, "TOTAL")
    assert limit - remaining == Decimal(item.offer["funders"][0]["amount"])
    branch_limit, branch_remaining = quotas.usage("BRANCH", line.branch_code, "TOTAL")
    assert branch_limit - branch_remaining == Decimal("5000.00")


def test_a_drawdown_the_line_s_funder_refuses_goes_to_own_funds(sfn, aws, post_signed):
    line_item = open_line(sfn, aws, post_signed)
    line = credit_lines.get(line_item.credit_line_id)
    simulate(approval_rate=0.0)
    item = drawn(sfn, aws, post_signed, line.credit_line_id, "D0002")
    assert item.status == "OFFERED" and item.offer["funders"] == [{"funder": "OWN_FUNDS", "amount": "5000.00"}]
    attempts = applications.trail_of(item)["routing"]["attempts"]
    assert [a["channel"] for a in attempts] == [line.channel.code, "OWN_FUNDS_FALLBACK"] and attempts[0]["result"] == "REFUSED"
    assert credit_lines.available(line.credit_line_id) == line.limit - Decimal("5000.00")


def test_without_own_funds_a_refused_drawdown_fails_and_gives_everything_back(sfn, aws, post_signed):
    line_item = open_line(sfn, aws, post_signed)
    line = credit_lines.get(line_item.credit_line_id)
    funding = json.loads((SAMPLE / "product_funding" / "CONSUMER_LINE.json").read_text(encoding="utf-8"))
    config_repository.put_product_funding({**funding, "own_funds_fallback": None})
    simulate(timeouts=list(line.channel.funder_codes))
    before = funder_totals()
    item = drawn(sfn, aws, post_signed, line.credit_line_id, "D0003")
    assert item.status == "NO_FUNDER"
    assert applications.trail_of(item)["routing"]["attempts"][0]["answers"][0]["reason"] == "TIMEOUT"
    assert credit_lines.available(line.credit_line_id) == line.limit
    assert funder_totals() == before


def test_a_drawdown_over_what_is_left_is_refused_before_routing(sfn, aws, post_signed):
    line_item = open_line(sfn, aws, post_signed, amount="10000.00")
    line_id = line_item.credit_line_id
    drawn(sfn, aws, post_signed, line_id, "D0004", amount="8000.00")
    response = draw(post_signed, line_id, "D0005", amount="3000.00")
    assert response.status_code == 422
    body = json.loads(response.body)
    assert body["code"] == "OUTSIDE_CREDIT_LINE_TERMS" and body["details"][0]["field"] == "amount"
    assert "2000.00" in body["details"][0]["message"]


def test_drawdowns_routed_together_never_take_more_than_the_line(sfn, aws, post_signed):
    """Eight drawdowns of 3,000 on a 10,000 line, posted back to back, routed by concurrent executions:
    the LINE quota admits exactly three, whatever the API's early check let through."""
    line_id = open_line(sfn, aws, post_signed, amount="10000.00").credit_line_id
    results = [draw(post_signed, line_id, f"D1{n:03d}", amount="3000.00") for n in range(8)]
    assert all(r.status_code in (202, 422) for r in results)
    started = [json.loads(r.body)["application_id"] for r in results if r.status_code == 202]
    items = [finished(sfn, aws, application_id) for application_id in started]
    assert len([i for i in items if i.status == "OFFERED"]) == 3
    refused = [i for i in items if i.status != "OFFERED"]
    assert all(i.status == "NO_FUNDER" and {a["result"] for a in applications.trail_of(i)["routing"]["attempts"]} == {"QUOTA_REFUSED"} for i in refused)
    assert credit_lines.available(line_id) == Decimal("1000.00")


def test_drawdowns_are_idempotent_on_the_partner_s_number(sfn, aws, post_signed):
    line_id = open_line(sfn, aws, post_signed).credit_line_id
    first = draw(post_signed, line_id, "D0006")
    again = draw(post_signed, line_id, "D0006")
    other = draw(post_signed, line_id, "D0006", amount="6000.00")
    assert (first.status_code, again.status_code, other.status_code) == (202, 200, 409)
    assert json.loads(first.body)["application_id"] == json.loads(again.body)["application_id"]


@pytest.mark.parametrize(
    "changes, status, field",
    [
        ({"amount": "-1"}, 400, "amount"),
        ({"term_months": 24}, 422, "term_months"),
        ({"repayment_method": "EQUAL_PRINCIPAL"}, 422, "repayment_method"),
        ({"amount": "100.00"}, 422, "amount"),
        ({"extra": 1}, 400, "extra"),
    ],
)
def test_a_bad_drawdown_gets_a_clear_4xx_with_the_field(sfn, aws, post_signed, changes, status, field):
    line_id = open_line(sfn, aws, post_signed).credit_line_id
    response = draw(post_signed, line_id, "D0007", **changes)
    assert response.status_code == status, response.body
    assert field in [d["field"] for d in json.loads(response.body)["details"]]


def test_another_partner_s_line_is_not_found_and_a_closed_line_cannot_be_drawn(sfn, aws, post_signed, client):
    line_id = open_line(sfn, aws, post_signed).credit_line_id
    status, _ = get_line(client, aws, line_id, partner="P_QIANHAI")
    assert status == 404
    assert draw(post_signed, "CL00000000000000nothing", "D0008").status_code == 404
    from datetime import datetime, timezone

    credit_lines.close(line_id, datetime.now(timezone.utc).isoformat())
    response = draw(post_signed, line_id, "D0009")
    assert response.status_code == 422 and json.loads(response.body)["code"] == "CREDIT_LINE_NOT_USABLE"


def test_a_retried_routing_step_offers_the_line_its_first_run_opened(sfn, aws, post_signed):
    from chalicelib.persistence import applications
    from chalicelib.persistence.models import ApplicationItem
    from chalicelib.usecases import fund_routing

    item = offered_line(sfn, aws, post_signed)
    first = credit_lines.get(item.credit_line_id)
    # As if the step died after opening the line and before recording the offer; the funders now answer otherwise.
    item.update(actions=[ApplicationItem.status.set("ROUTING")])
    simulate(approval_rate={code: 0.0 for code in first.channel.funder_codes})
    assert fund_routing.route(item.application_id)["status"] == "OFFERED"
    again = applications.get(item.application_id)
    assert again.offer["channel"] == first.channel.code and again.offer["credit_line_id"] == first.credit_line_id
    assert credit_lines.get(item.credit_line_id) == first


def test_a_line_application_whose_routing_fails_for_good_leaves_no_usable_line(sfn, aws, post_signed):
    from chalicelib.persistence.models import ApplicationItem
    from chalicelib.usecases import fund_routing

    item = offered_line(sfn, aws, post_signed)
    item.update(actions=[ApplicationItem.status.set("ROUTING")])
    assert fund_routing.routing_failed(item.application_id)["status"] == "NO_FUNDER"
    assert credit_lines.get(item.credit_line_id).status.value == "CLOSED"


def test_a_declined_line_offer_closes_the_line(sfn, aws, post_signed):
    item = offered_line(sfn, aws, post_signed)
    declined = post_signed(f"/v1/applications/{item.application_id}/acceptance", {"accepted": False, "accepted_at": datetime.now(timezone.utc).isoformat()})
    assert declined.status_code == 200
    assert ended(sfn, aws, item.application_id).status == "CANCELLED"
    assert credit_lines.get(item.credit_line_id).status.value == "CLOSED"
