"""A bounded load run against the local stack over loopback: where does it saturate?

Starts the local stack as a user does (``python -m local.serve`` on a free port of 127.0.0.1, in a
process of its own, stopped at the end whatever happens: Ctrl-C, an error) and drives the partner
API as a partner does, with signed requests (``local.partner_client.PartnerClient``): each request
a ``POST /v1/applications`` of a new synthetic applicant (``bench.cost_model.applicant``: clean
credit files, amounts and terms the sample scorecard approves), or with ``--load quotes`` a
``POST /v1/quotes`` (pure computation, no workflow). The same load at each client concurrency of
``--levels``, each level bounded by ``--requests-per-level`` AND ``--seconds-per-level`` (no new
request once either is reached; the ones in flight finish).

Measured at each level: requests completed per second, latency median and p95 (from the signed
request to the answer), errors (every non-2xx, with its status and code, and failed connections),
the CPU seconds the stack's process tree used (``psutil`` when installed, else ``/proc``) and the
client's own. Each application starts an origination workflow, run by moto's Step Functions
interpreter in the same process as the API: after each level the run waits (at most
``--drain-seconds``) until no application is left RECEIVED, REVIEWING or ROUTING (the backlog:
a scan of the applications table on moto), and counts the CPU of that drain too, so that
"server CPU per request" is what an application costs with its workflow, and a level does not
pay for the previous one's.

The saturation point: the lowest concurrency after which throughput grows by less than 10% while
p95 latency keeps rising (``saturation_point``); for applications, the end-to-end throughput
(answered, and the workflow caught up within the level and its drain), since the API alone can
answer faster only by leaving the workflows behind (told beside it). What this measures is this machine's Python, the
Chalice dev server and moto, all in one process sharing the machine's cores with the client:
never AWS's capacity, where each request and each workflow step is a Lambda invocation of its own.
``local.serve`` also logs every state transition by reading every execution's history twice a second,
a cost that grows with the executions so far; ``--no-transition-log`` starts it without that log,
to see the app's own cost.

    .venv/bin/python bench/load.py [--levels 1,2,4,8,16] [--requests-per-level 40]
        [--seconds-per-level 12] [--load applications|quotes] [--no-transition-log] [--json FILE] [--report-dir DIR]
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Sequence

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from local.serve import READY, read_banner  # noqa: E402 - the banner read where it is written

NAME = "load"
MIN_GAIN = 0.10  # "throughput grows less than 10%"
# The statuses of an application whose workflow is still working on it (chalicelib/domain/application_status.py);
# MANUAL_REVIEW and OFFERED wait for a person, the others are ends (or come after the borrower's answer).
WORKING = ("RECEIVED", "REVIEWING", "ROUTING")
QUOTE = {"product_code": "CONSUMER_STD", "amount": "12000.00", "term_months": 6, "repayment_method": "EQUAL_INSTALLMENT",
         "annual_rate": "0.0600", "start_date": "2026-01-31"}
PEOPLE_PER_BIRTH_DATE = 800  # bench.cost_model.applicant's ID sequences 100-899: clean files in the bureau simulator

# -- pure parts -------------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by linear interpolation between closest ranks (numpy's default)."""
    import numpy

    if not values:
        raise ValueError("no values")
    if not 0 <= q <= 100:
        raise ValueError("q must be between 0 and 100")
    return float(numpy.percentile(values, q))


