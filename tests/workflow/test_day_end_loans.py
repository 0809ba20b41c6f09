"""The day end closes every loan: accrual posted, days past due and class, warnings, collection cases.

Loans are disbursed in-process; the days are closed by the real day_end.asl.json
on moto's interpreter (its Distributed Map over segments running the app's
handler), or, to simulate weeks quickly, by the same segment step called
directly for the days in between.
"""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import boto3
import pytest

from chalicelib.domain.ledger import LOAN_LEVEL, Account
from chalicelib.persistence import config_repository, ledger, loans, risk
from chalicelib.usecases import loan_day_end, loan_servicing
from tests.integration.test_loans_api import disbursed
from tests.support.aws import BUSINESS_DATE, wait_for_execution

SEGMENTS = 2


@pytest.fixture
def sfn(aws):
    return boto3.client("stepfunctions")


def machine_closes(sfn, aws, day: date, name: str | None = None) -> dict:
    """The day end of ``day`` by the state machine; the business date is then the day after."""
    config_repository.set_business_date(day)
    config_repository.clear_cache()
    arn = aws.provisioned.state_machine_arns["day_end"]
    payload = {
        "business_date": day.isoformat(), "reconcile_date": (day - timedelta(days=1)).isoformat(),
        "segments": [{"segment": i, "total": SEGMENTS} for i in range(SEGMENTS)], "branches": ["BR_DONGCHENG"], "partners": ["P_DEMO"],
    }
    done = wait_for_execution(sfn, sfn.start_execution(stateMachineArn=arn, name=name or f"day-end-{day}", input=json.dumps(payload))["executionArn"])
    assert done["status"] == "SUCCEEDED", done
    config_repository.clear_cache()
    return json.loads(done["output"])


def steps_close(first: date, last: date) -> None:
    """Every day from ``first`` to ``last`` closed by the segment step itself (fast), then the date after."""
    day = first
    while day <= last:
        for segment in range(SEGMENTS):
            loan_day_end.close_segment(day, segment, SEGMENTS)
        day += timedelta(days=1)
    config_repository.set_business_date(day)
    config_repository.clear_cache()


def accruals(loan_id: str) -> list:
    return [p for p in ledger.all_postings() if p.loan_id == loan_id and p.kind == "ACCRUAL"]


def test_an_unpaid_loan_accrues_every_day_falls_overdue_is_reclassified_warned_and_collected(sfn, aws):
    loan_id = disbursed()
    loan = loans.get(loan_id)
    due = loan.installments[0].due_date
    steps_close(BUSINESS_DATE, due - timedelta(days=1))
    machine_closes(sfn, aws, due)  # due, not yet overdue
    assert loans.get(loan_id).days_past_due(due) == 0 and risk.open_case_of(loan_id) is None
    out = machine_closes(sfn, aws, due + timedelta(days=1))  # the first day overdue
    assert sum(s["accrued"] for s in out["closed"]) == 1 and out["advanced"]["business_date"] == (due + timedelta(days=2)).isoformat()
    after = loans.get(loan_id)
    assert after.loan_class.value == "SPECIAL_MENTION" and after.accrued_through == due + timedelta(days=1)
    [change] = after.class_history  # the change of class, kept with the loan
    assert (change.day, change.before.value, change.after.value, change.days_past_due) == (due + timedelta(days=1), "NORMAL", "SPECIAL_MENTION", 1)
    kinds = {w["kind"] for w in risk.warnings(after.branch_code, due + timedelta(days=1))}
    assert {"FIRST_OVERDUE", "CLASS_DOWNGRADE"} <= kinds
    case = risk.open_case_of(loan_id)
    assert case is not None and case.stage == "M1" and case.branch_code == after.branch_code
    assert [c["case_id"] for c in risk.open_cases(after.branch_code)] == [case.case_id]
    # every day accrued once, the ledger holding: interest receivable = what was accrued and not paid
    days = (due + timedelta(days=2) - BUSINESS_DATE).days  # closed so far, the disbursement day included
    assert len(accruals(loan_id)) == days - 1  # the disbursement day earns nothing: nothing to post
    ledger.check(after.branch_code)
    assert after.interest_receivable == after.interest_recognised > 0 and after.penalty_receivable > 0
    assert after.installments[0].penalty == after.daily_penalty(after.installments[0])  # one day's penalty so far


