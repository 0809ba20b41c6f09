"""Per-step latency: how long each step of a loan's life takes in the app's own code, and how many AWS
calls it makes, measured on the cost model's run.

What runs: ``bench/cost_model.py``'s run, as it is (imported, not copied): ``--loans`` loans end to end
in-process on moto (the partner's signed requests through the Chalice app, the origination workflow
on moto's interpreter running the app's handlers, a repayment each, a day end), after a warm-up loan
and a warm-up day end. ``bench/aws_meter.py``'s Meter keeps every Lambda invocation: its wall time and
the part of it spent inside AWS calls, and how many calls it made.

A step is a Lambda function, as the Meter names it (whatever the workflow's states are called, Standard
or Express); ``api_handler`` is split by the API route it served (``Meter.label``, set from the Chalice
test client's requests). For each step:

- **own time**: the invocation's wall time less the time inside its AWS calls, median and p95 over the
  measured invocations (the warm-up loan's and warm-up night's left out, and the night with no loans,
  which is other work for the day-end functions);
- **AWS calls**: how many an invocation makes (median), and the time inside them (median, p95). On moto
  that time is moto's in-process work plus botocore's (building and parsing the request), not AWS's:
  the calls are what to read here; their time on AWS is modelled in ``bench/cost_model.py``;
- **cold**: the first invocation of the step in the process, shown apart (imports, first clients,
  caches filled): indicative of a cold start, not part of the percentiles.

The process is kept on one core. Wall times include the harness's own work competing for the
interpreter (it polls the workflow while a handler runs), as any in-process measure does.

    .venv/bin/python bench/latency.py [--loans 60] [--json FILE] [--report-dir DIR]
"""
from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import cost_model  # noqa: E402 - the run measured, one copy
from bench.aws_meter import Invocation, Meter  # noqa: E402
from bench.report_kit import add_report_dir, image, md_table, pyplot, save_figure, write_section  # noqa: E402

NAME = "latency"
WARM_UP = "warm-up"  # the cost model's phases whose names start so warm the functions: left out of the percentiles
OTHER_WORK = ("day end, no loans",)  # phases measured by the cost model that are not the steps' usual work: left out
API_FUNCTION = "api_handler"

