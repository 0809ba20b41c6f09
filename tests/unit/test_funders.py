from __future__ import annotations

import hashlib
import hmac
import json
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import pytest

from chalicelib.ports.funders import (
    FUNDER_DECLINED,
    FUNDER_ERROR,
    FUNDER_REJECTED,
    FunderTimeout,
    FundingAnswer,
    FundingRequest,
    HttpFunderGateway,
    SimulatedFunderGateway,
    request_id,
)

CLIENT_ID = "zhudai-test"
SECRET = "funder-secret-for-tests"
from tests.support.http_stub import StubServer


def make_request(application_id: str = "APP-1", funder: str = "F001") -> FundingRequest:
    return FundingRequest(
        application_id=application_id,
        funder_code=funder,
        amount=Decimal("12000.00"),
        term_months=12,
        annual_rate=Decimal("0.0720"),
        borrower_id_hash="a" * 64,
        branch_code="B001",
    )


# -- the request ------------------------------------------------------------------------------


def test_a_request_checks_its_fields():
    with pytest.raises(ValueError):
        FundingRequest("APP", "F001", Decimal("1.001"), 12, Decimal("0.07"), "h", "B001")
    with pytest.raises(ValueError):
        FundingRequest("APP", "F001", 1000.0, 12, Decimal("0.07"), "h", "B001")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        FundingRequest("APP", "", Decimal("1"), 12, Decimal("0.07"), "h", "B001")
    with pytest.raises(ValueError):
        FundingRequest("APP", "F001", Decimal("1"), 0, Decimal("0.07"), "h", "B001")


# -- the simulator ----------------------------------------------------------------------------


def test_the_simulator_is_deterministic():
    one = SimulatedFunderGateway(approval_rate=0.5, seed="s")
    two = SimulatedFunderGateway(approval_rate=0.5, seed="s")
    for i in range(50):
        request = make_request(f"APP-{i}")
        assert one.ask(request, 1.0) == two.ask(request, 1.0) == one.ask(request, 1.0)


def test_the_seed_and_the_funder_change_the_draw():
    requests = [make_request(f"APP-{i}") for i in range(50)]
    a = [SimulatedFunderGateway(seed="a").draw(r) for r in requests]
    b = [SimulatedFunderGateway(seed="b").draw(r) for r in requests]
    c = [SimulatedFunderGateway(seed="a").draw(make_request(r.application_id, "F002")) for r in requests]
    assert a != b and a != c


@pytest.mark.parametrize("rate", [0.0, 0.3, 0.7, 1.0])
def test_the_approval_rate_is_followed(rate: float):
    gateway = SimulatedFunderGateway(approval_rate=rate, seed="rates")
    answers = [gateway.ask(make_request(f"APP-{i}"), 1.0) for i in range(2000)]
    approved = sum(a.approved for a in answers) / len(answers)
    assert abs(approved - rate) < 0.04
    assert all(a.reference.startswith("SIM-F001-") for a in answers if a.approved)
    assert all(a.reason == FUNDER_DECLINED and a.reference is None for a in answers if not a.approved)


def test_rates_per_funder():
    gateway = SimulatedFunderGateway(approval_rate={"YES": 1.0, "NO": 0.0})
    assert gateway.ask(make_request(funder="YES"), 1.0).approved
    assert not gateway.ask(make_request(funder="NO"), 1.0).approved
    assert not gateway.ask(make_request(funder="UNLISTED"), 1.0).approved


def test_timeouts_and_latency():
    gateway = SimulatedFunderGateway(approval_rate=1.0, latency_seconds={"SLOW": 3.0}, timeouts={"DEAD"})
    started = time.monotonic()
    with pytest.raises(FunderTimeout):
        gateway.ask(make_request(funder="DEAD"), 10.0)
    with pytest.raises(FunderTimeout):
        gateway.ask(make_request(funder="SLOW"), 2.0)
    assert gateway.ask(make_request(funder="SLOW"), 5.0).approved  # slow, but within the timeout
    assert time.monotonic() - started < 0.5  # latency is simulated, not waited for
    assert len(gateway.asked) == 3


def test_the_simulator_sleeps_at_most_its_cap():
    slept: list[float] = []
    gateway = SimulatedFunderGateway(approval_rate=1.0, latency_seconds={"SLOW": 3.0}, timeouts={"DEAD"}, max_sleep=0.02, sleep=slept.append)
    gateway.ask(make_request(funder="SLOW"), 5.0)
    with pytest.raises(FunderTimeout):
        gateway.ask(make_request(funder="DEAD"), 0.01)
    gateway.ask(make_request(funder="FAST"), 5.0)
    assert slept == [0.02, 0.01]


def test_the_simulator_checks_its_settings():
    with pytest.raises(ValueError):
        SimulatedFunderGateway(approval_rate=1.5)
    with pytest.raises(ValueError):
        SimulatedFunderGateway(approval_rate={"F": -0.1})
    with pytest.raises(ValueError):
        SimulatedFunderGateway(latency_seconds={"F": -1})
    with pytest.raises(ValueError):
        SimulatedFunderGateway().ask(make_request(), 0)


