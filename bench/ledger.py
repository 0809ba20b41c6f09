"""Ledger postings per second against the local stack, and the DynamoDB write units of a disbursement and of a repayment.

Starts the local stack (``local.stack.LocalStack``: moto's ThreadedMotoServer
on loopback with ``local.moto_atomicity`` installed, the declared tables, the
sample configuration), so the app's code talks to moto over HTTP through
pynamodb and botocore, as it talks to DynamoDB. Then, with a fixed seed:

- ``--loans`` synthetic loans (amounts 5,000 to 300,000; 7.2% to 18% a year;
  the four repayment methods; 6 to 36 months, a bullet 3 to 12; about 30%
  joint, the branch and PB_HUAXIA_JOINT; 2 branches, 2 partners; both
  prepayment policies of the sample products), all starting on 2026-01-15, are
  **booked** from ``--threads`` threads with ``loans.book`` (ONE
  TransactWriteItems: the loan, its disbursement posting, the account totals):
  the disbursement postings, timed. Then each is **activated** as
  ``usecases.disbursement`` does once the payment is PAID: ``loans.set_payment``
  (the payment SENT: a standard UpdateItem) and ``loans.save`` (ACTIVE, the
  payment PAID, the partner's LOAN_DISBURSED event: one TransactWriteItems, no
  posting), timed apart;
- ``--repayments`` rounds of **repayments** through the real use case,
  ``loan_servicing.repay`` (the loan read, the partner's number checked, the
  business date read, ``repayment.allocate``, and ONE TransactWriteItems with
  the loan, the repayment record, the posting and its account totals, and a
  LOAN_SETTLED event when it settles), from ``--threads`` threads. Round r runs
  on business date 2026-01-15 + r months (``config_repository.set_business_date``,
  not timed), a due date of every amortising loan: most pay that installment;
  about a quarter also prepay (round 2) part of the principal, a fifth settle
  in full in the last round, and a bullet loan settles in full in round 1 (it
  takes nothing less before maturity). What each pays is planned before the
  run with the domain alone (not timed), and checked against what the use
  case answers.

Prints disbursement postings/s, repayment postings/s, their ratio, the AWS
calls per posting and how busy moto's DynamoDB was.

Write units: every DynamoDB write the app's clients make is recorded
(``BaseClient._make_api_call`` wrapped, as ``tests/support/aws_calls.py``
does) with the thread's current operation (book, set_payment, activate,
repay: an installment, with or without a prepayment; settle: a repayment that
settles the loan, with its event and the index key changed). Each item written is sized by DynamoDB's rules: the UTF-8 length of
every attribute name plus its value's size (a string its UTF-8 length, a
number about digits / 2 + 1 bytes, a map or list 3 bytes plus its elements
plus 1 byte per element), rounded up to 1 KB. A put is sized from the item
sent. An update (of a loan, of an account total) is sized from the item as it
stands after the update: read back with a consistent GetItem at the end of
the phase that updated it (after the bookings, after the activations, after
each repayment round; not timed), so a loan updated twice in one phase is
sized once, by its later state. DynamoDB charges an update the larger of the
item's size before and after: before is the size last known (the put, or the
previous phase's read-back), which matters where the loan shrinks (a
settlement drops the later installments; a shorter term after a
prepayment). A transactional write costs 2 write units per KB, a
standard write 1. An item that projects into a global secondary index (both
are the loans table's by_branch_status for items with ``branch_status``, keys
only, and the ledger's by_branch_day for postings, all attributes) costs an
index write more at the standard rate: of the same size for the ledger's, of
its keys alone (1 unit) for the loans' and only when those keys change (the index is kept by
DynamoDB after the write, not inside the transaction: an assumption, stated
in the output); an update that changes the index key (DISBURSING -> ACTIVE ->
SETTLED) costs two, the old entry deleted and the new one put. Reads are not
counted. Prints per operation the items, bytes and units, per disbursement
(book + activation, and with set_payment as ``disburse`` does it) and per
repayment (installments, settlements, all), and what 1,000 loans cost at on-demand prices (``--usd-per-million``
write request units). The write shapes are checked too: no transaction
touches an item twice, and a posting updates one total per account and party
of its lines, no more.

Correctness after the run (exit 1 when it fails, never on time: the machine
may be shared): ``ledger.check`` passes for both branches; each trial
balance's debits equal its credits; each loan's loans receivable summed from
its postings equals its outstanding principal (``loans.get``) and the planned
one; every planned repayment was recorded with the planned outcome; one
posting per disbursement and per repayment.

What the rates are, honestly: moto is a single-process simulator, and the
local stack serialises all its DynamoDB calls with one lock
(``local.moto_atomicity``, which makes transactions atomic as DynamoDB's are),
so the postings run one at a time inside moto whatever the thread count. The
rates measure this code path and its client overhead (pynamodb, botocore,
HTTP on loopback) plus moto's work, not DynamoDB's. Moto's TransactWriteItems
deep-copies the whole table once per item of the transaction (its rollback
copy), which dominates: a repayment's transaction (6 to 11 items) costs more
than a booking's (4 or 5), and both slow down as the tables fill (loans,
postings, records), so the rates and their ratio depend on ``--loans`` and
``--repayments``. On DynamoDB the hot items are the account totals (sharded,
see ``persistence/ledger.py``); moto shows nothing of that. The write units,
in contrast, are computed from what was actually written, and hold for
DynamoDB within the assumptions above.

    python bench/ledger.py [--loans 60] [--repayments 3] [--threads 4] [--seed 20260115] [--usd-per-million 0.625]
"""
from __future__ import annotations

