"""Quotas against moto: all or nothing, exactly once, nothing oversold under many threads."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from chalicelib.persistence import quotas
from chalicelib.persistence.quotas import QuotaPart
from local import moto_atomicity

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=timezone(timedelta(hours=8)))
DAY = date(2026, 11, 23)


def serialise_moto(monkeypatch: pytest.MonkeyPatch) -> None:
    """Moto's DynamoDB made atomic across threads, as DynamoDB is (``local.moto_atomicity``)."""
    moto_atomicity.install()
    quotas.clear_cache()


@pytest.fixture(params=[1, 4], ids=["one-shard", "four-shards"])
def shards(request: pytest.FixtureRequest, aws, monkeypatch: pytest.MonkeyPatch) -> int:  # noqa: ANN001 - the aws fixture
    serialise_moto(monkeypatch)
    return request.param


def configure(shards: int, branch: str = "1000", funder: str = "1000", customer: str = "1000", daily: str = "1000") -> None:
    quotas.set_limit("BRANCH", "B001", "TOTAL", Decimal(branch), shards=shards, now=NOW)
    quotas.set_limit("BRANCH", "B001", DAY, Decimal(daily), shards=shards, now=NOW)
    quotas.set_limit("FUNDER", "F001", "TOTAL", Decimal(funder), shards=shards, now=NOW)
    quotas.set_limit("CUSTOMER", "C001", "TOTAL", Decimal(customer), shards=shards, now=NOW)


def parts(amount: str, customer: str = "C001") -> list[QuotaPart]:
    value = Decimal(amount)
    return [
        QuotaPart("BRANCH", "B001", "TOTAL", value),
        QuotaPart("BRANCH", "B001", DAY, value),
        QuotaPart("FUNDER", "F001", "TOTAL", value),
        QuotaPart("CUSTOMER", customer, "TOTAL", value),
    ]


def remaining() -> dict[str, Decimal]:
    out = {}
    for kind, code, period in (("BRANCH", "B001", "TOTAL"), ("BRANCH", "B001", DAY), ("FUNDER", "F001", "TOTAL"), ("CUSTOMER", "C001", "TOTAL")):
        found = quotas.usage(kind, code, period)
        assert found is not None
        out[f"{kind}/{quotas.day(period) if isinstance(period, date) else period}"] = found[1]
    return out


def test_reserve_and_release(shards: int):
    configure(shards, branch="50000.00", funder="30000.00", customer="20000.00", daily="40000.00")
    assert quotas.reserve("R1", parts("12000.01"), NOW) is True
    assert quotas.usage("BRANCH", "B001", "TOTAL") == (Decimal("50000.00"), Decimal("37999.99"))
    assert quotas.usage("FUNDER", "F001", "TOTAL") == (Decimal("30000.00"), Decimal("17999.99"))
    assert quotas.usage("CUSTOMER", "C001", "TOTAL") == (Decimal("20000.00"), Decimal("7999.99"))
    assert quotas.usage("BRANCH", "B001", DAY) == (Decimal("40000.00"), Decimal("27999.99"))
    assert quotas.get_reservation("R1").status == quotas.RESERVED

    assert quotas.release("R1", NOW) is True
    assert remaining() == {
        "BRANCH/TOTAL": Decimal("50000.00"),
        "BRANCH/DAY#2026-11-23": Decimal("40000.00"),
        "FUNDER/TOTAL": Decimal("30000.00"),
        "CUSTOMER/TOTAL": Decimal("20000.00"),
    }
    assert quotas.get_reservation("R1").status == quotas.RELEASED


def test_amounts_are_exact_to_the_fen(shards: int):
    configure(shards, branch="0.30", funder="0.30", customer="0.30", daily="0.30")
    for i in range(3):
        assert quotas.reserve(f"R{i}", parts("0.10"), NOW) is True
    assert quotas.usage("BRANCH", "B001", "TOTAL") == (Decimal("0.30"), Decimal("0.00"))
    assert quotas.reserve("R3", parts("0.01"), NOW) is False


def test_a_retried_reserve_is_idempotent(shards: int):
    configure(shards)
    before = remaining()
    assert quotas.reserve("R1", parts("100.00"), NOW) is True
    after = remaining()
    assert quotas.reserve("R1", parts("100.00"), NOW) is True  # the retry takes nothing more
    assert remaining() == after
    assert all(after[k] == before[k] - Decimal("100.00") for k in before)
    with pytest.raises(quotas.ReservationConflict):
        quotas.reserve("R1", parts("200.00"), NOW)
    assert quotas.release("R1", NOW) is True
    assert quotas.reserve("R1", parts("100.00"), NOW) is False  # released: a new reservation needs a new id
    assert remaining() == before


