"""The pure parts of ``bench/load.py``: percentiles, a level's summary, the saturation point, the
run's applicants and its arguments. No stack is started."""
from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest

from bench.load import (
    Level,
    conclusion,
    failure_name,
    _proc_tree_cpu_seconds,
    levels_argument,
    load_applicant,
    percentile,
    saturation_point,
    summarise,
    what_saturates,
)


def test_percentiles_interpolate_between_closest_ranks():
    values = [5.0, 1.0, 4.0, 2.0, 3.0]  # any order
    assert percentile(values, 0) == 1.0
    assert percentile(values, 50) == 3.0
    assert percentile(values, 100) == 5.0
    assert percentile(values, 95) == pytest.approx(4.8)  # numpy.percentile([1, 2, 3, 4, 5], 95)
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([7.0], 95) == 7.0


def test_a_percentile_needs_values_and_a_rank_from_0_to_100():
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_a_level_counts_every_failure_by_what_went_wrong():
    samples = [(0.1, None), (0.3, "401 NONCE_REPLAYED"), (0.2, None), (0.4, "ConnectionError"), (0.5, "401 NONCE_REPLAYED")]
    level = summarise(4, samples, seconds=2.5)
    assert (level.concurrency, level.requests, level.ok) == (4, 5, 2)
    assert level.errors == {"401 NONCE_REPLAYED": 2, "ConnectionError": 1}
    assert level.throughput == pytest.approx(2.0)  # failures are completed requests too
    assert level.p50_ms == pytest.approx(300.0)
    assert level.p95_ms == pytest.approx(480.0)


def test_cpu_per_request_counts_the_drain_of_the_workflows():
    level = Level(concurrency=2, requests=10, seconds=5.0, server_cpu_s=4.0, drain_cpu_s=3.0, backlog_after=4, backlog_left=0, drain_s=3.0)
    assert level.server_cpu_per_request == pytest.approx(0.7)
    assert level.server_cores == pytest.approx(0.8)
    assert level.settled_rate == pytest.approx(10 / 8)
    assert Level(concurrency=1, requests=3, seconds=1.0).server_cpu_per_request is None  # CPU not readable


def test_saturation_is_the_first_level_after_which_throughput_stalls_while_p95_rises():
    points = [(1, 10.0, 100.0), (2, 19.0, 110.0), (4, 30.0, 150.0), (8, 31.0, 300.0), (16, 30.5, 600.0)]
    assert saturation_point(points) == 4


def test_saturation_can_be_the_first_level():
    assert saturation_point([(1, 1.78, 1132.0), (2, 1.66, 2163.0), (4, 1.63, 4979.0), (8, 1.93, 8026.0), (16, 1.74, 10942.0)]) == 1


def test_no_saturation_while_throughput_still_grows_at_the_last_level():
    assert saturation_point([(1, 10.0, 100.0), (2, 19.0, 105.0), (4, 36.0, 110.0)]) is None
    # a plateau followed by a jump of 10% or more is not saturation
    assert saturation_point([(1, 10.0, 100.0), (2, 10.5, 150.0), (4, 12.0, 200.0)]) is None


def test_a_stall_without_rising_latency_is_not_saturation():
    # the client's own limit (a fixed rate) keeps latency flat: the stack is not saturated
    assert saturation_point([(1, 10.0, 100.0), (2, 10.2, 99.0), (4, 10.1, 98.0)]) is None


def test_one_level_tells_nothing_and_order_does_not_matter():
    assert saturation_point([(1, 10.0, 100.0)]) is None
    assert saturation_point([(4, 30.0, 150.0), (1, 10.0, 100.0), (8, 31.0, 300.0), (2, 19.0, 110.0)]) == 4


def test_what_saturates_reads_how_busy_the_cores_were():
    level = Level(concurrency=4, requests=40, seconds=10.0, server_cpu_s=9.5, client_cpu_s=0.2)
    assert "one core" in what_saturates(level, cpus=2)
    level = Level(concurrency=4, requests=40, seconds=10.0, server_cpu_s=3.0, client_cpu_s=0.5)
    assert "waiting" in what_saturates(level, cpus=2)
    assert "not told" in what_saturates(Level(concurrency=1), cpus=2)


def test_every_applicant_of_a_run_is_a_person_of_their_own():
    people = [load_applicant(i) for i in (0, 1, 799, 800, 801, 1600, 2399)]
    for field in ("id_number", "mobile"):
        values = [person["applicant"][field] for person in people]
        assert len(set(values)) == len(values), field
    assert len({person["account"]["card_number"] for person in people}) == len(people)
    assert len({person["partner_application_no"] for person in people}) == len(people)
    # the ID's sequence stays in the bureau simulator's clean range (100-899)
    assert all(100 <= int(person["applicant"]["id_number"][14:17]) <= 899 for person in people)


def test_levels_are_increasing_whole_numbers():
    assert levels_argument("1,2,4,8,16") == [1, 2, 4, 8, 16]
    for bad in ("", "0,1", "4,2", "1,1", "one"):
        with pytest.raises(argparse.ArgumentTypeError):
            levels_argument(bad)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="no /proc here")
def test_the_proc_reading_counts_this_process():
    before = _proc_tree_cpu_seconds(os.getpid())
    sum(i * i for i in range(300_000))
    after = _proc_tree_cpu_seconds(os.getpid())
    assert before is not None and after is not None and after >= before >= 0


def test_a_failed_request_is_named_by_its_innermost_cause():
    import requests
    from urllib3.exceptions import MaxRetryError, ProtocolError

    reset = ProtocolError("Connection aborted.", ConnectionResetError(104, "Connection reset by peer"))
    wrapped = requests.ConnectionError(MaxRetryError(None, "/v1/applications", reason=reset))
    assert failure_name(wrapped) == "ConnectionError (ConnectionResetError)"
    assert failure_name(requests.ReadTimeout("read timed out")) == "ReadTimeout"


def test_the_conclusion_counts_the_workflows_for_applications():
    def level(concurrency: int, answered: int, seconds: float, p95: float, left: int, drain: float) -> Level:
        return Level(concurrency=concurrency, requests=answered, seconds=seconds, throughput=answered / seconds, p95_ms=p95,
                     server_cpu_s=seconds, drain_cpu_s=drain, backlog_after=answered // 2, backlog_left=left, drain_s=drain)

    # the intake keeps growing, but only by leaving more and more applications in their workflow
    levels = [level(1, 20, 12.0, 1100, 0, 3.0), level(2, 22, 12.0, 2100, 0, 14.0), level(4, 30, 12.0, 2900, 6, 15.0),
              level(8, 38, 13.0, 6400, 20, 15.0)]
    figures, text = conclusion(levels, cpus=2, load="applications")
    assert figures["concurrency"] == 1 and figures["intake_concurrency"] is None
    assert "Saturation at 1 client thread" in text and "leaving the workflows behind" in text and "20 applications" in text
    assert figures["server_cpu_per_request_s"] == pytest.approx((15 / 20 + 26 / 22) / 2)  # the levels that caught up
