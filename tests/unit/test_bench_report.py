"""``bench/report_kit.py``'s markdown tables and ``bench/report.py``'s report: put together from fake
sections (``--skip-run``) and from fake benchmarks run as the real ones are, each in its own temporary
directory. Nothing here runs a real benchmark, nor asks git (``--no-commit``)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.report import BENCHMARKS, relink, slug
from bench.report_kit import md_table, write_section

ROOT = Path(__file__).resolve().parents[2]
REPORT = ROOT / "bench" / "report.py"
PNG = b"\x89PNG\r\n\x1a\n"  # enough of one for a link to point at

WRITES_ITS_SECTION = '''
import sys
from pathlib import Path
assert (Path.cwd() / "bench" / "report.py").exists(), "not run from the repository root"
out = Path(sys.argv[sys.argv.index("--report-dir") + 1])
(out / "cold_start-imports.png").write_bytes(b"png")
(out / "cold_start.md").write_text("## Cold start\\n\\nfake.\\n\\n![imports](cold_start-imports.png)\\n")
print("cold start printed as ever")
'''
FAILS_WITHOUT_SECTION = "import sys\nprint('intake broke')\nsys.exit(1)\n"


def report(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(REPORT), "--no-commit", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


# -- md_table -----------------------------------------------------------------------------------------------


def test_a_table_aligns_the_first_column_left_and_the_others_right_by_default():
    assert md_table(["what", "rate", "ratio"], [("render", "34.0/s", 1.25), ("sign", 39, None)]) == (
        "| what | rate | ratio |\n"
        "| :--- | ---: | ---: |\n"
        "| render | 34.0/s | 1.25 |\n"
        "| sign | 39 | None |\n"
    )


def test_a_table_takes_one_alignment_letter_a_column_and_escapes_pipes():
    table = md_table(["a", "b", "c"], [["x|y", 1, "z"]], align="lrl")
    assert table.splitlines()[1] == "| :--- | ---: | :--- |"
    assert table.splitlines()[2] == "| x\\|y | 1 | z |"


def test_a_table_without_rows_is_its_header():
    assert md_table(["only"], []) == "| only |\n| :--- |\n"


def test_a_section_is_written_only_with_a_report_directory(tmp_path):
    assert write_section(None, "review", "## Review\n") is None
    path = write_section(tmp_path / "new", "review", "## Review\n\ntext\n\n\n")
    assert path == tmp_path / "new" / "review.md"
    assert path.read_text(encoding="utf-8") == "## Review\n\ntext\n"


# -- the report's pieces --------------------------------------------------------------------------------------


def test_the_benchmarks_run_in_the_order_asked():
    assert BENCHMARKS == ("cold_start", "intake", "review", "routing", "reservations", "contracts", "ledger",
                          "reconciliation", "day_end", "cost_model", "latency", "load", "throughput")


def test_anchors_are_githubs():
    used: dict[str, int] = {}
    assert [slug(h, used) for h in ("Day end", "Cost model (USD, us-east-1)", "Day end")] == ["day-end", "cost-model-usd-us-east-1", "day-end-1"]


def test_only_the_plots_beside_a_section_are_relinked():
    markdown = "![a](x-a.png) ![b](other/b.png) ![c](https://example.com/c.png) [d](d.png)"
    assert relink(markdown, "report") == "![a](report/x-a.png) ![b](other/b.png) ![c](https://example.com/c.png) [d](d.png)"


# -- the report, put together ----------------------------------------------------------------------------


def fake_sections(report_dir: Path) -> None:
    report_dir.mkdir(parents=True)
    (report_dir / "cold_start.md").write_text("## Cold start\n\nratio 0.42.\n\n![median import times](cold_start-imports.png)\n")
    (report_dir / "cold_start-imports.png").write_bytes(PNG)
    (report_dir / "contracts.md").write_text("## Contracts\n\n| step | rate |\n| :--- | ---: |\n| sign | 39/s |\n")
    (report_dir / "headline.md").write_text("## What a loan costs\n\nUSD 0.635 per 1,000 loans ([plot](cost_model-usd.png)).\n")


def test_the_report_puts_the_sections_together_in_order_and_names_the_missing(tmp_path):
    report_dir, output = tmp_path / "report", tmp_path / "out" / "REPORT.md"
    fake_sections(report_dir)

    done = report("--skip-run", "--report-dir", str(report_dir), "--output", str(output))

    assert done.returncode == 1, done.stdout + done.stderr  # sections are missing
    assert "missing: intake, review" in done.stdout
    text = output.read_text(encoding="utf-8")
    assert text.startswith("# Benchmark report\n")
    assert " UTC " in text
    for machine in ("| CPU |", "| cores available |", "| memory |", "| Python |"):
        assert machine in text
    assert "| commit |" not in text  # --no-commit
    assert "compare across machines" in text
    # the headline, its headings under "## Headline", its links pointing into the report directory
    assert text.index("## Headline") < text.index("### What a loan costs") < text.index("## Contents")
    assert "([plot](cost_model-usd.png))" in text  # a plain link is left alone, only images move
    # contents: every benchmark, in order, the missing ones said so
    assert "- [Cold start](#cold-start)\n- [Intake](#intake): **missing** (not run yet)" in text
    assert "- [Day end](#day-end): **missing**" in text and "- [Runs](#runs)" in text
    # the sections, in the benchmarks' order, after the contents
    positions = [text.index(heading) for heading in ("## Contents", "## Cold start\n", "## Intake\n", "## Contracts\n", "## Throughput\n", "## Runs\n")]
    assert positions == sorted(positions)
    assert "## Intake\n\n**Missing**: not run yet." in text
    assert "| sign | 39/s |" in text
    # the plot link, rewritten from beside the section to beside the report
    assert "![median import times](../report/cold_start-imports.png)" in text
    assert str(tmp_path) not in text  # no absolute path of this machine


def test_the_report_succeeds_when_every_section_is_there(tmp_path):
    report_dir = tmp_path / "report"
    fake_sections(report_dir)
    for name in BENCHMARKS:
        if not (report_dir / f"{name}.md").exists():
            write_section(report_dir, name, f"## {name}\n\nfake.\n")

    done = report("--skip-run", "--report-dir", str(report_dir), "--output", str(report_dir.parent / "REPORT.md"))

    assert done.returncode == 0, done.stdout + done.stderr
    text = (report_dir.parent / "REPORT.md").read_text(encoding="utf-8")
    assert "**missing**" not in text and "Missing:" not in text
    assert "![median import times](report/cold_start-imports.png)" in text


def test_running_notes_each_benchmark_and_reports_the_absent_and_the_failed(tmp_path):
    scripts, report_dir, output = tmp_path / "bench", tmp_path / "report", tmp_path / "REPORT.md"
    scripts.mkdir()
    (scripts / "cold_start.py").write_text(WRITES_ITS_SECTION)
    (scripts / "intake.py").write_text(FAILS_WITHOUT_SECTION)
    # left from an earlier run: a plot the benchmark no longer makes, a section it will not write this time
    fake_sections(report_dir)
    (report_dir / "cold_start-old.png").write_bytes(PNG)
    (report_dir / "intake.md").write_text("## Intake\n\nstale.\n")

    done = report("--only", "cold_start,intake,review", "--scripts", str(scripts), "--report-dir", str(report_dir), "--output", str(output))

    assert done.returncode == 1
    assert "cold start printed as ever" in done.stdout and "intake broke" in done.stdout
    assert not (report_dir / "cold_start-old.png").exists() and (report_dir / "cold_start-imports.png").read_bytes() == b"png"
    assert not (report_dir / "intake.md").exists()
    runs = json.loads((report_dir / "runs.json").read_text(encoding="utf-8"))
    assert list(runs) == ["cold_start", "intake", "review"]
    assert (runs["cold_start"]["state"], runs["cold_start"]["exit"]) == ("ok", 0) and runs["cold_start"]["seconds"] >= 0
    assert (runs["intake"]["state"], runs["intake"]["exit"]) == ("no section", 1)
    assert (runs["review"]["state"], runs["review"]["seconds"]) == ("no script", None)
    text = output.read_text(encoding="utf-8")
    assert "## Cold start\n\nfake." in text
    assert "## Contracts\n" in text  # not re-run: kept from before
    assert "## Intake\n\n**Missing**: `intake.py` exited 1 without writing its section." in text
    assert "## Review\n\n**Missing**: there is no `review.py`." in text
    assert "| intake | no section (exit 1) |" in text and "| review | no script |" in text and "| contracts | not run |" in text

    again = report("--skip-run", "--report-dir", str(report_dir), "--output", str(output))  # the runs kept for re-assembly
    assert again.returncode == 1
    assert "| cold_start | ok |" in output.read_text(encoding="utf-8")


def test_only_refuses_a_benchmark_it_does_not_know(tmp_path):
    done = report("--only", "cold_start,nonsense", "--report-dir", str(tmp_path), "--output", str(tmp_path / "R.md"))
    assert done.returncode == 2 and "nonsense" in done.stderr
    assert not (tmp_path / "R.md").exists()