# -- over HTTP --------------------------------------------------------------------------------


class Funder(StubServer):
    """A tiny funder on 127.0.0.1: ``respond`` decides each answer as (status, body, delay)."""

    def __init__(self) -> None:
        super().__init__((200, {"approved": True, "reference": "FND-0001"}, 0.0))

    def gateway(self) -> HttpFunderGateway:
        return HttpFunderGateway({"F001": self.url}, CLIENT_ID, SECRET, clock=lambda: 1768444200.0)


@pytest.fixture
def funder() -> Iterator[Funder]:
    server = Funder()
    yield server
    server.close()


def test_an_approval_is_signed_and_carries_the_request(funder: Funder):
    answer = funder.gateway().ask(make_request(), 2.0)
    assert answer == FundingAnswer(True, reference="FND-0001")
    (sent,) = funder.requests
    assert sent["path"] == "/v1/funding-requests"
    body = json.loads(sent["body"])
    assert body == {
        "request_id": request_id(make_request()),
        "application_id": "APP-1",
        "amount": "12000.00",
        "term_months": 12,
        "annual_rate": "0.0720",
        "borrower_id_hash": "a" * 64,
        "branch_code": "B001",
        "purpose": "LOAN",
    }
    headers = sent["headers"]
    assert headers["X-Client-Id"] == CLIENT_ID and headers["X-Timestamp"] == "1768444200"
    assert headers["X-Request-Id"] == body["request_id"]
    message = "\n".join(["POST", sent["path"], headers["X-Timestamp"], headers["X-Nonce"], hashlib.sha256(sent["body"]).hexdigest()])
    assert headers["X-Signature"] == hmac.new(SECRET.encode(), message.encode(), hashlib.sha256).hexdigest()


def test_a_refusal(funder: Funder):
    funder.respond = lambda request: (200, {"approved": False, "reason": "OVER_EXPOSURE"}, 0.0)
    assert funder.gateway().ask(make_request(), 2.0) == FundingAnswer(False, reason="OVER_EXPOSURE")
    funder.respond = lambda request: (200, {"approved": False}, 0.0)
    assert funder.gateway().ask(make_request(), 2.0) == FundingAnswer(False, reason=FUNDER_DECLINED)


def test_no_answer_in_time_is_a_timeout(funder: Funder):
    funder.respond = lambda request: (200, {"approved": True, "reference": "LATE"}, 1.0)
    started = time.monotonic()
    with pytest.raises(FunderTimeout):
        funder.gateway().ask(make_request(), 0.2)
    assert time.monotonic() - started < 0.9


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_a_server_error_is_a_refusal(funder: Funder, status: int):
    funder.respond = lambda request: (status, {"code": "DOWN", "message": "down"}, 0.0)
    assert funder.gateway().ask(make_request(), 2.0) == FundingAnswer(False, reason=FUNDER_ERROR)


def test_a_client_error_is_a_refusal(funder: Funder):
    funder.respond = lambda request: (400, {"code": "BAD", "message": "bad"}, 0.0)
    assert funder.gateway().ask(make_request(), 2.0) == FundingAnswer(False, reason=FUNDER_REJECTED)


@pytest.mark.parametrize("payload", [b"not json", {"approved": "yes"}, {"approved": True}, [1]])
def test_an_unreadable_answer_is_a_refusal(funder: Funder, payload: Any):
    funder.respond = lambda request: (200, payload, 0.0)
    assert funder.gateway().ask(make_request(), 2.0) == FundingAnswer(False, reason=FUNDER_ERROR)


def test_an_unreachable_funder_is_a_refusal():
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    server.server_close()  # nothing listens there any more
    gateway = HttpFunderGateway({"F001": url}, CLIENT_ID, SECRET)
    assert gateway.ask(make_request(), 1.0) == FundingAnswer(False, reason=FUNDER_ERROR)


def test_configuration_is_checked():
    with pytest.raises(ValueError):
        HttpFunderGateway({"F001": "ftp://funder"}, CLIENT_ID, SECRET)
    with pytest.raises(ValueError):
        HttpFunderGateway({"F001": "https://funder"}, CLIENT_ID, "")
    gateway = HttpFunderGateway({"F001": "https://funder"}, CLIENT_ID, SECRET)
    assert SECRET not in repr(gateway)
    with pytest.raises(ValueError):
        gateway.ask(make_request(funder="F999"), 1.0)


def test_a_drawdown_tells_the_funder_the_line_and_a_purpose_is_checked():
    from dataclasses import replace

    drawdown = replace(make_request(), purpose="DRAWDOWN", credit_line_id="CL1")
    assert drawdown.to_wire()["purpose"] == "DRAWDOWN" and drawdown.to_wire()["credit_line_id"] == "CL1"
    with pytest.raises(ValueError):
        replace(make_request(), purpose="DRAWDOWN")
    with pytest.raises(ValueError):
        replace(make_request(), purpose="GIFT")
