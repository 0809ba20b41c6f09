"""Disbursement (放款) on moto's interpreter: the real origination.asl.json, the app's handlers, every path.

After Sign, Disburse checks the card, books the loan and pays through the
simulated gateway (card behaviours by the card's last 4 digits, see
``local/seed.py LOCAL_PAYMENT_SIMULATOR``): paid (DISBURSED), refused or failed
(reversed: DISBURSEMENT_FAILED), unknown (PENDING: WaitForPayment, then a
query), still unknown after PAYMENT_QUERY_ATTEMPTS (PaymentInDoubt), gateway
down (retried, then given up: reversed). Each test asserts the end state: the
application, the loan, the ledger, the payments that moved money, the quota
reservation, the partner's events.
"""
from __future__ import annotations

import json
import os
from decimal import Decimal

import pytest

from chalicelib.domain.ledger import Account
from chalicelib.domain.loan import loan_id_for
from chalicelib.persistence import applications, customers, ledger, loans, quotas
from chalicelib.ports.payments import card_ending
from chalicelib.usecases import disbursement
from tests.support.applications import person
from tests.support.aws import BUSINESS_DATE, wait_until_settled
from tests.workflow.test_fund_routing import routing_config  # noqa: F401 - autouse fixture
from tests.workflow.test_offers import answer
from tests.workflow.test_origination_review import execution_of, finished, legs_of, sfn, submit  # noqa: F401 - fixtures

# Sequences whose simulated bureau files are approved (others are refused R_DTI_HIGH); one per path.
PAID, CARD_INVALID, TIMEOUT_THEN_PAID, UNKNOWN_THEN_PAID, DECLINED, UNKNOWN_THEN_FAILED, NOT_RECEIVED, DOWN, AGAIN, LINE = (
    461, 465, 466, 468, 470, 472, 473, 474, 475, 477,
)


@pytest.fixture(autouse=True)
def fresh_gateway(monkeypatch):
    """A simulator of this test's own: its ``executed`` and ``payments`` hold only this test's payments."""
    monkeypatch.setattr(disbursement, "_simulators", {})


@pytest.fixture
def gateway_calls(aws, monkeypatch):
    """Every ``pay`` and ``query`` the steps make, as (call, payment id, what it answered or raised)."""
    port, calls = disbursement.gateway(), []
    for name in ("pay", "query"):
        real = getattr(port, name)

        def spied(first, timeout_seconds, _real=real, _name=name):
            pid = first if isinstance(first, str) else first.payment_id
            try:
                result = _real(first, timeout_seconds)
            except Exception as exc:
                calls.append((_name, pid, type(exc).__name__))
                raise
            calls.append((_name, pid, result.status.value))
            return result

        monkeypatch.setattr(port, name, spied)
    return calls


# -- helpers ---------------------------------------------------------------------------------------


def applied(sfn, aws, post_signed, sequence, last4=None, **changes):
    """An application with a card ending in ``last4`` (else its own card), OFFERED."""
    if last4:
        changes["account__card_number"] = card_ending(last4)
    item = finished(sfn, aws, submit(post_signed, person(sequence, **changes)))
    assert item.status == "OFFERED" and item.due_branch, (item.status, item.decision)
    return item


def accepted(sfn, aws, post_signed, item):
    """The offer accepted; the execution's end (description) and the application then."""
    response = answer(post_signed, item.application_id)
    assert response.status_code == 200, response.body
    described = wait_until_settled(sfn, execution_of(aws, item.application_id), timeout=60.0)
    return described, applications.get(item.application_id)


def history(sfn, aws, application_id):
    """The events of every leg of the application's origination, one leg after the other."""
    events = []
    for leg in legs_of(sfn, aws, application_id):
        token = None
        while True:
            page = sfn.get_execution_history(executionArn=leg["executionArn"], maxResults=1000, **({"nextToken": token} if token else {}))
            events += page["events"]
            token = page.get("nextToken")
            if not token:
                break
    return events


def entered(events, state):
    """How often the execution entered ``state``."""
    return sum(1 for e in events if e["type"].endswith("StateEntered") and e["stateEnteredEventDetails"]["name"] == state)