@dataclass
class Level:
    """What one concurrency level measured."""

    concurrency: int
    requests: int = 0  # completed (answered or failed)
    ok: int = 0
    errors: dict[str, int] = field(default_factory=dict)  # "401 NONCE_REPLAYED", "ConnectionError", ...
    seconds: float = 0.0  # from the first request sent to the last one completed
    throughput: float = 0.0  # requests completed per second
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    server_cpu_s: float | None = None  # CPU seconds of the stack's process tree during the level
    drain_cpu_s: float | None = None  # ... and while its workflows' backlog drained afterwards
    client_cpu_s: float = 0.0  # CPU seconds of this process (the client) during the level
    backlog_after: int | None = None  # applications still RECEIVED/REVIEWING/ROUTING when the level ended
    backlog_left: int | None = None  # ... when the drain ended (0: it caught up)
    drain_s: float = 0.0
    cores_after_drain: float | None = None  # how busy the stack still was at the drain's end

    @property
    def server_cores(self) -> float | None:
        """How many cores the stack kept busy during the level."""
        return None if self.server_cpu_s is None or not self.seconds else self.server_cpu_s / self.seconds

    @property
    def client_cores(self) -> float:
        return self.client_cpu_s / self.seconds if self.seconds else 0.0

    @property
    def server_cpu_per_request(self) -> float | None:
        """The stack's CPU seconds per request, the drain of the workflows it started included."""
        if self.server_cpu_s is None or not self.requests:
            return None
        return (self.server_cpu_s + (self.drain_cpu_s or 0.0)) / self.requests

    @property
    def settled_rate(self) -> float | None:
        """Applications whose workflow also caught up (reached an offer, a rejection, a manual review) per second
        of the level and its drain: what the stack sustains end to end, where ``throughput`` is its intake."""
        if self.backlog_after is None or not self.seconds:
            return None
        return (self.requests - (self.backlog_left or 0)) / (self.seconds + self.drain_s)

    @property
    def sustained(self) -> float:
        """The throughput that counts: end to end where the backlog is known, else requests answered."""
        settled = self.settled_rate
        return self.throughput if settled is None else settled

    def figures(self) -> dict[str, Any]:
        return asdict(self) | {"server_cores": self.server_cores, "client_cores": self.client_cores,
                               "server_cpu_per_request_s": self.server_cpu_per_request, "settled_per_s": self.settled_rate}


def summarise(concurrency: int, samples: list[tuple[float, str | None]], seconds: float) -> Level:
    """A level from its samples: (latency in seconds, None for a 2xx or what went wrong)."""
    level = Level(concurrency=concurrency, requests=len(samples), seconds=seconds)
    level.ok = sum(1 for _, error in samples if error is None)
    level.errors = dict(collections.Counter(error for _, error in samples if error is not None))
    if samples:
        latencies = [latency for latency, _ in samples]
        level.p50_ms, level.p95_ms = percentile(latencies, 50) * 1000, percentile(latencies, 95) * 1000
    level.throughput = len(samples) / seconds if seconds > 0 else 0.0
    return level


def saturation_point(points: Sequence[tuple[int, float, float]], min_gain: float = MIN_GAIN) -> int | None:
    """The lowest concurrency after which throughput no longer grows by ``min_gain`` while p95 keeps rising.

    ``points``: (concurrency, throughput, p95 latency), by increasing concurrency. The answer is the
    concurrency ``c`` of the first point such that every later point has a throughput below
    ``(1 + min_gain)`` times the best one up to ``c`` and a p95 above ``c``'s; None when the
    throughput still grows at some later level (or there is no later level): not saturated within
    the levels measured.
    """
    ordered = sorted(points)
    for i, (concurrency, _, p95) in enumerate(ordered[:-1]):
        best = max(throughput for _, throughput, _ in ordered[: i + 1])
        later = ordered[i + 1:]
        if all(throughput < best * (1 + min_gain) and later_p95 > p95 for _, throughput, later_p95 in later):
            return concurrency
    return None


def what_saturates(level: Level, cpus: int) -> str:
    """A sentence on the resource that ran out at the saturated level, from how busy the cores were."""
    server, client = level.server_cores, level.client_cores
    if server is None:
        return "The stack's CPU could not be read here (no psutil, no /proc), so what ran out is not told."
    if server >= 0.8:
        return (f"The stack's process kept {server:.2f} cores busy (the client {client:.2f}, of {cpus}): it is CPU-bound on one core, "
                "as one Python process runs Python on one thread at a time (the GIL), whatever the threads of the API, "
                "moto and the workflows; more client threads only queue.")
    if server + client >= 0.8 * cpus:
        return (f"The stack kept {server:.2f} cores busy and the client {client:.2f}, of {cpus}: the machine's cores are used up, "
                "shared by the client, the API, moto and the workflows (CPU-bound).")
    return (f"The stack kept only {server:.2f} cores busy (the client {client:.2f}, of {cpus}): not CPU but waiting, e.g. on "
            "moto's one lock over DynamoDB calls (local/moto_atomicity.py) or the workflows' retries.")


# -- the stack in a process of its own --------------------------------------------------------------


