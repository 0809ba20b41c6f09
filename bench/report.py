"""Every benchmark in one go, then ``bench/REPORT.md`` put together from their sections (``make bench``).

Each benchmark of ``BENCHMARKS`` runs in that order as its own process (this interpreter, the
repository's root as working directory) with ``--report-dir bench/report``: it prints as it always
does (its output goes straight to the console) and writes its section ``bench/report/<name>.md`` and
its plots ``bench/report/<name>-<what>.png`` (the convention is in ``bench/report_kit.py``). Before a
benchmark runs, its old section and plots are removed, so a section it did not write this time shows
as missing rather than stale. Each run's wall time, exit status and end are kept in
``bench/report/runs.json``, so that re-assembling, or re-running a few benchmarks, keeps the others'.

Then ``bench/REPORT.md``: a title, the date (UTC), the machine, a note on what compares across
machines, the headline (``bench/report/headline.md``, when a benchmark wrote one: the cost model
does), a list of contents, every section in order (a missing one named as missing) and the runs.
The sections' plot links, written relative to ``bench/report/``, are rewritten relative to the report.

A benchmark that does not exist (yet), exits non-zero, or writes no section is reported in
``REPORT.md`` and makes the exit status 1; it does not stop the others.

    .venv/bin/python bench/report.py                        # run every benchmark, write bench/REPORT.md
    .venv/bin/python bench/report.py --only cold_start,contracts   # re-run these, keep the other sections
    .venv/bin/python bench/report.py --skip-run             # only put bench/REPORT.md together again
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.report_kit import md_table  # noqa: E402
BENCHMARKS = (
    "cold_start", "intake", "review", "routing", "reservations", "contracts", "ledger",
    "reconciliation", "day_end", "cost_model", "latency", "load", "throughput",
)
HEADLINE = "headline"  # bench/report/headline.md: the figures a reader wants first
RUNS = "runs.json"
IMAGE_LINK = re.compile(r"(!\[[^\]]*\]\()([^)\s]+)(\))")
NOTE = (
    "Ratios and counts are what compare across machines: growth factors (the time at ten times the work over the time at "
    "the smaller size; 10 is linear), one figure over another measured in the same run, AWS calls and write units per "
    "operation, correctness checks and goals met or not. Seconds and rates are this machine's (above), on a machine that "
    "may be shared and with moto standing in for AWS where a benchmark says so: compare them within this report, not "
    "with another machine's."
)


# -- running ----------------------------------------------------------------------------------------------


def shown_path(path: Path) -> str:
    """A path as the report shows it: relative to the repository when inside it (no machine's absolute paths)."""
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return path.name


def load_runs(report_dir: Path) -> dict[str, dict[str, Any]]:
    path = report_dir / RUNS
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return {}


def save_runs(report_dir: Path, runs: dict[str, dict[str, Any]]) -> None:
    report_dir.mkdir(parents=True, exist_ok=True)
    ordered = {name: runs[name] for name in BENCHMARKS if name in runs}
    (report_dir / RUNS).write_text(json.dumps(ordered, indent=2) + "\n", encoding="utf-8")


def clear_outputs(report_dir: Path, name: str, wrote_headline: bool) -> None:
    """Remove what the benchmark wrote last time: its section and its plots (and the headline, if it wrote it)."""
    (report_dir / f"{name}.md").unlink(missing_ok=True)
    for plot in report_dir.glob(f"{name}-*.png"):
        plot.unlink()
    if wrote_headline:
        (report_dir / f"{HEADLINE}.md").unlink(missing_ok=True)


def utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def run_one(name: str, scripts: Path, report_dir: Path, previous: dict[str, Any]) -> dict[str, Any]:
    """Run ``scripts/<name>.py --report-dir report_dir`` from the repository root; what became of it."""
    script = scripts / f"{name}.py"
    if not script.exists():
        print(f"== {name}: no {shown_path(script)}, reported as missing", flush=True)
        return {"state": "no script", "script": shown_path(script), "seconds": None, "exit": None, "finished": utc_now()}
    clear_outputs(report_dir, name, bool(previous.get("wrote_headline")))
    headline = report_dir / f"{HEADLINE}.md"
    headline_before = headline.stat().st_mtime_ns if headline.exists() else None
    target = os.path.relpath(report_dir, ROOT) if report_dir.resolve().is_relative_to(ROOT) else str(report_dir)
    print(f"== {name}: {shown_path(script)} --report-dir {target}", flush=True)
    started = time.perf_counter()
    code = subprocess.run([sys.executable, str(script), "--report-dir", target], cwd=ROOT, stdin=subprocess.DEVNULL).returncode
    seconds = time.perf_counter() - started
    written = (report_dir / f"{name}.md").exists()
    state = ("ok" if code == 0 else "failed") if written else "no section"
    print(f"== {name}: {state}, exit {code}, {seconds:.1f} s", flush=True)
    headline_after = headline.stat().st_mtime_ns if headline.exists() else None
    return {"state": state, "script": shown_path(script), "seconds": round(seconds, 1), "exit": code, "finished": utc_now(),
            "wrote_headline": headline_after is not None and headline_after != headline_before}


# -- the machine --------------------------------------------------------------------------------------------


def machine(with_commit: bool) -> list[tuple[str, str]]:
    """What the seconds were measured on: CPU, cores this process may use, memory, Python, the commit."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.lower().startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cores = f"{usable}" + (f" (of {os.cpu_count()})" if os.cpu_count() and os.cpu_count() != usable else "")
    memory = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024**2:.1f} GiB"
                break
    except (OSError, ValueError, IndexError):
        pass
    rows = [
        ("CPU", cpu),
        ("cores available", cores),
        ("memory", memory),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("system", f"{platform.system()} {platform.release()}"),
    ]
    if with_commit:
        try:
            answer = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10)
            if answer.returncode == 0 and answer.stdout.strip():
                rows.append(("commit", f"`{answer.stdout.strip()}`"))
        except (OSError, subprocess.SubprocessError):
            pass
    return rows


# -- assembling ---------------------------------------------------------------------------------------------


def slug(heading: str, used: dict[str, int]) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens, repeats numbered."""
    base = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
    count = used.get(base, 0)
    used[base] = count + 1
    return base if count == 0 else f"{base}-{count}"


def relink(markdown: str, prefix: str) -> str:
    """Point the plot links of a section (file names beside it) at ``prefix/`` (the report directory, from the report)."""
    def moved(match: re.Match[str]) -> str:
        target = match.group(2)
        if "/" in target or ":" in target or target.startswith("#"):
            return match.group(0)
        return f"{match.group(1)}{prefix}/{target}{match.group(3)}"

    return IMAGE_LINK.sub(moved, markdown)


def title_of(name: str) -> str:
    return name.replace("_", " ").capitalize()


def heading_of(markdown: str, name: str) -> str:
    for line in markdown.splitlines():
        if line.startswith("## "):
            return line[3:].strip()
    return title_of(name)


def missing_reason(name: str, run: dict[str, Any] | None) -> str:
    if run is None:
        return "not run yet"
    if run["state"] == "no script":
        return f"there is no `{run['script']}`"
    if run["state"] != "no section":
        return f"its section is not in the report directory (`{run['script']}` ran, exit {run['exit']})"
    return f"`{run['script']}` exited {run['exit']} without writing its section"


def fmt_seconds(seconds: float | None) -> str:
    if seconds is None:
        return ""
    return f"{seconds:,.1f} s" if seconds < 120 else f"{seconds / 60:,.1f} min ({seconds:,.0f} s)"


def assemble(report_dir: Path, output: Path, runs: dict[str, dict[str, Any]], with_commit: bool) -> list[str]:
    """Write ``output`` from the sections in ``report_dir``; the benchmarks whose section is missing."""
    prefix = Path(os.path.relpath(report_dir, output.parent)).as_posix()
    used: dict[str, int] = {}
    for fixed in ("Benchmark report", "Machine", "Headline", "Contents"):
        slug(fixed, used)
    sections, contents, missing = [], [], []
    for name in BENCHMARKS:
        path = report_dir / f"{name}.md"
        if path.exists():
            markdown = path.read_text(encoding="utf-8").strip()
            heading = heading_of(markdown, name)
            if not markdown.startswith("## "):
                markdown = f"## {heading}\n\n{markdown}"
            sections.append(relink(markdown, prefix))
            state = runs.get(name, {}).get("state", "ok")
            contents.append(f"- [{heading}](#{slug(heading, used)})" + ("" if state == "ok" else f" (the benchmark {state}, exit {runs[name]['exit']})"))
        else:
            missing.append(name)
            heading = title_of(name)
            reason = missing_reason(name, runs.get(name))
            sections.append(f"## {heading}\n\n**Missing**: {reason}.")
            contents.append(f"- [{heading}](#{slug(heading, used)}): **missing** ({reason})")
    contents.append(f"- [Runs](#{slug('Runs', used)})")

    headline_path = report_dir / f"{HEADLINE}.md"
    if headline_path.exists():
        headline = relink(headline_path.read_text(encoding="utf-8").strip(), prefix)
        headline = "\n".join("#" + line if line.startswith("#") else line for line in headline.splitlines())  # under "## Headline"
    else:
        headline = "No benchmark wrote a headline (`bench/cost_model.py` writes one: `bench/report/headline.md`)."

    run_rows = []
    for name in BENCHMARKS:
        run = runs.get(name)
        if run is None:
            run_rows.append((name, "not run", "", ""))
        else:
            state = run["state"] if run["exit"] in (0, None) else f"{run['state']} (exit {run['exit']})"
            run_rows.append((name, state, fmt_seconds(run.get("seconds")), run.get("finished", "")))
    total = sum(run.get("seconds") or 0 for run in runs.values())
    now = utc_now()
    parts = [
        "# Benchmark report",
        "",
        f"Written {now} by `bench/report.py` (`make bench`), from the sections in `{shown_path(report_dir)}/`.",
        "",
        "## Machine",
        "",
        md_table(["", "this machine"], machine(with_commit), "ll"),
        NOTE,
        "",
        "## Headline",
        "",
        headline,
        "",
        "## Contents",
        "",
        "\n".join(contents),
        "",
        "\n\n".join(sections),
        "",
        "## Runs",
        "",
        "Each benchmark in its own process with `--report-dir`, in this order; the wall time includes its setup (data "
        "generated, the local stack started).",
        "",
        md_table(["benchmark", "state", "wall time", "finished"], run_rows, "llrl"),
        f"In all {fmt_seconds(total)}." + (f" Missing: {', '.join(missing)}." if missing else ""),
    ]
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text("\n".join(parts).rstrip() + "\n", encoding="utf-8")
    return missing


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--only", help=f"comma-separated benchmarks to run (the others' sections kept): {', '.join(BENCHMARKS)}")
    what.add_argument("--skip-run", action="store_true", help="run nothing: only put the report together from the sections there are")
    parser.add_argument("--report-dir", type=Path, default=ROOT / "bench" / "report", help="where the sections and plots go (bench/report)")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "REPORT.md", help="the report (bench/REPORT.md)")
    parser.add_argument("--scripts", type=Path, default=ROOT / "bench", help="where the benchmarks are (bench/; the tests use fakes)")
    parser.add_argument("--no-commit", action="store_true", help="do not ask git for the commit (the tests)")
    args = parser.parse_args()
    if args.only is not None:
        args.only = [name.strip() for name in args.only.split(",") if name.strip()]
        unknown = [name for name in args.only if name not in BENCHMARKS]
        if unknown or not args.only:
            parser.error(f"--only: unknown {', '.join(unknown) or 'nothing'}; the benchmarks are {', '.join(BENCHMARKS)}")
    return args


def main() -> int:
    args = arguments()
    report_dir, output = args.report_dir.resolve(), args.output.resolve()
    report_dir.mkdir(parents=True, exist_ok=True)
    runs = load_runs(report_dir)
    failed: list[str] = []
    if not args.skip_run:
        for name in args.only or BENCHMARKS:
            runs[name] = run_one(name, args.scripts, report_dir, runs.get(name, {}))
            if runs[name]["state"] == "failed":
                failed.append(name)
            save_runs(report_dir, runs)  # after each: an interrupted run keeps what it measured
    missing = assemble(report_dir, output, runs, not args.no_commit)
    print(f"wrote {shown_path(output)}: {len(BENCHMARKS) - len(missing)} sections"
          + (f"; missing: {', '.join(missing)}" if missing else "")
          + (f"; failed (exit status not 0): {', '.join(failed)}" if failed else ""))
    return 1 if missing or failed else 0


if __name__ == "__main__":
    sys.exit(main())
