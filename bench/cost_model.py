"""The AWS cost of originating loans, measured end to end on moto and priced at one region's list prices.

What runs (in-process: moto with the declared resources and the sample configuration, the app's
own handlers; ``tests/support/aws.py``'s ``mocked_aws``), all through the paths the deployed system
takes: the partner's signed HTTP requests through the Chalice app (the ``api_handler`` function
behind API Gateway), the real ``origination.asl.json`` on moto's interpreter with its Task states
running the app's handlers, and the real ``day_end.asl.json`` started by the scheduled
``start_day_end`` handler. With the configuration cache as deployed (``--config-cache-seconds``,
30 s) and the day end's chunks as deployed (``DAY_END_LOANS_PER_CALL=0``), in this order:

1. not measured: a day end with no loans (warms the day-end functions);
2. **a day end with no loans** (the nightly cost that does not depend on the loans);
3. not measured: one loan end to end, as below (warms the functions; its durations are the
   "cold" ones shown);
4. **``--loans`` loans, one after the other** (clean applicants, CONSUMER_STD, amounts and terms
   cycling through a fixed list, all approved by the automated review, no manual review): the
   partner POSTs the application, reads it once the offer is out (GET), POSTs the borrower's
   acceptance; the workflow reviews, routes, waits, signs and disburses; then one GET of the
   partner's event feed for all of them;
5. **one repayment per loan**, its first installment, POSTed by the partner on the business date;
6. **a day end with the loans** (every loan accrued, classified, reported to the credit bureau).

Counted (``bench/aws_meter.py``): every AWS request of the app by service and operation; DynamoDB
read and write request units from item sizes (moto's ConsumedCapacity is a constant, so sizes are
used, by DynamoDB's rules); S3 requests by price class and bytes put; KMS requests (and SSM's
decryptions of SecureStrings, which are KMS requests billed to the account); Lambda invocations of
each function with their in-process durations, billed per 1 ms at the memory of
``chalicelib/resources.py``; API Gateway requests (the ``api_handler`` invocations); Standard state
transitions from each execution's history (every state entered, and every retry); log bytes.
The day end's Distributed Map children are not kept in moto's histories: their transitions are
counted from the Lambda invocations they made, by the shape of the child workflow (checked).

Priced with ``bench/aws_prices.json`` (us-east-1, dated, a source for each price). Printed: per
service, what a loan uses and USD per 1,000 loans, for the origination (intake to disbursement),
one repayment and one night of the day end (the loans' share; the night's fixed part, scaled to
the deployed segments, is spread over ``--loans-per-day`` loans), against the goal of USD 0.10 per
1,000 loans; the same for a naive design computed from the same figures; what a 12-month loan costs
over its life; storage and fixed monthly costs. ``--json FILE`` writes every figure.

    .venv/bin/python bench/cost_model.py [--loans 20] [--config-cache-seconds 30] [--json FILE]
"""
from __future__ import annotations

import argparse
import collections
import json
import math
import os
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.aws_meter import Meter, Usage, read_units, s3_class  # noqa: E402
from bench.report_kit import add_report_dir  # noqa: E402

PRICES = Path(__file__).resolve().parent / "aws_prices.json"
GOAL_USD_PER_1000 = 0.10
GIB = 1024**3
LOG_EVENT_OVERHEAD = 26  # bytes CloudWatch Logs counts for each event's metadata
LAMBDA_PLATFORM_LOG = (3, 300)  # lines and bytes Lambda itself logs per invocation (START, END, REPORT): an estimate
FULL_CPU_MB = 1769  # at this memory a function has one full vCPU; below it, CPU time is scaled down with memory
# Assumed latency of one AWS call from a Lambda in the same region, for the "modelled on AWS" durations.
LATENCY_MS = {"dynamodb": 6.0, "dynamodb.TransactWriteItems": 12.0, "kms": 8.0, "s3": 20.0, "s3.PutObject": 35.0, "stepfunctions": 25.0, "ssm": 15.0}
LOAN_LIFE = {"months": 12, "nights": 365}
# The applicants: clean credit files (ID sequences from 100), an income and (amount, months) that the
# sample scorecard approves without a manual review (longer terms score lower: 24 months falls in the grey band).
LOANS = (("20000.00", 12), ("8000.00", 6), ("30000.00", 12), ("12000.00", 12), ("8000.00", 12), ("30000.00", 6),
         ("15000.00", 12), ("12000.00", 9), ("20000.00", 9), ("5000.00", 3))

# -- prices (pure) ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Price:
    key: str
    service: str
    usd: float  # for ``per`` units
    per: float
    unit: str
    url: str
    sure: bool
    note: str = ""

    def cost(self, quantity: float) -> float:
        return quantity / self.per * self.usd


@dataclass(frozen=True)
class PriceTable:
    region: str
    as_of: str
    prices: dict[str, Price]

    def __getitem__(self, key: str) -> Price:
        return self.prices[key]


def load_prices(path: Path = PRICES) -> PriceTable:
    """The dated price table; refuses an entry without a positive unit count, a price, a URL or a service."""
    document = json.loads(path.read_text(encoding="utf-8"))
    prices = {}
    for key, entry in document["prices"].items():
        price = Price(key, entry["service"], float(entry["usd"]), float(entry["per"]), entry["unit"], entry["url"], bool(entry["sure"]), entry.get("note", ""))
        if price.per <= 0 or price.usd < 0 or not price.url.startswith("https://") or not price.service:
            raise ValueError(f"bad price {key}: {entry}")
        prices[key] = price
    if not document.get("as_of") or not document.get("region"):
        raise ValueError("the price table must say its region and date")
    return PriceTable(document["region"], document["as_of"], prices)


def cost_by_service(quantities: dict[str, float], prices: PriceTable) -> dict[str, float]:
    """USD by service of the quantities (keys of the price table: an unknown key is an error)."""
    out: dict[str, float] = collections.defaultdict(float)
    for key, quantity in quantities.items():
        price = prices[key]
        out[price.service] += price.cost(quantity)
    return dict(out)


def lambda_gb_seconds(milliseconds: float, memory_mb: int) -> float:
    """GB-seconds of one invocation, its duration billed in whole milliseconds (at least 1)."""
    return max(1, math.ceil(milliseconds)) * memory_mb / 1024 / 1000


def standard_transitions(events: Iterable[dict[str, Any]]) -> int:
    """State transitions of one Standard execution from its history: every state entered, plus every
    retry (a task scheduled again without its state being entered again)."""
    entered = scheduled = task_entered = 0
    for event in events:
        kind = event["type"]
        if kind.endswith("StateEntered"):
            entered += 1
            if kind == "TaskStateEntered":
                task_entered += 1
        elif kind in ("TaskScheduled", "LambdaFunctionScheduled"):
            scheduled += 1
    return entered + max(0, scheduled - task_entered)


EXPRESS_MEMORY_GB = 64 / 1024  # an Express execution is billed at 64 MB (its state is far below that)


def express_usage(events: list[dict[str, Any]]) -> float:
    """The billed GB-seconds of one Express execution from its history: its duration (first event
    to last), rounded up to 100 ms, at 64 MB."""
    if not events:
        return 0.0
    seconds = (events[-1]["timestamp"] - events[0]["timestamp"]).total_seconds()
    return math.ceil(max(seconds, 0.001) * 10) / 10 * EXPRESS_MEMORY_GB


def distributed_map_transitions(children: int, chunks: int, failed_chunks: int = 0) -> int:
    """Transitions of the day end's Distributed Map children (not in moto's histories): each child
    started is charged one; each runs CloseChunk (a Task) and MoreInSegment (a Choice) per chunk, a
    failed attempt retried is one more, and SegmentClosed (a Pass) once."""
    return children + 2 * chunks + failed_chunks + children