@dataclass
class StackProcess:
    """``python -m local.serve`` on 127.0.0.1:``port``, as ``tests/e2e/conftest.py`` starts it."""

    process: subprocess.Popen
    api_url: str
    aws_endpoint: str
    secrets: dict[str, str]
    resources: dict[str, str]
    output: collections.deque  # the stack's last lines (its log: every request, every state transition)
    started_s: float


# ``local.serve`` with a stack that does not log every state transition (``LocalStack(watch_executions=False)``).
WITHOUT_TRANSITION_LOG = ("import functools, sys; from local import serve, stack; "
                          "serve.LocalStack = functools.partial(stack.LocalStack, watch_executions=False); sys.exit(serve.main())")


def start_stack(port: int, transition_log: bool = True, timeout: float = 90.0) -> StackProcess:
    """Start the stack, wait for its banner and read it (the e2e fixture's way; it is a pytest fixture, not importable).

    In a session of its own, so that a Ctrl-C in the terminal reaches this program only, which then stops
    the stack itself, and so that the whole process group can be killed if it does not stop. Without
    ``transition_log``, the stack does not poll every execution's history to log its transitions (a
    local convenience whose cost grows with the executions so far; nothing deployed does it).
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | {"PORT": str(port), "PYTHONUNBUFFERED": "1"}
    started = time.monotonic()
    command = ["-m", "local.serve"] if transition_log else ["-c", WITHOUT_TRANSITION_LOG]
    process = subprocess.Popen([sys.executable, *command], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    output: collections.deque = collections.deque(maxlen=400)
    banner: list[str] = []
    assert process.stdout is not None
    try:
        while READY not in banner:
            line = process.stdout.readline()  # the stack prints its banner within seconds, or exits
            if not line and process.poll() is not None or time.monotonic() - started > timeout:
                raise RuntimeError("the local stack did not start:\n" + "".join(banner)[-4000:])
            banner.append(line.rstrip("\n"))
    except BaseException:
        stop_stack(process)
        raise
    shown = read_banner("\n".join(banner))
    output.extend(banner)
    # Keep reading what it logs (a full pipe would block the stack), keeping the last lines for a failure.
    threading.Thread(target=lambda: [output.append(line.rstrip("\n")) for line in process.stdout], daemon=True).start()
    return StackProcess(
        process=process,
        api_url=shown.api_url,
        aws_endpoint=shown.aws_endpoint,
        secrets=shown.secrets,
        resources=shown.resources,
        output=output,
        started_s=time.monotonic() - started,
    )


def stop_stack(process: subprocess.Popen, grace: float = 10.0) -> str:
    """Ctrl-C the stack (it stops its servers and exits), then kill its whole process group if it has not
    stopped within ``grace`` seconds (workflows still running can hold it). Answers how it stopped."""
    if process.poll() is not None:
        return f"had exited ({process.returncode})"
    try:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=grace)
        how = "stopped on Ctrl-C" if process.returncode == 0 else f"exited {process.returncode} on Ctrl-C"
    except subprocess.TimeoutExpired:
        how = f"killed: still running {grace:.0f} s after Ctrl-C"
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)  # the group is the stack's own session: it and any child
        except (ProcessLookupError, PermissionError):
            pass
        if process.poll() is None:
            process.wait(timeout=10)
    return how



def tree_cpu_seconds(pid: int) -> float | None:
    """CPU seconds (user + system) of a process and its descendants, reaped children's included;
    None where neither psutil nor /proc can tell."""
    try:
        import psutil
    except ImportError:
        return _proc_tree_cpu_seconds(pid)
    try:
        root = psutil.Process(pid)
        total = 0.0
        for process in [root, *root.children(recursive=True)]:
            try:
                times = process.cpu_times()
                total += times.user + times.system + times.children_user + times.children_system
            except psutil.NoSuchProcess:
                continue
        return total
    except psutil.NoSuchProcess:
        return None


def _proc_tree_cpu_seconds(pid: int) -> float | None:
    proc = Path("/proc")
    if not (proc / str(pid) / "stat").exists():
        return None
    stats: dict[int, tuple[int, float]] = {}  # pid: (parent, CPU seconds)
    tick = os.sysconf("SC_CLK_TCK")
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        # after the command: state, ppid, ..., utime (14th field of the line), stime, cutime, cstime
        stats[int(entry.name)] = (int(fields[1]), sum(int(value) for value in fields[11:15]) / tick)
    tree, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, (ppid, _) in stats.items() if ppid == parent and child not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(stats[member][1] for member in tree if member in stats)


# -- the load ---------------------------------------------------------------------------------------


def load_applicant(i: int) -> dict[str, Any]:
    """The ``i``-th applicant of the run, a person of their own for any ``i``: ``bench.cost_model.applicant``
    (whose ID sequences give out after 800 people) with a birth date per 800 and a mobile and card per ``i``."""
    from bench.cost_model import applicant
    from chalicelib.ports.credit_bureau import make_id
    from local.people import card_number

    body = applicant(i % PEOPLE_PER_BIRTH_DATE)
    body["partner_application_no"] = f"LD{i:07d}"
    body["applicant"]["id_number"] = make_id(100 + i % PEOPLE_PER_BIRTH_DATE, birth=f"{1990 - i // PEOPLE_PER_BIRTH_DATE}0307")
    body["applicant"]["mobile"] = f"137{i:08d}"
    body["account"]["card_number"] = card_number(500_000 + i)
    return body


def one_request(partner: Any, load: str, i: int) -> tuple[float, str | None]:
    """Send the ``i``-th request of the run; answers (latency in seconds, None or what went wrong)."""
    import requests

    path, payload = ("/v1/quotes", QUOTE) if load == "quotes" else ("/v1/applications", load_applicant(i))
    started = time.perf_counter()
    try:
        response = partner.post(path, payload)
    except requests.RequestException as exc:
        return time.perf_counter() - started, failure_name(exc)
    latency = time.perf_counter() - started
    if 200 <= response.status_code < 300:
        return latency, None
    try:
        code = response.json().get("code", "")
    except ValueError:
        code = ""
    return latency, f"{response.status_code} {code}".strip()


def failure_name(exc: BaseException) -> str:
    """A failed request's class and its innermost cause, e.g. ``ConnectionError (ConnectionResetError)``
    (requests wraps urllib3's errors, which wrap the socket's)."""
    inner: BaseException | None = exc
    for _ in range(6):
        assert inner is not None
        cause = getattr(inner, "reason", None)
        if not isinstance(cause, BaseException):
            cause = next((arg for arg in inner.args if isinstance(arg, BaseException)), None)
        if cause is None:
            break
        inner = cause
    return type(exc).__name__ if inner is exc else f"{type(exc).__name__} ({type(inner).__name__})"


def run_level(concurrency: int, requests: int, seconds: float, send: Callable[[int], tuple[float, str | None]],
              first: int, stopping: threading.Event) -> tuple[list[tuple[float, str | None]], float]:
    """``concurrency`` threads sending until ``requests`` are sent or ``seconds`` have passed; waits for the
    ones in flight. Answers the samples and the seconds from the first sent to the last completed."""
    samples: list[tuple[float, str | None]] = []
    lock = threading.Lock()
    sent = [0]
    started = time.perf_counter()
    deadline = started + seconds

    def worker() -> None:
        while not stopping.is_set():
            with lock:
                if sent[0] >= requests or time.perf_counter() >= deadline:
                    return
                i = first + sent[0]
                sent[0] += 1
            sample = send(i)
            with lock:
                samples.append(sample)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():
            thread.join(0.2)  # a timed join: Ctrl-C reaches the main thread
    return samples, time.perf_counter() - started


class Backlog:
    """Applications whose workflow is still at work (RECEIVED, REVIEWING, ROUTING): a scan of moto's table."""

    def __init__(self, stack: StackProcess) -> None:
        import boto3

        from chalicelib.resources import APPLICATIONS_TABLE

        self.table = stack.resources.get(APPLICATIONS_TABLE.env)
        self.client = boto3.client("dynamodb", endpoint_url=stack.aws_endpoint, region_name="us-east-1",
                                   aws_access_key_id="local", aws_secret_access_key="local")

    def statuses(self) -> collections.Counter | None:
        """Applications by status; None if the table cannot be read (the run goes on without a backlog)."""
        if not self.table:
            return None
        counts: collections.Counter = collections.Counter()
        try:
            for page in self.client.get_paginator("scan").paginate(
                TableName=self.table, FilterExpression="begins_with(pk, :app)", ExpressionAttributeValues={":app": {"S": "APP#"}},
                ProjectionExpression="#s", ExpressionAttributeNames={"#s": "status"},
            ):
                counts.update(item.get("status", {}).get("S", "?") for item in page["Items"])
        except Exception:  # noqa: BLE001 - the backlog is optional: never fail the run for it
            return None
        return counts

    def working(self) -> int | None:
        counts = self.statuses()
        return None if counts is None else sum(counts[status] for status in WORKING)


