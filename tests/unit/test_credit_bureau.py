"""The credit bureau port: the simulator's patterns, the HTTP client against a local server."""
from __future__ import annotations

import hashlib
import json
import socket
import subprocess
import sys
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

import pytest

from chalicelib.domain.identity import parse_resident_id
from chalicelib.domain.signing import sign
from chalicelib.ports.credit_bureau import (
    FACT_NAMES,
    BureauQuery,
    BureauRejected,
    BureauTimeout,
    BureauUnavailable,
    ConsentMissing,
    CreditBureau,
    CreditReport,
    HttpCreditBureau,
    SimulatedCreditBureau,
    make_id,
    request_id,
    reusable,
)

ROOT = Path(__file__).resolve().parents[2]
CST = timezone(timedelta(hours=8))
NOW = datetime(2026, 1, 15, 10, 30, tzinfo=CST)
BRANCH = "B_COUNTY_01"
from tests.support.http_stub import StubServer


def subject_hash(id_number: str) -> str:
    """Stands in for the keyed hash (pii_vault.keyed_hash) that the use case passes."""
    return "kh:" + hashlib.sha256(b"test-key" + id_number.encode()).hexdigest()


def make_query(id_number: str, consent: str = "CONSENT-0001", **overrides: Any) -> BureauQuery:
    fields = dict(
        id_number=id_number,
        name="张三",
        querying_branch=BRANCH,
        consent_reference=consent,
        subject_hash=subject_hash(id_number),
    )
    fields.update(overrides)
    return BureauQuery(**fields)


@pytest.fixture
def bureau() -> SimulatedCreditBureau:
    return SimulatedCreditBureau(clock=lambda: NOW)


# -- make_id -----------------------------------------------------------------------------------


def test_make_id_builds_valid_ids_with_the_sequence():
    for sequence in (0, 1, 900, 955, 999):
        number = make_id(sequence)
        assert parse_resident_id(number).number == number
        assert number[14:17] == f"{sequence:03d}"
    assert make_id(1, birth="19851231", division="440524").startswith("44052419851231001")
    for bad in (-1, 1000, True, "900"):
        with pytest.raises(ValueError):
            make_id(bad)


# -- the simulator's patterns ------------------------------------------------------------------


def test_a_clean_file(bureau: SimulatedCreditBureau):
    number = make_id(123)
    report = bureau.query(make_query(number))
    assert (report.overdue_count_24m, report.max_overdue_days_24m) == (0, 0)
    assert report.current_overdue is False and report.current_overdue_amount == Decimal("0.00")
    assert 0 <= report.inquiries_3m <= 2
    assert 0 <= report.open_loans <= 2
    assert report.blacklisted is False
    assert Decimal("0") <= report.total_debt <= Decimal("100000.00")
    assert (report.total_debt == 0) == (report.open_loans == 0)
    assert report.monthly_repayment == (report.total_debt * Decimal("0.05")).quantize(Decimal("0.01"))
    assert report.querying_branch == BRANCH
    assert report.subject_hash == subject_hash(number)
    assert report.queried_at == NOW
    assert report.source == "SIMULATOR"


def test_clean_files_vary_with_the_id(bureau: SimulatedCreditBureau):
    reports = [bureau.query(make_query(make_id(seq))) for seq in range(0, 200, 7)]
    assert len({(r.inquiries_3m, r.open_loans, r.total_debt) for r in reports}) > 5
    assert all(not r.current_overdue and not r.blacklisted and r.overdue_count_24m == 0 for r in reports)


@pytest.mark.parametrize("sequence", [900, 905, 909])
def test_900_909_overdue_history(bureau: SimulatedCreditBureau, sequence: int):
    report = bureau.query(make_query(make_id(sequence)))
    assert (report.overdue_count_24m, report.max_overdue_days_24m) == (3, 45)
    assert report.current_overdue is False and report.current_overdue_amount == 0
    assert report.blacklisted is False and report.inquiries_3m <= 2


@pytest.mark.parametrize("sequence", [910, 914, 919])
def test_910_919_overdue_now(bureau: SimulatedCreditBureau, sequence: int):
    report = bureau.query(make_query(make_id(sequence)))
    assert report.current_overdue is True
    assert report.current_overdue_amount == Decimal("3200.00")
    assert (report.overdue_count_24m, report.max_overdue_days_24m) == (2, 35)