def check_child_workflow(definition: dict[str, Any]) -> None:
    """``distributed_map_transitions`` counts this shape of CloseLoans' children; refuse another."""
    processor = definition["States"]["CloseLoans"]["ItemProcessor"]
    shape = {name: state["Type"] for name, state in processor["States"].items()}
    if shape != {"CloseChunk": "Task", "MoreInSegment": "Choice", "SegmentClosed": "Pass"} or processor["ProcessorConfig"].get("ExecutionType") != "STANDARD":
        raise RuntimeError(f"the day end's child workflow changed ({shape}): update distributed_map_transitions")


# -- from what was counted to quantities of the price table -----------------------------------------


def memory_of(function: str) -> int:
    from chalicelib import resources

    return resources.function(function).memory


def modelled_ms(invocation: Any) -> float:
    """An AWS-like duration: the app's own CPU time scaled to the function's CPU share, plus an
    assumed latency for each AWS call (instead of moto's in-process time)."""
    own = max(0.0, invocation.cpu - invocation.aws_cpu) * 1000 * max(1.0, FULL_CPU_MB / memory_of(invocation.function))
    waits = sum(n * LATENCY_MS.get(name, LATENCY_MS.get(name.split(".", 1)[0], 10.0)) for name, n in invocation.services.items())
    return own + waits


def quantities(usage: Usage, transitions: int, sfn_log_bytes: float, durations: str = "measured", express: tuple[float, float] = (0, 0.0)) -> dict[str, float]:
    """The quantities of the price table one phase used (``durations``: measured, modelled; ``express``:
    the Express executions it started and their billed GB-seconds)."""
    invocations = usage.invocations
    gb_seconds = 0.0
    for inv in invocations:
        ms = inv.wall * 1000 if durations == "measured" else modelled_ms(inv)
        gb_seconds += lambda_gb_seconds(ms, memory_of(inv.function))
    api = sum(1 for inv in invocations if inv.function == "api_handler")
    scheduled = sum(1 for inv in invocations if inv.function == "start_day_end")
    lines, platform_bytes = LAMBDA_PLATFORM_LOG
    log_bytes = usage.log_bytes + LOG_EVENT_OVERHEAD * usage.log_lines + len(invocations) * (platform_bytes + LOG_EVENT_OVERHEAD * lines)
    return {
        "apigateway.rest.requests": api,
        "lambda.requests": len(invocations),
        "lambda.duration.x86_64": gb_seconds,
        "stepfunctions.standard.transitions": transitions,
        "stepfunctions.express.requests": express[0],
        "stepfunctions.express.duration": express[1],
        "dynamodb.on_demand.write_request_units": sum(usage.wru.values()) + sum(usage.index_wru.values()),
        "dynamodb.on_demand.read_request_units": sum(usage.rru.values()),
        "s3.standard.tier1_requests": usage.s3_requests["tier1"],
        "s3.standard.tier2_requests": usage.s3_requests["tier2"],
        "kms.requests": sum(usage.kms_requests.values()),
        "cloudwatch.logs.ingestion": log_bytes / GIB,
        "cloudwatch.logs.vended_ingestion": sfn_log_bytes / GIB,
        "xray.traces_recorded": api + scheduled,  # each starts a trace; the executions they start join it
    }


def scaled(q: dict[str, float], factor: float) -> dict[str, float]:
    return {k: v * factor for k, v in q.items()}


def added(*parts: dict[str, float]) -> dict[str, float]:
    out: dict[str, float] = collections.defaultdict(float)
    for part in parts:
        for k, v in part.items():
            out[k] += v
    return dict(out)


def minus(a: dict[str, float], b: dict[str, float]) -> dict[str, float]:
    return {k: a.get(k, 0.0) - b.get(k, 0.0) for k in set(a) | set(b)}


# -- the naive design, from the measured figures ----------------------------------------------------

NAIVE = """the naive design: the same system with every step its own Lambda and its own Standard state
  (no batching, no Express): origination one Standard workflow, its transitions the states the legs
  entered plus the waiting states (AwaitAcceptance; a task token), the automated review as five Tasks
  (bureau, anti-fraud, rules, scorecard, decision) instead of two, each extra step a Lambda invocation
  that reads and writes the application as the measured review_close does (its measured duration and
  DynamoDB units) and a transition; the day end without chunks: each loan its own child workflow each
  night (one transition to start it) of four Tasks (accrue and post, classify, warn and open cases,
  credit-bureau record), each its own invocation taking a quarter of the measured close-loans time of a
  loan plus the measured review_close time, each of the three later ones reading the loan again, and
  each loan's credit-bureau record its own S3 object (one PUT, and one GET to assemble the file)"""


def naive_extra(measured: dict[str, Any]) -> tuple[dict[str, float], dict[str, float]]:
    """What the naive design adds per loan: (to the origination, to one night of the day end)."""
    close = measured["functions"]["review_close"]
    step = {
        "stepfunctions.standard.transitions": 1,
        "lambda.requests": 1,
        "lambda.duration.x86_64": lambda_gb_seconds(close["mean_ms"], memory_of("review_close")),
        "dynamodb.on_demand.read_request_units": close["rru_per_invocation"],
        "dynamodb.on_demand.write_request_units": close["wru_per_invocation"],
        "xray.traces_recorded": 0,
    }
    origination = scaled(step, 3)
    night = measured["day_end_per_loan"]
    loan_size = measured["item_sizes"].get("loans", 0)
    per_step_ms = measured["functions"]["day_end_close_loans"]["ms_per_loan"] / 4 + close["mean_ms"]
    day_end = {
        "stepfunctions.standard.transitions": 1 + 4 - night["stepfunctions.standard.transitions"],
        "lambda.requests": 4,
        "lambda.duration.x86_64": 4 * lambda_gb_seconds(per_step_ms, memory_of("day_end_close_loans")) - night["lambda.duration.x86_64"],
        "dynamodb.on_demand.read_request_units": 3 * read_units(loan_size, consistent=True),
        "s3.standard.tier1_requests": 1,
        "s3.standard.tier2_requests": 1,
    }
    return origination, day_end


# -- the run ----------------------------------------------------------------------------------------


def applicant(i: int) -> dict[str, Any]:
    from local.people import person

    amount, months = LOANS[i % len(LOANS)]
    return person(100 + i, amount=amount, term_months=months, applicant__monthly_income="30000.00", partner_application_no=f"CM{i:06d}")


class Partner:
    """P_DEMO's signed requests through the app, each an API Gateway request to ``api_handler``."""

    def __init__(self, http: Any, meter: Meter, secret: str, partner_id: str = "P_DEMO") -> None:
        self.http, self.meter, self.secret, self.partner_id = http, meter, secret, partner_id

    def request(self, method: str, path: str, payload: Any = None) -> tuple[int, Any]:
        from tests.support.signing import body_bytes, signed_headers

        body = body_bytes(payload) if payload is not None else b""
        headers = signed_headers(self.partner_id, self.secret, method, path, body)
        with self.meter.invocation("api_handler"):
            response = self.http.request(method, path, headers=headers, body=body)
        return response.status_code, json.loads(response.body) if response.body else None