def state_path(events):
    return [e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")]


def paid_orders(loan_id):
    """The gateway's payments that actually moved money for this loan."""
    return [o for o in disbursement.gateway().executed if o.payment_id == f"PAY-{loan_id}"]


def receivable(branch_code):
    """The branch's loans receivable (1303) on its debit side, over all funders."""
    rows = {row["account"]: row for row in ledger.trial_balance(branch_code)}
    return rows[Account.LOANS_RECEIVABLE.value]["balance"] if Account.LOANS_RECEIVABLE.value in rows else Decimal("0")


def receivable_of(loan_id, branch_code):
    """Loans receivable for one loan, from its postings (debits less credits)."""
    total = Decimal("0")
    for posting in ledger.all_postings(branch_code):
        if posting.loan_id == loan_id:
            total += sum(l.signed for l in posting.lines if l.account is Account.LOANS_RECEIVABLE)
    return total


def event_types(partner_id, application_id):
    return [e["type"] for e in loans.events(partner_id, None, 100) if e["application_id"] == application_id]


def disburse_calls(aws, application_id):
    return [i for i in aws.runtime.invocations if i.function == "disburse_loan" and i.event.get("application_id") == application_id]


def assert_disbursed(item, offer):
    """DISBURSED with its loan ACTIVE, booked, paid once, its quota kept, the partner told, the funders remembered."""
    loan_id = loan_id_for(item.application_id)
    amount = Decimal(offer["amount"])
    assert item.status == "DISBURSED", (item.status, item.decision, item.disbursement)
    assert item.loan_id == loan_id and item.disbursement["loan_id"] == loan_id
    assert item.disbursement["payment_reference"].startswith("SIM-PAY-")
    loan = loans.get(loan_id)
    assert loan.status.value == "ACTIVE" and loan.amount == amount and loan.application_id == item.application_id
    assert sum(i.principal for i in loan.installments) == amount and loan.start_date == BUSINESS_DATE
    assert [(f.funder, f.amount) for f in loan.funders] == [(f["funder"], Decimal(f["amount"])) for f in offer["funders"]]
    record = loans.record(loan_id)
    assert record.payment["state"] == "PAID" and record.payment["reference"] == item.disbursement["payment_reference"]
    posting = ledger.get(f"DISBURSEMENT#{loan_id}")
    assert posting is not None and posting.kind == "DISBURSEMENT" and posting.branch_code == item.branch_code
    assert sum(l.amount for l in posting.lines if l.account is Account.LOANS_RECEIVABLE) == amount
    assert record.contract["contract_no"] == item.contract["contract_no"]
    assert ledger.get(f"REVERSAL#DISBURSEMENT#{loan_id}") is None
    ledger.check(item.branch_code)
    assert receivable(item.branch_code) == amount == receivable_of(loan_id, item.branch_code)
    orders = paid_orders(loan_id)
    assert len(orders) == 1 and orders[0].amount == amount
    assert quotas.get_reservation(offer["reservation"]).status == "RESERVED"  # taken by the loan
    assert event_types(item.partner_id, item.application_id).count("LOAN_DISBURSED") == 1
    assert "DISBURSEMENT_FAILED" not in event_types(item.partner_id, item.application_id)
    assert customers.funders_of(item.id_hash) == {f["funder"] for f in offer["funders"]}
    return loan


def assert_reversed(item, offer, reason):
    """DISBURSEMENT_FAILED after booking: the loan VOID, the posting and its reversal both kept, the quota released."""
    loan_id = loan_id_for(item.application_id)
    amount = Decimal(offer["amount"])
    assert item.status == "DISBURSEMENT_FAILED", (item.status, item.disbursement)
    assert reason in item.decision["reasons"] and item.disbursement["reason"] == reason and item.disbursement["loan_id"] == loan_id
    loan = loans.get(loan_id)
    assert loan is not None and loan.status.value == "VOID"
    record = loans.record(loan_id)
    assert record.payment["state"] == "FAILED" and record.payment["reason"] == reason
    original = ledger.get(f"DISBURSEMENT#{loan_id}")
    reversal = ledger.get(f"REVERSAL#DISBURSEMENT#{loan_id}")
    assert original is not None and reversal is not None  # never deleted: undone by a new posting
    assert reversal.kind == "REVERSAL" and reversal.reverses == original.posting_id
    assert sorted((l.account, l.party, l.side.other, l.amount) for l in original.lines) == sorted((l.account, l.party, l.side, l.amount) for l in reversal.lines)
    assert sum(l.amount for l in original.lines if l.account is Account.LOANS_RECEIVABLE) == amount
    ledger.check(item.branch_code)
    assert receivable_of(loan_id, item.branch_code) == 0 and receivable(item.branch_code) == 0
    assert quotas.get_reservation(offer["reservation"]).status == "RELEASED"
    events = event_types(item.partner_id, item.application_id)
    assert events.count("DISBURSEMENT_FAILED") == 1 and "LOAN_DISBURSED" not in events
    assert customers.funders_of(item.id_hash) == frozenset()
    return loan


# -- the paths -------------------------------------------------------------------------------------


def test_a_signed_loan_is_booked_paid_once_and_disbursed(sfn, aws, post_signed):
    offered = applied(sfn, aws, post_signed, PAID)
    described, item = accepted(sfn, aws, post_signed, offered)
    assert described["status"] == "SUCCEEDED"
    assert_disbursed(item, offered.offer)
    events = history(sfn, aws, item.application_id)
    assert state_path(events)[-5:] == ["Sign", "Signed", "Disburse", "Disbursed", "LoanDisbursed"]
    assert entered(events, "WaitForPayment") == 0 and entered(events, "DisbursementFailed") == 0
    assert json.loads(described["output"])["disbursed"] == {"status": "DISBURSED", "wait_seconds": 0, "loan_id": item.loan_id}


def test_an_invalid_card_fails_before_anything_is_booked_or_paid(sfn, aws, post_signed):
    offered = applied(sfn, aws, post_signed, CARD_INVALID, "8801")
    described, item = accepted(sfn, aws, post_signed, offered)
    loan_id = loan_id_for(item.application_id)
    assert described["status"] == "SUCCEEDED" and state_path(history(sfn, aws, item.application_id))[-1] == "NotDisbursed"
    assert item.status == "DISBURSEMENT_FAILED" and "CARD_INVALID" in item.decision["reasons"]
    assert item.disbursement["reason"] == "CARD_INVALID" and item.disbursement["loan_id"] is None
    assert loans.record(loan_id) is None and ledger.get(f"DISBURSEMENT#{loan_id}") is None
    assert receivable(item.branch_code) == 0
    ledger.check(item.branch_code)
    assert disbursement.gateway().executed == [] and disbursement.gateway().payments == {}
    assert quotas.get_reservation(offered.offer["reservation"]).status == "RELEASED"
    assert event_types(item.partner_id, item.application_id) == ["DISBURSEMENT_FAILED"]
    failed = next(e for e in loans.events(item.partner_id, None, 100) if e["type"] == "DISBURSEMENT_FAILED")
    assert failed["reason"] == "CARD_INVALID" and failed["loan_id"] is None


def test_a_payment_that_timed_out_is_queried_and_found_paid_never_paid_twice(sfn, aws, post_signed, gateway_calls):
    offered = applied(sfn, aws, post_signed, TIMEOUT_THEN_PAID, "8803")
    described, item = accepted(sfn, aws, post_signed, offered)
    assert described["status"] == "SUCCEEDED"
    assert_disbursed(item, offered.offer)
    pid = f"PAY-{item.loan_id}"
    assert gateway_calls == [("pay", pid, "PaymentTimeout"), ("query", pid, "PAID")]  # queried, not paid again
    assert len(disbursement.gateway().executed) == 1  # no second payment, under any id
    events = history(sfn, aws, item.application_id)
    assert entered(events, "WaitForPayment") == 1 and entered(events, "Disburse") == 2
    assert loans.record(item.loan_id).payment["queries"] == 1


def test_an_unknown_outcome_is_waited_for_until_it_is_paid(sfn, aws, post_signed, gateway_calls):
    offered = applied(sfn, aws, post_signed, UNKNOWN_THEN_PAID, "8804")
    described, item = accepted(sfn, aws, post_signed, offered)
    assert described["status"] == "SUCCEEDED"
    assert_disbursed(item, offered.offer)
    pid = f"PAY-{item.loan_id}"
    assert gateway_calls == [("pay", pid, "PROCESSING"), ("query", pid, "PROCESSING"), ("query", pid, "PAID")]
    assert len(disbursement.gateway().executed) == 1
    events = history(sfn, aws, item.application_id)
    # pay: PROCESSING; query 1: PROCESSING (pending_queries 1); query 2: PAID
    assert entered(events, "WaitForPayment") == 2 and entered(events, "Disburse") == 3
    assert state_path(events)[-1] == "LoanDisbursed"


def test_a_payment_still_unknown_when_the_leg_ends_is_queried_by_the_watch_s_disburse_leg(sfn, aws, post_signed, gateway_calls, monkeypatch):
    from datetime import datetime, timedelta, timezone

    from chalicelib.usecases import origination_watch

    monkeypatch.setenv("PAYMENT_QUERIES_IN_LEG", "1")  # the leg waits for no query: it ends at the first unknown
    offered = applied(sfn, aws, post_signed, UNKNOWN_THEN_PAID, "8804")
    described, item = accepted(sfn, aws, post_signed, offered)
    assert described["status"] == "SUCCEEDED" and item.status == "DISBURSING"
    assert state_path(history(sfn, aws, item.application_id))[-1] == "PaymentPending"
    assert origination_watch.sweep(sfn)["payments_queried"] == 0  # not stalled yet
    later = datetime.now(timezone.utc) + timedelta(hours=1)
    assert origination_watch.sweep(sfn, now=later)["payments_queried"] == 1  # query 1: PROCESSING, the leg ends again
    wait_until_settled(sfn, execution_of(aws, item.application_id), timeout=60.0)
    assert origination_watch.sweep(sfn, now=later)["payments_queried"] == 1  # query 2: PAID
    wait_until_settled(sfn, execution_of(aws, item.application_id), timeout=60.0)
    item = applications.get(item.application_id)
    assert_disbursed(item, offered.offer)
    pid = f"PAY-{item.loan_id}"
    assert gateway_calls == [("pay", pid, "PROCESSING"), ("query", pid, "PROCESSING"), ("query", pid, "PAID")]
    assert [leg["name"].split("-")[-2] for leg in legs_of(sfn, aws, item.application_id)[1:]] == ["answer", "disburse", "disburse"]
    assert origination_watch.sweep(sfn, now=later)["payments_queried"] == 0  # DISBURSED: nothing to query


@pytest.mark.parametrize(
    "sequence, last4, waits",
    [(DECLINED, "8802", 0), (UNKNOWN_THEN_FAILED, "8806", 2)],
    ids=["declined", "unknown-then-failed"],
)
def test_a_failed_payment_is_reversed_and_its_quota_released(sfn, aws, post_signed, gateway_calls, sequence, last4, waits):
    offered = applied(sfn, aws, post_signed, sequence, last4)
    described, item = accepted(sfn, aws, post_signed, offered)
    assert described["status"] == "SUCCEEDED"
    assert_reversed(item, offered.offer, "DECLINED")
    assert disbursement.gateway().executed == []  # nothing moved
    assert disbursement.gateway().payments[f"PAY-{item.loan_id}"].result.status.value == "FAILED"
    events = history(sfn, aws, item.application_id)
    assert entered(events, "WaitForPayment") == waits and state_path(events)[-1] == "NotDisbursed"
    assert entered(events, "DisbursementFailed") == 0
    pid = f"PAY-{item.loan_id}"
    assert gateway_calls == ([("pay", pid, "FAILED")] if waits == 0 else [("pay", pid, "PROCESSING"), ("query", pid, "PROCESSING"), ("query", pid, "FAILED")])


def test_a_payment_never_received_is_paid_again_with_its_id_then_left_in_doubt(sfn, aws, post_signed, gateway_calls):
    attempts = int(os.environ["PAYMENT_QUERY_ATTEMPTS"])
    offered = applied(sfn, aws, post_signed, NOT_RECEIVED, "8805")
    described, item = accepted(sfn, aws, post_signed, offered)
    loan_id = loan_id_for(item.application_id)
    assert (described["status"], described.get("error")) == ("FAILED", "PaymentInDoubt"), described
    events = history(sfn, aws, item.application_id)
    assert entered(events, "Disburse") == attempts and entered(events, "WaitForPayment") == attempts - 1
    assert state_path(events)[-1] == "PaymentInDoubt" and entered(events, "DisbursementFailed") == 0
    # the application and the loan wait for an operator; nothing reversed, the quota kept
    assert item.status == "DISBURSING" and item.loan_id == loan_id and not item.disbursement
    record = loans.record(loan_id)
    assert record.status == "DISBURSING"
    assert record.payment == {"payment_id": f"PAY-{loan_id}", "state": "IN_DOUBT", "queries": attempts}
    assert ledger.get(f"DISBURSEMENT#{loan_id}") is not None and ledger.get(f"REVERSAL#DISBURSEMENT#{loan_id}") is None
    ledger.check(item.branch_code)
    assert receivable(item.branch_code) == Decimal(offered.offer["amount"])  # the money may have left
    assert quotas.get_reservation(offered.offer["reservation"]).status == "RESERVED"
    assert event_types(item.partner_id, item.application_id) == []
    gateway = disbursement.gateway()
    assert gateway.executed == [] and gateway.payments == {}  # never received: every pay timed out
    # one pay, then each of the attempts - 1 later runs queried (NOT_FOUND) and paid again with the same id
    assert [i.error for i in disburse_calls(aws, item.application_id)] == [None] * attempts
    pid = f"PAY-{loan_id}"
    assert gateway_calls == [("pay", pid, "PaymentTimeout")] + [("query", pid, "NOT_FOUND"), ("pay", pid, "PaymentTimeout")] * (attempts - 1)


def test_a_gateway_that_stays_down_is_retried_then_given_up_and_reversed(sfn, aws, post_signed, gateway_calls, monkeypatch):
    import time as real_time
    from types import SimpleNamespace

    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

    slept = []

    def short_sleep(seconds):
        slept.append(seconds)
        real_time.sleep(min(seconds, 0.05))

    monkeypatch.setattr(retrier_decl, "time", SimpleNamespace(sleep=short_sleep))
    offered = applied(sfn, aws, post_signed, DOWN, "8807")
    described, item = accepted(sfn, aws, post_signed, offered)
    assert described["status"] == "SUCCEEDED"
    assert_reversed(item, offered.offer, "DISBURSEMENT_ERROR")
    assert disbursement.gateway().executed == [] and disbursement.gateway().payments == {}
    calls = disburse_calls(aws, item.application_id)
    busy = [c for c in calls if c.error == "PaymentGatewayBusy"]
    assert len(busy) == 5  # the first try and 4 retries (5, 10, 20, 40 s: within an Express leg's five minutes)
    assert [c.event.get("give_up", False) for c in calls] == [False] * 5 + [True] and calls[-1].error is None
    # the PaymentGatewayBusy retrier waited (shortened) between tries; other executions still running in the
    # background (of earlier tests) may sleep through the same patched module meanwhile, so at least four
    assert len(slept) >= 4
    pid = f"PAY-{item.loan_id}"
    assert gateway_calls == [("pay", pid, "GatewayUnavailable")] * 5  # give_up reversed without calling the gateway
    events = history(sfn, aws, item.application_id)
    assert entered(events, "DisbursementFailed") == 1 and state_path(events)[-1] == "NotDisbursed"
    assert entered(events, "WaitForPayment") == 0


def test_the_disburse_step_run_again_after_disbursing_changes_nothing(sfn, aws, post_signed):
    offered = applied(sfn, aws, post_signed, AGAIN)
    described, item = accepted(sfn, aws, post_signed, offered)
    assert described["status"] == "SUCCEEDED"
    loan = assert_disbursed(item, offered.offer)
    before = (loans.record(item.loan_id).attribute_values, list(ledger.all_postings(item.branch_code)), loans.events(item.partner_id, None, 100))
    for give_up in (False, True):
        again = disbursement.disburse(item.application_id, give_up=give_up)
        assert again == {"application_id": item.application_id, "status": "DISBURSED", "loan_id": loan.loan_id, "wait_seconds": 0}
    after = (loans.record(item.loan_id).attribute_values, list(ledger.all_postings(item.branch_code)), loans.events(item.partner_id, None, 100))
    assert after == before
    assert applications.get(item.application_id).attribute_values == item.attribute_values
    assert len(disbursement.gateway().executed) == 1 and len(paid_orders(loan.loan_id)) == 1


def test_a_drawdown_is_disbursed_and_the_line_itself_opens_with_no_loan(sfn, aws, post_signed):
    from tests.workflow.test_credit_lines import drawn, open_line

    line = open_line(sfn, aws, post_signed, sequence=LINE)
    assert line.status != "DISBURSED" and not line.loan_id
    line_events = history(sfn, aws, line.application_id)
    assert state_path(line_events)[-1] == "LineOpened" and entered(line_events, "Disburse") == 0
    assert loans.record(loan_id_for(line.application_id)) is None
    drawdown = drawn(sfn, aws, post_signed, line.credit_line_id, "D0001", amount="5000.00")
    described, item = accepted(sfn, aws, post_signed, drawdown)
    assert described["status"] == "SUCCEEDED" and item.kind == "DRAWDOWN"
    loan = assert_disbursed(item, drawdown.offer)
    assert loan.credit_line_id == line.credit_line_id and loan.amount == Decimal("5000.00")
    assert len(disbursement.gateway().executed) == 1  # the line paid nothing