@dataclass
class Drained:
    """How the workflows' backlog drained after a level."""

    backlog_after: int | None  # at the start of the drain (None: not known)
    backlog_left: int | None  # at its end
    seconds: float
    cpu_s: float | None  # the stack's CPU seconds meanwhile
    cores_at_end: float | None  # how busy the stack was in the drain's last half second


def drain(stack: StackProcess, backlog: Backlog | None, limit: float, stopping: threading.Event) -> Drained:
    """Wait until the workflows have caught up (no application left RECEIVED, REVIEWING or ROUTING) or,
    without a backlog to read, the stack is idle; at most ``limit`` seconds."""
    started, cpu_start = time.perf_counter(), tree_cpu_seconds(stack.process.pid)
    first = left = backlog.working() if backlog else None
    previous_t, previous_cpu, busy = started, cpu_start, None
    while first != 0 and not stopping.is_set() and time.perf_counter() - started < limit:
        time.sleep(0.5)
        now, cpu = time.perf_counter(), tree_cpu_seconds(stack.process.pid)
        busy = None if cpu is None or previous_cpu is None else (cpu - previous_cpu) / (now - previous_t)
        previous_t, previous_cpu = now, cpu
        left = backlog.working() if backlog else None
        if left == 0 or left is None and (busy is None or busy < 0.15):
            break
    cpu_end = tree_cpu_seconds(stack.process.pid)
    cpu = None if cpu_start is None or cpu_end is None else cpu_end - cpu_start
    return Drained(first, left, time.perf_counter() - started, cpu, busy)


