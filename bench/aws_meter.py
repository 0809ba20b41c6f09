"""Count what a piece of the app asks of AWS: requests by service and operation, DynamoDB units, S3 bytes,
Lambda invocations and their durations, log bytes. Used by ``bench/cost_model.py``.

How it counts:

- **Requests.** Botocore event hooks (``before-parameter-build``, where the call's parameters are
  still the API's, and ``after-call``, with the parsed answer) on every client made after
  ``Meter.install()`` (``botocore.session.Session.create_client`` is wrapped, as ``bench/intake.py``
  does). That covers boto3's default session and the botocore sessions PynamoDB makes for itself
  (one per thread: ``pynamodb.connection.base`` calls ``botocore.session.get_session()``), so it must
  be installed before the first client is made. Moto's Step Functions interpreter calls Lambda through
  boto3 clients of its own; those calls (the state machine's ``lambda:invoke`` integration) are told
  apart by where the client was made (inside ``moto``) and counted as integrations, not as the app's
  requests.
- **Whose.** A thread-local names the Lambda function running (``Meter.invocation``): a call made
  outside any function while counting is on is the harness's own (waiting, reading results) and is
  counted apart, never priced. Counting is on only between ``start()`` and ``stop()``.
- **DynamoDB units**, from item sizes by DynamoDB's rules (moto's ``ConsumedCapacity`` is a constant,
  not a size): the size of an item is ``bench/ledger.py``'s ``item_size``. Before a write, every item
  it touches is read (a consistent ``GetItem`` of the meter's own, not counted and not timed); after
  it, read again. A write costs 1 unit per KB of the larger of the item before and after (at least 1),
  2 per KB inside a transaction; a ``ConditionCheck`` 2 per KB of the item checked; a write refused by
  its condition is still charged on the item as it stands (a cancelled transaction: each of its items,
  an assumption). Each global secondary index costs a
  standard write per KB of its entry when the entry is put, changed (an ``ALL`` index: any attribute;
  a ``KEYS_ONLY`` index: its keys) or deleted, two when its keys change. A read costs 1 unit per 4 KB
  strongly consistent, half of it eventually consistent, twice it in a transaction; a ``GetItem`` per
  item, a ``Query`` or ``Scan`` on the total size of the items it *evaluated* (a filter or a projection
  saves nothing: such a request is issued again by the meter without them to size what was read), at
  least one unit (half eventually consistent) per request.
- **S3**: requests by price class (PUT, COPY, POST, LIST; GET and the rest; DELETE free) and the bytes
  of every object put.
- **Lambda**: each invocation's wall and CPU time (``time.thread_time``) in-process, less the meter's
  own reads; the time spent inside AWS calls (moto, here) is kept apart too. Every invocation is kept
  (``Usage.invocations``), with when it began and, if the harness names it (``Meter.label``), what it
  served, for per-invocation figures (``bench/latency.py``).
- **Logs**: the bytes the app's logger and its metrics (EMF lines on stdout) write, and how many lines.
"""
from __future__ import annotations

import collections
import contextlib
import io
import math
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.ledger import item_size  # noqa: E402 - DynamoDB's sizing rules, one copy

KB = 1024
READ_BLOCK = 4 * KB

# -- DynamoDB's capacity rules (pure) ---------------------------------------------------------------


def write_units(size: int, transactional: bool = False) -> int:
    """Write request units of one item written: 1 per KB (at least 1), twice in a transaction."""
    return max(1, math.ceil(size / KB)) * (2 if transactional else 1)


def read_units(size: int, consistent: bool = True, transactional: bool = False) -> float:
    """Read request units of one read of ``size`` bytes (an item, or a query's or scan's total):
    1 per 4 KB (at least 1) strongly consistent, half eventually consistent, twice in a transaction."""
    blocks = max(1, math.ceil(size / READ_BLOCK))
    if transactional:
        return 2.0 * blocks
    return float(blocks) if consistent else blocks / 2