@pytest.mark.parametrize("sequence", [920, 929])
def test_920_929_many_recent_inquiries(bureau: SimulatedCreditBureau, sequence: int):
    report = bureau.query(make_query(make_id(sequence)))
    assert report.inquiries_3m == 12
    assert report.overdue_count_24m == 0 and not report.current_overdue and not report.blacklisted


@pytest.mark.parametrize("sequence", [930, 939])
def test_930_939_high_debt(bureau: SimulatedCreditBureau, sequence: int):
    report = bureau.query(make_query(make_id(sequence)))
    assert (report.open_loans, report.total_debt, report.monthly_repayment) == (
        9,
        Decimal("860000.00"),
        Decimal("31500.00"),
    )
    assert report.overdue_count_24m == 0 and not report.blacklisted


@pytest.mark.parametrize("sequence", [940, 947])
def test_940_949_blacklisted(bureau: SimulatedCreditBureau, sequence: int):
    report = bureau.query(make_query(make_id(sequence)))
    assert report.blacklisted is True
    assert report.overdue_count_24m == 0 and not report.current_overdue


@pytest.mark.parametrize("sequence", [950, 959])
def test_950_959_always_time_out(bureau: SimulatedCreditBureau, sequence: int):
    for _ in range(3):
        with pytest.raises(BureauTimeout):
            bureau.query(make_query(make_id(sequence)))


@pytest.mark.parametrize("sequence", [960, 969])
def test_960_969_always_unavailable(bureau: SimulatedCreditBureau, sequence: int):
    for _ in range(3):
        with pytest.raises(BureauUnavailable):
            bureau.query(make_query(make_id(sequence)))


def test_970_979_time_out_once_per_id_then_answer(bureau: SimulatedCreditBureau):
    first, second = make_id(970), make_id(978, birth="19800101")
    with pytest.raises(BureauTimeout):
        bureau.query(make_query(first))
    with pytest.raises(BureauTimeout):  # another ID has its own first query
        bureau.query(make_query(second))
    report = bureau.query(make_query(first))
    assert not report.blacklisted and report.overdue_count_24m == 0
    assert bureau.query(make_query(first)) == report
    assert bureau.query(make_query(second)).subject_hash == subject_hash(second)
    with pytest.raises(BureauTimeout):  # the state is per instance
        SimulatedCreditBureau(clock=lambda: NOW).query(make_query(first))


def test_the_simulator_keeps_no_raw_id(bureau: SimulatedCreditBureau):
    number = make_id(973)
    with pytest.raises(BureauTimeout):
        bureau.query(make_query(number))
    report = bureau.query(make_query(number))
    kept = repr(vars(bureau)) + json.dumps(report.to_dict(), ensure_ascii=False) + repr(report)
    assert number not in kept and number[:17] not in kept


def test_patterns_do_not_depend_on_region_or_birth_date(bureau: SimulatedCreditBureau):
    for division, birth in (("110101", "19900307"), ("440524", "19621231"), ("650102", "20000229")):
        report = bureau.query(make_query(make_id(942, birth=birth, division=division)))
        assert report.blacklisted is True


def test_an_invalid_id_is_rejected(bureau: SimulatedCreditBureau):
    number = make_id(123)
    wrong_check = number[:17] + ("0" if number[17] != "0" else "1")
    with pytest.raises(BureauRejected) as caught:
        bureau.query(make_query(wrong_check))
    assert isinstance(caught.value, ValueError)
    assert wrong_check not in str(caught.value)


# -- determinism -------------------------------------------------------------------------------


def test_the_same_query_gives_the_same_report(bureau: SimulatedCreditBureau):
    query = make_query(make_id(456))
    assert bureau.query(query) == bureau.query(query) == SimulatedCreditBureau(clock=lambda: NOW).query(query)


def test_report_ids_depend_on_the_query_time_and_branch():
    query = make_query(make_id(456))
    at_now = SimulatedCreditBureau(clock=lambda: NOW).query(query)
    later = SimulatedCreditBureau(clock=lambda: NOW + timedelta(seconds=1)).query(query)
    other_branch = SimulatedCreditBureau(clock=lambda: NOW).query(replace(query, querying_branch="B_OTHER"))
    assert len({at_now.report_id, later.report_id, other_branch.report_id}) == 3
    assert later.facts() == at_now.facts() == other_branch.facts()


