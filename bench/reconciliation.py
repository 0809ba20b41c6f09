"""T+1 reconciliation throughput: a partner's file parsed, reconciled with the bank's rows and the report rendered.

Pure (no AWS, no network), on one core where the OS allows pinning. For each
size (``--count`` / 10, then ``--count`` bank rows; 100,000 and 1,000,000 by
default), with a fixed seed and not timed: the bank's rows for one partner and
one day (30% disbursements, 1% of them FAILED, 70% repayments; realistic
references, loan ids and amounts), then the partner's file for them (CSV
bytes, rows shuffled) with breaks injected and recorded, about ``count / 2000``
of each kind (a few thousand in all at 1M): rows left out of the file
(MISSING_AT_PARTNER), rows only in the file (MISSING_AT_BANK), amounts changed
(with the loan id or the status changed too on some: AMOUNT_MISMATCH),
statuses flipped (STATUS_MISMATCH), rows repeated in the file and in the
ledger (DUPLICATE, each side), and bad lines of every sort (INVALID_ROW: each
field wrong, a zero amount, another day, too few fields, an empty line, bytes
that are not UTF-8).

Then, timed: ``parse_partner_file`` + ``reconcile`` + ``render_report``,
``--repeat`` times (3), the best wall time shown with its CPU time (the
machine may be shared: the best run is the one least disturbed). Memory, of
the same work: the process's peak RSS over the run (``resource.
getrusage`` ru_maxrss; the kernel's high-water mark is reset first through
/proc/self/clear_refs where Linux allows it, so the delta is the run's own and
not the input generation's), and, in a second run, the peak of Python's
allocations (``tracemalloc``, which slows the run, so it is not timed).

Prints rows/s, the time ratio 1M/100k (linear would be 10x), the peaks, the
goals (under 10 s and under 1.5 GB at 1M), and whether exactly the injected
breaks were found, nothing else, with both sides' totals equal to sums
computed here. Exit 1 only when that check fails, never on time: the machine
may be shared.

    python bench/reconciliation.py [--count 1000000] [--seed 20261123] [--repeat 3]
"""
from __future__ import annotations

import argparse
import gc
import random
import resource
import sys
import time
import tracemalloc
from collections import Counter
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from one_core import pin_to_one_core  # noqa: E402
from report_kit import add_report_dir, image, md_table, pyplot, save_figure, scaling_figure, verdict, write_section  # noqa: E402
from chalicelib.domain.reconciliation import (  # noqa: E402
    AMOUNT_MISMATCH,
    BANK,
    BOTH,
    DISBURSEMENT,
    DUPLICATE,
    FAILED,
    HEADER,
    INVALID_ROW,
    MATCHED,
    MISSING_AT_BANK,
    MISSING_AT_PARTNER,
    PARTNER,
    REPAYMENT,
    STATUS_MISMATCH,
    SUCCESS,
    Row,
    parse_partner_file,
    reconcile,
    render_report,
)

DAY = date(2026, 11, 23)
PARTNER_ID = "P_DEMO"
GOAL_SECONDS = 10.0
GOAL_BYTES = 1.5 * 1024**3
MIB = 1024 * 1024

# (what is wrong, a function of a valid line's six fields giving the bad line)
BAD_LINES = (
    ("business_date", lambda f: ",".join(["2026-11-22", *f[1:]])),
    ("business_date", lambda f: ",".join(["2026/11/23", *f[1:]])),
    ("txn_ref", lambda f: ",".join([f[0], f[1] + "#", *f[2:]])),
    ("txn_ref", lambda f: ",".join([f[0], "", *f[2:]])),
    ("txn_type", lambda f: ",".join([*f[:2], "REFUND", *f[3:]])),
    ("loan_id", lambda f: ",".join([*f[:3], "LN 1", *f[4:]])),
    ("amount", lambda f: ",".join([*f[:4], f[4][:-1], f[5]])),
    ("amount", lambda f: ",".join([*f[:4], "0.00", f[5]])),
    ("amount", lambda f: ",".join([*f[:4], "-" + f[4], f[5]])),
    ("status", lambda f: ",".join([*f[:5], "PENDING"])),
    ("line", lambda f: ",".join(f[:5])),
    ("line", lambda f: ""),
    ("line", lambda f: ",".join(f) + ",extra"),
)


def rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)


def reset_peak_rss() -> bool:
    """Reset the kernel's RSS high-water mark (Linux 4.0+); False where it cannot be."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def line_of(row: Row) -> str:
    return f"{DAY.isoformat()},{row.txn_ref},{row.txn_type},{row.loan_id},{yuan(row.amount_fen)},{row.status}"


def generate(rng: random.Random, count: int) -> tuple[list[Row], bytes, Counter, dict]:
    """The bank's rows, the partner's file, the breaks injected and what the totals must be."""
    stamp = DAY.strftime("%Y%m%d")
    loans = [f"LN{stamp}-{rng.randrange(86_400):06d}-{rng.getrandbits(40):010x}" for _ in range(max(1, count // 4))]
    bank: list[Row] = []
    for i in range(count):
        if rng.random() < 0.3:
            status = FAILED if rng.random() < 0.01 else SUCCESS
            bank.append(Row(DISBURSEMENT, f"PA{stamp}{i:09d}", rng.choice(loans), rng.randrange(1_000_00, 300_000_00, 100), status))
        else:
            bank.append(Row(REPAYMENT, f"RP{stamp}-{i:09d}-{rng.getrandbits(16):04x}", rng.choice(loans), rng.randrange(1_00, 20_000_00), SUCCESS))
    each = max(1, count // 2000)
    expected: Counter = Counter()
    chosen = rng.sample(range(count), 5 * each)
    missing_at_partner = set(chosen[:each])
    amount_changed = chosen[each:2 * each]
    status_flipped = chosen[2 * each:3 * each]
    repeated_in_file = chosen[3 * each:4 * each]
    repeated_in_ledger = chosen[4 * each:]

    partner: dict[int, Row] = {i: row for i, row in enumerate(bank) if i not in missing_at_partner}
    for i in missing_at_partner:
        expected[(MISSING_AT_PARTNER, BANK, bank[i].txn_type, bank[i].txn_ref)] += 1
    for n, i in enumerate(amount_changed):
        row = bank[i]
        changed = row._replace(amount_fen=row.amount_fen + rng.randrange(1, 1000))
        if n % 3 == 1:
            changed = row._replace(loan_id=rng.choice(loans) + "X")
        elif n % 3 == 2:
            changed = changed._replace(status=FAILED if row.status == SUCCESS else SUCCESS)
        partner[i] = changed
        expected[(AMOUNT_MISMATCH, BOTH, row.txn_type, row.txn_ref)] += 1
    for i in status_flipped:
        row = bank[i]
        partner[i] = row._replace(status=FAILED if row.status == SUCCESS else SUCCESS)
        expected[(STATUS_MISMATCH, BOTH, row.txn_type, row.txn_ref)] += 1
    for i in repeated_in_ledger:
        bank.append(bank[i]._replace(amount_fen=bank[i].amount_fen + 1))  # after the first: the first is matched
        expected[(DUPLICATE, BANK, bank[i].txn_type, bank[i].txn_ref)] += 1
    only_in_file = [
        Row(REPAYMENT, f"RX{stamp}-{n:09d}", rng.choice(loans), rng.randrange(1_00, 20_000_00), rng.choice([SUCCESS, SUCCESS, FAILED]))
        for n in range(each)
    ]
    for row in only_in_file:
        expected[(MISSING_AT_BANK, PARTNER, row.txn_type, row.txn_ref)] += 1

    entries: list[Row | str] = list(partner.values()) + only_in_file
    bad = [BAD_LINES[n % len(BAD_LINES)][1](line_of(rng.choice(bank)).split(",")) for n in range(each)]
    bad.append(line_of(bank[0]).replace(",", "\udcff,", 1))  # a byte 0xFF: not UTF-8
    entries += bad
    rng.shuffle(entries)
    for i in repeated_in_file:  # after the whole file: the first occurrence is the one matched
        entries.append(bank[i] if rng.random() < 0.5 else bank[i]._replace(amount_fen=bank[i].amount_fen + 7))
        expected[(DUPLICATE, PARTNER, bank[i].txn_type, bank[i].txn_ref)] += 1
    lines = [HEADER]
    for entry in entries:
        if isinstance(entry, str):
            expected[(INVALID_ROW, PARTNER, len(lines) + 1)] += 1
            lines.append(entry)
        else:
            lines.append(line_of(entry))
    data = ("\n".join(lines) + "\n").encode("utf-8", "surrogateescape")
    del lines
    valid = [e for e in entries if not isinstance(e, str)]
    totals = {
        "partner": (len(valid), sum(r.amount_fen for r in valid)),
        "bank": (len(bank), sum(r.amount_fen for r in bank)),
        "partner_repayment": (sum(1 for r in valid if r.txn_type == REPAYMENT), sum(r.amount_fen for r in valid if r.txn_type == REPAYMENT)),
        "bank_failed": (sum(1 for r in bank if r.status == FAILED), sum(r.amount_fen for r in bank if r.status == FAILED)),
        "matched": count - 3 * each,  # every bank row but the missing, the changed and the flipped
    }
    return bank, data, expected, totals


def run(bank: list[Row], data: bytes):  # noqa: ANN201
    parsed = parse_partner_file(data, DAY)
    report = reconcile(parsed, bank)
    return report, render_report(report, PARTNER_ID, DAY)


def check(report, expected: Counter, totals: dict) -> list[str]:  # noqa: ANN001
    """What is wrong with the report (empty when exactly the injected breaks were found and the totals agree)."""
    found = Counter((b.kind, b.side, b.line) if b.kind == INVALID_ROW else (b.kind, b.side, b.txn_type, b.txn_ref) for b in report.breaks)
    problems = []
    if found != expected:
        problems.append(f"breaks: {sum((found - expected).values())} found not injected, {sum((expected - found).values())} injected not found")
    got = {
        "partner": (report.partner_totals.count(), report.partner_totals.amount_fen()),
        "bank": (report.bank_totals.count(), report.bank_totals.amount_fen()),
        "partner_repayment": (report.partner_totals.count(REPAYMENT), report.partner_totals.amount_fen(REPAYMENT)),
        "bank_failed": (report.bank_totals.count(status=FAILED), report.bank_totals.amount_fen(status=FAILED)),
        "matched": report.counts[MATCHED],
    }
    problems += [f"{name}: {got[name]} reported, {totals[name]} computed" for name in totals if got[name] != totals[name]]
    return problems


def measure(rng: random.Random, count: int, repeat: int) -> dict:
    bank, data, expected, totals = generate(rng, count)
    run(bank[:1000], data[:20_000])  # warm up (the regex compiled, the code paths taken)
    walls, cpus, rss_deltas, problems = [], [], [], []
    for _ in range(repeat):
        gc.collect()
        resettable = reset_peak_rss()
        before = rss_bytes()
        wall, cpu = time.perf_counter(), time.process_time()
        report, rendered = run(bank, data)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
        rss_deltas.append(rss_bytes() - before)
        problems = problems or check(report, expected, totals)
        del report, rendered
    rss_peak = rss_bytes()
    gc.collect()
    tracemalloc.start()
    run(bank, data)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "count": count, "file_bytes": len(data), "partner_lines": data.count(b"\n") - 1, "bank_rows": len(bank),
        "injected": Counter(key[0] for key in expected for _ in range(expected[key])),
        "sides": Counter((key[0], key[1]) for key in expected for _ in range(expected[key])),
        "seconds": min(walls), "cpu": min(cpus), "rss_delta": max(rss_deltas), "rss_peak": rss_peak, "rss_reset": resettable,
        "traced_peak": traced_peak, "problems": problems,
    }


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000, help="bank rows of the larger run (the smaller: a tenth)")
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per size: the best is shown (the machine may be shared)")
    add_report_dir(parser)
    return parser.parse_args()


def main() -> int:
    args = arguments()
    pin_to_one_core()
    sizes = [max(1_000, args.count // 10), args.count]
    results = [measure(random.Random(args.seed + size), size, args.repeat) for size in sizes]
    print(f"reconciliation: partner {PARTNER_ID}, day {DAY}, seed {args.seed}, one core; parse + reconcile + render timed"
          f" (best of {args.repeat}), input generation not")
    for r in results:
        kinds = ", ".join(f"{kind} {n:,}" for kind, n in sorted(r["injected"].items()))
        dups = f"{r['sides'][(DUPLICATE, PARTNER)]:,} in the file, {r['sides'][(DUPLICATE, BANK)]:,} in the ledger"
        print(f"  {r['count']:>9,} bank rows: file {r['file_bytes'] / MIB:.1f} MiB, {r['partner_lines']:,} lines; ledger {r['bank_rows']:,} rows")
        print(f"            injected {sum(r['injected'].values()):,} breaks: {kinds} (duplicates: {dups})")
    print(f"{'bank rows':>12} {'seconds':>8} {'CPU s':>6} {'rows/s':>12} {'RSS delta':>10} {'RSS peak':>10} {'traced peak':>12}  breaks found")
    for r in results:
        verdict = "exactly the injected, nothing else; totals agree" if not r["problems"] else "WRONG: " + "; ".join(r["problems"])
        print(
            f"{r['count']:>12,} {r['seconds']:>8.2f} {r['cpu']:>6.2f} {r['count'] / r['seconds']:>12,.0f} {r['rss_delta'] / MIB:>6.0f} MiB"
            f" {r['rss_peak'] / MIB:>6.0f} MiB {r['traced_peak'] / MIB:>8.0f} MiB  {verdict}"
        )
    small, large = results
    ratio, cpu_ratio = large["seconds"] / small["seconds"], large["cpu"] / small["cpu"]
    print(f"time ratio {large['count']:,} / {small['count']:,}: {ratio:.1f}x wall, {cpu_ratio:.1f}x CPU"
          f" (linear: {large['count'] / small['count']:.0f}x; about 10x or better expected)")
    peak = max(large["rss_peak"], large["traced_peak"])
    print(f"goals at {large['count']:,}: time {large['seconds']:.2f} s (goal < {GOAL_SECONDS:.0f} s: {'met' if large['seconds'] < GOAL_SECONDS else 'NOT met'});"
          f" memory {peak / MIB:,.0f} MiB, the larger of the process peak RSS (input included) and the traced peak"
          f" (goal < {GOAL_BYTES / MIB:,.0f} MiB: {'met' if peak < GOAL_BYTES else 'NOT met'})")
    if not all(r["rss_reset"] for r in results):
        print("note: the RSS high-water mark could not be reset here: the RSS delta is over the largest earlier peak (input generation) and may read low")
    if args.report_dir is not None:
        report(args.report_dir, args.seed, args.repeat, results)
    return 1 if any(r["problems"] for r in results) else 0


def report(report_dir: Path, seed: int, repeat: int, results: list[dict]) -> None:
    """The section of bench/REPORT.md: rows/s and time at both sizes, the growth factor, the peaks, the goals."""
    small, large = results
    rows = []
    for r in results:
        found = "exactly the injected, nothing else; totals agree" if not r["problems"] else "**WRONG**: " + "; ".join(r["problems"])
        rows.append((f"{r['count']:,}", f"{r['file_bytes'] / MIB:.1f}", f"{r['partner_lines']:,}", f"{sum(r['injected'].values()):,}",
                     f"{r['seconds']:.2f}", f"{r['cpu']:.2f}", f"{r['count'] / r['seconds']:,.0f}", f"{r['rss_delta'] / MIB:,.0f}",
                     f"{r['rss_peak'] / MIB:,.0f}", f"{r['traced_peak'] / MIB:,.0f}", found))
    linear = large["count"] / small["count"]
    peak = max(large["rss_peak"], large["traced_peak"])
    growth = [
        (f"time({large['count']:,}) / time({small['count']:,}), wall", f"{large['seconds'] / small['seconds']:.2f}", f"{linear:.0f}"),
        (f"time({large['count']:,}) / time({small['count']:,}), CPU", f"{large['cpu'] / small['cpu']:.2f}", f"{linear:.0f}"),
    ]
    goals = [
        (f"time at {large['count']:,} rows < {GOAL_SECONDS:.0f} s", f"{large['seconds']:.2f} s", verdict(large["seconds"] < GOAL_SECONDS)),
        (f"memory at {large['count']:,} rows < {GOAL_BYTES / MIB:,.0f} MiB (the larger of peak RSS and traced peak)", f"{peak / MIB:,.0f} MiB",
         verdict(peak < GOAL_BYTES)),
    ]
    scaling = save_figure(scaling_figure([r["count"] for r in results], [r["seconds"] for r in results], "bank rows",
                                         "reconciliation: parse + reconcile + render, one core"), report_dir, "reconciliation", "scaling")
    plt = pyplot()
    figure, axes = plt.subplots(figsize=(7, 3.4))
    width = 0.26
    kinds = (("rss_delta", "RSS delta"), ("rss_peak", "RSS peak (input included)"), ("traced_peak", "traced peak (tracemalloc)"))
    for k, (key, label) in enumerate(kinds):
        bars = axes.bar([i + (k - 1) * width for i in range(len(results))], [r[key] / MIB for r in results], width, label=label)
        axes.bar_label(bars, fmt="%.0f", fontsize=8)
    axes.axhline(GOAL_BYTES / MIB, color="red", linestyle="--", linewidth=1, label=f"goal {GOAL_BYTES / MIB:,.0f} MiB")
    axes.set_xticks(range(len(results)), [f"{r['count']:,} rows" for r in results])
    axes.set_ylabel("MiB")
    axes.set_title("reconciliation: memory")
    axes.legend(fontsize=8, loc="center left")
    memory = save_figure(figure, report_dir, "reconciliation", "memory")
    note = "" if all(r["rss_reset"] for r in results) else (
        " The RSS high-water mark could not be reset here: the RSS delta is over the input generation's peak and may read low.")
    write_section(report_dir, "reconciliation", "\n".join([
        "## Reconciliation",
        "",
        f"A partner's T+1 file parsed, reconciled with the bank's rows and the report rendered, at {small['count']:,} and {large['count']:,} bank rows "
        f"(seed {seed}, breaks of every kind injected), the best of {repeat} runs, one core. The growth factor (linear would be {linear:.0f}), "
        f"the memory and the breaks found compare across machines; the seconds are this machine's.{note}",
        "",
        md_table(["bank rows", "file MiB", "partner lines", "breaks injected", "wall s", "CPU s", "rows/s", "RSS delta MiB", "RSS peak MiB",
                  "traced peak MiB", "breaks found"], rows, "rrrrrrrrrrl"),
        md_table(["growth factor", "measured", "linear"], growth),
        md_table(["goal", "measured", "state"], goals),
        image(scaling, "rows per second and wall time at both sizes"),
        image(memory, "peak memory at both sizes"),
    ]))


if __name__ == "__main__":
    sys.exit(main())
