"""What the platform could take on AWS: loans a second at each published limit, from the cost model's
measured per-loan figures (``bench/cost_model.py``) and AWS's default quotas (``bench/aws_limits.json``).

For each limit, what one loan asks of it (API requests, Lambda seconds as modelled for AWS, Express
executions started, DynamoDB write units on its busiest table, on one quota item), and so how many
loans a second it allows (Little's law for concurrency: rate = concurrency / seconds a loan). The
first limit is the lowest. Compared with the seeds' volume (a million applications a day, here all of
them loans: an average rate, and a peak hour ``--peak-factor`` times it). This is an estimate from
measured per-loan costs and published quotas, not a load test on AWS: it says which limit to watch
and what the design does about it. The local stack's own saturation (``bench/load.py``) is this
machine's Python and moto, shown beside it for contrast.

    .venv/bin/python bench/throughput.py [--cost-json bench/report/cost_model.json] [--report-dir DIR]
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.aws_meter import write_units  # noqa: E402
from bench.report_kit import add_report_dir, bar_figure, image, md_table, save_figure, write_section  # noqa: E402

LIMITS = ROOT / "bench" / "aws_limits.json"
REPORT = ROOT / "bench" / "report"
NIGHT_FUNCTIONS = ("day_end_", "advance_business_date", "start_day_end", "origination_watch")
QUOTA_SHARDS_MAX = 32  # persistence/quotas.MAX_SHARDS


@dataclass(frozen=True)
class Limit:
    key: str
    name: str
    value: float
    unit: str
    per_loan: float  # what one loan asks of it, in the limit's unit-seconds
    asks: str  # what that is, in words
    design: str
    sure: bool

    @property
    def loans_per_second(self) -> float:
        return self.value / self.per_loan if self.per_loan > 0 else float("inf")


def demands(cost: dict[str, Any]) -> dict[str, tuple[float, str]]:
    """What one loan asks of each limit (origination and its repayment; the night runs apart)."""
    f = cost["figures"]
    per_loan = f["measured"]["per_loan"]
    loans = f["loans"]
    api = sum(per_loan[c].get("apigateway.rest.requests", 0.0) for c in ("origination", "repayment"))
    seconds = sum(
        s["invocations"] * s["mean_modelled_ms"] / 1000 for name, s in f["functions"].items() if not name.startswith(NIGHT_FUNCTIONS)
    ) / loans
    legs = f["express"]["legs_per_loan"]
    table, (wru, index_wru) = max(f["wru_per_loan_by_table"].items(), key=lambda kv: sum(kv[1]))
    quota_item = write_units(int(f["item_sizes"].get("quotas", 250)), transactional=True)
    return {
        "apigateway.requests_per_second": (api, f"{api:.1f} requests"),
        "lambda.concurrency": (seconds, f"{seconds:.2f} s of Lambda (modelled for AWS)"),
        "lambda.scaling_per_10_seconds": (seconds / 10, f"{seconds:.2f} s of Lambda: new concurrency a loan a second, over 10 s"),
        "stepfunctions.express.start_execution_per_second": (legs, f"{legs:.2f} Express legs"),
        "dynamodb.partition_write_units_per_second": (quota_item, f"{quota_item} write units on a funder's (or a branch's) quota item, one shard"),
        "dynamodb.table_write_units_per_second": (wru + index_wru, f"{wru + index_wru:.0f} write units on the {table} table and its indexes"),
        "dynamodb.new_on_demand_table_write_units_per_second": (wru + index_wru, f"{wru + index_wru:.0f} write units on a new on-demand {table} table"),
    }


def limits(cost: dict[str, Any], published: dict[str, Any]) -> list[Limit]:
    asked = demands(cost)
    found = [
        Limit(key, entry["unit"], float(entry["value"]), entry["unit"], asked[key][0], asked[key][1], entry["design"], bool(entry["sure"]))
        for key, entry in published["limits"].items()
        if key in asked
    ]
    return sorted(found, key=lambda limit: limit.loans_per_second)


def local_saturation(path: Path) -> dict[str, Any] | None:
    """What ``bench/load.py`` found on the local stack, if it ran (its ``--json``)."""
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cost-json", type=Path, default=REPORT / "cost_model.json", help="bench/cost_model.py's figures (--json)")
    parser.add_argument("--load-json", type=Path, default=REPORT / "load.json", help="bench/load.py's figures (--json), if it ran")
    parser.add_argument("--loans-per-day", type=int, default=1_000_000, help="the volume to compare with (seeds 003, 004)")
    parser.add_argument("--peak-factor", type=float, default=5.0, help="the peak hour's rate over the day's average")
    add_report_dir(parser)
    args = parser.parse_args()
    if not args.cost_json.exists():
        print(f"no cost model figures at {args.cost_json}: run bench/cost_model.py --json {args.cost_json} first", file=sys.stderr)
        return 1
    cost = json.loads(args.cost_json.read_text(encoding="utf-8"))
    published = json.loads(LIMITS.read_text(encoding="utf-8"))
    found = limits(cost, published)
    average = args.loans_per_day / 86_400
    peak = average * args.peak_factor
    first = found[0]
    rows = [
        [limit.key, f"{limit.value:,.0f}", limit.asks, f"{limit.loans_per_second:,.0f}", f"{limit.loans_per_second / peak:,.1f} x",
         "yes" if limit.sure else "unsure"]
        for limit in found
    ]
    headers = ["limit (default quota, one account and region)", "quota", "a loan asks", "loans/s it allows", "over the peak", "checked"]
    print(f"throughput on AWS, estimated: {args.loans_per_day:,} loans a day is {average:.1f} a second on average, {peak:.0f} at a peak "
          f"{args.peak_factor:g} x the average")
    for row in rows:
        print("  " + " | ".join(row))
    print(f"first limit: {first.key} at {first.loans_per_second:,.0f} loans/s ({first.loans_per_second / peak:.1f} x the peak); {first.design}")
    load = local_saturation(args.load_json)
    if args.report_dir:
        figure = bar_figure([limit.key for limit in found], [limit.loans_per_second for limit in found], "loans a second each limit allows (log)",
                            f"Throughput on AWS, estimated (peak of {args.loans_per_day:,} a day: {peak:.0f}/s)", log=True)
        figure.axes[0].axvline(peak, color="black", linestyle="--", linewidth=1)
        plot = save_figure(figure, args.report_dir, "throughput", "limits")
        lines = [
            "## Throughput on AWS (an estimate)",
            "",
            "From the cost model's measured per-loan figures (API requests, Lambda time modelled for AWS, Express legs, DynamoDB write "
            "units) and AWS's default quotas (`bench/aws_limits.json`, dated, a source each): how many loans a second each quota allows. "
            f"The seeds' volume, {args.loans_per_day:,} loans a day, is {average:.1f} a second on average and {peak:.0f} at a peak hour "
            f"{args.peak_factor:g} times the average. Not a load test on AWS.",
            "",
            md_table(headers, rows, "lrlrrl"),
            f"**The first limit is {first.key}**, at about {first.loans_per_second:,.0f} loans a second ({first.loans_per_second / peak:.1f} "
            f"times the peak): {first.design}",
            "",
            "What the design does about each:",
            "",
            *(f"- `{limit.key}`: {limit.design}" for limit in found),
            "",
            image(plot, "loans a second each limit allows"),
        ]
        if load and load.get("saturation"):
            sat = load["saturation"]
            lines += ["", f"For contrast, the local stack (`bench/load.py`: the API, moto and the workflows in one Python process) "
                      f"saturates at {sat['concurrency']} client thread(s), about {sat['server_cpu_per_request_s']:.2f} CPU-seconds an "
                      f"application, so about {sat['one_core_limit_per_s']:.1f} applications a second on the one core a Python process "
                      "uses: a limit of this machine, not of the design; on AWS each request and each step gets its own Lambda."]
        write_section(args.report_dir, "throughput", "\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