def run(args: argparse.Namespace, meter: Meter) -> dict[str, Any]:
    import boto3
    import pytest

    from tests.support.aws import executions_of, mocked_aws, wait_for_execution, wait_until_settled

    monkeypatch = pytest.MonkeyPatch()
    problems: list[str] = []
    try:
        with mocked_aws(monkeypatch) as aws:
            monkeypatch.setenv("CONFIG_CACHE_SECONDS", str(args.config_cache_seconds))
            monkeypatch.setenv("DAY_END_SEGMENTS", str(args.segments))
            monkeypatch.setenv("DAY_END_LOANS_PER_CALL", "0")  # as deployed: a chunk is as long as the Lambda's time allows
            import app
            from chalice.config import Config
            from chalice.test import TestHTTPClient

            from chalicelib import resources
            from chalicelib.persistence import applications, config_repository, loans
            from local.lambda_runtime import LambdaContext
            from local.stack import REGION
            from tests.workflow.test_fund_routing import funders_open_all_day, simulate

            funders_open_all_day()  # the sample funders' acceptance hours would refuse some hours of the day
            simulate()  # every funder approves
            config_repository.clear_cache()
            meter.bind(aws.env, REGION)
            for name, handler in list(aws.runtime.handlers.items()):
                aws.runtime.handlers[name] = _timed(meter, name, handler)
            # No environment from .chalice/config.json (the test client's stage would turn the cache off): the process's.
            http = TestHTTPClient(app.app, Config.create(chalice_stage="local", app_name=app.app.app_name))
            partner = Partner(http, meter, aws.secrets["P_DEMO"])
            sfn = boto3.client("stepfunctions", region_name=REGION)
            origination_arn = aws.provisioned.state_machine_arns["origination"].replace(":stateMachine:", ":execution:")
            schedule_event = json.loads((ROOT / "events" / "schedule_start_day_end.json").read_text(encoding="utf-8"))

            def day_end(phase: str) -> str:
                meter.start(phase)
                started = aws.runtime.handlers["start_day_end"](schedule_event, LambdaContext("start_day_end"))
                done = wait_for_execution(sfn, started["execution_arn"], timeout=300)
                meter.stop()
                if done["status"] != "SUCCEEDED":
                    problems.append(f"{phase}: the day end {done['status']}")
                return started["execution_arn"]

            def originate(i: int, phase: str) -> tuple[str, str] | None:
                meter.start(phase)
                try:
                    status, answer = partner.request("POST", "/v1/applications", applicant(i))
                    if status != 202:
                        problems.append(f"application {i}: {status} {answer}")
                        return None
                    application_id = answer["application_id"]
                    arn = f"{origination_arn}:{application_id}"
                    try:
                        wait_until_settled(sfn, arn, timeout=60)
                    except TimeoutError:
                        item = applications.get(application_id)
                        tail = [e["type"] for e in history(sfn, arn)][-6:]
                        problems.append(f"application {i}: still {item.status if item else None} after 60 s ({', '.join(tail)})")
                        return None
                    status, shown = partner.request("GET", f"/v1/applications/{application_id}")
                    if shown.get("status") != "OFFERED":
                        problems.append(f"application {i}: {shown.get('status')} {shown.get('decision')}")
                        wait_until_settled(sfn, arn, timeout=60)
                        return None
                    accepted = {"accepted": True, "accepted_at": datetime.now(timezone.utc).isoformat()}
                    status, answer = partner.request("POST", f"/v1/applications/{application_id}/acceptance", accepted)
                    done = wait_until_settled(sfn, arn, timeout=120)  # every leg
                    item = applications.get(application_id)
                    if status != 200 or done["status"] != "SUCCEEDED" or item.status != "DISBURSED":
                        problems.append(f"application {i}: acceptance {status}, execution {done['status']}, {item.status}")
                        return None
                    return application_id, item.loan_id
                finally:
                    meter.stop()

            def repay(loans_to_repay: list[str], phase: str) -> None:
                due = {loan_id: loans.get(loan_id).installments[0].unpaid for loan_id in loans_to_repay}  # read before counting
                paid_at = datetime.now(timezone.utc).isoformat()
                meter.start(phase)
                for n, loan_id in enumerate(loans_to_repay):
                    body = {"partner_repayment_no": f"R{n:06d}", "amount": str(due[loan_id]), "paid_at": paid_at}
                    status, answer = partner.request("POST", f"/v1/loans/{loan_id}/repayments", body)
                    if status != 201:
                        problems.append(f"repayment of {loan_id}: {status} {answer}")
                meter.stop()

            started = time.perf_counter()
            day_end("warm-up day end")
            empty_arn = day_end("day end, no loans")
            warm = originate(0, "warm-up loan")
            repay([warm[1]] if warm else [], "warm-up loan")
            sizes_before = table_bytes(meter)
            made = [originate(i, "origination") for i in range(1, args.loans + 1)]
            made = [m for m in made if m]
            meter.start("origination")
            status, _ = partner.request("GET", "/v1/events")  # the partner reads its event feed once for them all
            meter.stop()
            if status != 200:
                problems.append(f"the event feed answered {status}")
            repay([loan_id for _, loan_id in made], "repayment")
            closing = len([1 for _ in loans_open()])
            branches = {"all": len(config_repository.branches()), "with_loans": len({loans.get(loan_id).branch_code for _, loan_id in made}) or 1}
            full_arn = day_end("day end")
            seconds = time.perf_counter() - started

            # The histories and what is stored (not counted).
            machine_arn = origination_arn.replace(":execution:", ":stateMachine:")
            legs = {a: [history(sfn, leg["executionArn"]) for leg in executions_of(sfn, machine_arn, a)] for a, _ in made}
            express = {
                "legs": [len(legs[a]) for a, _ in made],
                "gb_seconds": [sum(express_usage(events) for events in legs[a]) for a, _ in made],
                "as_standard": [sum(standard_transitions(events) for events in legs[a]) for a, _ in made],
            }
            histories = {
                "origination": [0 for _ in made],  # no Standard execution: the legs are Express
                "day end, no loans": standard_transitions(history(sfn, empty_arn)),
                "day end": standard_transitions(history(sfn, full_arn)),
            }
            log_sizes = sfn_log_event_bytes([e for events in legs[made[0][0]] for e in events] if made else [], resources.ORIGINATION_MACHINE.log_level)
            log_sizes_day = sfn_log_event_bytes(history(sfn, full_arn))
            children = {phase: len(json.loads(sfn.describe_execution(executionArn=arn)["input"])["segments"]) for phase, arn in (("day end, no loans", empty_arn), ("day end", full_arn))}
            sizes_after = table_bytes(meter)
            check_child_workflow(json.loads((ROOT / "statemachines" / "day_end.asl.json").read_text(encoding="utf-8")))
            express["machines"] = [m.id for m in resources.STATE_MACHINES if m.type == "EXPRESS"]
            return {
                "loans": len(made), "closing": closing, "seconds": seconds, "problems": problems, "histories": histories,
                "children": children, "sfn_log_event": {"origination": log_sizes, "day end": log_sizes_day},
                "stored_bytes": {t: sizes_after[t] - sizes_before.get(t, 0) for t in sizes_after}, "express": express,
                "branches": branches,
            }
    finally:
        monkeypatch.undo()


def _timed(meter: Meter, name: str, handler: Any) -> Any:
    def timed(event: Any, context: Any) -> Any:
        with meter.invocation(name):
            return handler(event, context)

    return timed


def history(sfn: Any, execution_arn: str) -> list[dict[str, Any]]:
    events, token = [], None
    while True:
        page = sfn.get_execution_history(executionArn=execution_arn, maxResults=1000, **({"nextToken": token} if token else {}))
        events += page["events"]
        token = page.get("nextToken")
        if not token:
            return events


ERROR_EVENTS = ("Failed", "TimedOut", "Aborted")  # what a state machine logging at level ERROR logs


def sfn_log_event_bytes(events: list[dict[str, Any]], level: str = "ALL") -> tuple[int, float]:
    """(events, mean bytes) of what a state machine logs without execution data: each history event
    (at level ERROR, only the failures') as JSON without its input and output, with the execution's
    ARN, plus CloudWatch's 26 bytes."""
    if level == "ERROR":
        events = [e for e in events if e["type"].endswith(ERROR_EVENTS)]
    if not events:
        return 0, 0.0
    data = ("input", "output", "inputDetails", "outputDetails", "parameters")
    arn = "arn:aws:states:us-east-1:123456789012:execution:zhudai-prod-origination:AP20261129-000000-0000000000"
    sizes = []
    for event in events:
        details = {k: ({f: v for f, v in d.items() if f not in data} if isinstance(d, dict) else d) for k, d in event.items() if k.endswith("Details")}
        record = {"id": event["id"], "type": event["type"], "details": details, "previous_event_id": event.get("previousEventId"),
                  "event_timestamp": str(event["timestamp"]), "execution_arn": arn}
        sizes.append(len(json.dumps(record, default=str)) + LOG_EVENT_OVERHEAD)
    return len(events), sum(sizes) / len(sizes)


