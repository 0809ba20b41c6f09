"""Day-end throughput: accrual + days past due + classification of 100,000 and 1,000,000 synthetic ACTIVE loans, one core.

Pure domain logic (no AWS, no network). The loans are generated first with a
fixed seed (not timed; on every core, in chunks, each chunk from its own seed
so the set is the same whatever the number of workers): amounts 1,000 to
300,000, annual rates 3% to 24% (70% in basis points, 30% with up to 8
decimals), 12/24/36 months, the four repayment methods, about 30% joint (70/30),
disbursed so that business day T (2026-11-23) falls inside the term. About 90%
are current (every installment due before T paid; one may be due on T itself);
about 10% are overdue, their oldest unpaid installment due 1 to 400 days before
T (all five classes occur), a third of those with part of it paid. The previous
day end closed T-1 for 97%; for 3% the last close was 2 to 6 days earlier
(missed day ends: the penalty is caught up). Each loan is booked with the
domain (``schedule.build_schedule``, ``loan.book``), its receivables set as
the day ends before T would have left them, and its day-close state built and
stored (``DayCloseState.from_loan(...).encode()``): the 1,000,000 loans are held
as those stored byte strings, the first 100,000 of them are the smaller set.

Then, pinned to one core:

- **per loan, from what a Lambda reads** (the headline): the stored state in,
  ``DayCloseState.decode``, ``close_day(T)`` (accrual, days past due, class),
  the new state out (``encode``), the result kept until the chunk is done: at
  100,000 and at 1,000,000 loans, the rates and the ratio of the times (10.0 is
  linear). Excluded: the DynamoDB reads and writes themselves (query of the
  ACTIVE keys, BatchGetItem of the states, the writes), and building the
  accrual posting (``accounting.accrual``, measured apart below);
- the kernel alone (``close_day`` on states already decoded);
- the ``Loan`` path on a 20,000-loan sample (the first 20,000): ``loan.accrual(T)``,
  ``loan.days_past_due(T)``, ``reclassify``, ``loan.accrued``, and the kernel
  on the same sample: the speed-up;
- what reading the stored loan document instead would cost (no stored state):
  the document parsed and the state built each night, and the document
  rewritten each night through the ``Loan`` path (``persistence.loans``'
  ``from_document``/``to_document`` with ``json``);
- the accrual posting (``accounting.accrual``), for reference.

Each figure is the median of 3 runs. The garbage collector stays on; what the
setup holds (the sample's ``Loan`` objects and documents) is frozen out of it
(``gc.freeze``) first, as it is no part of what a Lambda would hold.

Correctness (exit 1 on any difference, never on time: the machine may be
shared): on the sample, the kernel and the ``Loan`` path give the same
accrual (interest and each period's penalty), days past due and class, and
``fold`` of the state the same loan as ``loan.accrued``, for T, then T+1, then
T+8 (a missed week); and the stored states of the sample are the ones built
from those loans.

    python bench/day_end.py [--count 1000000] [--small 100000] [--sample 20000] [--seed 20261123] [--workers N]
"""
from __future__ import annotations

import argparse
import collections
import gc
import json
import os
import random
import statistics
import sys
import time
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from multiprocessing import Pool
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from one_core import pin_to_one_core  # noqa: E402
from report_kit import add_report_dir, bar_figure, image, md_table, save_figure, scaling_figure, verdict, write_section  # noqa: E402
from chalicelib.domain import accounting  # noqa: E402
from chalicelib.domain.classification import LoanClass, classify, reclassify  # noqa: E402
from chalicelib.domain.credit_report import CreditRecord, Personal, assemble  # noqa: E402
from chalicelib.domain.money import ZERO  # noqa: E402
from chalicelib.domain.day_close import DayCloseState, close_day, fold  # noqa: E402
from chalicelib.domain.loan import Installment, Loan, LoanStatus, book  # noqa: E402
from chalicelib.domain.schedule import RepaymentMethod, add_months, build_schedule  # noqa: E402
from chalicelib.persistence.loans import from_document, to_document  # noqa: E402