def run(args: argparse.Namespace, stopping: threading.Event) -> dict[str, Any]:
    """Start the stack, warm it up, measure each level, stop the stack (always)."""
    from local.partner_client import PartnerClient
    from local.stack import free_port

    port = args.port or free_port()
    started = time.perf_counter()
    stack = start_stack(port, transition_log=args.transition_log)
    print(f"local stack up in {stack.started_s:.1f} s at {stack.api_url} (pid {stack.process.pid})", flush=True)
    levels: list[Level] = []
    stopped = "not started"
    statuses: dict[str, int] = {}
    try:
        partner = PartnerClient(stack.api_url, "P_DEMO", stack.secrets["P_DEMO"], timeout=args.timeout)
        backlog = Backlog(stack) if args.load == "applications" else None
        next_i = 0
        # Warm-up, not measured: the first requests import and make clients, the first workflows too.
        for _ in range(3):
            _, error = one_request(partner, args.load, next_i)
            next_i += 1
            if error:
                raise RuntimeError(f"the warm-up request failed: {error}\n" + "\n".join(list(stack.output)[-40:]))
        drain(stack, backlog, args.drain_seconds, stopping)
        for concurrency in args.levels:
            if stopping.is_set():
                break
            if stack.process.poll() is not None:
                raise RuntimeError("the local stack exited:\n" + "\n".join(list(stack.output)[-40:]))
            cpu_before, client_before = tree_cpu_seconds(stack.process.pid), time.process_time()
            samples, seconds = run_level(concurrency, args.requests_per_level, args.seconds_per_level,
                                         lambda i: one_request(partner, args.load, i), next_i, stopping)
            cpu_after, client_after = tree_cpu_seconds(stack.process.pid), time.process_time()
            next_i += len(samples)
            level = summarise(concurrency, samples, seconds)
            level.client_cpu_s = client_after - client_before
            if cpu_before is not None and cpu_after is not None:
                level.server_cpu_s = cpu_after - cpu_before
            drained = drain(stack, backlog, args.drain_seconds, stopping)
            level.backlog_after, level.backlog_left, level.drain_s = drained.backlog_after, drained.backlog_left, drained.seconds
            level.drain_cpu_s, level.cores_after_drain = drained.cpu_s, drained.cores_at_end
            levels.append(level)
            print(row_text(level), flush=True)
        statuses = dict((backlog.statuses() or {}) if backlog else {})
    finally:
        stopping.set()  # the client threads send no more (after Ctrl-C or an error)
        stopped = stop_stack(stack.process)
        print(f"local stack {stopped}", flush=True)
    return {"levels": levels, "stack_start_s": stack.started_s, "stack_stopped": stopped,
            "run_s": time.perf_counter() - started, "application_statuses": statuses}


