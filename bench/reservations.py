"""Quota reservations per second against the local stack, one shard and four shards, then their releases.

Starts the local stack (``local.stack.LocalStack``: moto's ThreadedMotoServer
on loopback with ``local.moto_atomicity`` installed, the declared tables, the
sample configuration), so the app's code talks to moto over HTTP through
pynamodb and botocore, as it talks to DynamoDB. Then, for shards=1 and for
shards=4 (the same workload, each starting from the same table):

- the branch quota BRANCH/BENCH_S<shards>/TOTAL is set to fit ``--fits``
  reservations (default 90% of ``--count``) and the funder quota
  FUNDER/BENCH_S<shards>/TOTAL to fit twice ``--count``, both with that shard
  count (they are the hot items); 10 customers have their own CUSTOMER quotas
  (one shard: they are not hot);
- ``--count`` reservations of 1,000.00 in three parts (branch total, funder
  total, customer) are made from ``--threads`` threads with ``quotas.reserve``
  (one TransactWriteItems when the first shard tried has room), then every
  admitted one is released with ``quotas.release`` (a GetItem and one
  TransactWriteItems); a ``QuotaBusy`` is retried with the same id, as a
  caller would.

Prints reservations per second (every attempt, admitted or refused), releases
per second, the ratio shards=4 / shards=1, the AWS calls per reservation and
how busy moto's DynamoDB was; then a correctness line per run: admitted ==
min(count, fits), every release gave back, and every quota (its shards summed,
``quotas.usage``) back to remaining == limit. Exits non-zero when correctness
fails, never on time: the machine may be shared.

What the figures are, honestly: moto is a single-process simulator, and the
local stack serialises all its DynamoDB calls with one lock
(``local.moto_atomicity``, which makes transactions atomic as DynamoDB's are),
so the reservations run one at a time inside moto whatever the thread count.
The rates measure this code path and its client overhead (pynamodb,
botocore, HTTP on loopback) plus moto's own work, not DynamoDB's ceiling of
about 1,000 writes a second per item. Sharding's gain on DynamoDB (N items
take N x the writes) is not measurable here: a shard adds no parallelism in
moto, and near exhaustion the sharded path tries other shards and reads
snapshots, so the ratio printed is whatever the local stack shows. Moto's
TransactWriteItems also deep-copies the whole table once per item of the
transaction (its rollback copy), which dominates its time: rates fall as the
table grows (reservation records accumulate), so they depend on ``--count``.
The records are deleted after each run (not timed) so both runs start from
the same table.

    python bench/reservations.py [--count 60] [--threads 8] [--fits N]
"""
from __future__ import annotations

import argparse
import collections
import functools
import logging
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from report_kit import add_report_dir, image, md_table, pyplot, save_figure, write_section  # noqa: E402

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=timezone(timedelta(hours=8)))
AMOUNT = Decimal("1000.00")
CUSTOMERS = 10
BUSY_RETRIES = 5


