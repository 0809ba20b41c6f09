from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
from dataclasses import replace
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.domain.identity import luhn_valid
from chalicelib.ports.payments import (
    BEHAVIOURS,
    GATEWAY_REJECTED,
    INSUFFICIENT_PLATFORM_FUNDS,
    CardCheck,
    GatewayUnavailable,
    HttpPaymentGateway,
    Payee,
    PaymentOrder,
    PaymentResult,
    PaymentStatus,
    PaymentTimeout,
    SimulatedPaymentGateway,
    card_ending,
)
from tests.support.http_stub import StubServer

CLIENT_ID = "zhudai-test"
SECRET = "payment-secret-for-tests"
CARD = card_ending("3446")
NAME = "张三丰"

PAID = PaymentStatus.PAID
FAILED = PaymentStatus.FAILED
PROCESSING = PaymentStatus.PROCESSING
NOT_FOUND = PaymentStatus.NOT_FOUND


def payee(card: str = CARD) -> Payee:
    return Payee(card_number=card, account_name=NAME, bank_name="中国工商银行")


def order(payment_id: str = "PAY-L1", amount: str = "12000.00", card: str = CARD, loan_id: str = "L1") -> PaymentOrder:
    return PaymentOrder(payment_id=payment_id, loan_id=loan_id, branch_code="B001", amount=Decimal(amount), payee=payee(card))


def gateway(**rules: str) -> SimulatedPaymentGateway:
    """A simulator with ``card_rules`` given as ``_1234="BEHAVIOUR"``."""
    return SimulatedPaymentGateway(card_rules={last4.lstrip("_"): behaviour for last4, behaviour in rules.items()}, clock=lambda: 1768444200.0)


# -- the order and the payee ------------------------------------------------------------------