# -- output -----------------------------------------------------------------------------------------

HEADERS = ("threads", "requests", "errors", "answered/s", "p50 ms", "p95 ms", "stack cores", "client cores",
           "stack CPU s/req", "backlog after", "drain s", "cores after drain", "end-to-end/s")


def _number(value: float | None, digits: int) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def row(level: Level) -> list[str]:
    errors = ", ".join(f"{count}x {what}" for what, count in sorted(level.errors.items())) or "0"
    backlog = "n/a" if level.backlog_after is None else str(level.backlog_after) + (f" ({level.backlog_left} left)" if level.backlog_left else "")
    return [str(level.concurrency), str(level.requests), errors, f"{level.throughput:.2f}", f"{level.p50_ms:.0f}", f"{level.p95_ms:.0f}",
            _number(level.server_cores, 2), f"{level.client_cores:.2f}", _number(level.server_cpu_per_request, 3), backlog, f"{level.drain_s:.1f}",
            _number(level.cores_after_drain, 2), _number(level.settled_rate, 2)]


def row_text(level: Level) -> str:
    return "  ".join(f"{h}={v}" for h, v in zip(HEADERS, row(level)))


def conclusion(levels: list[Level], cpus: int, load: str, transition_log: bool = False) -> tuple[dict[str, Any], str]:
    """The saturation point and the sentences that state it.

    For applications the throughput that counts is the end-to-end one (``Level.sustained``): the API
    can answer POSTs faster for a while by taking the one core from the workflows, which then fall
    behind (the backlog); the intake's own saturation point is told beside it.
    """
    what = "applications" if load == "applications" else "quotes"
    point = saturation_point([(level.concurrency, level.sustained, level.p95_ms) for level in levels])
    intake = saturation_point([(level.concurrency, level.throughput, level.p95_ms) for level in levels])
    measure = "end to end (answered, and the workflow caught up)" if load == "applications" else "answered"
    last = levels[-1]
    if point is None:
        best = max(levels, key=lambda level: level.sustained)
        text = (f"No saturation within the levels measured: {what} per second {measure} still grew by {MIN_GAIN:.0%} or more "
                f"up to {last.concurrency} threads (best {best.sustained:.2f}/s at {best.concurrency}).")
        busiest = best
    else:
        at = next(level for level in levels if level.concurrency == point)
        busiest = max((level for level in levels if level.concurrency >= point), key=lambda level: level.sustained)
        text = (f"**Saturation at {point} client thread{'s' if point > 1 else ''}**: {at.sustained:.2f} {what}/s {measure} there, "
                f"at most {busiest.sustained:.2f}/s beyond it (under {MIN_GAIN:.0%} more), while p95 latency rises from "
                f"{at.p95_ms:.0f} ms to {last.p95_ms:.0f} ms at {last.concurrency} threads.")
    if load == "applications":
        peak = max(levels, key=lambda level: level.throughput)
        left = f"; {last.backlog_left} applications were still in their workflow after the last drain" if last.backlog_left else ""
        text += (f" The API's intake alone {'saturates at ' + str(intake) + (' threads' if intake > 1 else ' thread') if intake else 'kept growing'} "
                 f"(at most {peak.throughput:.2f} POSTs/s, at {peak.concurrency} threads), only by leaving the workflows "
                 f"behind{left}.")
    if point is not None:
        text += " " + what_saturates(busiest, cpus)
    # Levels whose backlog drained: the others leave part of their workflows' CPU to the next level.
    caught_up = [level for level in levels if not level.backlog_left] or levels
    per_request = [level.server_cpu_per_request for level in caught_up if level.server_cpu_per_request is not None]
    cost = statistics.median(per_request) if per_request else None
    if cost:
        text += (f" The stack spends about {cost:.2f} CPU-seconds per {what[:-1]} (median over the levels"
                 f"{' whose workflows caught up, the workflow included' if load == 'applications' else ''}), so one core caps it at about "
                 f"{1 / cost:.1f} {what}/s (cores / CPU per request; {cpus / cost:.1f}/s if the work could use all {cpus} cores).")
    idle = [level.cores_after_drain for level in levels if level.backlog_left == 0 and level.cores_after_drain is not None]
    if transition_log and idle and max(idle) >= 0.3:
        text += (f" With no application left in review or routing, the stack still kept up to {max(idle):.2f} cores busy at the end "
                 "of a drain: the legs' last states, and local.serve's state-transition log, which lists every execution every "
                 "0.5 s (a local convenience; --no-transition-log leaves it out).")
    if any("NONCE_REPLAYED" in error for level in levels for error in level.errors):
        text += (" Some requests were answered 401 NONCE_REPLAYED although each had a fresh nonce: the local stack checked "
                 "one request's signature against another's (it must keep a request per thread, as Lambda does): a fault to fix.")
    figures = {"concurrency": point, "measured_on": "sustained_per_s" if load == "applications" else "throughput",
               "intake_concurrency": intake, "min_gain": MIN_GAIN, "server_cpu_per_request_s": cost,
               "one_core_limit_per_s": 1 / cost if cost else None}
    return figures, text


