"""The day end (日终): closing business day T and opening T+1.

The day-end state machine runs, for business day T:

1. ``CloseLoans``: the loans in ``DAY_END_SEGMENTS`` parallel segments (a
   Distributed Map over DynamoDB parallel-scan segments), each closed in
   chunks of at most one Lambda call's time budget, so the work of one
   Lambda stays small however many loans there are. For each ACTIVE loan
   (and each loan settled on T, whose collection case closes):
   - the day's warnings (first overdue, thresholds, class downgrade, a
     customer with several overdue loans) and its collection case (opened,
     escalated or closed) are written first, each by a deterministic id;
   - then, in ONE transaction, the loan's accrual of T (interest and penalty,
     ``Loan.accrual``) with its posting, its days past due and its five-tier
     class (never better while overdue), ``accrued_through`` = T.
   A loan already accrued through T is skipped: a day end that stopped half
   way is run again and does nothing twice. Each chunk also writes, per
   branch, a part of the credit-bureau file: its loans' records of T.
2. ``CreditReports``: each branch's credit-bureau file of T assembled from the
   run's parts, sealed, in S3.
3. ``Reconcile``: each partner's file of T-1 (T+1 reconciliation), if it came
   (a file that comes later is reconciled on arrival, by its S3 event).
4. ``AdvanceBusinessDate``: T+1 opens.
"""
from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from chalicelib import resources, settings
from chalicelib.persistence import config_repository

SEGMENTS = "DAY_END_SEGMENTS"


def execution_name(business_date: date, run: int = 1) -> str:
    """One day-end execution per business date and run: a re-fired schedule cannot start a second."""
    base = f"day-end-{business_date.isoformat()}"
    return base if run == 1 else f"{base}-run{run}"


ENDED_BADLY = {"FAILED", "TIMED_OUT", "ABORTED"}
MAX_RUNS = 20


def start(sfn_client: Any) -> dict[str, Any]:
    """Start the day end of the current business date, or say which run of it is going on.

    The execution is named after the day, so a schedule that fires twice never
    runs two day ends: Step Functions answers the running execution for the
    same name and input, and ``ExecutionAlreadyExists`` once it has ended.
    A run that ended badly (failed, timed out, aborted) is followed by the
    next (``day-end-<T>-run2``, ...): every step is safe to run again, and
    a new run writes its credit-bureau parts under its own name.
    """
    day = config_repository.business_date()
    machine_arn = settings.env(resources.DAY_END_MACHINE.env)
    payload = json.dumps(day_end_input(day))
    for run in range(1, MAX_RUNS + 1):
        name = execution_name(day, run)
        try:
            arn = sfn_client.start_execution(stateMachineArn=machine_arn, name=name, input=payload)["executionArn"]
        except sfn_client.exceptions.ExecutionAlreadyExists:
            arn = machine_arn.replace(":stateMachine:", ":execution:") + f":{name}"
            if sfn_client.describe_execution(executionArn=arn)["status"] in ENDED_BADLY:
                continue
        return {"business_date": day.isoformat(), "execution_arn": arn, "run": run}
    raise RuntimeError(f"the day end of {day.isoformat()} has ended badly {MAX_RUNS} times; an operator must look")


def day_end_input(day: date) -> dict[str, Any]:
    """The execution's input: the day, and one item per segment for the Distributed Map."""
    total = int(settings.env(SEGMENTS, "8"))
    if not 1 <= total <= 1000:
        raise settings.ConfigurationError(f"{SEGMENTS} must be 1 to 1000")
    return {
        "business_date": day.isoformat(),
        "reconcile_date": (day - timedelta(days=1)).isoformat(),  # T+1: the partners' files of the day before
        "segments": [{"segment": i, "total": total} for i in range(total)],
        "branches": [b.branch_code for b in config_repository.branches()],
        "partners": list(config_repository.partner_ids()),
    }


def close_loans(day: date, segment: int, total: int, run: str, chunk: dict[str, Any], seconds_left: Any = None) -> dict[str, Any]:
    """Day-end step: a chunk of a segment of the loans closed for ``day`` (see the module's docstring);
    ``chunk``: where the last call stopped (``cursor``, ``chunk``, ``so_far``), empty for the first."""
    from chalicelib.usecases.loan_day_end import close_segment

    return close_segment(
        day, segment, total, run, cursor=chunk.get("cursor"), chunk=int(chunk.get("chunk") or 0), so_far=chunk.get("so_far"), seconds_left=seconds_left
    )


class SegmentsNotClosed(Exception):
    """A segment of CloseLoans did not finish: its parts are missing, no file may be assembled."""


def credit_report(day: date, branch_code: str, run: str, segments: list[Any] | None = None) -> dict[str, Any]:
    """Day-end step: the branch's credit-bureau file of ``day``, from the parts of the run.

    ``segments``: what each segment of ``CloseLoans`` answered. The Map fails when one fails
    (no tolerated failures); an emulator that lets it succeed with an empty answer is refused
    here too, so a file is never assembled from a run with a segment missing."""
    from chalicelib.usecases.credit_reporting import write_branch_report

    if segments is not None and (not segments or not all(isinstance(s, dict) and "segment" in s for s in segments)):
        raise SegmentsNotClosed(f"{sum(1 for s in segments if not s)} of {len(segments)} segments did not close")

    return write_branch_report(branch_code, day, run)


def reconcile(day: date, partner_id: str) -> dict[str, Any]:
    """Day-end step: the partner's file of ``day`` (the day before the one closing) reconciled, if it came."""
    from chalicelib.usecases.reconciling import reconcile_partner

    return reconcile_partner(partner_id, day)


def advance(closing: date) -> dict[str, str]:
    opened = config_repository.advance_business_date(closing)
    return {"closed": closing.isoformat(), "business_date": opened.isoformat()}
