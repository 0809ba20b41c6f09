"""Shared by the pure-logic benchmarks: the arguments they take (``--report-dir`` among them) and running on one core."""
from __future__ import annotations

import argparse
import os

from report_kit import add_report_dir


def arguments(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=20261123)
    add_report_dir(parser)
    return parser.parse_args()


def pin_to_one_core() -> None:
    """Rates are per core: keep the process on one (where the platform allows it)."""
    if hasattr(os, "sched_setaffinity"):
        try:
            os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
        except OSError:
            pass