def test_clean_files_are_the_same_in_another_process():
    numbers = [make_id(seq) for seq in (1, 222, 555, 899, 980)]
    here = SimulatedCreditBureau(clock=lambda: NOW)
    expected = [here.query(make_query(n)).to_dict() for n in numbers]
    script = (
        "import json, sys\n"
        "from datetime import datetime\n"
        "from tests.unit.test_credit_bureau import NOW, make_query\n"
        "from chalicelib.ports.credit_bureau import SimulatedCreditBureau\n"
        "b = SimulatedCreditBureau(clock=lambda: NOW)\n"
        "print(json.dumps([b.query(make_query(n)).to_dict() for n in json.loads(sys.argv[1])]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, json.dumps(numbers)],
        cwd=ROOT,
        env={"PYTHONHASHSEED": "12345", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(out.stdout) == expected


def test_the_simulator_is_a_credit_bureau(bureau: SimulatedCreditBureau):
    port: CreditBureau = bureau
    assert isinstance(port.query(make_query(make_id(1))), CreditReport)


# -- consent -----------------------------------------------------------------------------------


@pytest.mark.parametrize("consent", ["", "   ", None])
def test_no_consent_no_query_simulator(consent: Any):
    # 950 would time out: ConsentMissing shows the refusal comes before the bureau is "called"
    with pytest.raises(ConsentMissing):
        SimulatedCreditBureau().query(make_query(make_id(955), consent=consent))


def test_no_consent_no_request_http(gateway: "Gateway"):
    client = gateway.client()
    with pytest.raises(ConsentMissing):
        client.query(make_query(make_id(123), consent=""))
    assert gateway.requests == []


def test_a_query_for_another_purpose_is_refused():
    with pytest.raises(ValueError):
        SimulatedCreditBureau().query(make_query(make_id(1), purpose="MARKETING"))
    with pytest.raises(ValueError):
        SimulatedCreditBureau().query(make_query(make_id(1), querying_branch=""))
    with pytest.raises(ValueError):
        SimulatedCreditBureau().query(make_query(make_id(1), subject_hash=""))


def test_a_query_s_repr_masks_the_id_and_name():
    number = make_id(123)
    text = repr(make_query(number))
    assert number not in text and "张三" not in text
    assert "110101********" in text


# -- the report --------------------------------------------------------------------------------


def test_report_json_round_trip(bureau: SimulatedCreditBureau):
    for sequence in (1, 900, 915, 925, 935, 945):
        report = bureau.query(make_query(make_id(sequence)))
        wire = json.loads(json.dumps(report.to_dict()))
        assert CreditReport.from_dict(wire) == report
        assert wire["queried_at"] == "2026-01-15T10:30:00+08:00"
        for name in ("current_overdue_amount", "total_debt", "monthly_repayment"):
            assert isinstance(wire[name], str) and "." in wire[name]


def test_report_from_dict_refuses_bad_data(bureau: SimulatedCreditBureau):
    good = bureau.query(make_query(make_id(915))).to_dict()
    bad_cases = [
        {**good, "total_debt": 12.5},
        {**good, "total_debt": "-1.00"},
        {**good, "total_debt": "1.005"},
        {**good, "inquiries_3m": -1},
        {**good, "inquiries_3m": True},
        {**good, "blacklisted": "no"},
        {**good, "queried_at": "2026-01-15T10:30:00"},  # no offset
        {**good, "queried_at": "yesterday"},
        {**good, "current_overdue_amount": "0.00"},  # overdue now with nothing overdue
        {k: v for k, v in good.items() if k != "open_loans"},
        {**good, "subject_hash": None},
        [],
    ]
    for case in bad_cases:
        with pytest.raises(ValueError):
            CreditReport.from_dict(case)


def test_facts_names_and_values(bureau: SimulatedCreditBureau):
    facts = bureau.query(make_query(make_id(912))).facts()
    assert set(facts) == {
        "bureau_overdue_count_24m",
        "bureau_max_overdue_days_24m",
        "bureau_current_overdue",
        "bureau_current_overdue_amount",
        "bureau_inquiries_3m",
        "bureau_open_loans",
        "bureau_debt_total",
        "bureau_monthly_repayment",
        "bureau_blacklisted",
    }
    assert set(facts) == set(FACT_NAMES.values())
    assert facts["bureau_current_overdue"] is True
    assert facts["bureau_current_overdue_amount"] == Decimal("3200.00")
    assert facts["bureau_overdue_count_24m"] == 2
    assert isinstance(facts["bureau_debt_total"], Decimal)


# -- reuse within the validity period ---------------------------------------------------------


def test_reusable_within_the_validity_period():
    assert reusable(NOW, NOW, 30)
    assert reusable(NOW, NOW + timedelta(days=29, hours=23), 30)
    assert not reusable(NOW, NOW + timedelta(days=30), 30)
    assert not reusable(NOW, NOW + timedelta(days=31), 30)
    assert not reusable(NOW, NOW, 0)
    assert not reusable(NOW + timedelta(minutes=1), NOW, 30)  # from the future: clock skew
    assert reusable(NOW, datetime(2026, 1, 15, 3, 0, tzinfo=timezone.utc), 1)  # offsets compare correctly


def test_reusable_refuses_naive_times_and_bad_periods():
    with pytest.raises(ValueError):
        reusable(NOW.replace(tzinfo=None), NOW, 30)
    with pytest.raises(ValueError):
        reusable(NOW, NOW.replace(tzinfo=None), 30)
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError):
            reusable(NOW, NOW, bad)


# -- the HTTP client against a local gateway ---------------------------------------------------

SECRET = "gateway-secret-for-tests"
CLIENT_ID = "zhudai-platform"

SUMMARY = {
    "overdue_count_24m": 1,
    "max_overdue_days_24m": 12,
    "current_overdue": False,
    "current_overdue_amount": "0.00",
    "inquiries_3m": 4,
    "open_loans": 2,
    "total_debt": "45000.00",
    "monthly_repayment": "2100.50",
    "blacklisted": False,
}


class Gateway(StubServer):
    """A tiny 征信前置 on 127.0.0.1: ``respond`` decides each answer as (status, body, delay)."""

    def __init__(self) -> None:
        super().__init__((200, {"report_id": "RPT-0001", "queried_at": "2026-01-15T10:30:05+08:00", "summary": SUMMARY}, 0.0))

    def client(self, timeout_seconds: float = 2.0, base_url: str | None = None) -> HttpCreditBureau:
        return HttpCreditBureau(base_url or self.url, CLIENT_ID, SECRET, timeout_seconds, clock=lambda: 1768444200.0)


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    server = Gateway()
    yield server
    server.close()


def test_http_success(gateway: Gateway):
    number = make_id(123)
    query = make_query(number)
    report = gateway.client().query(query)
    assert report == CreditReport(
        report_id="RPT-0001",
        queried_at=datetime(2026, 1, 15, 10, 30, 5, tzinfo=CST),
        querying_branch=BRANCH,
        subject_hash=subject_hash(number),
        overdue_count_24m=1,
        max_overdue_days_24m=12,
        current_overdue=False,
        current_overdue_amount=Decimal("0.00"),
        inquiries_3m=4,
        open_loans=2,
        total_debt=Decimal("45000.00"),
        monthly_repayment=Decimal("2100.50"),
        blacklisted=False,
        source="BUREAU_GATEWAY",
    )
    [request] = gateway.requests
    assert request["path"] == "/v1/reports"
    sent = json.loads(request["body"])
    assert sent == {
        "request_id": request_id(query),
        "id_type": "RESIDENT_ID",
        "id_number": number,
        "name": "张三",
        "querying_branch": BRANCH,
        "purpose": "LOAN_APPROVAL",
        "consent_reference": "CONSENT-0001",
    }
    headers = request["headers"]
    assert headers["X-Client-Id"] == CLIENT_ID
    assert headers["X-Timestamp"] == "1768444200"
    assert headers["X-Request-Id"] == request_id(query)
    expected = sign(SECRET, "POST", "/v1/reports", headers["X-Timestamp"], headers["X-Nonce"], request["body"])
    assert headers["X-Signature"] == expected
    assert SECRET not in repr(gateway.client())


def test_http_base_url_with_a_path(gateway: Gateway):
    gateway.client(base_url=gateway.url + "/credit-gw/").query(make_query(make_id(123)))
    request = gateway.requests[0]
    assert request["path"] == "/credit-gw/v1/reports"
    headers = request["headers"]
    expected = sign(SECRET, "POST", "/credit-gw/v1/reports", headers["X-Timestamp"], headers["X-Nonce"], request["body"])
    assert headers["X-Signature"] == expected


def test_http_retries_of_one_consent_share_the_request_id(gateway: Gateway):
    client = gateway.client()
    client.query(make_query(make_id(123)))
    client.query(make_query(make_id(123)))
    client.query(make_query(make_id(123), consent="CONSENT-0002"))
    ids = [r["headers"]["X-Request-Id"] for r in gateway.requests]
    nonces = {r["headers"]["X-Nonce"] for r in gateway.requests}
    assert ids[0] == ids[1] != ids[2]
    assert len(nonces) == 3


def test_http_timeout(gateway: Gateway):
    gateway.respond = lambda request: (200, {"report_id": "late"}, 1.5)
    started = time.monotonic()
    with pytest.raises(BureauTimeout):
        gateway.client(timeout_seconds=0.3).query(make_query(make_id(123)))
    assert time.monotonic() - started < 1.4


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_http_server_errors_are_unavailable(gateway: Gateway, status: int):
    gateway.respond = lambda request: (status, {"code": "UPSTREAM_DOWN", "message": "PBOC line down"}, 0.0)
    with pytest.raises(BureauUnavailable) as caught:
        gateway.client().query(make_query(make_id(123)))
    assert str(status) in str(caught.value) and "UPSTREAM_DOWN" in str(caught.value)


def test_http_connection_refused_is_unavailable():
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = HttpCreditBureau(f"http://127.0.0.1:{port}", CLIENT_ID, SECRET, 2.0)
    with pytest.raises(BureauUnavailable):
        client.query(make_query(make_id(123)))


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_http_client_errors_are_rejected(gateway: Gateway, status: int):
    number = make_id(123)
    gateway.respond = lambda request: (status, {"code": "INVALID_ID_NUMBER", "message": f"bad id {number}"}, 0.0)
    with pytest.raises(BureauRejected) as caught:
        gateway.client().query(make_query(number))
    assert isinstance(caught.value, ValueError)
    assert (caught.value.status, caught.value.code) == (status, "INVALID_ID_NUMBER")
    assert number not in str(caught.value)  # the gateway's echo is scrubbed


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        {"report_id": "R1", "queried_at": "2026-01-15T10:30:05+08:00"},  # no summary
        {"report_id": "R1", "queried_at": "2026-01-15T10:30:05", "summary": SUMMARY},  # no offset
        {"report_id": "R1", "queried_at": "2026-01-15T10:30:05+08:00", "summary": {**SUMMARY, "total_debt": 45000}},
        {"queried_at": "2026-01-15T10:30:05+08:00", "summary": SUMMARY},
    ],
)
def test_http_garbled_reports_are_unavailable(gateway: Gateway, payload: Any):
    gateway.respond = lambda request: (200, payload, 0.0)
    with pytest.raises(BureauUnavailable):
        gateway.client().query(make_query(make_id(123)))


def test_http_client_configuration_is_checked():
    for args in (
        ("ftp://gw", CLIENT_ID, SECRET, 2.0),
        ("gw.internal", CLIENT_ID, SECRET, 2.0),
        ("https://gw.internal?x=1", CLIENT_ID, SECRET, 2.0),
        ("https://gw.internal", "", SECRET, 2.0),
        ("https://gw.internal", CLIENT_ID, "", 2.0),
        ("https://gw.internal", CLIENT_ID, SECRET, 0),
        ("https://gw.internal", CLIENT_ID, SECRET, -1),
    ):
        with pytest.raises(ValueError):
            HttpCreditBureau(*args)


def test_the_port_does_not_import_requests():
    source = (ROOT / "chalicelib" / "ports" / "credit_bureau.py").read_text(encoding="utf-8")
    assert "import requests" not in source and "from requests" not in source