def test_card_ending_makes_luhn_valid_cards():
    for last4 in ("0000", "0001", "3446", "9999", "1234"):
        card = card_ending(last4)
        assert len(card) == 19 and card.endswith(last4) and card.startswith("622202") and luhn_valid(card)
    assert card_ending("1234", prefix="4000").startswith("4000")
    for bad in ("123", "12345", "abcd", 1234):
        with pytest.raises(ValueError):
            card_ending(bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        card_ending("1234", prefix="6" * 15)


def test_an_order_checks_its_fields():
    with pytest.raises(ValueError):
        order(amount="1.001")
    with pytest.raises(ValueError):
        order(amount="0.00")
    with pytest.raises(ValueError):
        order(amount="-5.00")
    with pytest.raises(ValueError):
        replace(order(), amount=1000.0)
    with pytest.raises(ValueError):
        replace(order(), amount=Decimal("NaN"))
    with pytest.raises(ValueError):
        order(payment_id="")
    with pytest.raises(ValueError):
        order(payment_id="PAY 1\r\nX-Evil: 1")
    with pytest.raises(ValueError):
        order(loan_id=" ")
    with pytest.raises(ValueError):
        replace(order(), purpose="")
    with pytest.raises(ValueError):
        replace(order(), payee="not a payee")
    with pytest.raises(ValueError):
        Payee("6222-0202-0011", NAME, "ICBC")
    with pytest.raises(ValueError):
        Payee(CARD, "", "ICBC")
    with pytest.raises(ValueError):
        Payee(CARD, NAME, "")


def test_the_wire_form():
    assert order(amount="12000").to_wire() == {
        "payment_id": "PAY-L1",
        "loan_id": "L1",
        "branch_code": "B001",
        "amount": "12000.00",
        "currency": "CNY",
        "purpose": "DISBURSEMENT",
        "payee": {"card_number": CARD, "account_name": NAME, "bank_name": "中国工商银行"},
    }


def test_repr_never_shows_the_card_number_or_the_name():
    for thing in (payee(), order()):
        for text in (repr(thing), str(thing), f"{thing}", repr([thing])):
            assert CARD not in text and NAME not in text
            assert "3446" in text  # the last 4 digits are kept to tell cards apart
    assert "张**" in repr(payee())
    assert re.findall(r"[0-9]+", repr(payee())) == ["3446"]  # only the last 4 digits show


# -- the simulator ----------------------------------------------------------------------------


def test_a_plain_card_is_paid_once_and_the_balance_drops():
    sim = gateway()
    assert sim.check_card(payee(), 1.0) == CardCheck(True)
    result = sim.pay(order(), 1.0)
    assert result.status is PAID and result.reference.startswith("SIM-PAY-") and result.paid_at == "2026-01-15T02:30:00+00:00"
    assert sim.query("PAY-L1", 1.0) == result
    assert sim.platform_balance == Decimal("99988000.00") and sim.paid_total == Decimal("12000.00")
    assert sim.pay(order(), 1.0) == result  # the same id again: the first answer, no second payment
    assert len(sim.executed) == 1 and sim.platform_balance == Decimal("99988000.00")
    assert sim.query("PAY-UNKNOWN", 1.0) == PaymentResult("PAY-UNKNOWN", NOT_FOUND)


def test_an_id_reused_for_another_order_is_refused():
    sim = gateway()
    sim.pay(order(), 1.0)
    with pytest.raises(ValueError, match="payment_id reused for a different order"):
        sim.pay(order(amount="12000.01"), 1.0)
    with pytest.raises(ValueError, match="payment_id reused"):
        sim.pay(order(card=card_ending("7777")), 1.0)
    assert len(sim.executed) == 1


@pytest.mark.parametrize("behaviour", ["CARD_INVALID", "CARD_FROZEN", "NAME_MISMATCH"])
def test_cards_the_check_refuses(behaviour: str):
    sim = gateway(_3446=behaviour)
    assert sim.check_card(payee(), 1.0) == CardCheck(False, behaviour)
    assert sim.pay(order(), 1.0) == PaymentResult("PAY-L1", FAILED, reason=behaviour)
    assert sim.query("PAY-L1", 1.0).status is FAILED
    assert sim.executed == [] and sim.paid_total == 0


def test_a_card_failing_the_luhn_check_is_invalid_whatever_the_rules():
    bad = CARD[:-1] + str((int(CARD[-1]) + 1) % 10)
    assert not luhn_valid(bad)
    sim = SimulatedPaymentGateway(card_rules={bad[-4:]: "UNKNOWN_THEN_PAID"})
    assert sim.check_card(payee(bad), 1.0) == CardCheck(False, "CARD_INVALID")
    assert sim.pay(order(card=bad), 1.0) == PaymentResult("PAY-L1", FAILED, reason="CARD_INVALID")
    assert sim.executed == []


def test_declined():
    sim = gateway(_3446="DECLINED")
    assert sim.check_card(payee(), 1.0) == CardCheck(True)
    assert sim.pay(order(), 1.0) == PaymentResult("PAY-L1", FAILED, reason="DECLINED")
    assert sim.pay(order(), 1.0).status is FAILED  # the id is used up
    assert sim.executed == []


def test_timeout_then_paid():
    sim = gateway(_3446="TIMEOUT_THEN_PAID")
    assert sim.check_card(payee(), 1.0).valid
    with pytest.raises(PaymentTimeout):
        sim.pay(order(), 1.0)
    assert len(sim.executed) == 1 and sim.paid_total == Decimal("12000.00")  # the money moved all the same
    queried = sim.query("PAY-L1", 1.0)
    assert queried.status is PAID and queried.reference
    assert sim.pay(order(), 1.0) == queried  # paying again answers the recorded payment
    assert len(sim.executed) == 1


def test_timeout_not_received():
    sim = gateway(_3446="TIMEOUT_NOT_RECEIVED")
    with pytest.raises(PaymentTimeout):
        sim.pay(order(), 1.0)
    assert sim.query("PAY-L1", 1.0).status is NOT_FOUND
    assert sim.payments == {} and sim.executed == []


@pytest.mark.parametrize("pending", [0, 1, 3])
def test_unknown_then_paid(pending: int):
    sim = replace(gateway(_3446="UNKNOWN_THEN_PAID"), pending_queries=pending)
    assert sim.pay(order(), 1.0) == PaymentResult("PAY-L1", PROCESSING)
    assert len(sim.executed) == 1  # the money moved; the answer is not known yet
    assert [sim.query("PAY-L1", 1.0).status for _ in range(pending)] == [PROCESSING] * pending
    assert sim.pay(order(), 1.0).status is PAID  # a repeated pay answers the now known outcome
    assert sim.query("PAY-L1", 1.0).status is PAID
    assert len(sim.executed) == 1


def test_a_repeated_pay_while_processing_answers_processing_and_pays_nothing():
    sim = gateway(_3446="UNKNOWN_THEN_PAID")
    sim.pay(order(), 1.0)
    assert sim.pay(order(), 1.0).status is PROCESSING
    assert sim.query("PAY-L1", 1.0).status is PROCESSING  # a pay is no query: still 1 pending
    assert sim.query("PAY-L1", 1.0).status is PAID
    assert len(sim.executed) == 1


def test_unknown_then_failed():
    sim = gateway(_3446="UNKNOWN_THEN_FAILED")
    assert sim.pay(order(), 1.0).status is PROCESSING
    assert sim.query("PAY-L1", 1.0).status is PROCESSING
    assert sim.query("PAY-L1", 1.0) == PaymentResult("PAY-L1", FAILED, reason="DECLINED")
    assert sim.executed == [] and sim.platform_balance == Decimal("100000000.00")


def test_gateway_down():
    sim = gateway(_3446="GATEWAY_DOWN")
    assert sim.check_card(payee(), 1.0).valid
    with pytest.raises(GatewayUnavailable):
        sim.pay(order(), 1.0)
    assert sim.query("PAY-L1", 1.0).status is NOT_FOUND and sim.executed == []


def test_insufficient_platform_funds():
    sim = SimulatedPaymentGateway(platform_balance=Decimal("20000.00"))
    assert sim.pay(order("PAY-1", "15000.00"), 1.0).status is PAID
    assert sim.pay(order("PAY-2", "5000.01", loan_id="L2"), 1.0) == PaymentResult("PAY-2", FAILED, reason=INSUFFICIENT_PLATFORM_FUNDS)
    assert sim.pay(order("PAY-3", "5000.00", loan_id="L3"), 1.0).status is PAID  # exactly what is left
    assert sim.platform_balance == 0 and sim.paid_total == Decimal("20000.00")
    assert [o.payment_id for o in sim.executed] == ["PAY-1", "PAY-3"]


def test_concurrent_pays_of_one_id_pay_once():
    sim = SimulatedPaymentGateway()
    results: list[PaymentResult] = []
    start = threading.Barrier(8)

    def pay() -> None:
        start.wait()
        results.append(sim.pay(order(), 1.0))

    threads = [threading.Thread(target=pay) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8 and len(set(results)) == 1 and results[0].status is PAID
    assert len(sim.executed) == 1 and sim.paid_total == Decimal("12000.00")


def test_the_simulator_checks_its_settings():
    with pytest.raises(ValueError):
        SimulatedPaymentGateway(card_rules={"3446": "EXPLODE"})
    with pytest.raises(ValueError):
        SimulatedPaymentGateway(card_rules={"344": "DECLINED"})
    with pytest.raises(ValueError):
        SimulatedPaymentGateway(card_rules={"34467": "DECLINED"})
    with pytest.raises(ValueError):
        SimulatedPaymentGateway(card_rules={"abcd": "DECLINED"})
    with pytest.raises(ValueError):
        SimulatedPaymentGateway(platform_balance=Decimal("-1.00"))
    with pytest.raises(ValueError):
        SimulatedPaymentGateway(platform_balance=100)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        SimulatedPaymentGateway(platform_balance=Decimal("Infinity"))
    with pytest.raises(ValueError):
        SimulatedPaymentGateway(pending_queries=-1)
    sim = SimulatedPaymentGateway()
    with pytest.raises(ValueError):
        sim.pay(order(), 0)
    with pytest.raises(ValueError):
        sim.query("PAY-L1", -1)
    with pytest.raises(ValueError):
        sim.check_card(payee(), True)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        sim.query("", 1.0)
    assert SimulatedPaymentGateway(platform_balance=Decimal("0")).platform_balance == 0


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Decimal, int, list[tuple[str, Decimal]], list[tuple[str, int]]]:
    balance = Decimal(draw(st.integers(0, 600_000))) / 100
    pending = draw(st.integers(0, 2))
    orders = [(draw(st.sampled_from((None,) + BEHAVIOURS)), Decimal(draw(st.integers(1, 300_000))) / 100) for _ in range(4)]
    calls = draw(st.lists(st.tuples(st.sampled_from(("pay", "query")), st.integers(0, 3)), max_size=25))
    return balance, pending, orders, calls


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_money_moves_at_most_once_per_id_whatever_the_calls(scenario: Any):
    balance, pending, orders, calls = scenario
    rules = {f"{i:04d}": behaviour for i, (behaviour, _) in enumerate(orders) if behaviour}
    sim = SimulatedPaymentGateway(platform_balance=balance, card_rules=rules, pending_queries=pending)
    made = [order(f"PAY-{i}", f"{amount}", card_ending(f"{i:04d}"), loan_id=f"L{i}") for i, (_, amount) in enumerate(orders)]
    for call, i in calls:
        try:
            result = sim.pay(made[i], 1.0) if call == "pay" else sim.query(made[i].payment_id, 1.0)
        except (PaymentTimeout, GatewayUnavailable):
            continue
        assert result.payment_id == made[i].payment_id
        assert result.status is not NOT_FOUND or call == "query"
        ids = [o.payment_id for o in sim.executed]
        assert len(ids) == len(set(ids))  # at most once per id
        assert sim.platform_balance + sim.paid_total == balance and sim.platform_balance >= 0
    # in the end, a payment reads PAID exactly when money moved for it
    executed = {o.payment_id for o in sim.executed}
    for o in made:
        final = [sim.query(o.payment_id, 1.0) for _ in range(pending + 1)][-1]
        assert (final.status is PAID) == (o.payment_id in executed)
        assert final.status is not PROCESSING


# -- over HTTP --------------------------------------------------------------------------------

PAID_ANSWER = {"payment_id": "PAY-L1", "status": "PAID", "reference": "T202601150001", "paid_at": "2026-01-15T10:30:00+08:00"}


class Gateway(StubServer):
    """A tiny payment gateway on 127.0.0.1: ``respond`` decides each answer as (status, body, delay)."""

    def __init__(self) -> None:
        super().__init__((200, PAID_ANSWER, 0.0))

    def gateway(self) -> HttpPaymentGateway:
        return HttpPaymentGateway(self.url + "/", CLIENT_ID, SECRET, clock=lambda: 1768444200.0)


@pytest.fixture
def server() -> Iterator[Gateway]:
    stub = Gateway()
    yield stub
    stub.close()


def check_signature(sent: dict[str, Any]) -> None:
    headers = sent["headers"]
    assert headers["X-Client-Id"] == CLIENT_ID and headers["X-Timestamp"] == "1768444200"
    message = "\n".join(["POST", sent["path"], headers["X-Timestamp"], headers["X-Nonce"], hashlib.sha256(sent["body"]).hexdigest()])
    assert headers["X-Signature"] == hmac.new(SECRET.encode(), message.encode(), hashlib.sha256).hexdigest()


def test_a_payment_is_signed_and_carries_the_order(server: Gateway):
    result = server.gateway().pay(order(), 2.0)
    assert result == PaymentResult("PAY-L1", PAID, reference="T202601150001", paid_at="2026-01-15T10:30:00+08:00")
    (sent,) = server.requests
    assert sent["path"] == "/v1/payments"
    assert json.loads(sent["body"]) == order().to_wire()
    check_signature(sent)
    assert sent["headers"]["X-Request-Id"] == "PAY-L1"


def test_a_query_is_signed_and_carries_the_id(server: Gateway):
    assert server.gateway().query("PAY-L1", 2.0).status is PAID
    (sent,) = server.requests
    assert sent["path"] == "/v1/payments/query" and json.loads(sent["body"]) == {"payment_id": "PAY-L1"}
    check_signature(sent)
    assert sent["headers"]["X-Request-Id"] == "PAY-L1"


def test_a_card_check(server: Gateway):
    server.respond = lambda request: (200, {"valid": True}, 0.0)
    client = server.gateway()
    assert client.check_card(payee(), 2.0) == CardCheck(True)
    server.respond = lambda request: (200, {"valid": False, "reason": "CARD_FROZEN"}, 0.0)
    assert client.check_card(payee(), 2.0) == CardCheck(False, "CARD_FROZEN")
    server.respond = lambda request: (200, {"valid": False}, 0.0)
    assert client.check_card(payee(), 2.0) == CardCheck(False, "CARD_INVALID")
    first, second, _ = server.requests
    assert first["path"] == "/v1/card-verifications"
    assert json.loads(first["body"]) == {"card_number": CARD, "account_name": NAME, "bank_name": "中国工商银行"}
    check_signature(first)
    ids = {first["headers"]["X-Request-Id"], second["headers"]["X-Request-Id"]}
    assert len(ids) == 2 and all(len(i) == 32 for i in ids)  # a fresh id per check


def test_a_card_failing_the_luhn_check_is_not_sent(server: Gateway):
    bad = CARD[:-1] + str((int(CARD[-1]) + 1) % 10)
    assert server.gateway().check_card(payee(bad), 2.0) == CardCheck(False, "CARD_INVALID")
    assert server.requests == []


@pytest.mark.parametrize("status", [400, 401, 403, 422])
def test_a_card_check_refused_by_the_gateway(server: Gateway, status: int):
    server.respond = lambda request: (status, {"code": "BAD"}, 0.0)
    assert server.gateway().check_card(payee(), 2.0) == CardCheck(False, GATEWAY_REJECTED)


@pytest.mark.parametrize("answer", [(500, {"code": "DOWN"}), (429, {}), (200, b"not json"), (200, {"valid": "yes"})])
def test_a_card_check_without_a_usable_answer_is_unavailable(server: Gateway, answer: tuple[int, Any]):
    server.respond = lambda request: (*answer, 0.0)
    with pytest.raises(GatewayUnavailable):
        server.gateway().check_card(payee(), 2.0)


def test_a_failure_passes_the_reason_scrubbed_and_cut(server: Gateway):
    server.respond = lambda request: (200, {"payment_id": "PAY-L1", "status": "FAILED", "reason": "CARD_FROZEN"}, 0.0)
    assert server.gateway().pay(order(), 2.0) == PaymentResult("PAY-L1", FAILED, reason="CARD_FROZEN")
    server.respond = lambda request: (200, {"status": "FAILED", "reason": f"card {CARD} frozen " + "x" * 500}, 0.0)
    result = server.gateway().pay(order(), 2.0)
    assert result.status is FAILED and CARD not in result.reason and "3446" in result.reason and len(result.reason) == 200
    server.respond = lambda request: (200, {"status": "FAILED"}, 0.0)
    assert server.gateway().pay(order(), 2.0) == PaymentResult("PAY-L1", FAILED, reason="DECLINED")


def test_processing_is_processing(server: Gateway):
    server.respond = lambda request: (200, {"payment_id": "PAY-L1", "status": "PROCESSING"}, 0.0)
    assert server.gateway().pay(order(), 2.0) == PaymentResult("PAY-L1", PROCESSING)
    assert server.gateway().query("PAY-L1", 2.0) == PaymentResult("PAY-L1", PROCESSING)


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429, 409, 202, 302])
def test_a_server_error_on_pay_is_an_unknown_outcome_never_a_failure(server: Gateway, status: int):
    server.respond = lambda request: (status, {"code": "DOWN"}, 0.0)
    assert server.gateway().pay(order(), 2.0) == PaymentResult("PAY-L1", PROCESSING)


