"""What every benchmark shares to write its part of ``bench/REPORT.md``.

The convention: a benchmark run with ``--report-dir DIR`` writes its section as ``DIR/<name>.md``
(markdown: a ``## `` heading, a sentence on what was measured, tables) and its plots as
``DIR/<name>-<what>.png``, linked from the section by file name. ``bench/report.py`` runs every
benchmark so, and puts the sections together into ``bench/REPORT.md`` (the PNGs beside it in
``bench/report/``). A benchmark run without ``--report-dir`` only prints, as before.
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Iterable, Sequence


def md_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], align: str | None = None) -> str:
    """A markdown table. ``align``: one letter a column, ``l`` or ``r`` (default: the first left, the rest right)."""
    headers = [str(h) for h in headers]
    align = align or ("l" + "r" * (len(headers) - 1))
    rule = ["---:" if a == "r" else ":---" for a in align]
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(rule) + " |"]
    for row in rows:
        lines.append("| " + " | ".join(str(cell).replace("|", "\\|") for cell in row) + " |")
    return "\n".join(lines) + "\n"


def write_section(report_dir: Path | None, name: str, markdown: str) -> Path | None:
    """Write ``report_dir/<name>.md`` (nothing without a report directory)."""
    if report_dir is None:
        return None
    report_dir.mkdir(parents=True, exist_ok=True)
    path = report_dir / f"{name}.md"
    path.write_text(markdown.rstrip() + "\n", encoding="utf-8")
    return path


def pyplot() -> Any:
    """matplotlib's pyplot on the file-only Agg backend (no display on a build machine)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(figure: Any, report_dir: Path, name: str, what: str) -> str:
    """Save a matplotlib figure as ``report_dir/<name>-<what>.png``; returns the file name, for a markdown link."""
    report_dir.mkdir(parents=True, exist_ok=True)
    file_name = f"{name}-{what}.png"
    figure.tight_layout()
    figure.savefig(report_dir / file_name, dpi=110)
    pyplot().close(figure)
    return file_name


def add_report_dir(parser: argparse.ArgumentParser) -> None:
    """The ``--report-dir`` option every benchmark takes (absent: it only prints, as before)."""
    parser.add_argument(
        "--report-dir", type=Path, default=None, metavar="DIR",
        help="also write this benchmark's section of bench/REPORT.md (markdown) and its plots (PNG) into DIR",
    )


def verdict(met: bool) -> str:
    """A goal's state in a table: ``met`` or a bold ``NOT met`` (what a reader looks for)."""
    return "met" if met else "**NOT met**"


def image(file_name: str, alt: str) -> str:
    """A markdown image link to a plot beside the section (``report.py`` rewrites it for REPORT.md)."""
    return f"![{alt}]({file_name})\n"


def bar_figure(labels: Sequence[str], values: Sequence[float], xlabel: str, title: str, fmt: str = "{:,.0f}", log: bool = False) -> Any:
    """Horizontal bars, one a label (the first at the top), each with its value written beside it."""
    plt = pyplot()
    figure, axes = plt.subplots(figsize=(9, 0.5 * len(labels) + 1.4))
    positions = list(range(len(labels)))[::-1]
    axes.barh(positions, values, color="#4c72b0")
    axes.set_yticks(positions, labels)
    axes.set_xlabel(xlabel)
    axes.set_title(title)
    for position, value in zip(positions, values):
        axes.annotate(" " + fmt.format(value), (value, position), va="center", fontsize=9)
    if log:
        axes.set_xscale("log")
        axes.set_xlim(right=max(values) * 6)  # room for the last value's text
    else:
        axes.margins(x=0.18)
    return figure


def scaling_figure(sizes: Sequence[int], seconds: Sequence[float], unit: str, title: str) -> Any:
    """Two panels for a run at several sizes: the rate (``unit``/s) at each size, and the wall time
    against linear growth from the smallest size (dashed), so a reader sees at once whether the
    time grows faster than the work."""
    plt = pyplot()
    figure, (left, right) = plt.subplots(1, 2, figsize=(9, 3.6))
    labels = [f"{n:,}" for n in sizes]
    rates = [n / s for n, s in zip(sizes, seconds)]
    left.bar(labels, rates, color="#4c72b0")
    left.set_xlabel(unit)
    left.set_ylabel(f"{unit}/s")
    left.set_title("rate")
    for label, rate in zip(labels, rates):
        left.annotate(f"{rate:,.0f}", (label, rate), ha="center", va="bottom", fontsize=9)
    left.margins(y=0.15)
    left.yaxis.set_major_formatter(lambda value, _: f"{value:,.0f}")
    right.plot(sizes, seconds, marker="o", label="measured")
    right.plot(sizes, [seconds[0] * n / sizes[0] for n in sizes], linestyle="--", color="grey", label="linear from the smallest")
    right.set_xscale("log")
    right.set_yscale("log")
    right.set_xticks(sizes, labels)
    right.minorticks_off()
    right.yaxis.set_major_formatter(lambda value, _: f"{value:g}")
    right.margins(x=0.25, y=0.25)
    right.set_xlabel(unit)
    right.set_ylabel("wall time, s")
    right.set_title(f"time: x{seconds[-1] / seconds[0]:.2f} for x{sizes[-1] / sizes[0]:.0f} the work")
    for n, s in zip(sizes, seconds):
        right.annotate(f" {s:.2f} s", (n, s), fontsize=9)
    right.legend(fontsize=8, loc="upper left")
    figure.suptitle(title)
    return figure