class Meter:
    """AWS calls made by the app's clients (botocore ``before-call``, as ``bench/intake.py`` counts
    them) and the time moto's DynamoDB backend spent working, inside the stack's lock."""

    def __init__(self) -> None:
        self.calls: collections.Counter[str] = collections.Counter()
        self.moto_seconds = 0.0
        self._lock = threading.Lock()
        self._depth = threading.local()

    def install(self) -> None:
        """Before the stack starts: clients are created later, and ``moto_atomicity`` then wraps
        the backend methods timed here in its lock (so waiting for the lock is not counted)."""
        import botocore.session
        from moto.dynamodb.models import DynamoDBBackend

        from local import moto_atomicity

        create = botocore.session.Session.create_client

        def counted(session: Any, *args: Any, **kwargs: Any) -> Any:
            client = create(session, *args, **kwargs)
            client.meta.events.register("before-call", self._count)
            return client

        botocore.session.Session.create_client = counted
        for name in moto_atomicity._MUTATING + moto_atomicity._READING:
            setattr(DynamoDBBackend, name, self._timed(getattr(DynamoDBBackend, name)))

    def _count(self, model: Any, **_: Any) -> None:
        with self._lock:
            self.calls[model.name] += 1

    def _timed(self, method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def timed(*args: Any, **kwargs: Any) -> Any:
            depth = getattr(self._depth, "value", 0)
            self._depth.value = depth + 1
            started = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                self._depth.value = depth
                if depth == 0:  # moto calls its own get_item inside a transaction
                    with self._lock:
                        self.moto_seconds += time.perf_counter() - started

        return timed

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.moto_seconds = 0.0


def code(shards: int) -> str:
    """Each run has its own quotas (BENCH_S1, BENCH_S4): a failed run leaves nothing to the next."""
    return f"BENCH_S{shards}"


def customer(shards: int, i: int) -> str:
    return f"{code(shards)}.C{i % CUSTOMERS:02d}"


def quotas_of_run(shards: int, count: int) -> list[tuple[str, str]]:
    customers = [("CUSTOMER", customer(shards, i)) for i in range(min(count, CUSTOMERS))]
    return [("BRANCH", code(shards)), ("FUNDER", code(shards))] + customers


def configure(shards: int, count: int, fits: int) -> None:
    from chalicelib.persistence import quotas

    quotas.set_limit("BRANCH", code(shards), "TOTAL", AMOUNT * fits, shards=shards, now=NOW)
    quotas.set_limit("FUNDER", code(shards), "TOTAL", AMOUNT * 2 * count, shards=shards, now=NOW)
    for i in range(min(count, CUSTOMERS)):
        quotas.set_limit("CUSTOMER", customer(shards, i), "TOTAL", AMOUNT * count, now=NOW)


def parts(shards: int, i: int) -> list[Any]:
    from chalicelib.persistence.quotas import QuotaPart

    return [
        QuotaPart("BRANCH", code(shards), "TOTAL", AMOUNT),
        QuotaPart("FUNDER", code(shards), "TOTAL", AMOUNT),
        QuotaPart("CUSTOMER", customer(shards, i), "TOTAL", AMOUNT),
    ]


def delete_reservation_records(prefix: str) -> None:
    """Not timed: moto copies the table in every transaction, so each run starts from the same one."""
    from chalicelib.persistence.quotas import ReservationItem

    with ReservationItem.batch_write() as batch:
        for item in ReservationItem.scan(ReservationItem.pk.startswith(f"RESERVATION#{prefix}")):
            batch.delete(item)


def run(shards: int, count: int, fits: int, threads: int, meter: Meter) -> dict[str, Any]:
    from chalicelib.persistence import quotas
    from chalicelib.persistence.quotas import QuotaBusy

    configure(shards, count, fits)
    prefix = f"bench-s{shards}-"
    # Warm (not timed): connections and the cached shard counts of every quota.
    for i in range(min(count, CUSTOMERS)):
        if not (quotas.reserve(f"{prefix}warm{i}", parts(shards, i), NOW) and quotas.release(f"{prefix}warm{i}", NOW)):
            raise RuntimeError(f"the warm-up reservation {prefix}warm{i} was refused or not released")
    busy: list[str] = []

    def retried(call: Callable[[str, datetime], bool], i: int, *more: Any) -> bool | None:
        for attempt in range(BUSY_RETRIES):
            try:
                return call(f"{prefix}{i:06d}", *more, NOW)
            except QuotaBusy:
                busy.append(f"{prefix}{i:06d}")
                time.sleep(0.05 * (attempt + 1))
        return None  # still busy after every retry: a correctness failure below

    with ThreadPoolExecutor(threads) as pool:
        meter.reset()
        started = time.perf_counter()
        answers = list(pool.map(lambda i: retried(quotas.reserve, i, parts(shards, i)), range(count)))
        reserve_seconds = time.perf_counter() - started
        reserve_calls, reserve_moto = dict(meter.calls), meter.moto_seconds
        admitted = [i for i, ok in enumerate(answers) if ok]
        meter.reset()
        started = time.perf_counter()
        released = list(pool.map(lambda i: retried(quotas.release, i), admitted))
        release_seconds = time.perf_counter() - started
        release_moto = meter.moto_seconds

    problems = []
    if None in answers or None in released:
        problems.append(f"{answers.count(None)} reservations and {released.count(None)} releases still QuotaBusy after {BUSY_RETRIES} tries")
    if len(admitted) != min(count, fits):
        problems.append(f"admitted {len(admitted)} != min({count}, {fits})")
    if released.count(True) != len(admitted):
        problems.append(f"{len(admitted) - released.count(True)} releases gave nothing back")
    for kind, quota in quotas_of_run(shards, count):
        limit, remaining = quotas.usage(kind, quota, "TOTAL") or (None, None)
        if limit is None or limit != remaining:
            problems.append(f"{kind}/{quota}: remaining {remaining} != limit {limit}")
    delete_reservation_records(prefix)
    return {
        "shards": shards,
        "admitted": len(admitted),
        "refused": answers.count(False),
        "reserve_seconds": reserve_seconds,
        "release_seconds": release_seconds,
        "reserve_rate": count / reserve_seconds,
        "release_rate": len(admitted) / release_seconds if admitted else 0.0,
        "reserve_calls": reserve_calls,
        "moto_share": (reserve_moto + release_moto) / (reserve_seconds + release_seconds),
        "busy": len(busy),
        "problems": problems,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=60, help="reservations tried (K)")
    parser.add_argument("--threads", type=int, default=8, help="threads reserving, then releasing (T)")
    parser.add_argument("--fits", type=int, help="reservations the branch quota fits (Q); default 90%% of --count")
    add_report_dir(parser)
    args = parser.parse_args()
    fits = args.fits if args.fits is not None else max(1, args.count * 9 // 10)
    if args.count < 1 or args.threads < 1 or fits < 1:
        parser.error("--count, --threads and --fits must be at least 1")

    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    for noisy in ("werkzeug", "botocore", "urllib3", "pynamodb"):  # as local/serve.py
        logging.getLogger(noisy).setLevel(logging.WARNING)
    meter = Meter()
    meter.install()
    from local.stack import LocalStack, free_port

    stack = LocalStack(api_port=free_port(), watch_executions=False).start()  # the API is not used: no wait for it
    try:
        results = [run(shards, args.count, fits, args.threads, meter) for shards in (1, 4)]
    finally:
        stack.stop()

    one, four = results

    def ratio(key: str) -> str:
        return f"{four[key] / one[key]:.2f}" if one[key] else "n/a"

    print(f"reservations, local stack (moto over HTTP on loopback, its DynamoDB serialised): {args.count} reservations "
          f"of 3 parts (branch total, funder total, customer) from {args.threads} threads; the branch quota fits {fits}")
    for r in results:
        calls = ", ".join(f"{name} {n / args.count:.2f}" for name, n in sorted(r["reserve_calls"].items()))
        print(f"  shards={r['shards']}: {r['reserve_seconds']:.3f} s, {r['reserve_rate']:,.1f} reservations/s "
              f"({r['admitted']} admitted, {r['refused']} refused); {r['release_seconds']:.3f} s, {r['release_rate']:,.1f} releases/s")
        print(f"    AWS calls per reservation: {calls}; moto's DynamoDB busy {r['moto_share']:.0%} of the time; QuotaBusy retried: {r['busy']}")
    print(f"  ratio shards=4 / shards=1: reservations {ratio('reserve_rate')}, releases {ratio('release_rate')} "
          "(moto runs one call at a time: the code path and moto's work, not DynamoDB's per-item ceiling)")
    failed = False
    for r in results:
        if r["problems"]:
            failed = True
            print(f"  correctness, shards={r['shards']}: FAILED: {'; '.join(r['problems'])}")
        else:
            print(f"  correctness, shards={r['shards']}: ok (admitted {r['admitted']} == min({args.count}, {fits}); every release "
                  f"gave back; {len(quotas_of_run(r['shards'], args.count))} quotas back to remaining == limit, shards summed)")
    if args.report_dir is not None:
        report(args.report_dir, args.count, args.threads, fits, results)
    return 1 if failed else 0


def report(report_dir: Path, count: int, threads: int, fits: int, results: list[dict[str, Any]]) -> None:
    """The section of bench/REPORT.md: each shard count's rates, calls and correctness, and their ratio."""
    one, four = results
    rows = []
    for r in results:
        calls = ", ".join(f"{name} {n / count:.2f}" for name, n in sorted(r["reserve_calls"].items()))
        correct = "FAILED: " + "; ".join(r["problems"]) if r["problems"] else f"ok ({r['admitted']} admitted == min({count}, {fits}); every quota back to its limit)"
        rows.append((r["shards"], f"{r['reserve_rate']:,.1f}", f"{r['reserve_seconds']:.3f}", r["admitted"], r["refused"], f"{r['release_rate']:,.1f}",
                     f"{r['release_seconds']:.3f}", calls, f"{r['moto_share']:.0%}", r["busy"], correct))
    ratios = [(what, f"{four[key] / one[key]:.2f}" if one[key] else "n/a") for what, key in (("reservations/s", "reserve_rate"), ("releases/s", "release_rate"))]
    plt = pyplot()
    figure, axes = plt.subplots(figsize=(7, 3.4))
    width = 0.38
    for offset, (key, label) in zip((-width / 2, width / 2), (("reserve_rate", "reservations/s"), ("release_rate", "releases/s"))):
        values = [r[key] for r in results]
        bars = axes.bar([i + offset for i in range(len(results))], values, width, label=label)
        axes.bar_label(bars, fmt="%.1f", fontsize=9)
    axes.set_xticks(range(len(results)), [f"shards={r['shards']}" for r in results])
    axes.set_ylabel("per second (moto, serialised)")
    axes.set_title(f"reservations: {count} of 3 parts from {threads} threads, the branch quota fits {fits}")
    axes.legend(fontsize=8)
    axes.margins(y=0.15)
    plot = save_figure(figure, report_dir, "reservations", "rates")
    write_section(report_dir, "reservations", "\n".join([
        "## Reservations",
        "",
        f"{count} quota reservations of 3 parts (branch total, funder total, customer) from {threads} threads against the local stack "
        f"(moto over HTTP, its DynamoDB serialised by one lock), then their releases, with the hot quotas in 1 and in 4 shards; the branch quota fits {fits}. "
        "The AWS calls per reservation and the correctness compare across machines; the rates are this machine's and moto's "
        "(one call at a time), not DynamoDB's per-item ceiling, so sharding's gain does not show here.",
        "",
        md_table(["shards", "reservations/s", "reserving, s", "admitted", "refused", "releases/s", "releasing, s", "AWS calls per reservation",
                  "moto busy", "QuotaBusy retried", "correctness"], rows, "rrrrrrrlrrl"),
        md_table(["ratio shards=4 / shards=1", "value"], ratios),
        image(plot, "reservations and releases per second"),
    ]))


if __name__ == "__main__":
    sys.exit(main())