@pytest.mark.parametrize(
    "payload",
    [b"not json", b"\xff\xfe", [1], {"status": "DONE"}, {"status": "NOT_FOUND"}, {"payment_id": "PAY-OTHER", "status": "FAILED"}, {}],
)
def test_an_unreadable_answer_to_pay_is_an_unknown_outcome(server: Gateway, payload: Any):
    server.respond = lambda request: (200, payload, 0.0)
    assert server.gateway().pay(order(), 2.0) == PaymentResult("PAY-L1", PROCESSING)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_a_client_error_on_pay_is_a_rejection(server: Gateway, status: int):
    server.respond = lambda request: (status, {"code": "BAD"}, 0.0)
    assert server.gateway().pay(order(), 2.0) == PaymentResult("PAY-L1", FAILED, reason=GATEWAY_REJECTED)


@pytest.mark.parametrize("reference", [None, "", " ", 12345, "R" * 129])
def test_paid_without_a_reference_is_processing(server: Gateway, reference: Any):
    server.respond = lambda request: (200, {**PAID_ANSWER, "reference": reference}, 0.0)
    assert server.gateway().pay(order(), 2.0) == PaymentResult("PAY-L1", PROCESSING)
    assert server.gateway().query("PAY-L1", 2.0) == PaymentResult("PAY-L1", PROCESSING)


