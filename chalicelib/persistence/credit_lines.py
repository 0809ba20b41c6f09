"""Credit lines (``LINE#<id>`` in the applications table) and what is left of each (a ``LINE`` quota).

A line is opened once per line application, whatever the retries: the item is
put with ``attribute_not_exists`` and the line's id is derived from the
application's (``credit_line.credit_line_id``). Its limit is a quota item
(kind ``LINE``, period ``TOTAL``) that every drawdown reserves from, in the
same transaction as the branch's and the funders' quotas.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from pynamodb.attributes import JSONAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from chalicelib import resources
from chalicelib.domain.credit_line import LINE_QUOTA_KIND, CreditLine, CreditLineStatus
from chalicelib.domain.funding import Channel
from chalicelib.domain.money import format_amount, format_rate
from chalicelib.persistence import quotas
from chalicelib.persistence.models import LazyModel, table_meta


class CreditLineItem(LazyModel):
    Meta = table_meta(resources.APPLICATIONS_TABLE)

    pk = UnicodeAttribute(hash_key=True)
    credit_line_id = UnicodeAttribute()
    application_id = UnicodeAttribute()
    partner_id = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    branch_code = UnicodeAttribute()
    product_code = UnicodeAttribute()
    id_hash = UnicodeAttribute()  # the keyed hash of the borrower's ID number
    limit = UnicodeAttribute()  # yuan, "200000.00"
    annual_rate = UnicodeAttribute()
    channel = JSONAttribute()  # the approving channel: {"code", "shares": [{"funder_code", "ratio"}]}
    opened_on = UnicodeAttribute()
    expires_on = UnicodeAttribute()
    status = UnicodeAttribute()
    created_at = UnicodeAttribute()
    updated_at = UnicodeAttribute()


def _key(credit_line_id: str) -> str:
    return f"LINE#{credit_line_id}"


def _domain(item: CreditLineItem) -> CreditLine:
    return CreditLine(
        credit_line_id=item.credit_line_id,
        application_id=item.application_id,
        partner_id=item.partner_id,
        customer_id=item.customer_id,
        branch_code=item.branch_code,
        product_code=item.product_code,
        limit=Decimal(item.limit),
        annual_rate=Decimal(item.annual_rate),
        channel=Channel.model_validate(item.channel),
        opened_on=date.fromisoformat(item.opened_on),
        expires_on=date.fromisoformat(item.expires_on),
        status=CreditLineStatus(item.status),
    )


def get(credit_line_id: str) -> CreditLine | None:
    if not credit_line_id.startswith("CL"):
        return None
    try:
        return _domain(CreditLineItem.get(_key(credit_line_id), consistent_read=True))
    except DoesNotExist:
        return None


def open_line(line: CreditLine, id_hash: str, now: str) -> CreditLine:
    """Store the line and its LINE quota; a retry finds the line already there and answers it."""
    item = CreditLineItem(
        _key(line.credit_line_id),
        credit_line_id=line.credit_line_id,
        application_id=line.application_id,
        partner_id=line.partner_id,
        customer_id=line.customer_id,
        branch_code=line.branch_code,
        product_code=line.product_code,
        id_hash=id_hash,
        limit=format_amount(line.limit),
        annual_rate=format_rate(line.annual_rate),
        channel=line.channel.model_dump(mode="json"),
        opened_on=line.opened_on.isoformat(),
        expires_on=line.expires_on.isoformat(),
        status=line.status.value,
        created_at=now,
        updated_at=now,
    )
    try:
        item.save(condition=CreditLineItem.pk.does_not_exist())
    except PutError as exc:
        if getattr(exc, "cause_response_code", None) != "ConditionalCheckFailedException":
            raise
        stored = get(line.credit_line_id)
        assert stored is not None
        line = stored
    if quotas.usage(LINE_QUOTA_KIND, line.credit_line_id, quotas.TOTAL) is None:
        quotas.set_limit(LINE_QUOTA_KIND, line.credit_line_id, quotas.TOTAL, line.limit)
    return line


def close(credit_line_id: str, now: str) -> bool:
    """Close the line (no more drawdowns); False when there is no such line. Idempotent."""
    return _set_status(credit_line_id, CreditLineStatus.CLOSED, CreditLineItem.pk.exists(), now)


def activate(credit_line_id: str, now: str) -> bool:
    """A PENDING line whose agreement is signed becomes ACTIVE; False when it is not PENDING (or ACTIVE). Idempotent."""
    usable = CreditLineItem.status.is_in(CreditLineStatus.PENDING.value, CreditLineStatus.ACTIVE.value)
    return _set_status(credit_line_id, CreditLineStatus.ACTIVE, usable, now)


def _set_status(credit_line_id: str, status: CreditLineStatus, condition: Any, now: str) -> bool:
    try:
        CreditLineItem(_key(credit_line_id)).update(
            actions=[CreditLineItem.status.set(status.value), CreditLineItem.updated_at.set(now)],
            condition=condition,
        )
    except UpdateError as exc:
        if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
            return False
        raise
    return True


def available(credit_line_id: str) -> Decimal:
    """What is left to draw on the line now (0 when its quota is missing)."""
    usage = quotas.usage(LINE_QUOTA_KIND, credit_line_id, quotas.TOTAL)
    return usage[1] if usage is not None else Decimal("0.00")


def view(line: CreditLine) -> dict[str, Any]:
    """The line as its partner sees it."""
    return {
        "credit_line_id": line.credit_line_id,
        "application_id": line.application_id,
        "status": line.status.value,
        "product_code": line.product_code,
        "limit": format_amount(line.limit),
        "available": format_amount(available(line.credit_line_id)),
        "annual_rate": format_rate(line.annual_rate),
        "funders": [{"funder": s.funder_code, "ratio": format_rate(s.ratio)} for s in line.channel.shares],
        "joint": line.channel.joint,
        "opened_on": line.opened_on.isoformat(),
        "expires_on": line.expires_on.isoformat(),
    }