def test_release_gives_back_once(shards: int):
    configure(shards)
    before = remaining()
    assert quotas.reserve("R1", parts("300.00"), NOW) is True
    assert quotas.release("R1", NOW) is True
    assert quotas.release("R1", NOW) is False
    assert quotas.release("NEVER-MADE", NOW) is False
    assert remaining() == before


def test_concurrent_releases_give_back_once(shards: int):
    configure(shards)
    before = remaining()
    assert quotas.reserve("R1", parts("300.00"), NOW) is True
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: quotas.release("R1", NOW), range(8)))
    assert answers.count(True) == 1
    assert remaining() == before


@pytest.mark.parametrize("short", ["BRANCH/TOTAL", "BRANCH/DAY", "FUNDER/TOTAL", "CUSTOMER/TOTAL"])
def test_a_refusal_leaves_every_counter_untouched(shards: int, short: str):
    limits = {"branch": "1000", "daily": "1000", "funder": "1000", "customer": "1000"}
    limits[{"BRANCH/TOTAL": "branch", "BRANCH/DAY": "daily", "FUNDER/TOTAL": "funder", "CUSTOMER/TOTAL": "customer"}[short]] = "499.99"
    configure(shards, **limits)
    before = remaining()
    assert quotas.reserve("R1", parts("500.00"), NOW) is False
    assert remaining() == before
    assert quotas.get_reservation("R1") is None
    assert quotas.reserve("R2", parts("499.99"), NOW) is True


def test_an_unconfigured_quota_refuses(shards: int):
    configure(shards)
    before = remaining()
    assert quotas.reserve("R1", parts("1.00", customer="C-UNKNOWN"), NOW) is False
    day_after = [QuotaPart("BRANCH", "B001", DAY + timedelta(days=1), Decimal("1.00"))]
    assert quotas.reserve("R2", day_after, NOW) is False
    assert remaining() == before


def test_changing_the_limit_keeps_what_is_reserved(shards: int):
    configure(shards)
    assert quotas.reserve("R1", parts("400.00"), NOW) is True
    quotas.set_limit("FUNDER", "F001", "TOTAL", Decimal("700.00"), shards=shards, now=NOW)
    assert quotas.usage("FUNDER", "F001", "TOTAL") == (Decimal("700.00"), Decimal("300.00"))
    assert quotas.release("R1", NOW) is True
    assert quotas.usage("FUNDER", "F001", "TOTAL") == (Decimal("700.00"), Decimal("700.00"))