def index_entry(item: dict[str, Any] | None, index: Any, table_keys: tuple[str, ...]) -> dict[str, Any] | None:
    """The entry ``item`` has in a global secondary index (``resources.Index``), or None when it has none
    (a sparse index: the item lacks the index's key attributes)."""
    if item is None:
        return None
    keys = (index.partition_key,) + ((index.sort_key,) if index.sort_key else ())
    if any(k not in item for k in keys):
        return None
    if index.projection == "ALL":
        return dict(item)
    return {k: item[k] for k in dict.fromkeys(keys + table_keys) if k in item}


def index_write_units(before: dict[str, Any] | None, after: dict[str, Any] | None, index: Any, table_keys: tuple[str, ...]) -> int:
    """Standard write units an index costs when one item goes from ``before`` to ``after`` (None: absent)."""
    old, new = index_entry(before, index, table_keys), index_entry(after, index, table_keys)
    if old is None and new is None:
        return 0
    if old is None:
        return write_units(item_size(new))
    if new is None:
        return write_units(item_size(old))
    keys = (index.partition_key, index.sort_key)
    if any(old.get(k) != new.get(k) for k in keys if k):
        return write_units(item_size(old)) + write_units(item_size(new))  # the old entry deleted, the new put
    return write_units(item_size(new)) if old != new else 0


S3_FREE = ("Delete", "Abort")
S3_TIER1 = ("Put", "Copy", "Post", "List", "Create", "Complete", "Upload", "Restore")


def s3_class(operation: str) -> str:
    """S3's price class of an operation: ``tier1`` (PUT, COPY, POST, LIST), ``tier2`` (GET and all other), ``free``."""
    if operation.startswith(S3_FREE):
        return "free"
    if operation.startswith(S3_TIER1):
        return "tier1"
    return "tier2"


# -- what was recorded ------------------------------------------------------------------------------


@dataclass
class Invocation:
    phase: str | None
    function: str
    wall: float = 0.0  # seconds, in-process, the meter's own work taken out
    cpu: float = 0.0  # the thread's CPU seconds, likewise
    aws_wall: float = 0.0  # of ``wall``: inside AWS calls (moto, in-process)
    aws_cpu: float = 0.0
    calls: int = 0
    services: collections.Counter = field(default_factory=collections.Counter)  # "service.Operation" -> calls
    error: str | None = None
    started: float = 0.0  # ``time.perf_counter()`` when it began: orders invocations across phases and threads
    label: str | None = None  # what the invocation served, finer than the function (an API route): ``Meter.label``


@dataclass
class Usage:
    """Everything counted in one phase."""

    calls: collections.Counter = field(default_factory=collections.Counter)  # (function, "service.Operation")
    failed: collections.Counter = field(default_factory=collections.Counter)  # "service.Operation" answered with an error
    harness: collections.Counter = field(default_factory=collections.Counter)  # the harness's own calls: never priced
    integrations: collections.Counter = field(default_factory=collections.Counter)  # moto's Step Functions calling Lambda
    rru: collections.Counter = field(default_factory=collections.Counter)  # table -> read request units
    wru: collections.Counter = field(default_factory=collections.Counter)  # table -> write request units (table)
    index_wru: collections.Counter = field(default_factory=collections.Counter)  # table -> write request units (its indexes)
    items_written: collections.Counter = field(default_factory=collections.Counter)  # table -> items written (puts, updates, deletes)
    bytes_written: collections.Counter = field(default_factory=collections.Counter)  # table -> their sizes (the larger of before and after)
    by_function: collections.Counter = field(default_factory=collections.Counter)  # (function, "rru" | "wru") -> units
    by_function_table: collections.Counter = field(default_factory=collections.Counter)  # (function, table, "rru" | "wru" | "index_wru")
    s3_requests: collections.Counter = field(default_factory=collections.Counter)  # tier1 / tier2 / free
    s3_bytes_put: int = 0
    kms_requests: collections.Counter = field(default_factory=collections.Counter)  # operation (incl. SSM's decryptions)
    log_bytes: int = 0
    log_lines: int = 0
    metrics: set = field(default_factory=set)  # distinct (namespace, metric, dimensions) seen in EMF lines
    invocations: list[Invocation] = field(default_factory=list)