def test_paid_with_an_unreadable_time_keeps_the_payment(server: Gateway):
    server.respond = lambda request: (200, {**PAID_ANSWER, "paid_at": "yesterday"}, 0.0)
    assert server.gateway().pay(order(), 2.0) == PaymentResult("PAY-L1", PAID, reference="T202601150001")


def test_a_query_of_an_unknown_id_is_not_found(server: Gateway):
    server.respond = lambda request: (404, {"code": "NOT_FOUND"}, 0.0)
    assert server.gateway().query("PAY-L1", 2.0) == PaymentResult("PAY-L1", NOT_FOUND)
    server.respond = lambda request: (200, {"payment_id": "PAY-L1", "status": "NOT_FOUND"}, 0.0)
    assert server.gateway().query("PAY-L1", 2.0) == PaymentResult("PAY-L1", NOT_FOUND)


@pytest.mark.parametrize(
    "answer", [(500, {"code": "DOWN"}), (429, {}), (400, {}), (409, {}), (200, b"not json"), (200, {"payment_id": "PAY-OTHER", "status": "PAID", "reference": "T1"})]
)
def test_a_query_without_a_usable_answer_is_unavailable(server: Gateway, answer: tuple[int, Any]):
    server.respond = lambda request: (*answer, 0.0)
    with pytest.raises(GatewayUnavailable):
        server.gateway().query("PAY-L1", 2.0)