# -- the pure parts ---------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0 to 100) of ``values``, linearly interpolated between the closest ranks
    (numpy's default); None for no values. Small samples: the p95 of a few values is near their largest."""
    import numpy

    if not 0 <= q <= 100:
        raise ValueError(f"a percentile is between 0 and 100, not {q}")
    return float(numpy.percentile(values, q)) if len(values) else None


def route_of(method: str, path: str, patterns: Iterable[str]) -> str:
    """``METHOD /pattern`` of the API route a request's path matches (``{name}`` matches one segment; the
    pattern with the most literal segments wins), or ``METHOD /path`` when none does. Groups the
    requests of one route whatever the IDs in their paths."""
    segments = path.split("?", 1)[0].rstrip("/").split("/")
    best: tuple[int, str] | None = None
    for pattern in patterns:
        parts = pattern.rstrip("/").split("/")
        if len(parts) != len(segments):
            continue
        literal = 0
        for part, segment in zip(parts, segments):
            if part.startswith("{") and part.endswith("}"):
                if not segment:
                    break
            elif part == segment:
                literal += 1
            else:
                break
        else:
            if best is None or literal > best[0]:
                best = (literal, pattern)
    return f"{method.upper()} {best[1] if best else path.split('?', 1)[0]}"


def step_of(invocation: Invocation) -> str:
    """The step an invocation belongs to: its function, with its label (an API route) when it has one."""
    return f"{invocation.function} {invocation.label}" if invocation.label else invocation.function


@dataclass
class Step:
    """One step's invocations: the first in the process (cold) and the measured ones."""

    name: str
    cold: Invocation | None = None
    measured: list[Invocation] = field(default_factory=list)


def group(invocations: Iterable[Invocation], left_out: Sequence[str] = OTHER_WORK) -> dict[str, Step]:
    """The invocations by step, in the order the steps were first measured (a loan's order, then the
    night's). Each step's first invocation in the process is its cold one; the rest are measured unless
    made in a warm-up phase (a name starting with ``warm-up``) or in a phase of ``left_out``."""
    steps: dict[str, Step] = {}
    for inv in sorted(invocations, key=lambda i: i.started):
        step = steps.setdefault(step_of(inv), Step(step_of(inv)))
        if step.cold is None:
            step.cold = inv
        elif not (inv.phase or "").startswith(WARM_UP) and inv.phase not in left_out:
            step.measured.append(inv)
    first = {name: (s.measured[0].started if s.measured else math.inf, s.cold.started if s.cold else math.inf) for name, s in steps.items()}
    return {name: steps[name] for name in sorted(steps, key=lambda n: first[n])}


def own_ms(inv: Invocation) -> float:
    """The handler's own time: wall less the time inside AWS calls (never below zero), in ms."""
    return max(0.0, inv.wall - inv.aws_wall) * 1000


def step_stats(step: Step) -> dict[str, Any]:
    """A step's figures in ms: own time and AWS-call time (median, p95), calls per invocation, the cold call."""
    m = step.measured
    own = [own_ms(i) for i in m]
    aws = [i.aws_wall * 1000 for i in m]
    calls = [i.calls for i in m]
    operations: dict[str, float] = {}
    for inv in m:
        for name, count in inv.services.items():
            operations[name] = operations.get(name, 0.0) + count / len(m)
    cold = step.cold
    return {
        "function": (cold or m[0]).function if (cold or m) else None,
        "invocations": len(m),
        "errors": sum(1 for i in m if i.error),
        "own_ms": {"median": percentile(own, 50), "p95": percentile(own, 95), "max": max(own, default=None)},
        "aws_ms": {"median": percentile(aws, 50), "p95": percentile(aws, 95)},
        "wall_ms": {"median": percentile([i.wall * 1000 for i in m], 50), "p95": percentile([i.wall * 1000 for i in m], 95)},
        "own_cpu_ms": {"median": percentile([max(0.0, i.cpu - i.aws_cpu) * 1000 for i in m], 50)},
        "aws_calls": {"median": percentile(calls, 50), "mean": statistics.fmean(calls) if calls else None},
        "aws_calls_by_operation": dict(sorted(operations.items(), key=lambda kv: -kv[1])),
        "cold": None if cold is None else {"phase": cold.phase, "own_ms": own_ms(cold), "aws_ms": cold.aws_wall * 1000,
                                           "aws_calls": cold.calls, "error": cold.error},
    }


def rows(stats: Mapping[str, Mapping[str, Any]]) -> list[list[str]]:
    """The table: a row a step, figures in ms (``-``: none measured)."""
    def ms(v: float | None) -> str:
        return "-" if v is None else f"{v:.1f}"

    def calls(v: float | None) -> str:
        return "-" if v is None else f"{v:g}"

    out = []
    for name, s in stats.items():
        cold = s["cold"] or {}
        out.append([name, str(s["invocations"]), ms(s["own_ms"]["median"]), ms(s["own_ms"]["p95"]), calls(s["aws_calls"]["median"]),
                    ms(s["aws_ms"]["median"]), ms(s["aws_ms"]["p95"]), ms(cold.get("own_ms")), ms(cold.get("aws_ms")), calls(cold.get("aws_calls"))])
    return out


HEADERS = ("step (Lambda function, API route)", "n", "own median", "own p95", "AWS calls", "AWS median", "AWS p95",
           "cold own", "cold AWS", "cold calls")

# -- the run ----------------------------------------------------------------------------------------


@contextlib.contextmanager
def labelled_routes(meter: Meter) -> Iterator[None]:
    """While the run lasts, every request through Chalice's test client (the partner's, in ``api_handler``)
    labels its invocation with its route, so that the API's steps are told apart."""
    from chalice.test import TestHTTPClient

    real = TestHTTPClient.request

    def request(self: Any, method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b"") -> Any:
        app = getattr(self, "_app", None)
        meter.label(route_of(method, path, getattr(app, "routes", {}) or {}))
        return real(self, method, path, headers=headers, body=body)

    TestHTTPClient.request = request  # type: ignore[method-assign]
    try:
        yield
    finally:
        TestHTTPClient.request = real  # type: ignore[method-assign]


def measure(args: argparse.Namespace) -> tuple[dict[str, Any], Meter]:
    """The cost model's run with every invocation kept: (its result, the meter)."""
    os.environ["POWERTOOLS_LOG_LEVEL"] = "INFO"  # as deployed (and as the cost model runs); before the app's logger is made
    meter = Meter().install()  # before any botocore client is made
    with meter.capturing_output(), labelled_routes(meter):
        result = cost_model.run(args, meter)
    return result, meter


def print_table(stats: Mapping[str, Mapping[str, Any]]) -> None:
    table = [list(HEADERS)] + rows(stats)
    widths = [max(len(r[c]) for r in table) for c in range(len(HEADERS))]
    for r in table:
        print("  " + "  ".join(cell.ljust(w) if c == 0 else cell.rjust(w) for c, (cell, w) in enumerate(zip(r, widths))))


def method_sentence(loans: int, seconds: float) -> str:
    return (f"Each step of a loan's life is a Lambda function (`api_handler` split by route), run in-process on moto on one core by "
            f"the cost model's run ({loans} loans end to end, a repayment each, a day end; {seconds:.0f} s). Own time is an invocation's "
            "wall time minus the time inside its AWS calls; medians and p95 are over the loans' invocations (the day-end functions': over "
            "the night's few), without the warm-up loan and night, whose first call of each step is shown apart as the cold call. "
            "AWS calls are counted per invocation; their time here is moto's (and botocore's), not AWS's: on AWS it is modelled in the "
            "cost model. Times in ms.")


def plot(stats: Mapping[str, Mapping[str, Any]], report_dir: Path) -> str:
    """Horizontal bars a step: own time (median, p95) with the AWS calls' time (median, p95) stacked on it."""
    plt = pyplot()
    shown = [(name, s) for name, s in stats.items() if s["invocations"]]
    figure, axes = plt.subplots(figsize=(9, 0.55 * len(shown) + 1.6))
    height = 0.38
    for k, (name, s) in enumerate(shown):
        y = len(shown) - 1 - k
        for offset, which, shade in ((height / 2, "median", 1.0), (-height / 2, "p95", 0.55)):
            own, aws = s["own_ms"][which] or 0.0, s["aws_ms"][which] or 0.0
            axes.barh(y + offset, own, height, color="#4c72b0", alpha=shade, label=f"own, {which}" if k == 0 else None)
            axes.barh(y + offset, aws, height, left=own, color="#dd8452", alpha=shade, label=f"AWS calls (moto), {which}" if k == 0 else None)
            axes.annotate(f" {own:.0f} + {aws:.0f}", (own + aws, y + offset), va="center", fontsize=7)
    axes.set_yticks(range(len(shown))[::-1], [name.replace(f"{API_FUNCTION} ", "api ") for name, _ in shown], fontsize=8)
    axes.set_xlabel("ms per invocation (upper bar: medians, lower: p95 of each part)")
    axes.set_title("per-step latency in-process on moto: own time + time inside AWS calls")
    axes.legend(fontsize=7, loc="lower right")
    axes.margins(x=0.15)
    return save_figure(figure, report_dir, NAME, "steps")


def report(report_dir: Path, stats: Mapping[str, Mapping[str, Any]], loans: int, seconds: float) -> None:
    """The section of bench/REPORT.md: the method, the table, the plot."""
    file_name = plot(stats, report_dir)
    write_section(report_dir, NAME, "\n".join([
        "## Per-step latency",
        "",
        method_sentence(loans, seconds),
        "",
        md_table(HEADERS, rows(stats)),
        image(file_name, "per-step own time and AWS-call time, median and p95"),
    ]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cost_model.add_run_arguments(parser, loans=60)  # 60 loans keep the run near two minutes
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    add_report_dir(parser)
    args = parser.parse_args()
    if args.loans < 1 or args.segments < 1:
        parser.error("--loans and --segments must be at least 1")

    from one_core import pin_to_one_core  # bench/'s own (run as a script, bench/ is on the path)

    pin_to_one_core()
    started = time.perf_counter()
    result, meter = measure(args)
    seconds = time.perf_counter() - started
    invocations = [inv for usage in meter.phases.values() for inv in usage.invocations]
    stats = {name: step_stats(step) for name, step in group(invocations).items()}
    n = result["loans"]
    print(f"per-step latency: {n} of {args.loans} loans end to end in-process on moto, one core (+1 warm-up loan), a repayment each, "
          f"a day end; {seconds:.0f} s in all")
    print("  own = wall - time inside AWS calls; median and p95 over the measured invocations (n), ms; AWS calls per invocation (median) "
          "and their time on moto (moto's and botocore's, not AWS's: modelled in bench/cost_model.py); cold = the step's first call in the process")
    print_table(stats)
    if result["problems"]:
        print("problems: " + "; ".join(result["problems"][:10]))
    if args.json:
        document = {"as_of": datetime.now(timezone.utc).isoformat(timespec="seconds"), "args": {k: str(v) for k, v in vars(args).items()},
                    "loans": n, "seconds": seconds, "run_seconds": result["seconds"], "problems": result["problems"],
                    "method": method_sentence(n, seconds), "phases_left_out": [f"{WARM_UP}*", *OTHER_WORK], "steps": stats}
        args.json.write_text(json.dumps(document, indent=2, default=str), encoding="utf-8")
        print(f"figures written to {args.json}")
    if args.report_dir is not None:
        report(args.report_dir, stats, n, seconds)
        print(f"section written to {args.report_dir / (NAME + '.md')}")
    return 1 if result["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