import argparse
import collections
import contextlib
import functools
import io
import json
import logging
import math
import os
import random
import re
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterator

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.report_kit import add_report_dir, image, md_table, pyplot, save_figure, write_section  # noqa: E402 - after the path
from chalicelib import resources  # noqa: E402 - after the path

START = date(2026, 1, 15)
BRANCHES = ("BR_DONGCHENG", "BR_XICHENG")
PARTNERS = ("P_DEMO", "P_QIANHAI")
JOINT_FUNDER = "PB_HUAXIA_JOINT"
RATES = tuple(Decimal(r) for r in ("0.0720", "0.0900", "0.1080", "0.1440", "0.1800"))
KB = 1024
OPERATIONS = ("book", "set_payment", "activate", "repay", "settle")


# -- what DynamoDB charges for an item ----------------------------------------------------------------


def number_size(text: str) -> int:
    """About (significant digits / 2) + 1 bytes; leading and trailing zeros do not count."""
    digits = "".join(str(d) for d in Decimal(text).as_tuple().digits).strip("0") or "0"
    return (len(digits) + 1) // 2 + 1 + (1 if text.startswith("-") else 0)


def value_size(value: dict[str, Any]) -> int:
    (kind, v), = value.items()
    if kind == "S":
        return len(v.encode("utf-8"))
    if kind == "N":
        return number_size(v)
    if kind == "B":
        return len(v)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode("utf-8")) for s in v)
    if kind == "NS":
        return sum(number_size(n) for n in v)
    if kind == "BS":
        return sum(len(b) for b in v)
    if kind == "M":
        return 3 + sum(len(k.encode("utf-8")) + value_size(e) + 1 for k, e in v.items())
    if kind == "L":
        return 3 + sum(value_size(e) + 1 for e in v)
    raise ValueError(f"unknown DynamoDB type {kind}")


def item_size(item: dict[str, Any]) -> int:
    return sum(len(name.encode("utf-8")) + value_size(v) for name, v in item.items())


def units(size: int) -> int:
    """Write units of one write of ``size`` bytes at 1 unit per KB (at least 1)."""
    return max(1, math.ceil(size / KB))


# -- what was written -----------------------------------------------------------------------------------


@dataclass
class Written:
    """One item written by one successful call."""

    label: str
    transactional: bool
    table: str  # the short name: loans, ledger
    table_name: str
    pk: str
    sk: str | None
    kind: str  # Put, Update, Delete
    index_writes: int
    size: int | None = None  # a put's from the item sent; an update's the larger of before and after
    before: int = 0  # an update's item size as last known before it (0: new, or not known)

    @property
    def category(self) -> str:
        if self.pk.startswith("LOAN#"):
            return "loan" if self.sk == "LOAN" else "repayment record"
        for prefix, name in (("EVENTS#", "event"), ("POSTING#", "posting"), ("BALANCE#", "account total"), ("QUOTA#", "quota")):
            if self.pk.startswith(prefix):
                return name
        return self.pk.split("#", 1)[0].lower()

    @property
    def table_units(self) -> int:
        return units(self.size or 0) * (2 if self.transactional else 1)

    @property
    def index_units(self) -> int:
        if self.table in KEYS_ONLY:  # an entry of keys alone: well under 1 KB
            return self.index_writes
        return units(self.size or 0) * self.index_writes


INDEXED = {"loans": "branch_status", "ledger": "branch_day"}  # the attribute that puts an item in the table's GSI
KEYS_ONLY = {t.id for t in resources.TABLES for i in t.indexes if i.projection == "KEYS_ONLY"}  # the index holds keys only
SET_CLAUSE = re.compile(r"(#\w+)\s*=\s*(:\w+)")


