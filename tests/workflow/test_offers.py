"""The borrower's answer to an offer on moto's interpreter: accepted, declined, expired, answered twice.

The workflow's leg ends at Offered (the offer waits in the by_due index until its
expires_at); the partner's POST /v1/applications/{id}/acceptance starts the ANSWER
leg; the origination watch expires an offer not answered in time.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from chalicelib.persistence import applications, quotas
from tests.support.signing import signed_headers
from tests.workflow.test_fund_routing import routing_config, simulate  # noqa: F401 - autouse fixture
from tests.workflow.test_origination_review import CLEAN, ended, finished, legs_of, person, sfn, submit  # noqa: F401 - fixtures

NOW = lambda: datetime.now(timezone.utc).isoformat()  # noqa: E731


def offered(sfn, aws, post_signed, sequence=CLEAN, **changes):
    item = finished(sfn, aws, submit(post_signed, person(sequence, **changes)))
    assert item.status == "OFFERED" and item.due_branch == item.branch_code and item.waits_until == item.offer["expires_at"], item.status
    return item


def answer(post_signed, application_id, accepted=True, partner="P_DEMO", at=None, secret=None):
    body = {"accepted": accepted, "accepted_at": at or NOW()}
    return post_signed(f"/v1/applications/{application_id}/acceptance", body, partner_id=partner, secret=secret)


def reserved(item):
    """What the offer's reservation holds of the lead funder's TOTAL quota."""
    lead = item.offer["funders"][0]["funder"]
    limit, remaining = quotas.usage("FUNDER", lead, "TOTAL")
    return limit - remaining


def test_a_declined_offer_is_cancelled_and_its_reservation_released(sfn, aws, post_signed):
    item = offered(sfn, aws, post_signed)
    assert reserved(item) == Decimal(item.offer["funders"][0]["amount"])
    response = answer(post_signed, item.application_id, accepted=False)
    assert response.status_code == 200 and json.loads(response.body)["status"] == "CANCELLED"
    done = ended(sfn, aws, item.application_id)
    assert done.status == "CANCELLED" and "OFFER_DECLINED" in done.decision["reasons"]
    assert reserved(done) == 0
    assert quotas.get_reservation(item.offer["reservation"]).status == "RELEASED"


def test_an_offer_not_answered_in_time_expires_at_the_watch_s_round_and_gives_back_its_quota(sfn, aws, post_signed):
    from chalicelib.usecases import origination_watch

    item = offered(sfn, aws, post_signed)
    expiry = datetime.fromisoformat(item.offer["expires_at"])
    assert origination_watch.sweep(sfn, now=expiry - timedelta(seconds=1))["offers_expired"] == 0
    assert origination_watch.sweep(sfn, now=expiry)["offers_expired"] == 1
    done = applications.get(item.application_id)
    assert done.status == "EXPIRED" and "OFFER_EXPIRED" in done.decision["reasons"] and done.due_branch is None
    assert reserved(done) == 0
    assert origination_watch.sweep(sfn, now=expiry + timedelta(days=1))["offers_expired"] == 0  # once
    late = answer(post_signed, item.application_id)
    assert late.status_code == 422 and json.loads(late.body)["code"] == "OFFER_EXPIRED"


def test_an_expiry_that_comes_after_the_answer_changes_nothing_and_keeps_the_quota(sfn, aws, post_signed):
    from chalicelib.usecases import offers

    item = offered(sfn, aws, post_signed)
    assert answer(post_signed, item.application_id, accepted=True).status_code == 200
    with pytest.raises(applications.StatusConflict):
        offers.close(item.application_id, "EXPIRED")  # the watch read it as due just before the answer won
    assert quotas.get_reservation(item.offer["reservation"]).status == "RESERVED"
    assert ended(sfn, aws, item.application_id).status == "DISBURSED"


def test_the_same_answer_twice_is_one_answer_and_another_answer_is_a_conflict(sfn, aws, post_signed):
    item = offered(sfn, aws, post_signed)
    first = answer(post_signed, item.application_id, accepted=False)
    again = answer(post_signed, item.application_id, accepted=False)
    other = answer(post_signed, item.application_id, accepted=True)
    assert (first.status_code, again.status_code, other.status_code) == (200, 200, 409)
    assert json.loads(other.body)["code"] == "ANSWER_CONFLICT"
    assert ended(sfn, aws, item.application_id).status == "CANCELLED"


def test_an_answer_whose_leg_was_never_started_is_carried_on_by_the_partner_s_retry(sfn, aws, post_signed, monkeypatch):
    from chalicelib.usecases import origination

    item = offered(sfn, aws, post_signed)
    real = origination.resume
    monkeypatch.setattr(origination, "resume", lambda *args, **kwargs: (_ for _ in ()).throw(RuntimeError("lost")))
    assert answer(post_signed, item.application_id, accepted=False).status_code == 500  # recorded, then the start lost
    assert applications.get(item.application_id).status == "CANCELLED" and reserved(item) > 0
    monkeypatch.setattr(origination, "resume", real)
    assert answer(post_signed, item.application_id, accepted=False).status_code == 200  # the retry starts it
    done = ended(sfn, aws, item.application_id)
    assert done.status == "CANCELLED" and reserved(done) == 0
    assert answer(post_signed, item.application_id, accepted=False).status_code == 200  # nothing left: no leg
    assert len(legs_of(sfn, aws, item.application_id)) == 2


def test_another_partner_s_application_is_not_found_and_bad_answers_are_400(sfn, aws, post_signed):
    item = offered(sfn, aws, post_signed)
    foreign = answer(post_signed, item.application_id, partner="P_QIANHAI", secret=aws.secrets["P_QIANHAI"])
    assert foreign.status_code == 404
    bad = post_signed(f"/v1/applications/{item.application_id}/acceptance", {"accepted": "yes", "accepted_at": "2026-11-23T10:00:00"})
    assert bad.status_code == 400
    assert {d["field"] for d in json.loads(bad.body)["details"]} == {"accepted", "accepted_at"}
    future = answer(post_signed, item.application_id, at=(datetime.now(timezone.utc) + timedelta(hours=1)).isoformat())
    assert future.status_code == 400 and json.loads(future.body)["details"][0]["field"] == "accepted_at"
    assert applications.get(item.application_id).status == "OFFERED"


def test_an_application_without_an_offer_cannot_be_answered(sfn, aws, post_signed):
    from tests.workflow.test_origination_review import CURRENT_OVERDUE

    rejected = finished(sfn, aws, submit(post_signed, person(CURRENT_OVERDUE)))
    response = answer(post_signed, rejected.application_id)
    assert response.status_code == 422 and json.loads(response.body)["code"] == "NO_OPEN_OFFER"


@pytest.mark.parametrize("accepted", [True, False])
def test_the_status_api_shows_the_answer(sfn, aws, post_signed, client, accepted):
    item = offered(sfn, aws, post_signed)
    answer(post_signed, item.application_id, accepted=accepted)
    path = f"/v1/applications/{item.application_id}"
    shown = json.loads(client.http.get(path, headers=signed_headers("P_DEMO", aws.secrets["P_DEMO"], "GET", path, b"")).body)
    assert shown["status"] in (("SIGNING", "CANCELLED") if accepted else ("CANCELLED",))
    assert shown["acceptance"]["accepted"] is accepted
