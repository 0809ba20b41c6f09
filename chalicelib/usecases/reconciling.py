"""T+1 reconciliation (对账) of a partner's file of day T with the bank's ledger of day T.

The partner uploads ``reconciliation/inbound/<partner>/<T>.csv`` (a presigned
link from ``POST /v1/reconciliation-files``; the layout: docs/reconciliation.md).
It is reconciled when it arrives (an S3 event), and again by the day end of
T+1 (``day_end_reconcile``), whichever comes first finding it; a file that
arrives later still is reconciled on arrival, never lost. The bank's side is
the partner's postings of T (disbursements, their reversals, repayments: one
query of the ledger's sparse by_partner_day index, whatever the branch); every item is matched or classified (``domain/reconciliation``),
the report is written to S3 with both sides' totals, and breaks raise a
``RECONCILIATION_BREAK`` warning (once per partner and day). Running it again
rewrites the same report (a new S3 version) and no second warning.

After the report, a small summary is written next to it
(``reconciliation/reports/<partner>/<T>.json``: status, both sides' totals, the
breaks, the report's S3 version; ``persistence/reconciliation_reports``), and one
for a file refused whole (INVALID_FILE, which has no report): the back office
lists reports from these without reading the reports.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel, ConfigDict

from chalicelib import settings
from chalicelib.domain.product import Violation
from chalicelib.domain.reconciliation import bank_rows, parse_partner_file, reconcile, render_report
from chalicelib.domain.reconciliation_report import invalid_file_summary, summary_of
from chalicelib.domain.risk_warnings import reconciliation_break
from chalicelib.domain.wire import IsoDate
from chalicelib.observability import logger, metrics
from chalicelib.persistence import config_repository, ledger, loans, reconciliation_reports, reports, risk
from chalicelib.usecases.errors import Refusal, Refused, parse_body


def _partner_postings(partner_id: str, day: date) -> tuple[list[Any], dict[str, str]]:
    """The partner's postings of ``day`` (one query of the ledger's by_partner_day index), and its
    disbursed loans' application numbers."""
    postings = ledger.partner_postings_of_day(partner_id, day)
    numbers = {}
    for posting in postings:
        if posting.kind == "DISBURSEMENT" and posting.loan_id not in numbers:
            loan = loans.get(posting.loan_id)
            numbers[posting.loan_id] = (loan.partner_application_no or loan.application_id) if loan else posting.loan_id
    return postings, numbers


def reconcile_partner(partner_id: str, day: date) -> dict[str, Any]:
    """Reconcile the partner's file of ``day``: ``AWAITING_FILE`` when it has not come yet."""
    data = reports.get(reports.inbound_key(partner_id, day))
    summary: dict[str, Any] = {"partner_id": partner_id, "business_date": day.isoformat()}
    if data is None:
        return {**summary, "status": "AWAITING_FILE"}
    policy = config_repository.warning_policy()
    try:
        parsed = parse_partner_file(data, day)
    except ValueError as exc:  # not this layout at all: a break of the whole file
        warning = reconciliation_break(partner_id, day, {"INVALID_FILE": 1}, policy)
        if warning is not None:
            risk.put_warning(warning)
        reconciliation_reports.put_summary(partner_id, day, invalid_file_summary(partner_id, day, str(exc)))
        logger.warning("reconciliation file refused", extra={**summary, "reason": str(exc)[:200]})
        return {**summary, "status": "INVALID_FILE", "reason": str(exc)[:200]}
    postings, numbers = _partner_postings(partner_id, day)
    report = reconcile(parsed, bank_rows(postings, numbers))
    key = reports.report_key(partner_id, day)
    version_id = reports.put(key, render_report(report, partner_id, day))
    reconciliation_reports.put_summary(partner_id, day, summary_of(report, partner_id, day, key, version_id))
    counts = dict(report.counts)
    warning = reconciliation_break(partner_id, day, counts, policy)
    if warning is not None:
        risk.put_warning(warning)
    metrics.add_metric(name="ReconciliationBreaks", unit=MetricUnit.Count, value=len(report.breaks))
    logger.info("reconciled", extra={**summary, "breaks": len(report.breaks)})
    return {**summary, "status": "BALANCED" if report.balanced else "BREAKS", "report_key": key, "counts": counts, "breaks": len(report.breaks)}


def on_upload(event: dict[str, Any]) -> list[dict[str, Any]]:
    """S3 event: each partner file created is reconciled at once (a late one included)."""
    from urllib.parse import unquote_plus

    done = []
    for record in event.get("Records", []):
        key = unquote_plus(record.get("s3", {}).get("object", {}).get("key", ""))
        found = reports.parse_inbound_key(key)
        if found is None:
            logger.warning("an object that is no partner file", extra={"key": key[:200]})
            continue
        done.append(reconcile_partner(*found))
    return done


class UploadRequest(BaseModel):
    """``POST /v1/reconciliation-files``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    business_date: IsoDate


def upload_link(partner: Any, payload: Any) -> dict[str, Any]:
    """``POST /v1/reconciliation-files``: a presigned PUT for the partner's file of a business day."""
    request = parse_body(UploadRequest, payload, "request")
    today = config_repository.business_date()
    if request.business_date > today:
        raise Refused(Refusal.BUSINESS_RULE, "DAY_NOT_CLOSED", f"the platform's business date is {today}: a file can be sent for a day up to it",
                      [Violation("business_date", f"must not be after {today}")])
    key = reports.inbound_key(partner.partner_id, request.business_date)
    seconds = int(settings.env("CONTRACT_LINK_SECONDS", "600"))
    return {"business_date": request.business_date.isoformat(), "key": key, "upload": reports.upload_link(key, seconds)}
