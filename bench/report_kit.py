"""What every benchmark shares to write its part of ``bench/REPORT.md``.

The convention: a benchmark run with ``--report-dir DIR`` writes its section as ``DIR/<name>.md``
(markdown: a ``## `` heading, a sentence on what was measured, tables) and its plots as
``DIR/<name>-<what>.png``, linked from the section by file name. ``bench/report.py`` runs every
benchmark so, and puts the sections together into ``bench/REPORT.md`` (the PNGs beside it in
``bench/report/``). A benchmark run without ``--report-dir`` only prints, as before.
"""
from __future__ import annotations

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