GOAL = 100_000
T = date(2026, 11, 23)
CHUNK = 10_000
REPEATS = 3
ZERO = Decimal("0.00")


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000, help="loans in the large set")
    parser.add_argument("--small", type=int, default=100_000, help="loans in the small set (the first of the large)")
    parser.add_argument("--sample", type=int, default=20_000, help="loans compared with the Loan path")
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count())
    add_report_dir(parser)
    return parser.parse_args()


# -- the synthetic loans -----------------------------------------------------------------------------


def synthetic(rng: random.Random, index: int) -> tuple[Loan, LoanClass | None, int]:
    """One ACTIVE loan as the day ends before T left it, with the class and days past due recorded."""
    amount = Decimal(rng.randrange(1_000_00, 300_000_00, 100)).scaleb(-2)
    rate = Decimal(rng.randrange(300, 2400)).scaleb(-4) if rng.random() < 0.7 else Decimal(rng.randrange(3_000_000, 24_000_000)).scaleb(-8)
    term = rng.choice((12, 24, 36))
    method = rng.choice(list(RepaymentMethod))
    rows = 1 if method is RepaymentMethod.BULLET else term
    overdue = rng.random() < 0.10
    if overdue:  # the oldest unpaid installment (k) due about `late` days before T
        late, k = rng.randint(1, 400), rng.randrange(rows)
        start = add_months(T - timedelta(days=late), -(k + 1) * (term if rows == 1 else 1))
    else:
        start = T - timedelta(days=rng.randint(1, 30 * term - 1))
    schedule = build_schedule(amount, rate, term, method, start)
    if rng.random() < 0.3:
        lead = (amount * Decimal("0.7")).quantize(Decimal("0.01"))
        funders = [("BR_DONGCHENG", lead), ("PB_HUAXIA_JOINT", amount - lead)]
    else:
        funders = [("BR_DONGCHENG", amount)]
    loan = book(
        loan_id=f"LN20261123{index:08d}", application_id=f"AP20261123{index:08d}", branch_code="BR_DONGCHENG", partner_id="P_DEMO",
        product_code="CONSUMER_STD", customer_id=f"C{index:08d}", schedule=schedule, funders=funders,
    )
    at = T - timedelta(days=1 if rng.random() < 0.97 else rng.randint(2, 6))
    part = overdue and rng.random() < 1 / 3
    installments = []
    for n, i in enumerate(loan.installments):
        if (overdue and n < k) or (not overdue and i.due_date < T):
            installments.append(Installment(i.period, i.due_date, i.principal, i.interest, ZERO, i.principal, i.interest, ZERO))
        elif overdue and n == k and part:
            paid = (i.principal * Decimal(rng.randint(1, 90)) / 100).quantize(Decimal("0.01"))
            installments.append(Installment(i.period, i.due_date, i.principal, i.interest, ZERO, paid, i.interest, ZERO))
        else:
            installments.append(i)
    loan = replace(loan, status=LoanStatus.ACTIVE, installments=tuple(installments), accrued_through=at, version=rng.randint(2, 40))
    # the penalty the closes up to `at` accrued on what is overdue (paid none of it), the interest recognised
    installments = tuple(
        replace(i, penalty=loan.daily_penalty(i) * (at - i.due_date).days) if not i.paid and i.due_date < at else i for i in loan.installments
    )
    paid_ahead = sum((i.paid_interest for i in installments if i.due_date > at), ZERO)  # paid before it was accrued
    recognised = loan.interest_earned(at) + paid_ahead
    receivable = recognised - sum((i.paid_interest for i in installments), ZERO)
    loan = replace(loan, installments=installments, interest_recognised=recognised, interest_receivable=receivable)
    dpd = loan.days_past_due(at)
    return loan, (classify(dpd) if rng.random() < 0.999 else None), dpd


def chunk_of_loans(seed: int, number: int, size: int) -> list[tuple[Loan, LoanClass | None, int]]:
    rng = random.Random(f"{seed}/{number}")
    return [synthetic(rng, number * CHUNK + n) for n in range(size)]