def loans_open() -> Iterable[Any]:
    import boto3

    from chalicelib import resources, settings

    table = settings.table_name(resources.LOANS_TABLE)
    for page in boto3.client("dynamodb").get_paginator("scan").paginate(TableName=table):
        for item in page["Items"]:
            if item.get("sk", {}).get("S") == "LOAN" and item.get("status", {}).get("S") == "ACTIVE":
                yield item


def table_bytes(meter: Meter) -> dict[str, int]:
    """Bytes each declared table holds with its indexes (DynamoDB counts 100 bytes more an item, and an index
    entry's projection), read by scanning (the harness's own reads, not counted)."""
    import boto3

    from bench.aws_meter import index_entry
    from bench.ledger import item_size

    client = boto3.client("dynamodb")
    out = {}
    for name, table in meter.tables.items():
        keys = (table.partition_key,) + ((table.sort_key,) if table.sort_key else ())
        total = 0
        for page in client.get_paginator("scan").paginate(TableName=name):
            for item in page["Items"]:
                total += item_size(item) + 100
                for index in table.indexes:
                    entry = index_entry(item, index, keys)
                    if entry is not None:
                        total += item_size(entry) + 100
        out[table.id] = total
    return out


# -- the figures ------------------------------------------------------------------------------------


def figures(meter: Meter, result: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    n, closing = result["loans"], max(1, result["closing"])
    phases = meter.phases
    o_events, o_mean = result["sfn_log_event"]["origination"]
    d_events, d_mean = result["sfn_log_event"]["day end"]
    origination_t = sum(result["histories"]["origination"])
    transitions = {
        "origination": origination_t,
        "repayment": 0,
        "day end, no loans": result["histories"]["day end, no loans"] + distributed_map_transitions(result["children"]["day end, no loans"], chunks(phases["day end, no loans"]), failed(phases["day end, no loans"])),
        "day end": result["histories"]["day end"] + distributed_map_transitions(result["children"]["day end"], chunks(phases["day end"]), failed(phases["day end"])),
    }
    # Step Functions logs: origination's events as measured; the day end's per transition as its parent's.
    events_per_transition = (d_events / max(1, result["histories"]["day end"])) if d_events else 0
    sfn_logs = {
        "origination": o_events * o_mean * n,
        "repayment": 0.0,
        "day end, no loans": transitions["day end, no loans"] * events_per_transition * d_mean,
        "day end": transitions["day end"] * events_per_transition * d_mean,
    }
    legs = (sum(result["express"]["legs"]), sum(result["express"]["gb_seconds"]))
    q = {mode: {p: quantities(phases[p], transitions[p], sfn_logs[p], mode, legs if p == "origination" else (0, 0.0)) for p in transitions}
         for mode in ("measured", "modelled")}
    out: dict[str, Any] = {"loans": n, "loans_closed_by_the_day_end": closing, "transitions": transitions,
                           "express": {"legs_per_loan": legs[0] / n, "gb_seconds_per_loan": legs[1] / n,
                                       "as_standard_transitions_per_loan": sum(result["express"]["as_standard"]) / n}}
    for mode in ("measured", "modelled"):
        night, empty = q[mode]["day end"], q[mode]["day end, no loans"]
        variable, parts = day_end_split(night, empty, args.segments, result["branches"]["with_loans"])
        per_loan = {
            "origination": scaled(q[mode]["origination"], 1 / n),
            "repayment": scaled(q[mode]["repayment"], 1 / n),
            "day end": scaled(variable, 1 / closing),
        }
        fixed_night = added(night_at_segments(empty, phases["day end, no loans"], args.segments, args.deployed_segments),
                            scaled(parts, args.deployed_segments * result["branches"]["all"]))
        per_loan["day end, fixed"] = scaled(fixed_night, 1 / args.loans_per_day)
        out[mode] = {"per_loan": per_loan, "fixed_night": fixed_night}
    m = out["measured"]["per_loan"]
    out["day_end_per_loan"] = m["day end"]
    out["functions"] = function_stats(phases, n, closing)
    written = collections.Counter()
    bytes_written = collections.Counter()
    for p in ("origination", "repayment", "day end"):
        written.update(phases[p].items_written)
        bytes_written.update(phases[p].bytes_written)
    out["item_sizes"] = {t: bytes_written[t] / written[t] for t in written if written[t]}
    out["calls_per_loan"] = calls_per_loan(phases, n, closing)
    by_table: dict[str, list[float]] = collections.defaultdict(lambda: [0.0, 0.0])
    for p, divisor, sign in (("origination", n, 1), ("repayment", n, 1), ("day end", closing, 1), ("day end, no loans", closing, -1)):
        for t, v in phases[p].wru.items():
            by_table[t][0] += sign * v / divisor
        for t, v in phases[p].index_wru.items():
            by_table[t][1] += sign * v / divisor
    out["wru_per_loan_by_table"] = {t: tuple(v) for t, v in by_table.items()}
    detail: collections.Counter = collections.Counter()
    for p, divisor in (("origination", n), ("repayment", n), ("day end", closing)):
        for (function, table, kind), v in phases[p].by_function_table.items():
            detail[f"{p}|{function}|{table}|{kind}"] += v / divisor
    out["dynamodb_units_per_loan_by_function_and_table"] = dict(sorted(detail.items()))
    out["stored_bytes_per_loan"] = {t: b / n for t, b in result["stored_bytes"].items() if b > 0}
    out["s3_bytes_per_loan"] = phases["origination"].s3_bytes_put / n
    out["metrics"] = sorted({m for u in phases.values() for m in u.metrics})
    out["harness_calls"] = sum(sum(u.harness.values()) for u in phases.values())
    out["integration_calls"] = dict(sum((u.integrations for u in phases.values()), collections.Counter()))
    out["cold"] = cold_stats(phases["warm-up loan"])
    return out


S3_KEYS = ("s3.standard.tier1_requests", "s3.standard.tier2_requests")


def day_end_split(night: dict[str, float], empty: dict[str, float], segments: int, branches: int) -> tuple[dict[str, float], dict[str, float]]:
    """(what the loans add to a night, S3 requests per segment and branch): a night with loans less one
    without. The S3 requests the loans add are the credit-bureau part files, one per chunk and branch
    (written by a chunk, read by the branch's report), whatever the chunk holds: they belong to the
    night, not to each loan, and are returned apart."""
    difference = minus(night, empty)
    parts = {k: difference.get(k, 0.0) / (segments * branches) for k in S3_KEYS}
    return {k: (0.0 if k in S3_KEYS else v) for k, v in difference.items()}, parts


def chunks(usage: Usage) -> int:
    return sum(1 for inv in usage.invocations if inv.function == "day_end_close_loans" and inv.error is None)


def failed(usage: Usage) -> int:
    return sum(1 for inv in usage.invocations if inv.function == "day_end_close_loans" and inv.error is not None)


def night_at_segments(q_empty: dict[str, float], usage: Usage, measured_segments: int, segments: int) -> dict[str, float]:
    """The night's fixed quantities with ``segments`` segments instead of the measured ones: what each
    segment's close-loans invocations and child workflow used (an empty segment: one invocation, its
    scan, its child's transitions) grows with the segments; the rest (a file per branch, a
    reconciliation per partner, the date advanced) does not."""
    closers = [inv for inv in usage.invocations if inv.function == "day_end_close_loans"]
    calls: collections.Counter = collections.Counter()
    for inv in closers:
        calls.update(inv.services)
    per_segment = {
        "lambda.requests": len(closers),
        "lambda.duration.x86_64": sum(lambda_gb_seconds(inv.wall * 1000, memory_of(inv.function)) for inv in closers),
        "stepfunctions.standard.transitions": distributed_map_transitions(measured_segments, len(closers)),
        "dynamodb.on_demand.read_request_units": usage.by_function[("day_end_close_loans", "rru")],
        "dynamodb.on_demand.write_request_units": usage.by_function[("day_end_close_loans", "wru")],
        "s3.standard.tier1_requests": sum(n for name, n in calls.items() if name.startswith("s3.") and s3_class(name[3:]) == "tier1"),
        "s3.standard.tier2_requests": sum(n for name, n in calls.items() if name.startswith("s3.") and s3_class(name[3:]) == "tier2"),
        "kms.requests": sum(n for name, n in calls.items() if name.startswith("kms.")),
    }
    extra = (segments - measured_segments) / measured_segments
    return {k: v + per_segment.get(k, 0.0) * extra for k, v in q_empty.items()}


def function_stats(phases: dict[Any, Usage], n: int, closing: int) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    by: dict[str, list[Any]] = collections.defaultdict(list)
    units: collections.Counter = collections.Counter()
    for p in ("origination", "repayment", "day end"):
        for inv in phases[p].invocations:
            by[inv.function].append(inv)
        units.update(phases[p].by_function)
    for function, invs in sorted(by.items()):
        k = len(invs)
        out[function] = {
            "invocations": k,
            "memory_mb": memory_of(function),
            "mean_ms": sum(i.wall for i in invs) / k * 1000,
            "mean_cpu_ms": sum(i.cpu for i in invs) / k * 1000,
            "mean_aws_ms": sum(i.aws_wall for i in invs) / k * 1000,
            "mean_modelled_ms": sum(modelled_ms(i) for i in invs) / k,
            "calls_per_invocation": sum(i.calls for i in invs) / k,
            "rru_per_invocation": units[(function, "rru")] / k,
            "wru_per_invocation": units[(function, "wru")] / k,
            "ms_per_loan": sum(i.wall for i in invs) * 1000 / (closing if function.startswith("day_end") else n),
        }
    return out


def cold_stats(usage: Usage) -> dict[str, float]:
    """Each function's first invocation in the process (the warm-up loan's): indicative of a cold start."""
    first: dict[str, float] = {}
    for inv in usage.invocations:
        first.setdefault(inv.function, inv.wall * 1000)
    return first


def calls_per_loan(phases: dict[Any, Usage], n: int, closing: int) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for p, divisor in (("origination", n), ("repayment", n), ("day end", closing), ("day end, no loans", 1)):
        totals: collections.Counter = collections.Counter()
        for (_, name), count in phases[p].calls.items():
            totals[name] += count
        out[p] = {name: count / divisor for name, count in sorted(totals.items())}
    return out


# -- the report -------------------------------------------------------------------------------------

SERVICES = ("API Gateway", "Lambda", "Step Functions", "DynamoDB", "S3", "KMS", "CloudWatch Logs", "X-Ray")
DRIVERS = {  # what a loan uses of each service, shown beside its cost
    "API Gateway": [("apigateway.rest.requests", "requests", 1)],
    "Lambda": [("lambda.requests", "invocations", 1), ("lambda.duration.x86_64", "GB-ms", 1000)],
    "Step Functions": [("stepfunctions.standard.transitions", "transitions", 1), ("stepfunctions.express.requests", "Express legs", 1)],
    "DynamoDB": [("dynamodb.on_demand.write_request_units", "WRU", 1), ("dynamodb.on_demand.read_request_units", "RRU", 1),
                 ("dynamodb.provisioned.wcu_hours", "WCU-s", 3600), ("dynamodb.provisioned.rcu_hours", "RCU-s", 3600)],
    "S3": [("s3.standard.tier1_requests", "PUT/LIST", 1), ("s3.standard.tier2_requests", "GET/HEAD", 1)],
    "KMS": [("kms.requests", "requests", 1)],
    "CloudWatch Logs": [("cloudwatch.logs.ingestion", "KB", GIB / 1024), ("cloudwatch.logs.vended_ingestion", "KB SFN", GIB / 1024)],
    "X-Ray": [("xray.traces_recorded", "traces", 1)],
}
COLUMNS = (("origination", "origination"), ("repayment", "1 repayment"), ("day end", "1 night"), ("day end, fixed", "night fixed"))


# -- the same loans at scale ------------------------------------------------------------------------

XRAY_RESERVOIR_PER_SECOND = 1  # X-Ray's default sampling rule: the first request each second ...
XRAY_FIXED_RATE = 0.05  # ... and 5% of the rest (the stack sets no other rule)
DAY_SECONDS = 86_400


def xray_sampled(requests_per_day: float) -> float:
    """The share of requests X-Ray's default rule records, at a steady rate over the day (a daytime
    peak would record a smaller share: this is the larger bound)."""
    if requests_per_day <= 0:
        return 1.0
    rate = requests_per_day / DAY_SECONDS
    return (min(rate, XRAY_RESERVOIR_PER_SECOND) + XRAY_FIXED_RATE * max(0.0, rate - XRAY_RESERVOIR_PER_SECOND)) / rate


def provisioned(q: dict[str, float], utilisation: float) -> dict[str, float]:
    """On-demand request units as provisioned capacity-hours: a unit a second for an hour serves 3,600
    units, and auto scaling keeps ``utilisation`` of what is provisioned in use on average."""
    out = dict(q)
    wru, rru = out.pop("dynamodb.on_demand.write_request_units", 0.0), out.pop("dynamodb.on_demand.read_request_units", 0.0)
    out["dynamodb.provisioned.wcu_hours"] = wru / 3600 / utilisation
    out["dynamodb.provisioned.rcu_hours"] = rru / 3600 / utilisation
    return out


def at_scale(per_loan: dict[str, dict[str, float]], fixed_night: dict[str, float], loans_per_day: int, utilisation: float) -> dict[str, dict[str, float]]:
    """The measured per-loan quantities at ``loans_per_day``: the night's fixed part spread over them,
    X-Ray's default sampling at that many requests, DynamoDB provisioned with auto scaling."""
    out = {c: dict(per_loan[c]) for c, _ in COLUMNS}
    out["day end, fixed"] = scaled(fixed_night, 1 / loans_per_day)
    traces = sum(out[c].get("xray.traces_recorded", 0.0) for c, _ in COLUMNS) * loans_per_day
    share = xray_sampled(traces)
    for c, _ in COLUMNS:
        out[c]["xray.traces_recorded"] = out[c].get("xray.traces_recorded", 0.0) * share
        out[c] = provisioned(out[c], utilisation)
    return out


def usd_per_1000(q: dict[str, float], prices: PriceTable) -> dict[str, float]:
    return {s: v * 1000 for s, v in cost_by_service(q, prices).items()}


def total(per_loan: dict[str, dict[str, float]], prices: PriceTable) -> float:
    return sum(sum(usd_per_1000(per_loan[c], prices).values()) for c, _ in COLUMNS)


def lifetime(per_loan: dict[str, dict[str, float]]) -> dict[str, float]:
    """A loan's quantities over its life: its origination, a repayment a month, a night of the day end a
    day; the night's fixed cost is the platform's, counted once (one night, spread over a day's loans)."""
    life = LOAN_LIFE
    return added(per_loan["origination"], scaled(per_loan["repayment"], life["months"]), scaled(per_loan["day end"], life["nights"]), per_loan["day end, fixed"])


def summarise(f: dict[str, Any], prices: PriceTable, args: argparse.Namespace) -> dict[str, Any]:
    """The priced figures: what the report prints and the JSON keeps."""
    measured = f["measured"]["per_loan"]
    o_extra, d_extra = naive_extra(f)
    naive = {c: dict(measured[c]) for c, _ in COLUMNS}
    as_standard = f["express"]["as_standard_transitions_per_loan"] + 1  # + the AwaitAcceptance a single workflow waits in
    naive["origination"] = added(naive["origination"], o_extra, {
        "stepfunctions.standard.transitions": as_standard,
        "stepfunctions.express.requests": -measured["origination"].get("stepfunctions.express.requests", 0.0),
        "stepfunctions.express.duration": -measured["origination"].get("stepfunctions.express.duration", 0.0),
    })
    naive["day end"] = added(naive["day end"], d_extra)
    shares: collections.Counter = collections.Counter()
    for c, _ in COLUMNS:
        shares.update(usd_per_1000(measured[c], prices))
    grand = total(measured, prices)
    scale = at_scale(measured, f["measured"]["fixed_night"], args.scale_loans_per_day, args.utilisation)
    scale_total = total(scale, prices)
    scale_shares: collections.Counter = collections.Counter()
    for c, _ in COLUMNS:
        scale_shares.update(usd_per_1000(scale[c], prices))
    night = sum(usd_per_1000(f["measured"]["fixed_night"], prices).values()) / 1000
    dynamo_gb = sum(f["stored_bytes_per_loan"].values()) * 1000 / GIB
    s3_gb = f["s3_bytes_per_loan"] * 1000 / GIB
    return {
        "goal_usd_per_1000": GOAL_USD_PER_1000,
        "usd_per_1000": {c: usd_per_1000(measured[c], prices) for c, _ in COLUMNS},
        "total_usd_per_1000": grand,
        "goal_met": grand <= GOAL_USD_PER_1000,
        "by_service_usd_per_1000": dict(shares.most_common()),
        "scale": {"loans_per_day": args.scale_loans_per_day, "utilisation": args.utilisation, "per_loan": scale,
                  "usd_per_1000": {c: usd_per_1000(scale[c], prices) for c, _ in COLUMNS}, "total_usd_per_1000": scale_total,
                  "goal_met": scale_total <= GOAL_USD_PER_1000, "by_service_usd_per_1000": dict(scale_shares.most_common()),
                  "xray_sampled": xray_sampled(sum(measured[c].get("xray.traces_recorded", 0.0) for c, _ in COLUMNS) * args.scale_loans_per_day)},
        "modelled": {"total_usd_per_1000": total(f["modelled"]["per_loan"], prices),
                     "lambda_usd_per_1000": sum(usd_per_1000(f["modelled"]["per_loan"][c], prices).get("Lambda", 0.0) for c, _ in COLUMNS)},
        "transitions_per_loan": sum(measured[c].get("stepfunctions.standard.transitions", 0.0) for c, _ in COLUMNS),
        "naive": {"per_loan": naive, "usd_per_1000": {c: usd_per_1000(naive[c], prices) for c, _ in COLUMNS}, "total_usd_per_1000": total(naive, prices)},
        "lifetime": {"loan": LOAN_LIFE, "usd_per_1000": usd_per_1000(lifetime(measured), prices),
                     "total_usd_per_1000": sum(usd_per_1000(lifetime(measured), prices).values()),
                     "naive_total_usd_per_1000": sum(usd_per_1000(lifetime(naive), prices).values())},
        "fixed": {"night_usd": night, "month_of_nights_usd": 30 * night, "kms_keys": len(kms_keys()),
                  "kms_keys_usd_a_month": len(kms_keys()) * prices["kms.key_month"].usd, "custom_metrics": len(f["metrics"]),
                  "custom_metrics_usd_a_month": len(f["metrics"]) * prices["cloudwatch.metrics.custom"].usd},
        "storage_per_1000_loans_a_month": {"dynamodb_mib": dynamo_gb * 1024, "dynamodb_usd": prices["dynamodb.storage"].cost(dynamo_gb),
                                           "s3_mib": s3_gb * 1024, "s3_usd": prices["s3.standard.storage"].cost(s3_gb)},
    }


def print_table(title: str, per_loan: dict[str, dict[str, float]], prices: PriceTable) -> None:
    print(title)
    print(f"  {'service':<16}{'a loan uses (origination + 1 repayment + 1 night)':<52}" + "".join(f"{label:>12}" for _, label in COLUMNS) + f"{'total':>10}")
    *services, totals = _service_rows(per_loan, prices)
    for service, uses, *costs, whole in services:
        print(f"  {service:<16}{uses:<52}" + "".join(f"{v:>12}" for v in costs) + f"{whole:>10}")
    print(f"  {'total USD per 1,000 loans':<68}" + "".join(f"{v:>12}" for v in totals[2:-1]) + f"{totals[-1].strip('*'):>10}")


def print_report(args: argparse.Namespace, result: dict[str, Any], f: dict[str, Any], s: dict[str, Any], prices: PriceTable) -> None:
    n = f["loans"]
    print(f"cost model: {n} loans originated end to end in-process on moto (+1 warm-up loan), one repayment each, one day end "
          f"closing {f['loans_closed_by_the_day_end']} loans; {result['seconds']:.0f} s")
    unsure = sorted(p.key for p in prices.prices.values() if not p.sure)
    print(f"prices: {prices.region} list prices as of {prices.as_of} (bench/aws_prices.json, a source URL each; unsure: {', '.join(unsure)}); "
          "no free tiers")
    print(f"configuration cache {args.config_cache_seconds} s (30 as deployed; one process shares it between the functions); "
          f"day end: {args.segments} segments measured, its fixed part scaled to {args.deployed_segments} segments and spread over "
          f"{args.loans_per_day:,} loans a day ('night fixed')")
    print()
    print_table("USD per 1,000 loans, Lambda durations as measured in-process (moto's in-process time as the AWS calls' time):", f["measured"]["per_loan"], prices)
    grand, goal = s["total_usd_per_1000"], s["goal_usd_per_1000"]
    print(f"  with Lambda durations modelled for AWS instead (own CPU time x {FULL_CPU_MB}/memory below one vCPU, and an assumed "
          f"latency per AWS call: DynamoDB {LATENCY_MS['dynamodb']:.0f} ms, a transaction {LATENCY_MS['dynamodb.TransactWriteItems']:.0f}, "
          f"KMS {LATENCY_MS['kms']:.0f}, S3 {LATENCY_MS['s3']:.0f}-{LATENCY_MS['s3.PutObject']:.0f}): Lambda {s['modelled']['lambda_usd_per_1000']:.4f}, "
          f"total {s['modelled']['total_usd_per_1000']:.4f}")
    shares = s["by_service_usd_per_1000"]
    top = list(shares.items())[:3]
    print(f"  goal: at most USD {goal:.2f} per 1,000 loans, all services: {'MET' if s['goal_met'] else 'NOT MET'} (USD {grand:.4f}, "
          f"{grand / goal:.1f} x the goal); largest: " + ", ".join(f"{k} {v:.4f} ({v / grand:.0%})" for k, v in top))
    if not s["goal_met"]:
        print(f"  Step Functions alone ({s['transitions_per_loan']:.1f} Standard transitions a loan with its share of the night, at USD "
              f"{prices['stepfunctions.standard.transitions'].cost(1) * 1e6:.0f} a million) is {shares['Step Functions'] / goal:.1f} x the goal, "
              f"DynamoDB alone {shares['DynamoDB'] / goal:.1f} x; everything else together {grand - shares['Step Functions'] - shares['DynamoDB']:.4f}")
    sc = s["scale"]
    print()
    print_table(f"USD per 1,000 loans at {sc['loans_per_day']:,} loans a day (the seeds' scale): the same measured quantities, DynamoDB "
                f"provisioned with auto scaling (priced at {sc['utilisation']:.0%} of the capacity in use on average; the target is 70%), "
                f"X-Ray's default sampling recording {sc['xray_sampled']:.1%} of requests, the night's fixed part spread over the day's loans:",
                sc["per_loan"], prices)
    print(f"  goal at that scale: {'MET' if sc['goal_met'] else 'NOT MET'} (USD {sc['total_usd_per_1000']:.4f}, {sc['total_usd_per_1000'] / goal:.2f} x the goal); "
          "largest: " + ", ".join(f"{k} {v:.4f}" for k, v in list(sc["by_service_usd_per_1000"].items())[:3]))
    wru = f["wru_per_loan_by_table"]
    print("  DynamoDB write units a loan by table, table + its indexes (origination + repayment + night): " +
          ", ".join(f"{t} {a:.1f} + {b:.1f}" for t, (a, b) in sorted(wru.items(), key=lambda kv: -sum(kv[1])) if sum((a, b)) >= 0.05))
    print()
    print(NAIVE + ":")
    naive = s["naive"]
    print_table("USD per 1,000 loans, naive design (computed from the measured figures, not run):", naive["per_loan"], prices)
    night, naive_night = (sum(x["day end"].values()) for x in (s["usd_per_1000"], naive["usd_per_1000"]))
    print(f"  the design saves {naive['total_usd_per_1000'] - grand:.4f} per 1,000 loans ({1 - grand / naive['total_usd_per_1000']:.0%}) on this "
          f"count; a night of the day end, per 1,000 loans: {naive_night:.4f} naive against {night:.4f} (a loan pays it every night)")
    print()
    life = s["lifetime"]
    print(f"over a {LOAN_LIFE['months']}-month loan's life ({LOAN_LIFE['months']} repayments, {LOAN_LIFE['nights']} day ends), USD per 1,000 loans: "
          f"{life['total_usd_per_1000']:.3f} (" + ", ".join(f"{k} {v:.3f}" for k, v in sorted(life["usd_per_1000"].items(), key=lambda kv: -kv[1]) if v >= 0.0005)
          + f"); naive {life['naive_total_usd_per_1000']:.3f}")
    fixed, stored = s["fixed"], s["storage_per_1000_loans_a_month"]
    print(f"fixed: a night's day end with no loans (at {args.deployed_segments} segments) USD {fixed['night_usd']:.5f}, {fixed['month_of_nights_usd']:.3f} "
          f"a month; KMS keys {fixed['kms_keys']} x USD {prices['kms.key_month'].usd:.2f} a month; {fixed['custom_metrics']} custom metrics x USD "
          f"{prices['cloudwatch.metrics.custom'].usd:.2f} a month")
    print(f"storage, per 1,000 loans kept a month: DynamoDB {stored['dynamodb_mib']:.1f} MiB (tables and indexes) USD {stored['dynamodb_usd']:.4f}, "
          f"S3 {stored['s3_mib']:.1f} MiB (signed contract and authorisation, kept 10 years under Object Lock) USD {stored['s3_usd']:.5f}")
    print()
    print("per loan, AWS requests by service and operation (the app's own; the harness's "
          f"{f['harness_calls']} calls and moto's Step Functions -> Lambda integration calls not included):")
    for phase, calls in f["calls_per_loan"].items():
        text = ", ".join(f"{name} {v:.2f}" for name, v in calls.items())
        print(f"  {phase}{' (the whole night)' if phase.endswith('no loans') else ' (the whole night, per loan closed)' if phase == 'day end' else ''}: {text}")
    print("per function (origination, repayment and day end): invocations, memory, mean in-process duration "
          "(CPU, of it in AWS calls), modelled for AWS, DynamoDB units per invocation:")
    for name, st in f["functions"].items():
        print(f"  {name:<24}{st['invocations']:>4} x {st['memory_mb']:>4} MB {st['mean_ms']:>7.1f} ms (CPU {st['mean_cpu_ms']:.1f}, "
              f"AWS {st['mean_aws_ms']:.1f}) modelled {st['mean_modelled_ms']:>6.1f} ms; {st['calls_per_invocation']:.1f} calls, "
              f"RRU {st['rru_per_invocation']:.1f} WRU {st['wru_per_invocation']:.1f}")
    print("  mean item sizes written (bytes): " + ", ".join(f"{t} {v:,.0f}" for t, v in sorted(f["item_sizes"].items())))
    print("  the warm-up loan (each function's first call in the process, indicative of a cold start): " +
          ", ".join(f"{k} {v:.0f} ms" for k, v in f["cold"].items()))
    e = f["express"]
    print(f"  Express workflows {result['express']['machines']}: {e['legs_per_loan']:.2f} legs a loan, {e['gb_seconds_per_loan'] * 1000:.1f} "
          f"billed GB-ms a loan (durations from the histories, rounded up to 100 ms, at 64 MB); the same path as one Standard "
          f"workflow would enter {e['as_standard_transitions_per_loan'] + 1:.1f} states")
    print()
    print("not counted: data transfer; S3's own KMS requests (S3 Bucket Keys); Lambda cold starts (INIT is billed since 2025-08; see the "
          "warm-up durations); X-Ray traces beyond one per API request and per night (sampling assumed to record them all); free tiers; "
          "CloudWatch alarms, dashboards, log storage; Cognito (operators only); DynamoDB backups and PITR; the manual review, "
          "declined or rejected applications, failed payments and their retries; the partners' reconciliation files")
    if result["problems"]:
        print("problems: " + "; ".join(result["problems"][:10]))


# -- the report's section ---------------------------------------------------------------------------


def _service_rows(per_loan: dict[str, dict[str, float]], prices: PriceTable) -> list[list[str]]:
    costs = {col: usd_per_1000(per_loan[col], prices) for col, _ in COLUMNS}
    whole = added(*(per_loan[col] for col, _ in COLUMNS if col != "day end, fixed"))
    rows = []
    for service in SERVICES:
        uses = ", ".join(f"{whole.get(key, 0.0) * factor:,.1f} {unit}" for key, unit, factor in DRIVERS[service] if key in whole)
        row = [costs[col].get(service, 0.0) for col, _ in COLUMNS]
        rows.append([service, uses, *(f"{v:.4f}" for v in row), f"{sum(row):.4f}"])
    totals = [sum(costs[col].values()) for col, _ in COLUMNS]
    rows.append(["**total**", "", *(f"{v:.4f}" for v in totals), f"**{sum(totals):.4f}**"])
    return rows


def write_report(report_dir: Path, args: argparse.Namespace, result: dict[str, Any], f: dict[str, Any], s: dict[str, Any], prices: PriceTable) -> None:
    """``cost_model.md`` (tables), ``cost_model-by-service.png`` and the report's ``headline.md``."""
    from bench.report_kit import image, md_table, pyplot, save_figure, verdict, write_section

    headers = ["service", "a loan uses (origination + 1 repayment + 1 night)", *(label for _, label in COLUMNS), "total"]
    sc, naive, goal = s["scale"], s["naive"], s["goal_usd_per_1000"]
    unsure = sorted(p.key for p in prices.prices.values() if not p.sure)
    wru = f["wru_per_loan_by_table"]
    e = f["express"]
    plt = pyplot()
    figure, axes = plt.subplots(figsize=(9, 4.2))
    designs = [(f"naive, {args.loans_per_day:,} a day", naive["per_loan"]), (f"this design, {args.loans_per_day:,} a day", f["measured"]["per_loan"]),
               (f"this design, {sc['loans_per_day']:,} a day", sc["per_loan"])]
    left = [0.0] * len(designs)
    for service in SERVICES:
        values = [sum(usd_per_1000(per_loan[c], prices).get(service, 0.0) for c, _ in COLUMNS) for _, per_loan in designs]
        axes.barh([d for d, _ in designs], values, left=left, label=service)
        left = [a + b for a, b in zip(left, values)]
    axes.axvline(goal, color="black", linestyle="--", linewidth=1)
    axes.text(goal, len(designs) - 0.45, f" goal {goal:.2f}", va="bottom")
    axes.set_xlabel("USD per 1,000 loans (origination, a repayment, a night; us-east-1 list prices)")
    axes.invert_yaxis()
    axes.legend(fontsize=8, ncol=4, loc="lower right")
    plot = save_figure(figure, report_dir, "cost_model", "by-service")
    lines = [
        "## Cost per 1,000 loans on AWS",
        "",
        f"`bench/cost_model.py`: {f['loans']} loans originated end to end in-process on moto (intake over the signed API, review, routing, "
        f"acceptance, signing, disbursement), each repaid once, and a day end closing {f['loans_closed_by_the_day_end']}; every AWS request "
        "counted by botocore hooks, DynamoDB units from item sizes by DynamoDB's rules, Express legs and Standard transitions from the "
        f"executions' histories, Lambda time in-process. Priced with `bench/aws_prices.json` ({prices.region}, list prices as of "
        f"{prices.as_of}, a source for each; unsure: {', '.join(unsure) or 'none'}; no free tiers).",
        "",
        f"### At {args.loans_per_day:,} loans a day, DynamoDB on demand (as deployed by default): USD {s['total_usd_per_1000']:.4f}, goal "
        f"{verdict(s['goal_met'])}",
        "",
        md_table(headers, _service_rows(f["measured"]["per_loan"], prices)),
        f"### At {sc['loans_per_day']:,} loans a day (the seeds' scale), DynamoDB provisioned with auto scaling: USD "
        f"{sc['total_usd_per_1000']:.4f}, goal {verdict(sc['goal_met'])}",
        "",
        f"The same measured quantities; DynamoDB's units as provisioned capacity-hours with {sc['utilisation']:.0%} of the capacity in use "
        "on average (auto scaling targets 70%; the stack's `-c dynamodb_capacity=provisioned`), X-Ray's default sampling rule recording "
        f"{sc['xray_sampled']:.1%} of the requests, and the night's fixed part spread over the day's loans.",
        "",
        md_table(headers, _service_rows(sc["per_loan"], prices)),
        "### Against a naive design",
        "",
        NAIVE.replace("\n  ", " ") + f". It costs USD {naive['total_usd_per_1000']:.4f} per 1,000 loans at {args.loans_per_day:,} a day; this design saves "
        f"{1 - s['total_usd_per_1000'] / naive['total_usd_per_1000']:.0%}.",
        "",
        md_table(headers, _service_rows(naive["per_loan"], prices)),
        image(plot, "USD per 1,000 loans by service: naive, this design, this design at scale"),
        "### What drives it",
        "",
        f"- Origination runs as {e['legs_per_loan']:.2f} Express legs a loan ({e['gb_seconds_per_loan'] * 1000:.1f} billed GB-ms); the same "
        f"path as one Standard workflow would enter {e['as_standard_transitions_per_loan'] + 1:.1f} states (USD "
        f"{(e['as_standard_transitions_per_loan'] + 1) * prices['stepfunctions.standard.transitions'].cost(1) * 1000:.3f} per 1,000 loans).",
        "- DynamoDB write units a loan by table (table + its indexes): " + ", ".join(
            f"{t} {a:.1f} + {b:.1f}" for t, (a, b) in sorted(wru.items(), key=lambda kv: -sum(kv[1])) if sum((a, b)) >= 0.05) + ".",
        f"- Over a {LOAN_LIFE['months']}-month loan's life ({LOAN_LIFE['months']} repayments, {LOAN_LIFE['nights']} day ends), at 1,000 "
        f"loans a day: USD {s['lifetime']['total_usd_per_1000']:.3f} per 1,000 loans (naive {s['lifetime']['naive_total_usd_per_1000']:.3f}).",
        f"- Fixed: a night's day end with no loans USD {s['fixed']['night_usd']:.5f}; KMS keys {s['fixed']['kms_keys']} x USD "
        f"{prices['kms.key_month'].usd:.2f} a month; {s['fixed']['custom_metrics']} custom metrics.",
        "- Not counted: data transfer, free tiers, CloudWatch alarms and dashboards, log storage, Cognito (operators only), backups and "
        "PITR, Lambda INIT (see the per-step latency's cold calls), manual reviews, declined applications and failed payments.",
    ]
    write_section(report_dir, "cost_model", "\n".join(lines))
    headline = [
        "| figure | value |", "| :--- | ---: |",
        f"| cost per 1,000 loans, at {args.loans_per_day:,} a day (DynamoDB on demand) | USD {s['total_usd_per_1000']:.3f} (goal 0.10: {verdict(s['goal_met'])}) |",
        f"| cost per 1,000 loans, at {sc['loans_per_day']:,} a day (DynamoDB provisioned, auto scaling) | USD {sc['total_usd_per_1000']:.3f} (goal 0.10: {verdict(sc['goal_met'])}) |",
        f"| the naive design, at {args.loans_per_day:,} a day | USD {naive['total_usd_per_1000']:.3f} |",
    ]
    write_section(report_dir, "headline", "\n".join(headline))


def kms_keys() -> tuple[Any, ...]:
    from chalicelib import resources

    return resources.KEYS


def add_run_arguments(parser: argparse.ArgumentParser, loans: int = 20) -> None:
    """The options ``run`` reads (``bench/latency.py`` runs it too)."""
    parser.add_argument("--loans", type=int, default=loans, help="loans originated end to end (besides one warm-up loan)")
    parser.add_argument("--config-cache-seconds", type=int, default=30, help="CONFIG_CACHE_SECONDS (30 as deployed; 0: every invocation reads)")
    parser.add_argument("--segments", type=int, default=2, help="DAY_END_SEGMENTS for the run")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_run_arguments(parser)
    parser.add_argument("--deployed-segments", type=int, default=64, help="the segments the night's fixed cost is scaled to")
    parser.add_argument("--loans-per-day", type=int, default=1000, help="the loans a night's fixed cost is spread over")
    parser.add_argument("--scale-loans-per-day", type=int, default=1_000_000, help="the volume of the at-scale figures (seeds 003, 004)")
    parser.add_argument("--utilisation", type=float, default=0.6, help="provisioned capacity in use on average at scale (auto scaling targets 0.7)")
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    add_report_dir(parser)
    args = parser.parse_args()
    if args.loans < 1 or args.segments < 1 or args.loans_per_day < 1 or args.scale_loans_per_day < 1:
        parser.error("--loans, --segments, --loans-per-day and --scale-loans-per-day must be at least 1")
    if not 0 < args.utilisation <= 1:
        parser.error("--utilisation is a share of the provisioned capacity: above 0, at most 1")

    os.environ["POWERTOOLS_LOG_LEVEL"] = "INFO"  # as deployed; before the app's logger is made
    meter = Meter().install()  # before any botocore client is made
    prices = load_prices()
    with meter.capturing_output():
        result = run(args, meter)
    f = figures(meter, result, args)
    summary = summarise(f, prices, args)
    print_report(args, result, f, summary, prices)
    if args.report_dir:
        write_report(args.report_dir, args, result, f, summary, prices)
        if not args.json:  # the figures beside the section, for bench/throughput.py
            args.json = args.report_dir / "cost_model.json"
    if args.json:
        document = {"as_of": datetime.now(timezone.utc).isoformat(timespec="seconds"), "prices": {"region": prices.region, "as_of": prices.as_of},
                    "args": {k: str(v) for k, v in vars(args).items()}, "run": {k: v for k, v in result.items() if k != "problems"},
                    "problems": result["problems"], "summary": summary, "figures": f}
        args.json.write_text(json.dumps(document, indent=2, default=str), encoding="utf-8")
        print(f"figures written to {args.json}")
    return 1 if result["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
