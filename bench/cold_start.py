"""Cold start: a fresh ``import app`` against a fresh ``import boto3``, interleaved.

Prints the median wall time of each and their ratio (goal: at most 1.5).
Every Lambda function of the app imports app.py at cold start. Handlers import
their own modules on first call, so the script also times what the partner
API's first quote loads on top (``import app`` plus the quote route's modules):
that is the API function's whole import cost on its first request.
Ratios, not seconds, are what this compares: the machine may be shared.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from report_kit import add_report_dir, bar_figure, image, md_table, save_figure, verdict, write_section

ROOT = Path(__file__).resolve().parent.parent
GOAL = 1.5


def once(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=21)
    add_report_dir(parser)
    args = parser.parse_args()
    programs = {
        "import app": "import app",
        "import boto3": "import boto3",
        "app + first quote's imports": "import app, chalicelib.api.quotes",
    }
    for code in programs.values():
        once(code)  # warm the file cache and the .pyc files
    times: dict[str, list[float]] = {name: [] for name in programs}
    for _ in range(args.runs):
        for name, code in programs.items():
            times[name].append(once(code))
    median = {name: statistics.median(values) for name, values in times.items()}
    boto = median["import boto3"]
    print(f"cold start, median of {args.runs} interleaved runs")
    for name, value in median.items():
        print(f"  {name:30s} {value * 1000:7.1f} ms   {value / boto:5.2f} x import boto3")
    ratio = median["import app"] / boto
    print(f"ratio import app / import boto3: {ratio:.2f} (goal <= {GOAL}: {'met' if ratio <= GOAL else 'NOT met'})")
    if args.report_dir is not None:
        report(args.report_dir, args.runs, programs, median, ratio)
    return 0


def report(report_dir: Path, runs: int, programs: dict[str, str], median: dict[str, float], ratio: float) -> None:
    """The section of bench/REPORT.md: the medians, their ratios to ``import boto3``, the goal."""
    boto = median["import boto3"]
    rows = [(name, f"`{programs[name]}`", f"{value * 1000:.1f}", f"{value / boto:.2f}") for name, value in median.items()]
    chart = bar_figure([f"{name}\n{value / boto:.2f} x import boto3" for name, value in median.items()], [value * 1000 for value in median.values()], "median wall time, ms",
                       f"cold start: import app / import boto3 = {ratio:.2f} (goal <= {GOAL})", fmt="{:,.0f} ms")
    plot = save_figure(chart, report_dir, "cold_start", "imports")
    write_section(report_dir, "cold_start", "\n".join([
        "## Cold start",
        "",
        f"A fresh interpreter running each import, median of {runs} interleaved runs: what every Lambda function pays for "
        "`import app` at cold start, against `import boto3` alone. The ratios compare across machines; the milliseconds are this machine's.",
        "",
        md_table(["what", "program", "median, ms", "x import boto3"], rows, "llrr"),
        md_table(["goal", "ratio", "state"], [(f"import app / import boto3 <= {GOAL}", f"{ratio:.2f}", verdict(ratio <= GOAL))]),
        image(plot, "median import times"),
    ]))


if __name__ == "__main__":
    sys.exit(main())