class _CountingStream(io.TextIOBase):
    """Counts (UTF-8 bytes and lines) and drops what a function writes while counting; passes the rest on."""

    def __init__(self, meter: "Meter", passes: Any) -> None:
        self.meter, self.passes = meter, passes

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if self.meter._logged(text):
            return len(text)
        return self.passes.write(text)

    def flush(self) -> None:
        self.passes.flush()


class Meter:
    def __init__(self) -> None:
        self.counting = False
        self.phase: str | None = None
        self.phases: dict[str | None, Usage] = collections.defaultdict(Usage)
        self.tables: dict[str, Any] = {}  # physical table name -> resources.Table
        self._local = threading.local()
        self._lock = threading.Lock()
        self._reader: Any = None

    # -- installing -----------------------------------------------------------------------------------

    def install(self) -> "Meter":
        """Before any botocore client is made (the run's first import of boto3 that makes one)."""
        import botocore.session

        create = botocore.session.Session.create_client
        meter = self

        def counted(session: Any, *args: Any, **kwargs: Any) -> Any:
            client = create(session, *args, **kwargs)
            meter._hook(client, internal=_made_by_moto())
            return client

        botocore.session.Session.create_client = counted  # type: ignore[method-assign]
        return self

    def bind(self, env: dict[str, str], region: str) -> None:
        """After provisioning: the physical names of the declared tables, and the meter's own reader."""
        import boto3

        from chalicelib import resources

        self.tables = {env[t.env]: t for t in resources.TABLES if t.env in env}
        with self._suppressed():
            self._reader = boto3.client("dynamodb", region_name=region)

    @contextlib.contextmanager
    def capturing_output(self) -> Iterator[None]:
        """What the app writes while a function runs (its logger's lines, its EMF metric lines on stdout)
        is counted and dropped; anything else written meanwhile goes where it went."""
        from chalicelib.observability import logger

        real = sys.stdout
        stream = _CountingStream(self, real)
        handlers = [h for h in logger._logger.handlers if hasattr(h, "setStream")]
        previous = [h.setStream(stream) for h in handlers]
        sys.stdout = stream
        try:
            yield
        finally:
            sys.stdout = real
            for handler, old in zip(handlers, previous):
                handler.setStream(old)

    # -- switching ------------------------------------------------------------------------------------

    def start(self, phase: str) -> None:
        self.phase = phase
        self.counting = True

    def stop(self) -> None:
        self.counting = False
        self.phase = None

    @property
    def usage(self) -> Usage:
        return self.phases[self.phase]

    @contextlib.contextmanager
    def invocation(self, function: str) -> Iterator[Invocation]:
        """A Lambda invocation of ``function`` in this thread: its calls are its, its time is measured."""
        record = Invocation(self.phase, function, started=time.perf_counter())
        outer, outer_overhead = getattr(self._local, "invocation", None), getattr(self._local, "overhead", None)
        self._local.invocation = record
        self._local.overhead = [0.0, 0.0]
        wall, cpu = time.perf_counter(), time.thread_time()
        try:
            yield record
        except Exception as exc:
            record.error = type(exc).__name__
            raise
        finally:
            overhead_wall, overhead_cpu = self._local.overhead
            record.wall = time.perf_counter() - wall - overhead_wall
            record.cpu = time.thread_time() - cpu - overhead_cpu
            self._local.invocation, self._local.overhead = outer, outer_overhead
            if self.counting and record.phase is not None:
                with self._lock:
                    self.phases[record.phase].invocations.append(record)

    def label(self, text: str) -> None:
        """Name what the invocation running in this thread serves (an API request's route, say), so that
        the invocations of one function can be told apart (``bench/latency.py``); outside one, nothing."""
        record: Invocation | None = getattr(self._local, "invocation", None)
        if record is not None:
            record.label = text

    # -- the hooks ------------------------------------------------------------------------------------

    def _hook(self, client: Any, internal: bool) -> None:
        events = client.meta.events
        events.register("before-parameter-build", lambda params, model, context, **_: self._begin(params, model, context, internal))
        events.register("after-call", lambda http_response, parsed, context, **_: self._end(context, parsed, ok=http_response.status_code < 300))
        events.register("after-call-error", lambda context, **_: self._end(context, {}, ok=False, reached=False))

    def _begin(self, params: dict[str, Any], model: Any, context: dict[str, Any], internal: bool) -> None:
        if not self.counting or getattr(self._local, "suppress", False):
            return
        record: Invocation | None = getattr(self._local, "invocation", None)
        state: dict[str, Any] = {"record": record, "phase": self.phase, "internal": internal,
                                 "service": model.service_model.service_name, "operation": model.name, "params": params}
        context["zhudai_meter"] = state
        if record is None:
            return
        if state["service"] == "dynamodb":
            with self._overhead():
                state["before"] = self._items_before(state["operation"], params)
        elif state["service"] == "s3" and "Body" in params:
            state["body_bytes"] = _length(params["Body"])
        elif state["service"] == "ssm" and params.get("WithDecryption"):
            state["decrypts"] = len(params["Names"]) if "Names" in params else 1
        state["wall"], state["cpu"] = time.perf_counter(), time.thread_time()

    def _end(self, context: dict[str, Any], parsed: dict[str, Any], ok: bool, reached: bool = True) -> None:
        state = context.pop("zhudai_meter", None)
        if state is None:
            return
        record: Invocation | None = state["record"]
        service, operation = state["service"], state["operation"]
        name = f"{service}.{operation}"
        usage = self.phases[state["phase"]]
        if record is None:
            with self._lock:
                (usage.integrations if state["internal"] else usage.harness)[name] += 1
            return
        record.aws_wall += time.perf_counter() - state["wall"]
        record.aws_cpu += time.thread_time() - state["cpu"]
        record.calls += 1
        record.services[name] += 1
        with self._lock:
            usage.calls[(record.function, name)] += 1
            if not ok:
                usage.failed[name] += 1
        if not reached:
            return
        if service == "dynamodb":
            with self._overhead():
                self._dynamodb(usage, record.function, operation, state["params"], state.get("before"), parsed, ok)
            return
        with self._lock:
            if service == "s3":
                usage.s3_requests[s3_class(operation)] += 1
                if ok:
                    usage.s3_bytes_put += state.get("body_bytes", 0)
            elif service == "kms":
                usage.kms_requests[operation] += 1
            elif service == "ssm" and ok and state.get("decrypts"):
                # SSM decrypts a SecureString with KMS on the caller's behalf: a KMS request, billed
                usage.kms_requests["Decrypt (by SSM)"] += state["decrypts"]

    # -- DynamoDB sizing (the meter's own reads: suppressed, their time taken out) ---------------------

    def _items_before(self, operation: str, params: dict[str, Any]) -> dict[Any, Any]:
        """Each item a write touches, as it stands before the write (None: absent)."""
        found = {}
        for table_name, key, _kind, _op in self._targets(operation, params):
            found[(table_name, _frozen(key))] = self._get(table_name, key)
        return found

    def _targets(self, operation: str, params: dict[str, Any]) -> list[tuple[str, dict[str, Any], str, dict[str, Any]]]:
        """(table, key, kind, the action's params) of every item a write touches."""
        if operation == "PutItem":
            return [(params["TableName"], self._key(params["TableName"], params["Item"]), "Put", params)]
        if operation in ("UpdateItem", "DeleteItem"):
            return [(params["TableName"], params["Key"], operation[:-4], params)]
        if operation == "TransactWriteItems":
            out = []
            for entry in params["TransactItems"]:
                (kind, op), = entry.items()
                key = self._key(op["TableName"], op["Item"]) if kind == "Put" else op["Key"]
                out.append((op["TableName"], key, kind, op))
            return out
        if operation == "BatchWriteItem":
            out = []
            for table_name, requests in params["RequestItems"].items():
                for request in requests:
                    if "PutRequest" in request:
                        item = request["PutRequest"]["Item"]
                        out.append((table_name, self._key(table_name, item), "Put", {"Item": item}))
                    else:
                        out.append((table_name, request["DeleteRequest"]["Key"], "Delete", {}))
            return out
        return []

    def _key(self, table_name: str, item: dict[str, Any]) -> dict[str, Any]:
        table = self.tables[table_name]
        names = (table.partition_key,) + ((table.sort_key,) if table.sort_key else ())
        return {n: item[n] for n in names}

    def _get(self, table_name: str, key: dict[str, Any]) -> dict[str, Any] | None:
        with self._suppressed():
            return self._reader.get_item(TableName=table_name, Key=key, ConsistentRead=True).get("Item")

    def _dynamodb(self, usage: Usage, function: str, operation: str, params: dict[str, Any], before: dict[Any, Any] | None, parsed: dict[str, Any], ok: bool) -> None:
        rru: collections.Counter = collections.Counter()
        wru: collections.Counter = collections.Counter()
        index_wru: collections.Counter = collections.Counter()
        written: collections.Counter = collections.Counter()
        written_bytes: collections.Counter = collections.Counter()
        short = lambda name: self.tables[name].id if name in self.tables else name  # noqa: E731
        if operation in ("PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"):
            transactional = operation == "TransactWriteItems"
            for table_name, key, kind, op in self._targets(operation, params):
                old = (before or {}).get((table_name, _frozen(key)))
                if kind == "ConditionCheck":
                    wru[short(table_name)] += write_units(item_size(old) if old else 0, transactional=True)
                    continue
                new = self._get(table_name, key) if ok else old
                size = max(item_size(old) if old else 0, item_size(new) if new else 0)
                wru[short(table_name)] += write_units(size, transactional)
                written[short(table_name)] += 1
                written_bytes[short(table_name)] += size
                if ok:
                    table = self.tables.get(table_name)
                    if table is not None:
                        keys = (table.partition_key,) + ((table.sort_key,) if table.sort_key else ())
                        for index in table.indexes:
                            index_wru[short(table_name)] += index_write_units(old, new, index, keys)
        elif operation == "GetItem":
            item = parsed.get("Item")
            if "ProjectionExpression" in params or "AttributesToGet" in params:
                item = self._get(params["TableName"], params["Key"])
            rru[short(params["TableName"])] += read_units(item_size(item) if item else 0, bool(params.get("ConsistentRead")))
        elif operation == "BatchGetItem":
            for table_name, items in (parsed.get("Responses") or {}).items():
                consistent = bool(params["RequestItems"][table_name].get("ConsistentRead"))
                for item in items:
                    full = self._get(table_name, self._key(table_name, item)) if "ProjectionExpression" in params["RequestItems"][table_name] else item
                    rru[short(table_name)] += read_units(item_size(full or {}), consistent)
        elif operation == "TransactGetItems":
            for entry, answer in zip(params["TransactItems"], parsed.get("Responses") or []):
                get = entry["Get"]
                item = answer.get("Item")
                if item is not None and "ProjectionExpression" in get:
                    item = self._get(get["TableName"], get["Key"])
                rru[short(get["TableName"])] += read_units(item_size(item) if item else 0, transactional=True)
        elif operation in ("Query", "Scan"):
            items = parsed.get("Items")
            if items is None or any(k in params for k in ("FilterExpression", "ProjectionExpression", "AttributesToGet", "QueryFilter", "ScanFilter")) or params.get("Select") == "COUNT":
                items = self._evaluated(operation, params)
            consistent = bool(params.get("ConsistentRead")) and "IndexName" not in params
            rru[short(params["TableName"])] += read_units(sum(item_size(i) for i in items), consistent)
        with self._lock:
            usage.rru.update(rru)
            usage.wru.update(wru)
            usage.index_wru.update(index_wru)
            usage.items_written.update(written)
            usage.bytes_written.update(written_bytes)
            usage.by_function[(function, "rru")] += sum(rru.values())
            usage.by_function[(function, "wru")] += sum(wru.values()) + sum(index_wru.values())
            for kind, units in (("rru", rru), ("wru", wru), ("index_wru", index_wru)):
                for table, v in units.items():
                    usage.by_function_table[(function, table, kind)] += v

    def _evaluated(self, operation: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        """The items a query or scan page read, whatever its filter or projection kept: the same page asked
        again without them (the same start key and limit evaluate the same items)."""
        again = {k: v for k, v in params.items() if k not in ("FilterExpression", "ProjectionExpression", "AttributesToGet", "QueryFilter", "ScanFilter", "Select", "ConditionalOperator", "ReturnConsumedCapacity")}
        used = " ".join(str(again.get(k, "")) for k in ("KeyConditionExpression",))
        names = {k: v for k, v in (again.get("ExpressionAttributeNames") or {}).items() if k in used}
        values = {k: v for k, v in (again.get("ExpressionAttributeValues") or {}).items() if k in used}
        again.pop("ExpressionAttributeNames", None)
        again.pop("ExpressionAttributeValues", None)
        if names:
            again["ExpressionAttributeNames"] = names
        if values:
            again["ExpressionAttributeValues"] = values
        with self._suppressed():
            call = self._reader.query if operation == "Query" else self._reader.scan
            return call(**again).get("Items", [])

    # -- helpers --------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _suppressed(self) -> Iterator[None]:
        previous = getattr(self._local, "suppress", False)
        self._local.suppress = True
        try:
            yield
        finally:
            self._local.suppress = previous

    @contextlib.contextmanager
    def _overhead(self) -> Iterator[None]:
        """The meter's own work in an invocation's thread: taken out of the invocation's time."""
        wall, cpu = time.perf_counter(), time.thread_time()
        try:
            yield
        finally:
            totals = getattr(self._local, "overhead", None)
            if totals is not None:
                totals[0] += time.perf_counter() - wall
                totals[1] += time.thread_time() - cpu

    def _logged(self, text: str) -> bool:
        """Counts ``text`` if a function being counted wrote it (True), else leaves it (False)."""
        if not self.counting or getattr(self._local, "invocation", None) is None:
            return False
        data = text.encode("utf-8")
        lines = data.count(b"\n")
        metrics = _emf_metrics(text) if '"_aws"' in text else ()
        usage = self.usage
        with self._lock:
            usage.log_bytes += len(data)
            usage.log_lines += lines
            usage.metrics.update(metrics)
        return True


def _frozen(key: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(sorted((k, tuple(sorted(v.items()))) for k, v in key.items()))


def _length(body: Any) -> int:
    if isinstance(body, (bytes, bytearray)):
        return len(body)
    if isinstance(body, str):
        return len(body.encode("utf-8"))
    if hasattr(body, "seek") and hasattr(body, "tell"):
        here = body.tell()
        body.seek(0, 2)
        size = body.tell()
        body.seek(here)
        return size - here
    return 0


def _made_by_moto() -> bool:
    """Whether the client being made is made by moto itself (its Step Functions interpreter calling Lambda):
    the nearest caller outside boto3 and botocore decides (the app's handlers run nested in moto's frames)."""
    frame = sys._getframe(2)
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if not module.startswith(("boto3", "botocore", "bench.aws_meter")):
            return module.startswith("moto.")
        frame = frame.f_back
    return False


def _emf_metrics(text: str) -> list[tuple[str, str, str]]:
    import json

    found = []
    for line in text.splitlines():
        if not line.startswith("{") or '"_aws"' not in line:
            continue
        try:
            document = json.loads(line)
        except ValueError:
            continue
        for directive in document.get("_aws", {}).get("CloudWatchMetrics", []):
            dimensions = ",".join(sorted(f"{d}={document.get(d)}" for group in directive.get("Dimensions", []) for d in group))
            for metric in directive.get("Metrics", []):
                found.append((directive.get("Namespace", ""), metric.get("Name", ""), dimensions))
    return found