def test_no_answer_in_time_is_a_timeout(server: Gateway):
    server.respond = lambda request: (200, PAID_ANSWER, 0.5)
    client = server.gateway()
    started = time.monotonic()
    with pytest.raises(PaymentTimeout):
        client.pay(order(), 0.1)
    with pytest.raises(PaymentTimeout):
        client.query("PAY-L1", 0.1)
    with pytest.raises(PaymentTimeout):
        client.check_card(payee(), 0.1)
    assert time.monotonic() - started < 1.0


def test_an_unreachable_gateway_is_unavailable():
    listener = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    url = f"http://127.0.0.1:{listener.server_address[1]}"
    listener.server_close()  # nothing listens there any more
    client = HttpPaymentGateway(url, CLIENT_ID, SECRET)
    with pytest.raises(GatewayUnavailable):
        client.pay(order(), 1.0)
    with pytest.raises(GatewayUnavailable):
        client.query("PAY-L1", 1.0)
    with pytest.raises(GatewayUnavailable):
        client.check_card(payee(), 1.0)


class BrokenPool:
    """A connection pool whose request fails after it may have been sent (reset mid-answer)."""

    def request(self, *args: Any, **kwargs: Any) -> Any:
        from urllib3.exceptions import ProtocolError

        raise ProtocolError("Connection aborted.", ConnectionResetError(104, "reset"))