def markdown(result: dict[str, Any], args: argparse.Namespace, cpus: int, sentence: str, plot: str | None) -> str:
    from bench.report_kit import md_table

    what = "a new applicant's `POST /v1/applications`" if args.load == "applications" else "a `POST /v1/quotes`"
    stack = ("`python -m local.serve`" if args.transition_log else
             "`python -m local.serve` without its state-transition log (`--no-transition-log`)")
    method = (f"`bench/load.py` starts the local stack ({stack}: the Chalice dev server, moto and the workflows "
              f"in one process) and sends signed partner requests over 127.0.0.1, each {what}, from 1 to {max(args.levels)} client "
              f"threads; each level stops after {args.requests_per_level} requests or {args.seconds_per_level:g} s, then waits up to "
              f"{args.drain_seconds:g} s for the workflows' backlog (applications still RECEIVED, REVIEWING or ROUTING) to drain: "
              f"its CPU is counted in the stack's CPU per request, and end-to-end/s counts the applications whose workflow caught up "
              f"per second of the level and its drain. Latency is from the signed request to the answer. "
              f"It measures this machine ({cpus} cores, shared by the client and the stack) running Python and moto, not AWS's capacity.")
    lines = ["## Load run on the local stack", "", method, "",
             md_table(HEADERS, [row(level) for level in result["levels"]], "r" * len(HEADERS)), sentence]
    if plot:
        lines += ["", f"![Throughput and p95 latency against client threads]({plot})"]
    return "\n".join(lines) + "\n"


def plot(levels: list[Level], report_dir: Path, load: str) -> str:
    """Throughput (left axis) and p95 latency (right axis) against the client threads."""
    from bench.report_kit import pyplot, save_figure

    plt = pyplot()
    figure, left = plt.subplots(figsize=(6.4, 3.8))
    threads = [level.concurrency for level in levels]
    left.plot(threads, [level.throughput for level in levels], "o-", color="tab:blue", label="answered/s")
    if any(level.settled_rate is not None for level in levels):
        left.plot(threads, [level.sustained for level in levels], "^:", color="tab:green", label="end to end/s (workflow caught up)")
    left.set_xscale("log", base=2)
    left.set_xticks(threads, [str(t) for t in threads])
    left.set_xlabel("client threads")
    left.set_ylabel(f"{load} completed per second", color="tab:blue")
    left.set_ylim(bottom=0)
    right = left.twinx()
    right.plot(threads, [level.p95_ms / 1000 for level in levels], "s--", color="tab:red", label="p95 latency")
    right.set_ylabel("p95 latency (s)", color="tab:red")
    right.set_ylim(bottom=0)
    handles = left.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
    left.legend(handles, [h.get_label() for h in handles], loc="upper left", fontsize="small")
    left.set_title("Local stack under load (this machine's Python + moto, not AWS)")
    return save_figure(figure, report_dir, NAME, "throughput")