def test_a_loan_current_again_is_normal_and_its_case_closes(sfn, aws):
    loan_id = disbursed()
    due = loans.get(loan_id).installments[0].due_date
    steps_close(BUSINESS_DATE, due + timedelta(days=3))  # 3 days overdue
    assert risk.open_case_of(loan_id) is not None and loans.get(loan_id).loan_class.value == "SPECIAL_MENTION"
    day = config_repository.business_date()
    partner = config_repository.partner("P_DEMO")
    owed = loans.get(loan_id).settlement(day)
    overdue = owed.due_penalty + owed.due_interest + owed.due_principal
    paid = {"partner_repayment_no": "R-CURE", "amount": f"{overdue:.2f}", "paid_at": datetime.now(timezone.utc).isoformat()}
    answer, created = loan_servicing.repay(partner, loan_id, paid)
    assert created and Decimal(answer["allocated"]["penalty"]) > 0
    machine_closes(sfn, aws, day)
    after = loans.get(loan_id)
    assert after.days_past_due(day) == 0 and after.loan_class.value == "NORMAL"
    closed = [c for c in map(risk.case_from, risk.cases_of(loan_id))]
    assert len(closed) == 1 and not closed[0].is_open and closed[0].close_reason.value == "CURED"
    assert risk.open_cases(after.branch_code) == []
    ledger.check(after.branch_code)


def test_a_day_end_stopped_half_way_runs_again_and_does_nothing_twice(sfn, aws):
    first, second = disbursed(), disbursed(452, partner_application_no="P-TWO")
    day = BUSINESS_DATE + timedelta(days=40)  # both overdue since their first due date
    steps_close(BUSINESS_DATE, day - timedelta(days=1))
    loan_day_end.close_segment(day, 0, SEGMENTS)  # ... and the day end of ``day`` stopped after one segment
    before = {loan_id: loans.get(loan_id).version for loan_id in (first, second)}
    out = machine_closes(sfn, aws, day)
    assert sum(s["accrued"] for s in out["closed"]) + sum(s["skipped"] for s in out["closed"]) == 2
    for loan_id in (first, second):
        loan = loans.get(loan_id)
        assert loan.accrued_through == day
        ids = [p.posting_id for p in accruals(loan_id)]
        assert len(ids) == len(set(ids)) == (day - BUSINESS_DATE).days  # every day after the disbursement day
        assert loan.version - before[loan_id] in (0, 1)  # closed once, by whichever run got to it
    again = machine_closes(sfn, aws, day, "rerun")  # the whole day end once more: nothing left to do
    assert sum(s["accrued"] for s in again["closed"]) == 0 and sum(s["skipped"] for s in again["closed"]) == 2
    branch = loans.get(first).branch_code
    warnings = risk.warnings(branch, day)
    assert len({w["warning_id"] for w in warnings}) == len(warnings)
    ledger.check(branch)


def test_the_machine_closes_segments_in_chunks_and_reports_each_loan_once(sfn, aws, monkeypatch):
    ids = [disbursed(), disbursed(452, partner_application_no="P-TWO"), disbursed(453, partner_application_no="P-THREE")]
    monkeypatch.setenv("DAY_END_LOANS_PER_CALL", "1")  # every loan a call of its own: the segments loop
    out = machine_closes(sfn, aws, BUSINESS_DATE)
    assert sum(s["loans"] for s in out["closed"]) == sum(s["reported"] for s in out["closed"]) == 3
    assert sum(s["chunks"] for s in out["closed"]) >= 3
    assert [r["records"] for r in out["reported"]] == [3]  # BR_DONGCHENG's file: each loan once
    from chalicelib.domain.credit_report import parse
    from chalicelib.usecases.credit_reporting import read_branch_report

    report = parse(read_branch_report("BR_DONGCHENG", BUSINESS_DATE))
    assert sorted(r.account_id for r in report.records) == sorted(ids) and {r.event.value for r in report.records} == {"NEW"}


def test_a_customer_with_two_overdue_loans_is_warned_once(sfn, aws):
    first = disbursed()
    second = disbursed(partner_application_no="P-SAME-PERSON")  # the same person: the same customer
    assert loans.get(first).customer_id == loans.get(second).customer_id
    day = BUSINESS_DATE + timedelta(days=32)
    steps_close(BUSINESS_DATE, day - timedelta(days=1))
    machine_closes(sfn, aws, day)
    loan = loans.get(first)
    found = [w for w in risk.warnings(loan.branch_code, day) if w["kind"] == "MULTIPLE_OVERDUE_LOANS"]
    assert len(found) == 1 and found[0]["customer_id"] == loan.customer_id


def test_interest_accrued_then_paid_leaves_nothing_receivable(sfn, aws):
    loan_id = disbursed()
    loan = loans.get(loan_id)
    due = loan.installments[0].due_date
    steps_close(BUSINESS_DATE, due - timedelta(days=1))
    accrued = loans.get(loan_id).interest_receivable
    assert accrued > 0
    installment = loans.get(loan_id).installments[0]
    paid = {"partner_repayment_no": "R-ON-TIME", "amount": f"{installment.principal + installment.interest:.2f}", "paid_at": datetime.now(timezone.utc).isoformat()}
    loan_servicing.repay(config_repository.partner("P_DEMO"), loan_id, paid)
    after = loans.get(loan_id)
    assert after.interest_receivable == 0
    totals = ledger.totals(after.branch_code)
    assert totals[(after.branch_code, Account.INTEREST_RECEIVABLE, LOAN_LEVEL)].on(Account.INTEREST_RECEIVABLE.normal) == 0
    ledger.check(after.branch_code)