def stored_chunk(job: tuple[int, int, int]) -> list[bytes]:
    seed, number, size = job
    return [DayCloseState.from_loan(loan, cls, dpd).encode() for loan, cls, dpd in chunk_of_loans(seed, number, size)]


def jobs(seed: int, count: int) -> list[tuple[int, int, int]]:
    return [(seed, n, min(CHUNK, count - n * CHUNK)) for n in range((count + CHUNK - 1) // CHUNK)]


# -- timing --------------------------------------------------------------------------------------------


def from_stored(stored: list[bytes], day: int) -> float:
    """Seconds for: decode, close, encode each state (results kept until the chunk is done)."""
    decode, total = DayCloseState.decode, 0.0
    for lo in range(0, len(stored), CHUNK):
        part = stored[lo:lo + CHUNK]
        out = []
        started = time.perf_counter()
        for data in part:
            state = decode(data)
            result = close_day(state, day)
            out.append((result, state.encode()))
        total += time.perf_counter() - started
        del out
    return total


def kernel_only(stored: list[bytes], day: int) -> float:
    """Seconds for ``close_day`` alone, on states decoded beforehand (not timed), a chunk at a time."""
    decode, total = DayCloseState.decode, 0.0
    for lo in range(0, len(stored), 5 * CHUNK):
        states = [decode(data) for data in stored[lo:lo + 5 * CHUNK]]
        out = []
        started = time.perf_counter()
        for state in states:
            out.append(close_day(state, day))
        total += time.perf_counter() - started
        del out, states
    return total


def loan_path(sample: list[tuple[Loan, LoanClass | None, int]], day: date) -> float:
    out = []
    started = time.perf_counter()
    for loan, cls, _ in sample:
        accrual = loan.accrual(day)
        dpd = loan.days_past_due(day)
        out.append((loan.accrued(accrual), accrual, dpd, reclassify(cls, dpd)))
    return time.perf_counter() - started


def document_to_state(documents: list[str], classes: list[tuple[LoanClass | None, int]], day: int) -> float:
    out = []
    started = time.perf_counter()
    for doc, (cls, dpd) in zip(documents, classes):
        state = DayCloseState.from_loan(from_document(json.loads(doc)), cls, dpd)
        out.append((close_day(state, day), state.encode()))
    return time.perf_counter() - started


def document_rewrite(documents: list[str], classes: list[tuple[LoanClass | None, int]], day: date) -> float:
    out = []
    started = time.perf_counter()
    for doc, (cls, _) in zip(documents, classes):
        loan = from_document(json.loads(doc))
        accrual = loan.accrual(day)
        dpd = loan.days_past_due(day)
        out.append((json.dumps(to_document(loan.accrued(accrual))), accrual, reclassify(cls, dpd)))
    return time.perf_counter() - started


def postings(sample: list[tuple[Loan, LoanClass | None, int]], day: date) -> float:
    accruals = [(loan, loan.accrual(day)) for loan, _, _ in sample]
    out = []
    started = time.perf_counter()
    for loan, accrual in accruals:
        out.append(accounting.accrual(loan, accrual))
    return time.perf_counter() - started


BORROWER = Personal("张三", "110101199003074514")  # synthetic: a valid check character, no real person


def credit_records(sample: list[tuple[Loan, LoanClass | None, int]], day: date) -> float:
    """Each loan's credit-bureau line of the day, as a day-end chunk makes it (the borrower unsealed apart)."""
    started = time.perf_counter()
    lines = [CreditRecord.from_loan(loan, day, loan.repaid_on(day), loan.loan_class, BORROWER).line() for loan, _, _ in sample]
    elapsed = time.perf_counter() - started
    assert len(lines) == len(sample)
    return elapsed


def assembly(sample: list[tuple[Loan, LoanClass | None, int]], day: date, parts: int = 16) -> tuple[float, int]:
    """A branch's file assembled from ``parts`` sorted parts of the sample's lines (ids made unique)."""
    lines = sorted(
        CreditRecord.from_loan(replace(loan, loan_id=f"{loan.loan_id}-{i:07d}"), day, ZERO, loan.loan_class, BORROWER).line()
        for i, (loan, _, _) in enumerate(sample)
    )
    texts = ["".join(line + "\n" for line in lines[k::parts]) for k in range(parts)]
    started = time.perf_counter()
    body = assemble("BR_BENCH", "B1234H211010001", day, texts)
    return time.perf_counter() - started, len(body)


def median_of(runs: int, measure) -> float:  # noqa: ANN001
    return statistics.median(measure() for _ in range(runs))


# -- correctness ---------------------------------------------------------------------------------------


def differences(sample: list[tuple[Loan, LoanClass | None, int]], stored: list[bytes]) -> list[str]:
    found = []
    for n, (loan, cls, dpd) in enumerate(sample):
        built = DayCloseState.from_loan(loan, cls, dpd)
        if built.encode() != stored[n]:
            found.append(f"{loan.loan_id}: the stored state is not the one built from the loan")
        state, base = DayCloseState.decode(stored[n]), loan
        for day in (T, T + timedelta(days=1), T + timedelta(days=8)):
            accrual = loan.accrual(day)
            dpd = loan.days_past_due(day)
            cls = reclassify(cls, dpd)
            loan = loan.accrued(accrual)
            result = close_day(state, day.toordinal())
            if result.accrual() != accrual or result.days_past_due != dpd or result.loan_class is not cls:
                found.append(f"{loan.loan_id} {day}: kernel {result} != Loan path {accrual}, dpd {dpd}, {cls.value}")
            elif fold(base, state) != loan:
                found.append(f"{loan.loan_id} {day}: fold of the state != loan.accrued")
            state = DayCloseState.decode(state.encode())
    return found


# -- main ----------------------------------------------------------------------------------------------


def main() -> None:
    args = arguments()
    if not 0 < args.sample <= args.small <= args.count:
        raise SystemExit("need 0 < --sample <= --small <= --count")
    started = time.perf_counter()
    with Pool(max(1, args.workers)) as pool:
        stored = [data for part in pool.imap(stored_chunk, jobs(args.seed, args.count)) for data in part]
    generated = time.perf_counter() - started
    sample = [entry for number, size in enumerate([CHUNK] * (args.sample // CHUNK) + ([args.sample % CHUNK] if args.sample % CHUNK else []))
              for entry in chunk_of_loans(args.seed, number, size)]
    pin_to_one_core()
    day = T.toordinal()

    # the mix, and what the close of T gives over the whole set (not timed)
    classes: collections.Counter[str] = collections.Counter()
    penalised = overdue = 0
    for data in stored:
        result = close_day(DayCloseState.decode(data), day)
        classes[result.loan_class.value] += 1
        penalised += bool(result.penalties)
        overdue += result.days_past_due > 0
    methods = collections.Counter(loan.method.value for loan, _, _ in sample)
    terms = collections.Counter(loan.term_months for loan, _, _ in sample)
    sizes = [len(data) for data in stored]
    documents = [json.dumps(to_document(loan)) for loan, _, _ in sample]
    recorded = [(cls, dpd) for _, cls, dpd in sample]

    found = differences(sample, stored)

    # what the setup holds (the sample's Loans, their documents) is no part of a Lambda's heap: kept
    # out of the collector's full passes, which would otherwise walk it again and again while timing
    gc.collect()
    gc.freeze()
    small = stored[: args.small]
    from_stored(small[:CHUNK], day)  # warm up
    t_small = median_of(REPEATS, lambda: from_stored(small, day))
    t_large = median_of(REPEATS, lambda: from_stored(stored, day))
    k_small = median_of(REPEATS, lambda: kernel_only(small, day))
    k_large = median_of(REPEATS, lambda: kernel_only(stored, day))
    sample_stored = stored[: args.sample]
    t_sample_kernel = median_of(REPEATS, lambda: from_stored(sample_stored, day))
    t_sample_loan = median_of(REPEATS, lambda: loan_path(sample, T))
    t_doc_state = median_of(REPEATS, lambda: document_to_state(documents, recorded, day))
    t_doc_rewrite = median_of(REPEATS, lambda: document_rewrite(documents, recorded, T))
    t_postings = median_of(REPEATS, lambda: postings(sample, T))
    t_records = median_of(REPEATS, lambda: credit_records(sample, T))
    t_assembly, file_bytes = assembly(sample, T)

    def rate(n: int, seconds: float) -> str:
        return f"{n / seconds:>11,.0f} loans/s ({1e6 * seconds / n:5.2f} us a loan)"

    n_small, n_large, n_sample = len(small), len(stored), len(sample)
    print(f"day end: {n_large:,} synthetic ACTIVE loans (seed {args.seed}; generated in {generated:.0f} s on {args.workers} worker(s), not timed), "
          f"business day {T}, one core, median of {REPEATS} runs")
    print(f"mix (sample of {n_sample:,}): methods {dict(sorted(methods.items()))}, terms {dict(sorted(terms.items()))}")
    print(f"at the close of T: overdue {overdue:,} ({100 * overdue / n_large:.1f}%), with penalty {penalised:,}; classes {dict(classes.most_common())}")
    print(f"stored state: {statistics.mean(sizes):.0f} bytes on average (max {max(sizes)}); the loan document as JSON: "
          f"{statistics.mean(len(d) for d in documents):.0f} characters on average")
    print("per loan from what a Lambda reads (stored state -> decode -> close_day -> encode; DynamoDB I/O and the posting excluded):")
    print(f"  {n_small:>9,} loans: {rate(n_small, t_small)}  {t_small:6.2f} s")
    print(f"  {n_large:>9,} loans: {rate(n_large, t_large)}  {t_large:6.2f} s")
    print(f"  time ratio {n_large:,} / {n_small:,}: {t_large / t_small:.2f} (linear: {n_large / n_small:.1f})")
    print("kernel alone (close_day on decoded states):")
    print(f"  {n_small:>9,} loans: {rate(n_small, k_small)}")
    print(f"  {n_large:>9,} loans: {rate(n_large, k_large)}  ratio {k_large / k_small:.2f}")
    print(f"sample of {n_sample:,}:")
    print(f"  Loan path (accrual, days_past_due, reclassify, accrued): {rate(n_sample, t_sample_loan)}")
    print(f"  kernel from the stored state:                            {rate(n_sample, t_sample_kernel)}  speed-up {t_sample_loan / t_sample_kernel:.1f}x")
    print(f"  no stored state: document -> from_document -> state -> close: {rate(n_sample, t_doc_state)}")
    print(f"  no stored state: document rewritten through the Loan path:    {rate(n_sample, t_doc_rewrite)}")
    print(f"  for reference, the accrual posting (accounting.accrual):      {rate(n_sample, t_postings)}")
    print(f"  the credit-bureau line of each loan (from_loan + line):       {rate(n_sample, t_records)}")
    print(f"  a branch's credit-bureau file from 16 parts (assemble):       {rate(n_sample, t_assembly)}  ({file_bytes / 1e6:.1f} MB)")
    verdict = "meets" if n_large / t_large >= GOAL else "BELOW"
    print(f"goal {GOAL:,} loans/s a core: {verdict} it at {n_large:,} loans ({n_large / t_large:,.0f}/s), "
          f"{'meets' if n_small / t_small >= GOAL else 'BELOW'} it at {n_small:,} ({n_small / t_small:,.0f}/s)")
    if args.report_dir is not None:
        sample_rates = {
            "Loan path (accrual, days_past_due, reclassify, accrued)": t_sample_loan,
            "kernel from the stored state": t_sample_kernel,
            "no stored state: document -> state -> close": t_doc_state,
            "no stored state: document rewritten through the Loan path": t_doc_rewrite,
            "the accrual posting (accounting.accrual), for reference": t_postings,
            "the credit-bureau line of each loan": t_records,
            "a branch's credit-bureau file from 16 parts (assemble)": t_assembly,
        }
        report(args.report_dir, args.seed, [(n_small, t_small, k_small), (n_large, t_large, k_large)],
               n_sample, sample_rates, file_bytes, dict(classes.most_common()), overdue, found)
    if found:
        print(f"DIFFERENCES between the kernel and the Loan path: {len(found)}")
        for line in found[:10]:
            print("  " + line)
        sys.exit(1)
    print(f"identical results: kernel and Loan path agree on all {n_sample:,} sample loans for T, T+1 and T+8 (accrual, dpd, class, loan)")


def report(report_dir: Path, seed: int, sizes: list[tuple[int, float, float]], n_sample: int, sample: dict[str, float],
           file_bytes: int, classes: dict[str, int], overdue: int, found: list[str]) -> None:
    """The section of bench/REPORT.md: loans/s and wall time at both sizes (``sizes``: loans, seconds from
    the stored state, seconds of the kernel alone) with the growth factor, the sample's other paths, the
    goal and the correctness check."""
    (n_small, t_small, k_small), (n_large, t_large, k_large) = sizes
    linear = n_large / n_small
    rows = [(f"{n:,}", f"{n / t:,.0f}", f"{1e6 * t / n:.2f}", f"{t:.2f}", f"{n / k:,.0f}") for n, t, k in sizes]
    growth = [
        (f"from the stored state: time({n_large:,}) / time({n_small:,})", f"{t_large / t_small:.2f}", f"{linear:.1f}"),
        (f"kernel alone: time({n_large:,}) / time({n_small:,})", f"{k_large / k_small:.2f}", f"{linear:.1f}"),
    ]
    goals = [(f"{GOAL:,} loans/s a core at {n:,} loans", f"{n / t:,.0f}/s", verdict(n / t >= GOAL)) for n, t, _ in sizes]
    loan_path = sample["Loan path (accrual, days_past_due, reclassify, accrued)"]
    paths = [(name, f"{n_sample / t:,.0f}", f"{1e6 * t / n_sample:.2f}", f"{loan_path / t:.2f}") for name, t in sample.items()]
    scaling = save_figure(scaling_figure([n for n, _, _ in sizes], [t for _, t, _ in sizes], "loans", "day end: stored state -> decode -> close_day -> encode, one core"),
                          report_dir, "day_end", "scaling")
    chart = bar_figure([name.split(" (")[0] for name in sample], [n_sample / t for t in sample.values()], f"loans/s (sample of {n_sample:,}; log scale)",
                       "day end: the paths compared on the sample", fmt="{:,.0f}/s", log=True)
    paths_plot = save_figure(chart, report_dir, "day_end", "paths")
    correct = (f"the kernel and the Loan path agree on all {n_sample:,} sample loans for T, T+1 and T+8 (accrual, dpd, class, loan)" if not found
               else f"**{len(found)} DIFFERENCES** between the kernel and the Loan path")
    write_section(report_dir, "day_end", "\n".join([
        "## Day end",
        "",
        f"Accrual, days past due and classification of {n_small:,} and {n_large:,} synthetic ACTIVE loans (seed {seed}) from their stored "
        f"day-close states, business day {T}, pure logic, one core, median of {REPEATS} runs (DynamoDB I/O excluded). The growth factor "
        f"(linear would be {linear:.0f}) and the ratios between paths compare across machines; the rates and seconds are this machine's.",
        "",
        md_table(["loans", "loans/s", "us a loan", "wall s", "kernel alone, loans/s"], rows),
        md_table(["growth factor", "measured", "linear"], growth),
        md_table(["goal", "measured", "state"], goals),
        image(scaling, "loans per second and wall time at both sizes"),
        md_table([f"on the sample of {n_sample:,}", "loans/s", "us a loan", "x the Loan path"], paths),
        f"The credit-bureau file of the sample: {file_bytes / 1e6:.1f} MB.",
        "",
        image(paths_plot, "the paths compared on the sample"),
        md_table(["at the close of T", "loans"], [("overdue", f"{overdue:,} ({overdue / n_large:.1%})")]
                 + [(f"class {name}", f"{count:,}") for name, count in classes.items()]),
        md_table(["check", "result"], [("correctness", correct)], "ll"),
    ]))


if __name__ == "__main__":
    main()