def test_a_transport_failure_on_pay_is_an_unknown_outcome():
    client = HttpPaymentGateway("https://pay.bank.example", CLIENT_ID, SECRET, http=BrokenPool())
    assert client.pay(order(), 1.0) == PaymentResult("PAY-L1", PROCESSING)
    with pytest.raises(GatewayUnavailable):
        client.query("PAY-L1", 1.0)
    with pytest.raises(GatewayUnavailable):
        client.check_card(payee(), 1.0)


def test_configuration_is_checked():
    with pytest.raises(ValueError):
        HttpPaymentGateway("ftp://pay.bank.example", CLIENT_ID, SECRET)
    with pytest.raises(ValueError):
        HttpPaymentGateway("https://pay.bank.example?x=1", CLIENT_ID, SECRET)
    with pytest.raises(ValueError):
        HttpPaymentGateway("https://pay.bank.example", CLIENT_ID, "")
    with pytest.raises(ValueError):
        HttpPaymentGateway("https://pay.bank.example", "", SECRET)
    client = HttpPaymentGateway("https://pay.bank.example", CLIENT_ID, SECRET)
    assert SECRET not in repr(client) and CLIENT_ID in repr(client)
    with pytest.raises(ValueError):
        client.pay(order(), 0)
    with pytest.raises(ValueError):
        client.query("PAY L1", 1.0)
    with pytest.raises(ValueError):
        client.pay("PAY-L1", 1.0)  # type: ignore[arg-type]