def test_the_shard_count_changes_only_when_nothing_is_reserved(aws, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN001
    serialise_moto(monkeypatch)
    quotas.set_limit("BRANCH", "B9", "TOTAL", Decimal("1000"), shards=1, now=NOW)
    quotas.set_limit("BRANCH", "B9", "TOTAL", Decimal("1000"), shards=4, now=NOW)
    assert quotas.usage("BRANCH", "B9", "TOTAL") == (Decimal("1000.00"), Decimal("1000.00"))
    assert quotas.reserve("R1", [QuotaPart("BRANCH", "B9", "TOTAL", Decimal("10"))], NOW) is True
    with pytest.raises(ValueError):
        quotas.set_limit("BRANCH", "B9", "TOTAL", Decimal("1000"), shards=2, now=NOW)
    assert quotas.release("R1", NOW) is True
    quotas.set_limit("BRANCH", "B9", "TOTAL", Decimal("999.99"), shards=3, now=NOW)
    assert quotas.usage("BRANCH", "B9", "TOTAL") == (Decimal("999.99"), Decimal("999.99"))
    assert quotas.reserve("R2", [QuotaPart("BRANCH", "B9", "TOTAL", Decimal("999.99"))], NOW) is True


def test_many_threads_admit_exactly_what_fits(shards: int):
    # Q = 25 reservations of 1,000.00 fit the funder; K = 40 threads try.
    configure(shards, branch="1000000", funder="25000.00", customer="1000000", daily="1000000")
    before = remaining()
    start = threading.Barrier(40)

    def attempt(i: int) -> bool:
        start.wait()
        return quotas.reserve(f"R{i:02d}", parts("1000.00"), NOW)

    with ThreadPoolExecutor(40) as pool:
        answers = list(pool.map(attempt, range(40)))
    admitted = [i for i, ok in enumerate(answers) if ok]
    assert len(admitted) == 25
    assert quotas.usage("FUNDER", "F001", "TOTAL") == (Decimal("25000.00"), Decimal("0.00"))
    assert quotas.usage("BRANCH", "B001", "TOTAL")[1] == before["BRANCH/TOTAL"] - Decimal("25000.00")

    with ThreadPoolExecutor(40) as pool:
        released = list(pool.map(lambda i: quotas.release(f"R{i:02d}", NOW), range(40)))
    assert [i for i, ok in enumerate(released) if ok] == admitted
    assert remaining() == before


def test_many_threads_of_uneven_amounts_never_oversell(shards: int):
    configure(shards, branch="10000.00", funder="1000000", customer="1000000", daily="1000000")
    amounts = [Decimal(f"{137 + 53 * i}.{i:02d}") for i in range(40)]
    start = threading.Barrier(40)

    def attempt(i: int) -> bool:
        start.wait()
        return quotas.reserve(f"U{i:02d}", parts(str(amounts[i])), NOW)

    with ThreadPoolExecutor(40) as pool:
        answers = list(pool.map(attempt, range(40)))
    taken = sum((a for a, ok in zip(amounts, answers) if ok), Decimal(0))
    left = quotas.usage("BRANCH", "B001", "TOTAL")[1]
    assert taken <= Decimal("10000.00") and left == Decimal("10000.00") - taken
    # every refusal was right: what was left could not take it
    assert all(a > left for a, ok in zip(amounts, answers) if not ok)
    for i, ok in enumerate(answers):
        assert quotas.release(f"U{i:02d}", NOW) is ok
    assert quotas.usage("BRANCH", "B001", "TOTAL") == (Decimal("10000.00"), Decimal("10000.00"))


def test_daily_items_expire_and_totals_do_not(shards: int):
    configure(shards)
    daily = quotas.QuotaItem.get("QUOTA#BRANCH#B001", "DAY#2026-11-23", consistent_read=True)
    end_of_day = datetime(2026, 11, 24, tzinfo=timezone(timedelta(hours=8)))
    assert daily.expires_at == int((end_of_day + timedelta(days=quotas.DAILY_RETENTION_DAYS)).timestamp())
    total = quotas.QuotaItem.get("QUOTA#BRANCH#B001", "TOTAL", consistent_read=True)
    assert total.expires_at is None
    if shards > 1:
        shard = quotas.QuotaItem.get("QUOTA#BRANCH#B001", "DAY#2026-11-23#s0", consistent_read=True)
        assert shard.expires_at == daily.expires_at


def test_a_release_after_the_daily_item_expired_returns_the_rest(shards: int):
    configure(shards)
    before = remaining()
    assert quotas.reserve("R1", parts("100.00"), NOW) is True
    for item in quotas.QuotaItem.query("QUOTA#BRANCH#B001", quotas.QuotaItem.sk.startswith("DAY#")):
        item.delete()  # what the TTL does a few days after the day
    assert quotas.release("R1", NOW) is True
    assert quotas.usage("BRANCH", "B001", "TOTAL")[1] == before["BRANCH/TOTAL"]
    assert quotas.usage("FUNDER", "F001", "TOTAL")[1] == before["FUNDER/TOTAL"]
    assert quotas.get_reservation("R1").not_returned


def test_bad_input_is_refused_before_anything_is_written(shards: int):
    configure(shards)
    with pytest.raises(ValueError):
        QuotaPart("BRANCH", "B001", "TOTAL", Decimal("1.001"))
    with pytest.raises(ValueError):
        QuotaPart("BRANCH", "B001", "TOTAL", 1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        QuotaPart("BRANCH", "B#1", "TOTAL", Decimal("1"))
    with pytest.raises(ValueError):
        QuotaPart("BRANCH", "B001", "MONTH", Decimal("1"))
    with pytest.raises(ValueError):
        quotas.reserve("R1", parts("1.00") + parts("1.00")[:1], NOW)
    with pytest.raises(ValueError):
        quotas.set_limit("BRANCH", "B001", "TOTAL", Decimal("-1"))
