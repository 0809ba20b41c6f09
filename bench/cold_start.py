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

ROOT = Path(__file__).resolve().parent.parent
GOAL = 1.5


def once(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=21)
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