class Meter:
    """Every AWS call of the app's clients, by the thread's operation; every item written; moto's busy time."""

    def __init__(self) -> None:
        self.calls: dict[str | None, collections.Counter[str]] = collections.defaultdict(collections.Counter)
        self.failed: collections.Counter[tuple[str | None, str]] = collections.Counter()
        self.ops: collections.Counter[str] = collections.Counter()
        self.written: list[Written] = []
        self.anomalies: list[str] = []
        self.moto_seconds = 0.0
        self.tables: dict[str, str] = {}  # full table name -> short name
        self._index_key: dict[tuple[str, str, str | None], str] = {}  # an item's GSI key as last written
        self._last_size: dict[tuple[str, str, str | None], int] = {}  # an item's size as last known
        self._lock = threading.Lock()
        self._local = threading.local()

    # installing
    def install(self) -> None:
        """Before the stack starts: ``moto_atomicity`` then wraps the backend methods timed here in
        its lock (waiting for the lock is not counted)."""
        from botocore.client import BaseClient
        from moto.dynamodb.models import DynamoDBBackend

        from local import moto_atomicity

        original = BaseClient._make_api_call
        meter = self

        def recorded(client: Any, operation: str, params: dict[str, Any]) -> Any:
            label = getattr(meter._local, "op", None)
            service = client.meta.service_model.service_name
            try:
                answer = original(client, operation, params)
            except Exception:
                with meter._lock:
                    meter.calls[label][f"{service}.{operation}"] += 1
                    meter.failed[(label, operation)] += 1
                raise
            with meter._lock:
                meter.calls[label][f"{service}.{operation}"] += 1
                if service == "dynamodb" and label is not None:
                    meter._record(label, operation, params)
            return answer

        BaseClient._make_api_call = recorded  # type: ignore[method-assign]
        for name in moto_atomicity._MUTATING + moto_atomicity._READING:
            setattr(DynamoDBBackend, name, self._timed(getattr(DynamoDBBackend, name)))

    def _timed(self, method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def timed(*args: Any, **kwargs: Any) -> Any:
            depth = getattr(self._local, "depth", 0)
            self._local.depth = depth + 1
            started = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                self._local.depth = depth
                if depth == 0:  # moto calls its own get_item/put_item inside a transaction
                    with self._lock:
                        self.moto_seconds += time.perf_counter() - started

        return timed

    @contextlib.contextmanager
    def op(self, label: str) -> Iterator[None]:
        """The calls this thread makes meanwhile are ``label``'s."""
        with self._lock:
            self.ops[label] += 1
        self._local.op = label
        try:
            yield
        finally:
            self._local.op = None

    # recording (under the lock)
    def _record(self, label: str, operation: str, params: dict[str, Any]) -> None:
        if operation == "TransactWriteItems":
            parts = [(kind, op) for entry in params["TransactItems"] for kind, op in entry.items()]
            transactional = True
        elif operation in ("PutItem", "UpdateItem", "DeleteItem"):
            parts = [({"PutItem": "Put", "UpdateItem": "Update", "DeleteItem": "Delete"}[operation], params)]
            transactional = False
        elif operation in ("BatchWriteItem",):
            self.anomalies.append(f"{label}: a BatchWriteItem (not sized here)")
            return
        else:
            return
        keys = []
        for kind, op in parts:
            if kind == "ConditionCheck":
                continue
            item = op["Item"] if kind == "Put" else op["Key"]
            table_name = op["TableName"]
            table = self.tables.get(table_name, table_name)
            key = (table_name, item["pk"]["S"], item.get("sk", {}).get("S"))
            keys.append(key)
            written = Written(label, transactional, table, table_name, key[1], key[2], kind, self._index_writes(table, key, kind, op))
            if kind == "Put":
                written.size = self._last_size[key] = item_size(op["Item"])
            else:
                written.before = self._last_size.get(key, 0)
            self.written.append(written)
        if len(set(keys)) != len(keys):
            self.anomalies.append(f"{label}: one {operation} touches an item twice: {sorted(k for k in keys if keys.count(k) > 1)}")
        if transactional:
            self._check_totals(label, parts)

    def _index_writes(self, table: str, key: tuple[str, str, str | None], kind: str, op: dict[str, Any]) -> int:
        """0, 1 (an entry put or changed) or 2 (the index key changed: the old entry deleted, the new one put)."""
        attribute = INDEXED.get(table)
        if attribute is None:
            return 0
        old = self._index_key.get(key)
        if kind == "Put":
            new = op["Item"].get(attribute, {}).get("S")
        elif kind == "Update":
            names = {placeholder: name for placeholder, name in (op.get("ExpressionAttributeNames") or {}).items()}
            values = op.get("ExpressionAttributeValues") or {}
            sets = op["UpdateExpression"].split("SET", 1)[1] if "SET" in op["UpdateExpression"] else ""
            assigned = {names.get(n, n): values.get(v, {}).get("S") for n, v in SET_CLAUSE.findall(sets)}
            new = assigned.get(attribute, old)
        else:  # a delete takes its entry out
            self._index_key.pop(key, None)
            return 1 if old is not None else 0
        if new is not None:
            self._index_key[key] = new
        if new is None:
            return 0
        if table in KEYS_ONLY and old == new:
            return 0  # a keys-only index is written only when the item's index keys change
        return 2 if old is not None and old != new else 1

    def _check_totals(self, label: str, parts: list[tuple[str, dict[str, Any]]]) -> None:
        """A posting's transaction updates one total per account and party of its lines, no more."""
        for kind, op in parts:
            if kind == "Put" and op["Item"]["pk"]["S"].startswith("POSTING#"):
                lines = json.loads(op["Item"]["lines"]["S"])
                needed = {(line["account"], line["party"]) for line in lines}
                branch = f"BALANCE#{op['Item']['branch_code']['S']}"
                totals = [o for k, o in parts if k == "Update" and o["Key"]["pk"]["S"] == branch]
                if len(totals) != len(needed):
                    self.anomalies.append(f"{label}: posting {op['Item']['posting_id']['S']} has {len(needed)} accounts but updates {len(totals)} totals")

    # sizing updates
    def size_updates(self, client: Any) -> None:
        """Read back (consistently, not timed, not counted) every item updated since the last call;
        an update is charged the larger of the item's size before (as last known) and after."""
        pending = [w for w in self.written if w.size is None and w.kind == "Update"]
        sizes: dict[tuple[str, str, str | None], int] = {}
        for w in pending:
            key = (w.table_name, w.pk, w.sk)
            if key not in sizes:
                wanted = {"pk": {"S": w.pk}, **({"sk": {"S": w.sk}} if w.sk is not None else {})}
                found = client.get_item(TableName=w.table_name, Key=wanted, ConsistentRead=True).get("Item")
                sizes[key] = item_size(found) if found else 0
            w.size = max(w.before, sizes[key])
        with self._lock:
            self._last_size.update(sizes)


# -- the loans and what they will pay -------------------------------------------------------------------


@dataclass
class Repayment:
    number: str  # the partner's repayment number
    amount: Decimal
    outstanding_after: Decimal
    settles: bool


@dataclass
class Case:
    loan: Any  # the loan as booked (DISBURSING)
    plan: dict[int, Repayment] = field(default_factory=dict)  # round -> the repayment
    final: Any = None  # the loan after every planned repayment (the domain alone)


def synthesise(rng: random.Random, index: int) -> Any:
    from chalicelib.domain.loan import PrepaymentMode, PrepaymentPolicy, book, loan_id_for
    from chalicelib.domain.schedule import RepaymentMethod, build_schedule

    branch = BRANCHES[index % len(BRANCHES)]
    method = rng.choices(list(RepaymentMethod), weights=(5, 3, 1, 1))[0]
    term = rng.choice((3, 6, 12)) if method is RepaymentMethod.BULLET else rng.choice((6, 12, 24, 36))
    amount = Decimal(rng.randrange(5_000_00, 300_000_00, 100)).scaleb(-2)
    if rng.random() < 0.3:
        lead = (amount * Decimal("0.7")).quantize(Decimal("0.01"))
        funders = [(branch, lead), (JOINT_FUNDER, amount - lead)]
    else:
        funders = [(branch, amount)]
    prepayment = rng.choice((
        PrepaymentPolicy(True, PrepaymentMode.LOWER_INSTALLMENT, Decimal("0.01")),  # CONSUMER_STD
        PrepaymentPolicy(True, PrepaymentMode.SHORTEN_TERM, Decimal("0")),  # CONSUMER_LINE
    ))
    application_id = f"AP20260115-{index:06d}-{rng.getrandbits(40):010x}"
    return book(
        loan_id=loan_id_for(application_id), application_id=application_id, branch_code=branch,
        partner_id=PARTNERS[rng.random() < 0.5], product_code="CONSUMER_STD", customer_id=f"C{index:08d}",
        schedule=build_schedule(amount, rng.choice(RATES), term, method, START), funders=funders, prepayment=prepayment,
    )


def plan(rng: random.Random, loan: Any, rounds: int) -> Case:
    """What the loan pays in each round, worked out with the domain alone (no I/O)."""
    from chalicelib.domain.loan import LoanStatus
    from chalicelib.domain.money import ZERO, to_fen
    from chalicelib.domain.repayment import RepaymentRefused, allocate
    from chalicelib.domain.schedule import RepaymentMethod, add_months

    case = Case(loan)
    shadow = replace(loan, status=LoanStatus.ACTIVE, version=loan.version + 1)
    settle_in = rounds if rng.random() < 0.2 else None
    prepay_in = 2 if rounds >= 3 and rng.random() < 0.25 else None
    for r in range(1, rounds + 1):
        if shadow.status is not LoanStatus.ACTIVE:
            break
        day = add_months(START, r)
        due = sum((i.unpaid for i in shadow.due(day)), ZERO)
        amount = due
        if (shadow.method is RepaymentMethod.BULLET and due == 0) or r == settle_in:
            amount = shadow.settlement(day).total  # a bullet takes nothing less before maturity
        elif r == prepay_in and (current := shadow.current(day)) is not None:
            later = sum((i.unpaid_principal for i in shadow.installments if i.due_date > current.due_date), ZERO)
            extra = to_fen(later * Decimal("0.2"))
            if extra > 0:
                amount = due + current.unpaid_interest + current.unpaid_principal + extra
        if amount <= 0:
            continue
        try:
            allocation = allocate(shadow, amount, day)
        except RepaymentRefused:
            amount = due  # a prepayment the loan does not take: the installment alone
            allocation = allocate(shadow, amount, day)
        shadow = allocation.loan
        case.plan[r] = Repayment(f"RP-{loan.loan_id[-10:]}-{r}", amount, shadow.outstanding_principal, allocation.settled)
    case.final = shadow
    return case


# -- the run --------------------------------------------------------------------------------------------


def disbursement_event(loan: Any, reference: str) -> dict[str, Any]:
    """The partner's LOAN_DISBURSED event, as ``usecases.disbursement._succeed`` writes it."""
    return {
        "event_id": f"LOAN_DISBURSED#{loan.application_id}", "type": "LOAN_DISBURSED", "application_id": loan.application_id,
        "partner_application_no": f"PA-{loan.application_id[-10:]}", "loan_id": loan.loan_id, "amount": str(loan.amount),
        "disbursed_on": loan.start_date.isoformat(), "payment_reference": reference,
    }


def timed_map(pool: ThreadPoolExecutor, work: Callable[[Any], Any], items: list[Any]) -> tuple[list[Any], float]:
    started = time.perf_counter()
    results = list(pool.map(work, items))
    return results, time.perf_counter() - started


def run(args: argparse.Namespace, meter: Meter) -> dict[str, Any]:
    import boto3

    from chalicelib import resources, settings
    from chalicelib.domain import accounting
    from chalicelib.domain.ledger import Account, LedgerViolation
    from chalicelib.domain.loan import LoanStatus
    from chalicelib.domain.money import ZERO, format_amount
    from chalicelib.domain.schedule import add_months
    from chalicelib.persistence import config_repository, ledger, loans
    from chalicelib.usecases import loan_servicing
    from chalicelib.usecases.errors import Refused
    from local.stack import REGION

    meter.tables = {settings.table_name(resources.LOANS_TABLE): "loans", settings.table_name(resources.LEDGER_TABLE): "ledger"}
    reader = boto3.client("dynamodb", region_name=REGION)  # for sizing, unlabelled: neither timed nor counted
    partners = {pid: config_repository.partner(pid) for pid in PARTNERS}
    rng = random.Random(args.seed)
    cases = [plan(rng, synthesise(rng, i), args.repayments) for i in range(args.loans)]
    problems: list[str] = []
    now = datetime.now(timezone.utc)

    def book(case: Case) -> None:
        loan = case.loan
        with meter.op("book"):
            loans.book(loan, accounting.disbursement(loan, loan.start_date), now, {"payment_id": f"PAY-{loan.loan_id}", "state": "NEW", "queries": 0}, None)

    def activate(case: Case) -> None:
        loan = case.loan
        payment = {"payment_id": f"PAY-{loan.loan_id}", "state": "SENT", "queries": 0}
        with meter.op("set_payment"):
            if not loans.set_payment(loan.loan_id, payment, now, expected_state="NEW"):
                raise RuntimeError(f"{loan.loan_id}: the payment was not NEW")
        reference = f"GW{loan.loan_id[-12:]}"
        paid = {**payment, "state": "PAID", "reference": reference, "paid_at": now.isoformat()}
        with meter.op("activate"):
            loans.save(loan, replace(loan, status=LoanStatus.ACTIVE, version=loan.version + 1), now, payment=paid, event=disbursement_event(loan, reference))

    def repay(job: tuple[Case, Repayment]) -> str | None:
        case, planned = job
        paid_at = (datetime.now(timezone.utc) - timedelta(minutes=1)).isoformat()
        payload = {"partner_repayment_no": planned.number, "amount": format_amount(planned.amount), "paid_at": paid_at}
        try:
            with meter.op("settle" if planned.settles else "repay"):
                answer, recorded = loan_servicing.repay(partners[case.loan.partner_id], case.loan.loan_id, payload)
        except Refused as refused:
            return f"{case.loan.loan_id} {planned.number}: refused {refused}"
        if not recorded:
            return f"{case.loan.loan_id} {planned.number}: answered as a replay"
        if answer["outstanding_principal"] != format_amount(planned.outstanding_after) or answer["settled"] != planned.settles:
            return (f"{case.loan.loan_id} {planned.number}: outstanding {answer['outstanding_principal']} settled {answer['settled']}, "
                    f"planned {format_amount(planned.outstanding_after)} {planned.settles}")
        return None

    with ThreadPoolExecutor(args.threads) as pool:
        # Warm (not timed): every thread's connections, with reads that change nothing.
        list(pool.map(lambda _: (loans.record("LNWARM"), ledger.totals("WARM")), range(args.threads * 2)))
        meter.moto_seconds = 0.0
        _, book_seconds = timed_map(pool, book, cases)
        book_moto = meter.moto_seconds
        meter.size_updates(reader)
        meter.moto_seconds = 0.0
        _, activate_seconds = timed_map(pool, activate, cases)
        activate_moto = meter.moto_seconds
        meter.size_updates(reader)
        repay_seconds, repay_moto, repayments = 0.0, 0.0, 0
        for r in range(1, args.repayments + 1):
            jobs = [(case, case.plan[r]) for case in cases if r in case.plan]
            if not jobs:
                continue
            config_repository.set_business_date(add_months(START, r))
            meter.moto_seconds = 0.0
            answers, seconds = timed_map(pool, repay, jobs)
            repay_seconds += seconds
            repay_moto += meter.moto_seconds
            repayments += len(jobs)
            problems += [a for a in answers if a]
            meter.size_updates(reader)

    # Correctness (not timed).
    receivable: dict[str, Decimal] = collections.defaultdict(lambda: ZERO)
    kinds: collections.Counter[str] = collections.Counter()
    trial = {}
    for branch in BRANCHES:
        try:
            ledger.check(branch)
        except LedgerViolation as exc:
            problems.append(f"ledger.check({branch}): {exc}")
        rows = ledger.trial_balance(branch)
        debits, credits = sum((row["debits"] for row in rows), ZERO), sum((row["credits"] for row in rows), ZERO)
        trial[branch] = (debits, credits)
        if debits != credits:
            problems.append(f"{branch}: trial balance debits {debits} != credits {credits}")
        for posting in ledger.all_postings(branch):
            kinds[posting.kind] += 1
            for line in posting.lines:
                if line.account is Account.LOANS_RECEIVABLE:
                    receivable[posting.loan_id] += line.signed
    for case in cases:
        stored = loans.get(case.loan.loan_id)
        if stored is None:
            problems.append(f"{case.loan.loan_id}: not stored")
            continue
        if not (receivable[case.loan.loan_id] == stored.outstanding_principal == case.final.outstanding_principal):
            problems.append(f"{case.loan.loan_id}: loans receivable from the postings {receivable[case.loan.loan_id]}, outstanding "
                            f"{stored.outstanding_principal}, planned {case.final.outstanding_principal}")
        if stored.status is not case.final.status or stored.version != case.final.version:
            problems.append(f"{case.loan.loan_id}: {stored.status.value} v{stored.version}, planned {case.final.status.value} v{case.final.version}")
    if kinds["DISBURSEMENT"] != len(cases) or kinds["REPAYMENT"] != repayments or set(kinds) - {"DISBURSEMENT", "REPAYMENT"}:
        problems.append(f"postings {dict(kinds)}, expected {len(cases)} disbursements and {repayments} repayments")
    return {
        "cases": cases,
        "repayments": repayments,
        "settled": sum(1 for c in cases if c.final.status is LoanStatus.SETTLED),
        "book_seconds": book_seconds,
        "activate_seconds": activate_seconds,
        "repay_seconds": repay_seconds,
        "moto_share": (book_moto + activate_moto + repay_moto) / (book_seconds + activate_seconds + repay_seconds),
        "trial": trial,
        "problems": problems,
    }


# -- the report -----------------------------------------------------------------------------------------


def per_op(meter: Meter, label: str) -> dict[str, Any]:
    n = meter.ops[label] or 1
    rows = [w for w in meter.written if w.label == label]
    by_category: dict[str, list[Written]] = collections.defaultdict(list)
    for w in rows:
        by_category[w.category].append(w)
    return {
        "count": meter.ops[label],
        "items": len(rows) / n,
        "bytes": sum(w.size or 0 for w in rows) / n,
        "table": sum(w.table_units for w in rows) / n,
        "index": sum(w.index_units for w in rows) / n,
        "categories": {c: (len(ws) / n, sum(w.size or 0 for w in ws) / len(ws), sum(w.table_units + w.index_units for w in ws) / n) for c, ws in by_category.items()},
        "transactional": all(w.transactional for w in rows),
    }


def print_report(args: argparse.Namespace, result: dict[str, Any], meter: Meter) -> None:
    cases, repayments = result["cases"], result["repayments"]
    n = len(cases)
    book_rate = n / result["book_seconds"]
    repay_rate = repayments / result["repay_seconds"] if repayments else 0.0
    joint = sum(1 for c in cases if len(c.loan.funders) > 1)
    print(f"ledger, local stack (moto over HTTP on loopback, its DynamoDB serialised): {n} loans ({joint} joint, {len(BRANCHES)} branches) "
          f"from {args.threads} threads; {repayments} repayments in {args.repayments} rounds ({result['settled']} loans settled)")
    print(f"  disbursement postings (loans.book): {result['book_seconds']:.3f} s, {book_rate:,.1f} postings/s; "
          f"activations (set_payment + save, no posting): {result['activate_seconds']:.3f} s, {n / result['activate_seconds']:,.1f}/s")
    print(f"  repayment postings (loan_servicing.repay): {result['repay_seconds']:.3f} s, {repay_rate:,.1f} postings/s; "
          f"ratio repayment / disbursement: {repay_rate / book_rate:.2f}")
    for labels, what in ((("book",), "disbursement posting"), (("set_payment", "activate"), "activation"), (("repay", "settle"), "repayment posting")):
        calls = collections.Counter()
        for label in labels:
            calls.update(meter.calls[label])
        ops = max(meter.ops[label] for label in labels) if labels[0] == "set_payment" else sum(meter.ops[label] for label in labels)
        ops = ops or 1
        text = ", ".join(f"{name.split('.', 1)[1]} {count / ops:.2f}" for name, count in sorted(calls.items()))
        print(f"    AWS calls per {what}: {text}")
    failed = sum(meter.failed.values())
    print(f"    moto's DynamoDB busy {result['moto_share']:.0%} of the timed runs; failed calls (retried or refused): {failed}")

    stats = {label: per_op(meter, label) for label in OPERATIONS}
    print("  DynamoDB write units, from the items written (sizes by DynamoDB's rules, each rounded up to 1 KB per write; "
          "transactional 2 WCU/KB, standard 1 WCU/KB; an index write 1 WCU/KB, 2 writes when the index key changes; an update "
          "sized by the larger of the item before and after, read back):")
    print(f"    {'':<40}{'count':>6}{'items':>7}{'bytes':>8}{'table WCU':>11}{'index WCU':>11}{'WCU':>7}")

    def row(name: str, count: int | str, s: dict[str, float]) -> None:
        print(f"    {name:<40}{count:>6}{s['items']:>7.2f}{s['bytes']:>8,.0f}{s['table']:>11.2f}{s['index']:>11.2f}{s['table'] + s['index']:>7.2f}")

    def total(*labels: str) -> dict[str, float]:
        return {k: sum(stats[label][k] for label in labels) for k in ("items", "bytes", "table", "index")}

    row("book (TransactWriteItems)", stats["book"]["count"], stats["book"])
    row("set_payment SENT (UpdateItem)", stats["set_payment"]["count"], stats["set_payment"])
    row("activate ACTIVE (TransactWriteItems)", stats["activate"]["count"], stats["activate"])
    disbursement = total("book", "activate")
    row("= per disbursement (book + activate)", "", disbursement)
    full = total("book", "set_payment", "activate")
    row("  with set_payment, as disburse()", "", full)
    row("repay an installment (TransactWriteItems)", stats["repay"]["count"], stats["repay"])
    row("repay and settle (TransactWriteItems)", stats["settle"]["count"], stats["settle"])
    every = {k: (stats["repay"][k] * stats["repay"]["count"] + stats["settle"][k] * stats["settle"]["count"]) / max(1, stats["repay"]["count"] + stats["settle"]["count"])
             for k in ("items", "bytes", "table", "index")}
    row("= per repayment (all of them)", stats["repay"]["count"] + stats["settle"]["count"], every)
    for label in OPERATIONS:
        parts = "; ".join(f"{c} {k:.2f} x {b:,.0f} B = {u:.2f} WCU" for c, (k, b, u) in sorted(stats[label]["categories"].items()))
        print(f"      {label}: {parts}")
    price = args.usd_per_million
    once = 1000 * (full["table"] + full["index"])
    monthly = 1000 * (stats["repay"]["table"] + stats["repay"]["index"])
    print(f"    cost per 1,000 loans at on-demand USD {price} per million write request units (an assumption: us-east-1 since Nov 2024, "
          "USD 1.25 before; transactional writes already counted at 2 units per KB):")
    print(f"      disbursing them (with set_payment): {once:,.0f} WRU = USD {once * price / 1e6:.4f} once; "
          f"one installment repaid by each a month: {monthly:,.0f} WRU = USD {monthly * price / 1e6:.4f} a month")
    print("      writes only: no reads, storage, streams or backups, nor the applications table; no day-end accruals (not yet posted)")
    if meter.anomalies:
        for anomaly in sorted(set(meter.anomalies)):
            print(f"    write shape: {anomaly}")
    else:
        print("    write shape: ok (no transaction touches an item twice; each posting updates one total per account and party of its lines)")


def report(args: argparse.Namespace, result: dict[str, Any], meter: Meter) -> None:
    """The section of bench/REPORT.md: the posting rates, the AWS calls and the write units of each
    operation (what compares across machines), the cost of 1,000 loans, correctness."""
    cases, repayments = result["cases"], result["repayments"]
    n = len(cases)
    book_rate = n / result["book_seconds"]
    repay_rate = repayments / result["repay_seconds"] if repayments else 0.0
    rates = [
        ("disbursement postings (`loans.book`)", f"{result['book_seconds']:.3f}", f"{book_rate:,.1f}/s"),
        ("activations (set_payment + save, no posting)", f"{result['activate_seconds']:.3f}", f"{n / result['activate_seconds']:,.1f}/s"),
        ("repayment postings (`loan_servicing.repay`)", f"{result['repay_seconds']:.3f}", f"{repay_rate:,.1f}/s"),
        ("ratio repayment / disbursement", "", f"{repay_rate / book_rate:.2f}"),
        ("moto's DynamoDB busy", "", f"{result['moto_share']:.0%}"),
        ("failed calls (retried or refused)", "", f"{sum(meter.failed.values())}"),
    ]
    calls = []
    for labels, what in ((("book",), "disbursement posting"), (("set_payment", "activate"), "activation"), (("repay", "settle"), "repayment posting")):
        counted: collections.Counter[str] = collections.Counter()
        for label in labels:
            counted.update(meter.calls[label])
        ops = (max(meter.ops[label] for label in labels) if labels[0] == "set_payment" else sum(meter.ops[label] for label in labels)) or 1
        calls.append((what, ", ".join(f"{name.split('.', 1)[1]} {count / ops:.2f}" for name, count in sorted(counted.items()))))
    stats = {label: per_op(meter, label) for label in OPERATIONS}

    def total(*labels: str) -> dict[str, float]:
        return {k: sum(stats[label][k] for label in labels) for k in ("items", "bytes", "table", "index")}

    every = {k: (stats["repay"][k] * stats["repay"]["count"] + stats["settle"][k] * stats["settle"]["count"]) / max(1, stats["repay"]["count"] + stats["settle"]["count"])
             for k in ("items", "bytes", "table", "index")}
    full = total("book", "set_payment", "activate")
    shown = [
        ("book (TransactWriteItems)", stats["book"]["count"], stats["book"]),
        ("set_payment SENT (UpdateItem)", stats["set_payment"]["count"], stats["set_payment"]),
        ("activate ACTIVE (TransactWriteItems)", stats["activate"]["count"], stats["activate"]),
        ("**= per disbursement** (book + activate)", "", total("book", "activate")),
        ("with set_payment, as disburse()", "", full),
        ("repay an installment (TransactWriteItems)", stats["repay"]["count"], stats["repay"]),
        ("repay and settle (TransactWriteItems)", stats["settle"]["count"], stats["settle"]),
        ("**= per repayment** (all of them)", stats["repay"]["count"] + stats["settle"]["count"], every),
    ]
    wcu = [(name, count, f"{v['items']:.2f}", f"{v['bytes']:,.0f}", f"{v['table']:.2f}", f"{v['index']:.2f}", f"{v['table'] + v['index']:.2f}")
           for name, count, v in shown]
    categories = [(label, category, f"{k:.2f}", f"{b:,.0f}", f"{u:.2f}")
                  for label in OPERATIONS for category, (k, b, u) in sorted(stats[label]["categories"].items())]
    price = args.usd_per_million
    once = 1000 * (full["table"] + full["index"])
    monthly = 1000 * (stats["repay"]["table"] + stats["repay"]["index"])
    trial = ", ".join(f"{b} {d:,.2f} = {c:,.2f}" for b, (d, c) in result["trial"].items())
    checks = [
        ("write shape", "; ".join(sorted(set(meter.anomalies))) if meter.anomalies else
         "ok (no transaction touches an item twice; each posting updates one total per account and party of its lines)"),
        ("correctness", "FAILED: " + "; ".join(result["problems"][:10]) if result["problems"] else
         f"ok (ledger.check passes; trial balance debits = credits: {trial}; each loan's receivable from its postings = its outstanding principal)"),
    ]

    plt = pyplot()
    figure, axes = plt.subplots(figsize=(8, 3.8))
    names = [name.replace("**", "") for name, _, _ in shown]
    positions = list(range(len(names)))[::-1]
    axes.barh(positions, [v["table"] for _, _, v in shown], color="#4c72b0", label="table WCU")
    axes.barh(positions, [v["index"] for _, _, v in shown], left=[v["table"] for _, _, v in shown], color="#dd8452", label="index WCU")
    for position, (_, _, v) in zip(positions, shown):
        axes.annotate(f" {v['table'] + v['index']:.1f}", (v["table"] + v["index"], position), va="center", fontsize=9)
    axes.set_yticks(positions, names, fontsize=8)
    axes.set_xlabel("DynamoDB write capacity units per operation")
    axes.set_title("ledger: write units, from the items written")
    axes.legend(fontsize=8, loc="lower right")
    axes.margins(x=0.12)
    plot = save_figure(figure, args.report_dir, "ledger", "write-units")
    write_section(args.report_dir, "ledger", "\n".join([
        "## Ledger",
        "",
        f"{n} synthetic loans ({sum(1 for c in cases if len(c.loan.funders) > 1)} joint) booked, activated and repaid ({repayments} repayments in "
        f"{args.repayments} rounds, {result['settled']} settled) from {args.threads} threads against the local stack (moto over HTTP, its DynamoDB "
        "serialised). The write units, computed from the items actually written by DynamoDB's sizing rules, and the AWS calls compare across "
        "machines (and hold for DynamoDB within the stated assumptions); the rates are this machine's and moto's, not DynamoDB's.",
        "",
        md_table(["what", "seconds", "rate"], rates),
        md_table(["AWS calls per", "calls"], calls, "ll"),
        md_table(["write units (transactional 2 WCU/KB, standard 1; index 1 WCU/KB)", "count", "items", "bytes", "table WCU", "index WCU", "WCU"], wcu),
        image(plot, "write units per operation"),
        md_table(["operation", "item written", "items", "bytes each", "WCU"], categories, "llrrr"),
        md_table([f"per 1,000 loans, at USD {price} per million write request units (an assumption; writes only)", "WRU", "USD"], [
            ("disbursing them (with set_payment), once", f"{once:,.0f}", f"{once * price / 1e6:.4f}"),
            ("one installment repaid by each, a month", f"{monthly:,.0f}", f"{monthly * price / 1e6:.4f}"),
        ]),
        md_table(["check", "result"], checks, "ll"),
    ]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=60, help="loans booked, activated and repaid")
    parser.add_argument("--repayments", type=int, default=3, help="repayment rounds (a month apart; settled loans stop)")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seed", type=int, default=20260115)
    parser.add_argument("--usd-per-million", type=float, default=0.625, help="on-demand USD per million write request units")
    add_report_dir(parser)
    args = parser.parse_args()
    if args.loans < 1 or args.repayments < 0 or args.threads < 1:
        parser.error("--loans and --threads must be at least 1, --repayments at least 0")

    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    for noisy in ("werkzeug", "botocore", "urllib3", "pynamodb"):  # as local/serve.py
        logging.getLogger(noisy).setLevel(logging.WARNING)
    meter = Meter()
    meter.install()
    from local.stack import LocalStack, free_port

    stack = LocalStack(api_port=free_port(), business_date=START, watch_executions=False).start()  # the API is not used
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # the use cases' metrics flush as EMF lines every 100 values
            result = run(args, meter)
    finally:
        stack.stop()

    print_report(args, result, meter)
    if args.report_dir is not None:
        report(args, result, meter)
    if result["problems"]:
        shown = result["problems"][:10]
        more = len(result["problems"]) - len(shown)
        print(f"  correctness: FAILED: {'; '.join(shown)}" + (f" (and {more} more)" if more else ""))
        return 1
    trial = ", ".join(f"{b} {d:,.2f} = {c:,.2f}" for b, (d, c) in result["trial"].items())
    print(f"  correctness: ok (ledger.check passes for {', '.join(BRANCHES)}; trial balance debits = credits: {trial}; each loan's "
          f"loans receivable from its postings = its outstanding principal = the planned one; {len(result['cases'])} disbursement and "
          f"{result['repayments']} repayment postings, each repayment as planned)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
