"""GET /v1/loans/{id}, its schedule, POST its repayments and GET /v1/events through Chalice's test client, against moto.

A loan is disbursed in-process, step by step as the origination workflow runs
them (no state machine): intake, review, routing, the borrower's acceptance,
signing, disbursement. The business date is moved with
``config_repository.set_business_date``; the day end's accruals (interest
income and penalty interest) are booked day by day as the day end books them.
After every repayment recorded, the branch's ledger is checked: its totals are
the sum of its postings, each posting balances, and so do the trial balance's
debits and credits.
"""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import yaml

from chalicelib.domain import accounting
from chalicelib.domain.ledger import Account
from chalicelib.domain.money import ZERO, to_fen
from chalicelib.persistence import applications, config_repository, credit_lines, ledger, loans, quotas
from chalicelib.usecases import contracting, disbursement, fund_routing, intake, review
from chalicelib.usecases import credit_lines as credit_line_usecases
from tests.support.applications import person
from tests.support.aws import BUSINESS_DATE
from tests.support.signing import signed_headers

SPEC = yaml.safe_load((Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml").read_text(encoding="utf-8"))
CHINA = timezone(timedelta(hours=8))
SEQUENCE = 452  # a clean credit file: approved, 20000.00 over 12 months at 18%
D = Decimal


# -- a disbursed loan, in-process ---------------------------------------------------------------------


class NoWorkflow:
    """Stands in for Step Functions: submitting an application starts nothing in the background."""

    class exceptions:  # noqa: N801 - the shape of a boto3 client
        class ExecutionAlreadyExists(Exception):
            pass

    def start_execution(self, **kwargs: Any) -> dict[str, str]:
        return {"executionArn": "arn:aws:states:us-east-1:123456789012:execution:none:" + kwargs["name"]}


def _accepted_and_signed(application_id: str) -> None:
    now = datetime.now(timezone.utc).isoformat()
    applications.transition(application_id, "SIGNING", {"OFFERED"}, now, acceptance={"accepted": True, "accepted_at": now, "received_at": now})
    contracting.sign(application_id)


def _reviewed_and_offered(payload: dict[str, Any]) -> str:
    application_id = intake.submit(config_repository.partner("P_DEMO"), payload, NoWorkflow()).application_id
    report_key = review.query_bureau(application_id)["report_key"]
    assert review.decide(application_id, report_key)["outcome"] == "APPROVE"
    review.close(application_id, "APPROVED")
    assert fund_routing.route(application_id)["status"] == "OFFERED"
    return application_id


def disbursed(sequence: int = SEQUENCE, **changes: Any) -> str:
    """A P_DEMO loan (CONSUMER_STD unless changed), disbursed on the business date: its loan id."""
    application_id = _reviewed_and_offered(person(sequence, **changes))
    _accepted_and_signed(application_id)
    done = disbursement.disburse(application_id)
    assert done["status"] == "DISBURSED", done
    return done["loan_id"]


def drawn_on_a_line(amount: str = "5000.00") -> tuple[str, str]:
    """A CONSUMER_LINE line opened (ACTIVE) and a drawdown on it disbursed: (line id, loan id)."""
    line_application = _reviewed_and_offered(person(SEQUENCE, product_code="CONSUMER_LINE", amount="50000.00", term_months=12))
    line_id = applications.get(line_application).credit_line_id
    _accepted_and_signed(line_application)
    request = {"partner_application_no": "D0001", "amount": amount, "term_months": 6, "repayment_method": "EQUAL_INSTALLMENT", "purpose": "CONSUMPTION"}
    received = credit_line_usecases.drawdown(config_repository.partner("P_DEMO"), line_id, request, NoWorkflow())
    assert fund_routing.route(received.application_id)["status"] == "OFFERED"
    _accepted_and_signed(received.application_id)
    done = disbursement.disburse(received.application_id)
    assert done["status"] == "DISBURSED", done
    return line_id, done["loan_id"]


@pytest.fixture
def loan_id(aws) -> str:
    return disbursed()


# -- the business date and the day end ----------------------------------------------------------------


def set_day(day: date) -> None:
    config_repository.set_business_date(day)
    config_repository.clear_cache()


def accrue_through(loan_id: str, last: date) -> None:
    """The day ends of every day not yet accrued up to ``last``: each day's accrual booked with its posting."""
    loan = loans.get(loan_id)
    day = loan.accrued_through + timedelta(days=1) if loan.accrued_through else loan.start_date
    while day <= last:
        accrual = loan.accrual(day)
        after = loan.accrued(accrual)
        loans.save(loan, after, datetime.now(timezone.utc), posting=accounting.accrual(loan, accrual))
        loan, day = after, day + timedelta(days=1)


def open_day(loan_id: str, day: date) -> None:
    """The business date ``day``, every day before it closed (accrued)."""
    accrue_through(loan_id, day - timedelta(days=1))
    set_day(day)


# -- requests -----------------------------------------------------------------------------------------


def _answer(response: Any) -> tuple[int, Any]:
    return response.status_code, json.loads(response.body)


@pytest.fixture
def get(client, aws):
    def send(path: str, partner: str = "P_DEMO", query: dict[str, Any] | None = None) -> tuple[int, Any]:
        full = f"{path}?{urlencode(query)}" if query else path
        return _answer(client.http.get(full, headers=signed_headers(partner, aws.secrets[partner], "GET", full, b"")))

    return send


PAID_AT = (datetime.now(CHINA) - timedelta(hours=1)).isoformat(timespec="seconds")  # when the borrower paid the partner


@pytest.fixture
def repay(post_signed, aws):
    def send(loan_id: str, amount: Any, number: str = "R0001", partner: str = "P_DEMO", **body: Any) -> tuple[int, Any]:
        payload = {"partner_repayment_no": number, "amount": amount, "paid_at": PAID_AT, **body}
        return _answer(post_signed(f"/v1/loans/{loan_id}/repayments", payload, partner_id=partner, secret=aws.secrets[partner]))

    return send


@pytest.fixture
def repaid(repay):
    """A repayment that must be recorded (201), after which the branch's ledger must hold."""

    def send(loan_id: str, amount: Any, number: str = "R0001", **body: Any) -> dict[str, Any]:
        status, answer = repay(loan_id, amount, number, **body)
        assert status == 201, answer
        assert_ledger_holds(loans.get(loan_id).branch_code)
        return answer

    return send


# -- checks -------------------------------------------------------------------------------------------


def assert_ledger_holds(branch: str) -> None:
    ledger.check(branch)  # totals = the postings' lines; each posting and the branch balance; nothing negative
    rows = ledger.trial_balance(branch)
    assert rows and sum((r["debits"] for r in rows), ZERO) == sum((r["credits"] for r in rows), ZERO)


def balance(branch: str, account: Account) -> Decimal:
    return sum((b.on(account.normal) for (_, a, _), b in ledger.totals(branch).items() if a is account), ZERO)


def recorded_state(loan_id: str, partner: str = "P_DEMO") -> tuple[Any, ...]:
    """What a refused repayment must leave as it was: the ledger, the loan, the partner's events."""
    branch = loans.get(loan_id).branch_code
    record = loans.record(loan_id)
    postings = sorted(p.posting_id for p in ledger.all_postings(branch))
    return ledger.totals(branch), postings, record.version, record.document, loans.events(partner, None, 100)


def fits(schema_name: str, body: Any) -> None:
    """``body`` is valid against the documented schema, and has exactly its documented fields."""
    validator = pytest.importorskip("openapi_schema_validator")
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": SPEC["components"]}
    validator.validate(body, schema, cls=validator.OAS30Validator)
    assert set(body) == set(SPEC["components"]["schemas"][schema_name]["properties"]), schema_name


def items(answer: dict[str, Any]) -> list[tuple[int, str, str, str]]:
    return [(i["period"], i["component"], i["amount"], i["kind"]) for i in answer["items"]]


def parts(answer: dict[str, Any]) -> list[tuple[int, str, str]]:
    """Where the amount went, in order, whatever the kind (an installment paid on its due date is DUE or CURRENT)."""
    return [(i["period"], i["component"], i["amount"]) for i in answer["items"]]


def money(value: Decimal) -> str:
    return f"{to_fen(value):.2f}"


def total(*amounts: str) -> Decimal:
    return sum((D(a) for a in amounts), ZERO)


# -- the loan and its schedule ------------------------------------------------------------------------


def test_a_disbursed_loan_shows_its_balances_settlement_quote_and_schedule(loan_id, get):
    status, loan = get(f"/v1/loans/{loan_id}")
    assert status == 200, loan
    fits("Loan", loan)
    assert (loan["status"], loan["product_code"], loan["repayment_method"], loan["term_months"]) == ("ACTIVE", "CONSUMER_STD", "EQUAL_INSTALLMENT", 12)
    assert loan["as_of"] == loan["disbursed_on"] == BUSINESS_DATE.isoformat() and loan["maturity_date"] == "2027-11-23"
    amount = D(loan["amount"])
    assert loan["outstanding"] == {"principal": loan["amount"], "principal_due": "0.00", "interest_due": "0.00", "interest_accrued": "0.00", "penalty": "0.00"}
    assert (loan["days_past_due"], loan["classification"]) == (0, "NORMAL")
    assert total(*(f["amount"] for f in loan["funders"])) == amount and all(f["outstanding"] == f["amount"] for f in loan["funders"])
    assert loan["payment"]["state"] == "PAID" and loan["payment"]["reference"]
    assert len(loan["contract"]["contract_sha256"]) == 64 and loan["contract"]["contract_no"].startswith("HT")

    status, schedule = get(f"/v1/loans/{loan_id}/schedule")
    assert status == 200, schedule
    fits("LoanSchedule", schedule)
    rows = schedule["installments"]
    for row in rows:
        fits("LoanInstallment", row)
    assert [r["period"] for r in rows] == list(range(1, 13)) and {r["status"] for r in rows} == {"UPCOMING"}
    assert [r["due_date"] for r in rows][:3] == ["2026-12-23", "2027-01-23", "2027-02-23"]
    assert total(*(r["principal"] for r in rows)) == amount == D(schedule["totals"]["principal"])
    assert total(*(r["interest"] for r in rows)) == D(schedule["totals"]["interest"]) and schedule["totals"]["penalty"] == "0.00"
    assert all(D(r["outstanding"]) == D(r["principal"]) + D(r["interest"]) for r in rows)
    first = rows[0]
    assert loan["next_installment"] == {"period": 1, "due_date": first["due_date"], "amount": first["outstanding"]}

    # settling on the day it was disbursed: all the principal, no interest yet, the fee (1%) on what is
    # paid before its time, beyond the current installment's principal
    quote = loan["settlement"]
    fee_rate = config_repository.product("CONSUMER_STD").prepayment.fee_rate
    assert fee_rate == D("0.01")
    assert quote["as_of"] == loan["as_of"] and (quote["principal"], quote["interest"], quote["penalty"]) == (loan["amount"], "0.00", "0.00")
    assert quote["fee"] == money((amount - D(first["principal"])) * fee_rate)
    assert D(quote["amount"]) == total(quote["principal"], quote["interest"], quote["penalty"], quote["fee"])

    # the application names its loan, in its documented shape
    status, application = get(f"/v1/applications/{loan['application_id']}")
    documented = SPEC["components"]["schemas"]["ApplicationView"]["properties"]
    assert status == 200 and set(application) <= set(documented)
    assert (application["status"], application["loan_id"]) == ("DISBURSED", loan_id)
    if application.get("disbursement") is not None:
        assert set(application["disbursement"]) <= set(documented["disbursement"]["properties"])
        assert application["disbursement"]["loan_id"] == loan_id


def test_another_partners_loan_or_an_unknown_one_is_not_found(loan_id, get, repay, client):
    before = recorded_state(loan_id)
    for path in (f"/v1/loans/{loan_id}", f"/v1/loans/{loan_id}/schedule"):
        status, body = get(path, partner="P_QIANHAI")
        assert (status, body["code"]) == (404, "NOT_FOUND"), path
    status, body = repay(loan_id, "100.00", partner="P_QIANHAI")
    assert (status, body["code"]) == (404, "NOT_FOUND")
    for unknown in ("LN20261123-101500-0000000000", "AP20261123-101500-a1b2c3d4e5", "nothing", loan_id + "x"):
        assert get(f"/v1/loans/{unknown}")[0] == 404, unknown
        assert get(f"/v1/loans/{unknown}/schedule")[0] == 404, unknown
        assert repay(unknown, "100.00")[0] == 404, unknown
    assert client.http.get(f"/v1/loans/{loan_id}").status_code == 401  # unsigned
    assert recorded_state(loan_id) == before
    assert loans.repayment(loan_id, "R0001") is None


# -- repayments -----------------------------------------------------------------------------------------


def test_the_first_installment_paid_on_its_due_date_pays_interest_then_principal(loan_id, get, repaid):
    _, schedule = get(f"/v1/loans/{loan_id}/schedule")
    first, second = schedule["installments"][:2]
    open_day(loan_id, date(2026, 12, 23))
    _, loan = get(f"/v1/loans/{loan_id}")
    assert (loan["outstanding"]["principal_due"], loan["outstanding"]["interest_due"]) == (first["principal"], first["interest"])
    assert loan["days_past_due"] == 0  # due today is not overdue

    answer = repaid(loan_id, first["outstanding"])
    fits("RepaymentAllocation", answer)
    assert parts(answer) == [(1, "INTEREST", first["interest"]), (1, "PRINCIPAL", first["principal"])]
    assert {i["kind"] for i in answer["items"]} in ({"DUE"}, {"CURRENT"})
    assert answer["allocated"] == {"penalty": "0.00", "interest": first["interest"], "principal": first["principal"], "fee": "0.00"}
    assert (answer["value_date"], answer["settled"], answer["loan_status"], answer["prepaid_principal"]) == ("2026-12-23", False, "ACTIVE", "0.00")
    amount = D(loan["amount"])
    assert answer["outstanding_principal"] == money(amount - D(first["principal"]))
    assert answer["posting_id"] == f"REPAYMENT#{loan_id}#R0001" and ledger.get(answer["posting_id"]) is not None

    _, schedule = get(f"/v1/loans/{loan_id}/schedule")
    rows = schedule["installments"]
    assert (rows[0]["status"], rows[0]["outstanding"], rows[0]["paid_principal"], rows[0]["paid_interest"]) == ("PAID", "0.00", first["principal"], first["interest"])
    assert rows[1] == second and {r["status"] for r in rows[1:]} == {"UPCOMING"}
    _, loan = get(f"/v1/loans/{loan_id}")
    assert loan["next_installment"] == {"period": 2, "due_date": second["due_date"], "amount": second["outstanding"]}
    assert loan["outstanding"]["principal"] == answer["outstanding_principal"] and loan["outstanding"]["principal_due"] == "0.00"
    assert total(*(f["outstanding"] for f in loan["funders"])) == amount - D(first["principal"])
    assert loans.get(loan_id).interest_receivable == ZERO  # the first period's interest was accrued, then paid


def test_a_partial_payment_pays_interest_first_and_leaves_the_rest_due(loan_id, get, repaid):
    _, schedule = get(f"/v1/loans/{loan_id}/schedule")
    first = schedule["installments"][0]
    answer = repaid(loan_id, "100.00", "EARLY")  # on the day it was disbursed: toward the current installment
    assert items(answer) == [(1, "INTEREST", "100.00", "CURRENT")]
    _, schedule = get(f"/v1/loans/{loan_id}/schedule")
    assert schedule["installments"][0]["status"] == "PARTIAL"

    open_day(loan_id, date(2026, 12, 23))
    answer = repaid(loan_id, "1000.00", "PART")
    interest_left = D(first["interest"]) - 100
    assert parts(answer) == [(1, "INTEREST", money(interest_left)), (1, "PRINCIPAL", money(1000 - interest_left))]
    _, schedule = get(f"/v1/loans/{loan_id}/schedule")
    row = schedule["installments"][0]
    left = D(first["outstanding"]) - 1100
    assert (row["status"], row["outstanding"], row["paid_interest"]) == ("DUE", money(left), first["interest"])

    open_day(loan_id, date(2026, 12, 24))
    _, schedule = get(f"/v1/loans/{loan_id}/schedule")
    assert schedule["installments"][0]["status"] == "OVERDUE"
    _, loan = get(f"/v1/loans/{loan_id}")
    assert (loan["days_past_due"], loan["classification"]) == (1, "SPECIAL_MENTION")
    assert (loan["outstanding"]["principal_due"], loan["outstanding"]["interest_due"]) == (money(left), "0.00")
    assert loan["next_installment"]["period"] == 1 and D(loan["next_installment"]["amount"]) == left  # no penalty booked yet for 12-24


def test_an_overdue_installment_pays_penalty_then_interest_then_principal(loan_id, get, repaid):
    _, schedule = get(f"/v1/loans/{loan_id}/schedule")
    first = schedule["installments"][0]
    open_day(loan_id, date(2027, 1, 2))  # the day ends of 12-24 .. 01-01 each accrued a day's penalty
    _, loan = get(f"/v1/loans/{loan_id}")
    daily = to_fen(D(first["principal"]) * D(loan["annual_rate"]) * D("1.5") / 360)
    penalty = daily * 9
    assert (loan["days_past_due"], loan["classification"]) == (10, "SPECIAL_MENTION")
    assert loan["outstanding"]["penalty"] == money(penalty) == loan["settlement"]["penalty"]
    assert (loan["outstanding"]["principal_due"], loan["outstanding"]["interest_due"]) == (first["principal"], first["interest"])
    _, schedule = get(f"/v1/loans/{loan_id}/schedule")
    assert schedule["installments"][0]["penalty"] == money(penalty) == schedule["totals"]["penalty"]
    assert schedule["installments"][0]["status"] == "OVERDUE"

    part = penalty + D(first["interest"]) + 100
    answer = repaid(loan_id, money(part), "LATE1")
    assert items(answer) == [(1, "PENALTY", money(penalty), "DUE"), (1, "INTEREST", first["interest"], "DUE"), (1, "PRINCIPAL", "100.00", "DUE")]
    _, loan = get(f"/v1/loans/{loan_id}")
    assert loan["outstanding"]["penalty"] == "0.00" and loan["days_past_due"] == 10  # still overdue

    rest = D(first["principal"]) - 100
    answer = repaid(loan_id, money(rest), "LATE2")
    assert items(answer) == [(1, "PRINCIPAL", money(rest), "DUE")]
    _, loan = get(f"/v1/loans/{loan_id}")
    assert (loan["days_past_due"], loan["classification"], loan["next_installment"]["period"]) == (0, "NORMAL", 2)
    _, schedule = get(f"/v1/loans/{loan_id}/schedule")
    assert schedule["installments"][0]["status"] == "PAID" and schedule["totals"]["penalty"] == money(penalty)  # paid, still counted


def test_a_prepayment_takes_the_products_fee_and_lowers_the_later_installments(loan_id, get, repaid):
    _, before = get(f"/v1/loans/{loan_id}/schedule")
    rows = before["installments"]
    first = rows[0]
    excess = D("2020.20")
    answer = repaid(loan_id, money(D(first["outstanding"]) + excess))
    rate = config_repository.product("CONSUMER_STD").prepayment.fee_rate  # 0.01, LOWER_INSTALLMENT
    fee = to_fen(excess * rate / (1 + rate))
    assert fee == D("20.00")
    assert items(answer) == [
        (1, "INTEREST", first["interest"], "CURRENT"),
        (1, "PRINCIPAL", first["principal"], "CURRENT"),
        (1, "FEE", money(fee), "PREPAYMENT"),
        (1, "PRINCIPAL", money(excess - fee), "PREPAYMENT"),
    ]
    assert (answer["allocated"]["fee"], answer["prepaid_principal"]) == (money(fee), money(excess - fee))
    amount = D(rows[0]["principal"]) + sum((D(r["principal"]) for r in rows[1:]), ZERO)
    assert answer["outstanding_principal"] == money(amount - D(first["principal"]) - (excess - fee))

    _, after = get(f"/v1/loans/{loan_id}/schedule")
    new = after["installments"]
    assert len(new) == len(rows)  # the same term: lower installments
    assert new[0]["status"] == "PAID" and new[0]["paid_principal"] == money(D(first["principal"]) + excess - fee)
    assert total(*(r["principal"] for r in new)) == amount == D(after["totals"]["principal"])
    assert [r["due_date"] for r in new] == [r["due_date"] for r in rows]
    assert all(D(n["outstanding"]) < D(o["outstanding"]) for n, o in zip(new[1:-1], rows[1:-1]))
    assert total(*(r["principal"] for r in new[1:])) == D(answer["outstanding_principal"])
    _, loan = get(f"/v1/loans/{loan_id}")
    assert loan["next_installment"]["amount"] == new[1]["outstanding"]
    assert balance(loan["branch_code"], Account.FEE_INCOME) == fee


@pytest.mark.parametrize("day", [date(2026, 12, 10), date(2027, 1, 2)], ids=["mid-period", "overdue-with-penalty"])
def test_the_quoted_settlement_settles_the_loan_and_tells_the_partner(loan_id, get, repaid, repay, day):
    open_day(loan_id, day)
    _, loan = get(f"/v1/loans/{loan_id}")
    quote = loan["settlement"]
    assert (D(quote["penalty"]) > 0) == (day > date(2026, 12, 23))
    assert D(quote["amount"]) == total(quote["principal"], quote["interest"], quote["penalty"], quote["fee"])
    assert D(loan["outstanding"]["interest_accrued"]) > 0
    if day == date(2026, 12, 10):  # 17 days into the first period: interest to the day on all the principal
        assert quote["interest"] == money(D(loan["amount"]) * D(loan["annual_rate"]) * 17 / 360)
        assert loan["outstanding"]["interest_due"] == "0.00"

    answer = repaid(loan_id, quote["amount"], "SETTLE")
    assert (answer["settled"], answer["loan_status"], answer["outstanding_principal"]) == (True, "SETTLED", "0.00")
    assert answer["allocated"] == {"penalty": quote["penalty"], "interest": quote["interest"], "principal": quote["principal"], "fee": quote["fee"]}
    assert total(*answer["allocated"].values()) == D(quote["amount"])

    _, loan = get(f"/v1/loans/{loan_id}")
    fits("Loan", loan)
    assert (loan["status"], loan["settled_on"], loan["settlement"], loan["next_installment"]) == ("SETTLED", day.isoformat(), None, None)
    assert loan["outstanding"] == {k: "0.00" for k in loan["outstanding"]} and loan["days_past_due"] == 0
    assert all(f["outstanding"] == "0.00" for f in loan["funders"])
    _, schedule = get(f"/v1/loans/{loan_id}/schedule")
    assert schedule["status"] == "SETTLED" and {r["status"] for r in schedule["installments"]} == {"PAID"}
    assert total(*(r["principal"] for r in schedule["installments"])) == D(loan["amount"])
    branch = loan["branch_code"]  # its only loan: nothing of it is left on the books
    assert [balance(branch, a) for a in (Account.LOANS_RECEIVABLE, Account.INTEREST_RECEIVABLE, Account.PENALTY_RECEIVABLE)] == [ZERO] * 3
    assert loans.get(loan_id).interest_receivable == ZERO

    _, feed = get("/v1/events")
    settled = [e for e in feed["events"] if e["type"] == "LOAN_SETTLED"]
    assert len(settled) == 1 and (settled[0]["loan_id"], settled[0]["settled_on"]) == (loan_id, day.isoformat())
    assert settled[0]["event_id"] == f"LOAN_SETTLED#{loan_id}" and settled[0]["application_id"] == loan["application_id"]

    status, body = repay(loan_id, "1.00", "AFTER")
    assert (status, body["code"], body["details"][0]["field"]) == (422, "LOAN_NOT_ACTIVE", "amount")
    assert repay(loan_id, quote["amount"], "SETTLE")[0] == 200  # the settling repayment still replays


def test_more_than_the_settlement_is_refused_and_nothing_is_recorded(loan_id, get, repaid, repay):
    _, loan = get(f"/v1/loans/{loan_id}")
    before = recorded_state(loan_id)
    status, body = repay(loan_id, money(D(loan["settlement"]["amount"]) + D("0.01")), "OVER")
    assert (status, body["code"], body["details"][0]["field"]) == (422, "OVERPAYMENT", "amount")
    assert loan["settlement"]["amount"] in body["message"]
    assert recorded_state(loan_id) == before and loans.repayment(loan_id, "OVER") is None
    assert repay(loan_id, "99999999.00", "OVER")[1]["code"] == "OVERPAYMENT"
    assert recorded_state(loan_id) == before
    assert repaid(loan_id, loan["settlement"]["amount"], "OVER")["settled"]  # the number was not taken


def test_a_bullet_loan_is_repaid_only_in_full_before_maturity(aws, get, repay, repaid):
    loan_id = disbursed(repayment_method="BULLET")
    _, loan = get(f"/v1/loans/{loan_id}")
    assert (loan["repayment_method"], loan["term_months"], loan["next_installment"]["due_date"]) == ("BULLET", 12, loan["maturity_date"])  # one installment, a 12-month term
    before = recorded_state(loan_id)
    status, body = repay(loan_id, "1000.00", "PART")
    assert (status, body["code"]) == (422, "PREPAYMENT_NOT_ALLOWED")
    assert loan["settlement"]["amount"] in body["message"] and recorded_state(loan_id) == before
    assert repaid(loan_id, loan["settlement"]["amount"], "PART")["settled"]


def test_a_replay_answers_the_same_and_another_body_is_a_conflict(loan_id, get, repay, post_signed):
    body = {"partner_repayment_no": "R0001", "amount": "500.00", "paid_at": "2026-11-23T09:30:00+08:00"}
    path = f"/v1/loans/{loan_id}/repayments"
    first = post_signed(path, body)
    assert first.status_code == 201, first.body
    assert_ledger_holds(loans.get(loan_id).branch_code)
    state = recorded_state(loan_id)

    again = post_signed(path, body)
    assert (again.status_code, json.loads(again.body)) == (200, json.loads(first.body))
    set_day(date(2026, 12, 23))  # later, on another business date: still the first answer
    assert _answer(post_signed(path, {**body, "amount": "500.0"})) == (200, json.loads(first.body))  # the same amount
    assert recorded_state(loan_id) == state

    for other in ({"amount": "500.01"}, {"paid_at": "2026-11-23T09:31:00+08:00"}):
        status, conflict = _answer(post_signed(path, {**body, **other}))
        assert (status, conflict["code"], conflict["details"][0]["field"]) == (409, "IDEMPOTENCY_CONFLICT", "partner_repayment_no"), other
    assert recorded_state(loan_id) == state

    second = disbursed(SEQUENCE + 1)  # the number is the partner's per loan
    assert repay(second, "500.00", "R0001")[0] == 201


BAD_INPUT = [
    ({"amount": 1000}, "amount"),
    ({"amount": 1000.5}, "amount"),
    ({"amount": "-1.00"}, "amount"),
    ({"amount": "0.00"}, "amount"),
    ({"amount": "1.001"}, "amount"),
    ({"amount": "1e3"}, "amount"),
    ({"amount": None}, "amount"),
    ({"paid_at": None}, "paid_at"),
    ({"paid_at": "2026-11-23T09:30:00"}, "paid_at"),  # no offset
    ({"paid_at": "yesterday"}, "paid_at"),
    ({"paid_at": "FUTURE"}, "paid_at"),
    ({"partner_repayment_no": "R 1"}, "partner_repayment_no"),
    ({"partner_repayment_no": "R" * 65}, "partner_repayment_no"),
    ({"extra": "x"}, "extra"),
    ({"partner_repayment_no": None, "amount": None, "paid_at": None}, "partner_repayment_no"),
]


def test_bad_input_is_400_with_the_field_path_and_never_5xx(loan_id, post_signed):
    path = f"/v1/loans/{loan_id}/repayments"
    before = recorded_state(loan_id)
    good = {"partner_repayment_no": "BAD", "amount": "100.00", "paid_at": PAID_AT}
    for change, field in BAD_INPUT:
        body = {**good, **change}
        if body["paid_at"] == "FUTURE":
            body["paid_at"] = (datetime.now(CHINA) + timedelta(hours=1)).isoformat(timespec="seconds")
        body = {k: v for k, v in body.items() if v is not None}  # None: the field is missing
        status, answer = _answer(post_signed(path, body))
        assert (status, answer["code"]) == (400, "INVALID_INPUT"), (change, answer)
        assert field in [d["field"] for d in answer["details"]], (change, answer)
    for raw, code in [([good], "INVALID_INPUT"), ("100.00", "INVALID_INPUT"), (None, "INVALID_INPUT"), (b"{not json", "INVALID_JSON"), (b"\xff\xfe", "INVALID_JSON"), (b"", "INVALID_JSON")]:
        status, answer = _answer(post_signed(path, raw if isinstance(raw, bytes) else json.dumps(raw).encode()))
        assert (status, answer["code"]) == (400, code), (raw, answer)
        if code == "INVALID_INPUT":
            assert [d["field"] for d in answer["details"]] == ["body"]
    assert recorded_state(loan_id) == before and loans.repayment(loan_id, "BAD") is None


# -- the event feed -------------------------------------------------------------------------------------


def test_the_event_feed_pages_oldest_first_and_refuses_bad_limits(aws, get, repaid):
    first, second = disbursed(), disbursed(SEQUENCE + 1)
    _, loan = get(f"/v1/loans/{first}")
    repaid(first, loan["settlement"]["amount"], "SETTLE")

    status, feed = get("/v1/events")
    assert status == 200, feed
    fits("EventFeed", feed)
    for event in feed["events"]:
        fits_event(event)
    assert [(e["type"], e["loan_id"]) for e in feed["events"]] == [("LOAN_DISBURSED", first), ("LOAN_DISBURSED", second), ("LOAN_SETTLED", first)]
    assert len({e["event_id"] for e in feed["events"]}) == 3
    assert feed["next_cursor"] == feed["events"][-1]["cursor"]
    disbursed_event = feed["events"][0]
    assert (disbursed_event["amount"], disbursed_event["disbursed_on"], disbursed_event["partner_application_no"]) == (loan["amount"], "2026-11-23", "P00452")

    _, page = get("/v1/events", query={"limit": 2})
    assert page["events"] == feed["events"][:2] and page["next_cursor"] == feed["events"][1]["cursor"]
    _, page = get("/v1/events", query={"after": page["next_cursor"], "limit": 2})
    assert page["events"] == feed["events"][2:] and page["next_cursor"] == feed["events"][2]["cursor"]
    _, page = get("/v1/events", query={"after": page["next_cursor"], "limit": 2})
    assert page == {"events": [], "next_cursor": feed["events"][2]["cursor"]}  # nothing new: poll again with the same
    _, page = get("/v1/events", query={"after": feed["events"][0]["cursor"]})
    assert page["events"] == feed["events"][1:]

    assert get("/v1/events", partner="P_QIANHAI")[1] == {"events": [], "next_cursor": None}  # its own feed only
    for limit in ("0", "101", "-1", "x", ""):
        status, body = get("/v1/events", query={"limit": limit})
        assert (status, body["code"], [d["field"] for d in body["details"]]) == (400, "INVALID_INPUT", ["limit"]), limit
    for after in ("x" * 401, "a\x00b", "bm90LWEtY3Vyc29y", "%%%"):
        status, body = get("/v1/events", query={"after": after})
        assert (status, [d["field"] for d in body["details"]]) == (400, ["after"]), after


@pytest.fixture(autouse=True)
def settled_events(monkeypatch):
    """The feed serves an event once it is EVENT_SETTLE_SECONDS old: these tests read it from a
    minute later, except the one that checks the wait itself."""
    from chalicelib.usecases import loan_servicing

    monkeypatch.setattr(loan_servicing, "_now", lambda: datetime.now(timezone.utc) + timedelta(minutes=1))


def test_an_event_is_served_once_it_has_settled(loan_id, monkeypatch):
    """No cursor may pass an event still committing: the feed holds back the last seconds' events."""
    from chalicelib.usecases import loan_servicing

    monkeypatch.setattr(loan_servicing, "_now", lambda: datetime.now(timezone.utc))
    young = loan_servicing.events(type("P", (), {"partner_id": "P_DEMO"})(), None, None)
    assert young == {"events": [], "next_cursor": None}
    monkeypatch.setattr(loan_servicing, "_now", lambda: datetime.now(timezone.utc) + timedelta(seconds=2))  # the local stack settles in 1 s
    settled = loan_servicing.events(type("P", (), {"partner_id": "P_DEMO"})(), None, None)
    assert [e["type"] for e in settled["events"]] == ["LOAN_DISBURSED"]
    cursor = settled["next_cursor"]
    assert cursor.replace("-", "").replace("_", "").isalnum()  # opaque, nothing to escape in a signed query
    assert loan_servicing.events(type("P", (), {"partner_id": "P_DEMO"})(), cursor, None)["events"] == []


def fits_event(event: dict[str, Any]) -> None:
    validator = pytest.importorskip("openapi_schema_validator")
    validator.validate(event, {"$ref": "#/components/schemas/Event", "components": SPEC["components"]}, cls=validator.OAS30Validator)
    assert set(event) <= set(SPEC["components"]["schemas"]["Event"]["properties"])


# -- a drawdown gives back to its credit line -----------------------------------------------------------


def test_the_principal_repaid_on_a_drawdown_is_available_on_its_line_again(aws, get, repaid):
    line_id, loan_id = drawn_on_a_line("5000.00")
    limit = D(credit_lines.get(line_id).limit)
    assert credit_lines.available(line_id) == limit - 5000
    _, loan = get(f"/v1/loans/{loan_id}")
    assert loan["credit_line_id"] == line_id and len(loan["funders"]) == 2  # a joint line: the lead and its partner

    _, schedule = get(f"/v1/loans/{loan_id}/schedule")
    first = schedule["installments"][0]
    open_day(loan_id, date(2026, 12, 23))
    answer = repaid(loan_id, first["outstanding"])
    assert answer["allocated"]["principal"] == first["principal"]
    assert credit_lines.available(line_id) == limit - 5000 + D(first["principal"])
    assert quotas.usage("LINE", line_id, "TOTAL") == (limit, limit - 5000 + D(first["principal"]))
    _, loan = get(f"/v1/loans/{loan_id}")
    shares = {f["funder"]: (D(f["amount"]), D(f["outstanding"])) for f in loan["funders"]}
    assert sum((lent - left for lent, left in shares.values()), ZERO) == D(first["principal"])
    assert all(left < lent for lent, left in shares.values())  # each funder was repaid its share

    # a prepayment (CONSUMER_LINE: no fee, SHORTEN_TERM) inside the second period: the same installment size, fewer of them
    second = schedule["installments"][1]
    open_day(loan_id, date(2027, 1, 5))
    answer = repaid(loan_id, money(D(second["outstanding"]) + 1000), "PREPAY")
    assert (answer["allocated"]["fee"], answer["prepaid_principal"]) == ("0.00", "1000.00")
    _, shorter = get(f"/v1/loans/{loan_id}/schedule")
    assert len(shorter["installments"]) < len(schedule["installments"]) and total(*(r["principal"] for r in shorter["installments"])) == 5000
    assert credit_lines.available(line_id) == limit - 5000 + D(first["principal"]) + D(answer["allocated"]["principal"])

    _, loan = get(f"/v1/loans/{loan_id}")
    repaid(loan_id, loan["settlement"]["amount"], "SETTLE")
    assert credit_lines.available(line_id) == limit


def test_a_repayment_gives_back_to_a_line_in_the_same_transaction(loan_id):
    """At the persistence level: ``line_restore`` adds to the LINE quota with the loan's change, or not at all."""
    quotas.set_limit("LINE", "CL_TEST", "TOTAL", D("10000.00"))
    loan = loans.get(loan_id)
    after = loan.accrued(loan.accrual(loan.start_date))
    loans.save(loan, after, datetime.now(timezone.utc), line_restore=("CL_TEST", D("123.45")))
    assert quotas.usage("LINE", "CL_TEST", "TOTAL") == (D("10000.00"), D("10123.45"))
    with pytest.raises(loans.VersionConflict):  # a stale loan: the quota is not touched either
        loans.save(loan, after, datetime.now(timezone.utc), line_restore=("CL_TEST", D("1.00")))
    assert quotas.usage("LINE", "CL_TEST", "TOTAL") == (D("10000.00"), D("10123.45"))


# -- personal data ----------------------------------------------------------------------------------------


def test_no_raw_card_id_or_mobile_number_in_a_loan_answer_or_a_log_line(loan_id, get, repay, app_log):
    from chalicelib.observability import logger
    from tests.support.applications import card_number

    applicant = person(SEQUENCE)
    raw = [applicant["applicant"]["id_number"], applicant["applicant"]["mobile"], card_number(SEQUENCE), applicant["applicant"]["name"]]
    logger.setLevel("DEBUG")
    try:
        answers = [
            get(f"/v1/loans/{loan_id}"),
            get(f"/v1/loans/{loan_id}/schedule"),
            repay(loan_id, "100.00", "PII1"),
            repay(loan_id, "100.00", "PII1"),  # a replay
            repay(loan_id, "999999.00", "PII2"),  # a refusal
            repay(loan_id, 1, "PII3"),  # bad input
            get("/v1/events"),
        ]
    finally:
        logger.setLevel("INFO")
    assert [status for status, _ in answers] == [200, 200, 201, 200, 422, 400, 200]
    text = json.dumps([body for _, body in answers], ensure_ascii=False) + app_log.getvalue()
    assert "repayment posted" in app_log.getvalue()
    for value in raw:
        assert value not in text, f"{value} found in an answer or a log line"


# -- the document -------------------------------------------------------------------------------------------


def test_the_documented_repayment_request_and_enums_match_the_code():
    from chalicelib.domain.classification import LoanClass
    from chalicelib.domain.loan import LoanStatus
    from chalicelib.usecases.loan_servicing import RepaymentRequest

    schemas = SPEC["components"]["schemas"]
    assert set(schemas["RepaymentRequest"]["properties"]) == set(RepaymentRequest.model_fields)
    assert set(schemas["RepaymentRequest"]["required"]) == {n for n, f in RepaymentRequest.model_fields.items() if f.is_required()}
    operation = SPEC["paths"]["/v1/loans/{loan_id}/repayments"]["post"]
    RepaymentRequest.model_validate(operation["requestBody"]["content"]["application/json"]["example"])
    assert set(operation["responses"]) >= {"200", "201", "400", "401", "404", "409", "422"}
    assert schemas["LoanStatus"]["enum"] == [s.value for s in LoanStatus]
    assert schemas["Loan"]["properties"]["classification"]["enum"] == [c.value for c in LoanClass]
    events = SPEC["paths"]["/v1/events"]["get"]
    assert "pollable, signed event feed" in events["description"] and "EVENT_RETENTION_DAYS" in events["description"]
    assert {p["name"] for p in events["parameters"]} == {"after", "limit"}

    validator = pytest.importorskip("openapi_schema_validator")
    for path, item in SPEC["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                content = response.get("content", {}).get("application/json", {})
                if "example" in content and "schema" in content:
                    schema = {**content["schema"], "components": SPEC["components"]}
                    try:
                        validator.validate(content["example"], schema, cls=validator.OAS30Validator)
                    except Exception as exc:
                        pytest.fail(f"the example of {method.upper()} {path} {status} does not fit its schema: {exc}")


# -- two repayments of one loan at once ---------------------------------------------------------------------


@pytest.fixture
def competing(monkeypatch):
    """``loans.save`` that first lets another repayment of the loan win (once): a race, deterministically."""
    from chalicelib.usecases import loan_servicing

    original, competitors = loans.save, []

    def arm(loan_id: str, payload: dict[str, Any]) -> list[Any]:
        def save(*args: Any, **kwargs: Any) -> None:
            if not competitors:
                competitors.append(None)  # the competitor's own save goes straight through
                competitors[0] = loan_servicing.repay(config_repository.partner("P_DEMO"), loan_id, payload)
            original(*args, **kwargs)

        monkeypatch.setattr(loans, "save", save)
        return competitors

    return arm


def test_a_repayment_that_lost_a_race_is_allocated_again_on_what_the_winner_left(loan_id, get, repay, competing):
    won = competing(loan_id, {"partner_repayment_no": "FIRST", "amount": "100.00", "paid_at": PAID_AT})
    status, answer = repay(loan_id, "250.00", "SECOND")
    assert status == 201, answer
    assert won[0][1] is True and items(won[0][0]) == [(1, "INTEREST", "100.00", "CURRENT")]
    _, schedule = get(f"/v1/loans/{loan_id}/schedule")
    first = schedule["installments"][0]
    assert items(answer) == [(1, "INTEREST", money(D(first["interest"]) - 100), "CURRENT"), (1, "PRINCIPAL", money(250 - D(first["interest"]) + 100), "CURRENT")]
    assert D(first["paid_interest"]) + D(first["paid_principal"]) == D("350.00")
    assert_ledger_holds(loans.get(loan_id).branch_code)


def test_a_retry_that_raced_its_original_answers_the_original(loan_id, get, repay, competing):
    """A partner's retry (after a timeout) that arrives while the original is being recorded."""
    _, loan = get(f"/v1/loans/{loan_id}")
    payload = {"partner_repayment_no": "SETTLE", "amount": loan["settlement"]["amount"], "paid_at": PAID_AT}
    original = competing(loan_id, payload)
    status, answer = repay(loan_id, payload["amount"], "SETTLE")
    assert (status, answer) == (200, original[0][0])
    assert_ledger_holds(loans.get(loan_id).branch_code)


def test_a_settlement_writes_back_accrued_interest_it_no_longer_charges(loan_id, get, repaid):
    """Settled 27 days into a 28-day period: the day ends accrued more of that period's interest than
    the settlement's interest to the day; what is left on the books is exactly what was paid."""
    answers = []
    _, schedule = get(f"/v1/loans/{loan_id}/schedule")
    for row in schedule["installments"][:3]:
        open_day(loan_id, date.fromisoformat(row["due_date"]))
        answers.append(repaid(loan_id, row["outstanding"], f"P{row['period']}"))
    open_day(loan_id, date(2027, 3, 22))
    _, loan = get(f"/v1/loans/{loan_id}")
    quote = loan["settlement"]
    assert D(loan["outstanding"]["interest_accrued"]) > D(quote["interest"]) > 0  # more was accrued than is charged
    answers.append(repaid(loan_id, quote["amount"], "SETTLE"))
    assert answers[-1]["settled"]

    branch = loan["branch_code"]
    paid = {c: sum((D(a["allocated"][c]) for a in answers), ZERO) for c in ("interest", "penalty", "fee", "principal")}
    assert paid["principal"] == D(loan["amount"])
    assert balance(branch, Account.INTEREST_INCOME) == paid["interest"]  # the accrued excess written back
    assert balance(branch, Account.FEE_INCOME) == paid["fee"] == D(quote["fee"])
    assert balance(branch, Account.PARTNER_CLEARING) == sum((D(a["amount"]) for a in answers), ZERO)
    assert [balance(branch, a) for a in (Account.LOANS_RECEIVABLE, Account.INTEREST_RECEIVABLE, Account.PENALTY_RECEIVABLE)] == [ZERO] * 3
    settled = loans.get(loan_id)
    assert (settled.interest_receivable, settled.interest_recognised) == (ZERO, paid["interest"])