def levels_argument(text: str) -> list[int]:
    try:
        levels = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError("levels: whole numbers separated by commas, e.g. 1,2,4,8,16") from None
    if not levels or any(level < 1 for level in levels) or levels != sorted(set(levels)):
        raise argparse.ArgumentTypeError("levels: increasing whole numbers of at least 1")
    return levels


def _interrupt(signum: int, frame: Any) -> None:
    """SIGTERM as Ctrl-C: the ``finally`` blocks stop the stack."""
    raise KeyboardInterrupt


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", type=levels_argument, default=[1, 2, 4, 8, 16], help="client threads of each level (default 1,2,4,8,16)")
    parser.add_argument("--requests-per-level", type=int, default=40, help="at most this many requests a level (default 40)")
    parser.add_argument("--seconds-per-level", type=float, default=12.0, help="no new request after this many seconds of a level (default 12)")
    parser.add_argument("--drain-seconds", type=float, default=15.0, help="at most this long waiting for the workflows after a level (default 15)")
    parser.add_argument("--load", choices=("applications", "quotes"), default="applications", help="what each request is (default applications)")
    parser.add_argument("--transition-log", action=argparse.BooleanOptionalAction, default=True,
                        help="the stack logs every state transition, as `make serve` does (default); --no-transition-log: "
                             "without that poll of every execution's history, i.e. the app's own cost")
    parser.add_argument("--timeout", type=float, default=60.0, help="a request's timeout in seconds (default 60)")
    parser.add_argument("--port", type=int, default=0, help="the stack's API port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument("--report-dir", type=Path, help="write load.md and load-throughput.png to this directory")
    args = parser.parse_args()
    if args.requests_per_level < 1 or args.seconds_per_level <= 0 or args.drain_seconds < 0 or args.timeout <= 0:
        parser.error("--requests-per-level, --seconds-per-level and --timeout must be positive, --drain-seconds not negative")

    stopping = threading.Event()
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        result = run(args, stopping)
    except KeyboardInterrupt:
        stopping.set()
        print("interrupted: the local stack was stopped", file=sys.stderr)
        return 130
    levels: list[Level] = result["levels"]
    if not levels:
        print("no level measured", file=sys.stderr)
        return 1
    cpus = os.cpu_count() or 1
    saturation, sentence = conclusion(levels, cpus, args.load, args.transition_log)
    print()
    print(f"Load run on the local stack{'' if args.transition_log else ' (no transition log)'}: {args.load}, levels {','.join(map(str, args.levels))}, "
          f"at most {args.requests_per_level} requests or {args.seconds_per_level:g} s a level; {cpus} cores")
    widths = [max(len(h), *(len(r[i]) for r in map(row, levels))) for i, h in enumerate(HEADERS)]
    print("  ".join(h.rjust(w) for h, w in zip(HEADERS, widths)))
    for level in levels:
        print("  ".join(cell.rjust(w) for cell, w in zip(row(level), widths)))
    print()
    print(sentence.replace("**", ""))
    if result["application_statuses"]:
        print(f"applications by status at the end: {dict(sorted(result['application_statuses'].items()))}")
    print(f"run: {result['run_s']:.0f} s (stack start {result['stack_start_s']:.1f} s; {result['stack_stopped']})")
    picture = None
    if args.report_dir:
        from bench.report_kit import write_section

        picture = plot(levels, args.report_dir, args.load)
        path = write_section(args.report_dir, NAME, markdown(result, args, cpus, sentence, picture))
        print(f"report section written to {path}")
        args.json = args.json or args.report_dir / f"{NAME}.json"  # the figures beside the section (bench/throughput.py)
    if args.json:
        document = {
            "as_of": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "machine": {"cpus": cpus, "python": platform.python_version(), "system": platform.system()},
            "args": {"levels": args.levels, "requests_per_level": args.requests_per_level, "seconds_per_level": args.seconds_per_level,
                     "drain_seconds": args.drain_seconds, "load": args.load, "transition_log": args.transition_log},
            "levels": [level.figures() for level in levels],
            "saturation": saturation | {"statement": sentence.replace("**", "")},
            "application_statuses": result["application_statuses"],
            "run_s": result["run_s"], "stack_start_s": result["stack_start_s"], "stack_stopped": result["stack_stopped"],
        }
        args.json.write_text(json.dumps(document, indent=2), encoding="utf-8")
        print(f"figures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
