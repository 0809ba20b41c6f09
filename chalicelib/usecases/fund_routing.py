"""Fund routing (资金路由): the approved amount to a funder (or a joint set), within quotas.

The product's channels are ranked by its routing rules (``domain/routing.py``);
skipped channels stay in the trail with their reasons. Each channel tried
reserves quota in one transaction (each funder's share from its total, daily
and per-customer quotas; the whole amount from the branch's total, daily and
per-customer quotas), then asks its funders; a funder that does not answer
within its timeout has refused. A refusal releases the reservation and the
next channel is tried; the first channel whose funders all approve makes the
offer (OFFERED). All refusing, and no own-funds fallback left: NO_FUNDER. The
trail (each channel, each funder's answer or timeout, the time taken) is
stored as an item of its own, put before the change of status that ends the
routing (``persistence/applications.py``: the application item, rewritten at
every later change of status, does not carry it).

Credit lines (``domain/credit_line.py``): for a ``CREDIT_LINE`` product the
approving channel opens a line (授信) of the approved limit, and nothing is
reserved; a drawdown (用信) goes to the line's channel alone, then to own
funds, and reserves from the line's ``LINE`` quota too.
"""
from __future__ import annotations

import functools
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from chalicelib import settings
from chalicelib.domain.application_status import ApplicationStatus as S
from chalicelib.domain.credit_line import DRAWDOWN, LINE_QUOTA_KIND, CreditLine, CreditLineStatus, credit_line_id, expiry
from chalicelib.domain.funding import FunderKind, FundingMode
from chalicelib.domain.money import format_amount
from chalicelib.domain.routing import FALLBACK_CHANNEL_CODE, NoRoutingRules, RoutingConfigError, RoutingContext, drawdown_plan, joint_shares, plan
from chalicelib.persistence import applications, config_repository, credit_lines, customers, quotas
from chalicelib.ports.funders import FunderGateway, FunderTimeout, FundingRequest
from chalicelib.usecases.origination import ApplicationNotFound

OFFER_HOURS = 72  # when the product does not say (``Product.offer_valid_hours``)


def _now() -> datetime:
    return datetime.now(timezone.utc)


@functools.cache
def _simulated(settings_json: str) -> FunderGateway:
    import json

    from chalicelib.ports.funders import SimulatedFunderGateway

    conf = json.loads(settings_json)
    return SimulatedFunderGateway(
        approval_rate=conf.get("approval_rate", 1.0), timeouts=frozenset(conf.get("timeouts", ())), seed=conf.get("seed", "0")
    )


def gateway() -> FunderGateway:
    """The configured funder gateway: the simulator (sandboxes, the local stack; its settings are
    configuration data ``SIMULATOR#FUNDERS``) or the funders' APIs."""
    if settings.env("FUNDER_GATEWAY_MODE", "simulator") != "simulator":
        raise NotImplementedError("funder API endpoints and credentials are not configured in this stage")
    import json

    return _simulated(json.dumps(config_repository.funder_simulator(), sort_keys=True))


def _quota_parts(shares: dict[str, Decimal], branch: Any, customer_id: str, today: str) -> list[quotas.QuotaPart]:
    """What one try takes: each funder's share from its total, daily and per-customer quotas, and
    the whole amount from the branch's (the bank that books the loan), when it sets quotas."""
    parts = []
    for funder, amount in shares.items():
        parts += [
            quotas.QuotaPart("FUNDER", funder, "TOTAL", amount),
            quotas.QuotaPart("FUNDER", funder, today, amount),
            quotas.QuotaPart("CUSTOMER", f"{funder}.{customer_id}", "TOTAL", amount),
        ]
    if branch is not None and branch.quotas is not None:
        amount = sum(shares.values(), Decimal(0))
        parts += [
            quotas.QuotaPart("BRANCH", branch.branch_code, "TOTAL", amount),
            quotas.QuotaPart("BRANCH", branch.branch_code, today, amount),
            quotas.QuotaPart("BRANCH_CUSTOMER", f"{branch.branch_code}.{customer_id}", "TOTAL", amount),
        ]
    return parts


def _ensure(kind: str, code: str, period: str, limit: Decimal) -> None:
    if quotas.usage(kind, code, period) is None:
        quotas.set_limit(kind, code, period, limit)


def _ensure_quotas(funders: dict[str, Any], shares: dict[str, Decimal], branch: Any, customer_id: str, today: str) -> None:
    """Today's daily items and the customer's items are made on first use from the configured quotas
    (the totals are set when a funder or a branch is configured)."""
    for code in shares:
        limits = funders[code].quotas
        _ensure("FUNDER", code, today, limits.daily)
        _ensure("CUSTOMER", f"{code}.{customer_id}", "TOTAL", limits.per_customer)
    if branch is not None and branch.quotas is not None:
        _ensure("BRANCH", branch.branch_code, today, branch.quotas.daily)
        _ensure("BRANCH_CUSTOMER", f"{branch.branch_code}.{customer_id}", "TOTAL", branch.quotas.per_customer)


def _ask(port: FunderGateway, funder: Any, request: FundingRequest) -> dict[str, Any]:
    started = time.perf_counter()
    if funder.kind is FunderKind.OWN_FUNDS:
        answer = {"approved": True, "reference": f"OWN-{request.application_id}"}
    else:
        try:
            found = port.ask(request, funder.answer_timeout_seconds)
            answer = {"approved": found.approved, "reference": found.reference, "reason": found.reason}
        except FunderTimeout:
            answer = {"approved": False, "reason": "TIMEOUT"}
    return {"funder": funder.code, **answer, "ms": round((time.perf_counter() - started) * 1000, 1)}


def _request(item: Any, funder_code: str, amount: Decimal, purpose: str) -> FundingRequest:
    return FundingRequest(
        application_id=item.application_id,
        funder_code=funder_code,
        amount=amount,
        term_months=item.application["term_months"],
        annual_rate=Decimal(item.decision["annual_rate"]),
        borrower_id_hash=item.id_hash,
        branch_code=item.branch_code,
        purpose=purpose,
        credit_line_id=item.credit_line_id if purpose == DRAWDOWN else None,
    )


def _plan(item: Any, funding: Any, funders: dict[str, Any], context: RoutingContext) -> tuple[Any, str, list[quotas.QuotaPart]]:
    """The routing plan, the purpose told to funders, and what every try reserves besides the funders' and branch's."""
    if item.kind == DRAWDOWN:
        line = credit_lines.get(item.credit_line_id or "")
        if line is None:
            raise RoutingConfigError(f"the credit line {item.credit_line_id} of drawdown {item.application_id} does not exist")
        routing = drawdown_plan(item.product_code, line.channel, funding, funders, context)
        return routing, DRAWDOWN, [quotas.QuotaPart(LINE_QUOTA_KIND, line.credit_line_id, quotas.TOTAL, context.amount)]
    if funding is None:
        raise NoRoutingRules(f"product {item.product_code} has no routing rules (产品未配置产品路由规则)")
    routing = plan(funding, funders, context)
    return routing, ("CREDIT_LINE" if funding.mode is FundingMode.CREDIT_LINE else "LOAN"), []


def route(application_id: str, port: FunderGateway | None = None) -> dict[str, Any]:
    """Route an approved application (a loan, or a line to open) or a drawdown on a line.

    A loan or a drawdown reserves quota for each try; a line application reserves
    nothing (money is lent, and quota taken, by its drawdowns): the approving
    funder opens the line.
    """
    item = applications.get(application_id)
    if item is None:
        raise ApplicationNotFound(application_id)
    if item.status in (S.OFFERED.value, S.NO_FUNDER.value):  # a retried step: already routed
        return _answer(item, _now())
    now = _now()
    funding = config_repository.product_funding(item.product_code)
    funders = {f.code: f for f in config_repository.funders()}
    amount = Decimal(item.decision["approved_limit"])
    lent = {code: (u[0] - u[1]) for code in funders if (u := quotas.usage("FUNDER", code, "TOTAL"))}
    context = RoutingContext(
        amount=amount,
        borrower_province=item.application["applicant"]["id_number"][:2],
        lent_so_far=lent,
        now=now,
        previous_funders=customers.funders_of(item.id_hash),
    )
    routing, purpose, line_parts = _plan(item, funding, funders, context)
    reserves = purpose != "CREDIT_LINE"
    today = quotas.day(config_repository.business_date())
    branch = config_repository.branch(item.branch_code) if item.branch_code else None
    port = port or gateway()
    attempts = []
    for candidate in routing.to_try():
        shares = dict(candidate.shares)
        reservation = f"{application_id}.{candidate.channel.code}"
        if reserves:
            _ensure_quotas(funders, shares, branch, item.customer_id, today)
            if not quotas.reserve(reservation, line_parts + _quota_parts(shares, branch, item.customer_id, today), now):
                attempts.append({"channel": candidate.channel.code, "result": "QUOTA_REFUSED", "answers": []})
                continue
        answers = []
        for code, share in shares.items():
            answers.append(_ask(port, funders[code], _request(item, code, share, purpose)))
            if not answers[-1]["approved"]:
                break
        if all(a["approved"] for a in answers) and len(answers) == len(shares):
            attempts.append({"channel": candidate.channel.code, "result": "APPROVED", "answers": answers})
            offer = {
                "type": purpose,
                "channel": candidate.channel.code,
                "joint": len(shares) > 1,
                "funders": [{"funder": code, "amount": format_amount(share)} for code, share in shares.items()],
                "amount": format_amount(amount),
                "annual_rate": item.decision["annual_rate"],
                "term_months": item.application["term_months"],
                "reservation": reservation if reserves else None,
                "credit_line_id": item.credit_line_id,
                "expires_at": (now + timedelta(hours=_offer_hours(item.product_code))).isoformat(),
            }
            if purpose == "CREDIT_LINE":
                line = _open_line(item, candidate.channel, funding, amount, now)
                # A retried step finds the line its first run opened: the offer is that line's.
                opened = joint_shares(amount, line.channel)
                offer.update(
                    channel=line.channel.code,
                    joint=line.channel.joint,
                    funders=[{"funder": code, "amount": format_amount(share)} for code, share in opened.items()],
                    credit_line_id=line.credit_line_id,
                    line_expires_on=line.expires_on.isoformat(),
                )
                return _finish(item, S.OFFERED, routing, attempts, now, offer=offer, credit_line_id=line.credit_line_id)
            return _finish(item, S.OFFERED, routing, attempts, now, offer=offer)
        if reserves:
            quotas.release(reservation, now)
        attempts.append({"channel": candidate.channel.code, "result": "REFUSED", "answers": answers})
    return _finish(item, S.NO_FUNDER, routing, attempts, now)


def _open_line(item: Any, channel: Any, funding: Any, limit: Decimal, now: datetime) -> Any:
    """授信: the line the approving channel funds, PENDING until the borrower accepts and it is signed."""
    opened_on = config_repository.business_date()
    line = CreditLine(
        credit_line_id=credit_line_id(item.application_id),
        application_id=item.application_id,
        partner_id=item.partner_id,
        customer_id=item.customer_id,
        branch_code=item.branch_code,
        product_code=item.product_code,
        limit=limit,
        annual_rate=Decimal(item.decision["annual_rate"]),
        channel=channel,
        opened_on=opened_on,
        expires_on=expiry(opened_on, funding.line_validity_months),
        status=CreditLineStatus.PENDING,  # usable once its agreement is signed
    )
    return credit_lines.open_line(line, item.id_hash, now.isoformat())


def _finish(item: Any, status: S, routing: Any, attempts: list[dict[str, Any]], now: datetime, offer: dict | None = None, **attributes: Any) -> dict[str, Any]:
    """The routing trail put, then the change of status that ends the routing (OFFERED or NO_FUNDER)."""
    trail = {**routing.trail(), "attempts": attempts, "routed_at": now.isoformat()}
    if status is S.OFFERED and offer:
        attributes["waits_until"] = offer["expires_at"]  # the borrower's answer is awaited until then (the watch)
    if item.status != S.ROUTING.value:  # a stale run: the routing that moved it on keeps its trail
        raise applications.StatusConflict(f"application {item.application_id} is {item.status}, not {S.ROUTING.value}")
    applications.save_trail(item.application_id, applications.ROUTING, trail)
    routed = applications.transition(item.application_id, status.value, {S.ROUTING.value}, now.isoformat(), offer=offer, **attributes)
    return _answer(routed, now)


def _offer_hours(product_code: str | None) -> int:
    product = config_repository.product(product_code or "")
    return product.offer_valid_hours if product is not None else OFFER_HOURS


def _answer(item: Any, now: datetime) -> dict[str, Any]:
    """The step's result: the status and, for an offer, how many seconds it has left (at least 1)."""
    seconds = 0
    if item.status == S.OFFERED.value and item.offer:
        left = datetime.fromisoformat(item.offer["expires_at"]) - now
        seconds = max(1, int(left.total_seconds()))
    return {"application_id": item.application_id, "status": item.status, "offer_seconds": seconds}


def _channel_codes(item: Any) -> list[str]:
    """Every channel a routing of this application may have reserved for."""
    funding = config_repository.product_funding(item.product_code)
    codes = [c.code for c in funding.channels] if funding else []
    if item.kind == DRAWDOWN and (line := credit_lines.get(item.credit_line_id or "")) is not None:
        codes.append(line.channel.code)
    return codes + [FALLBACK_CHANNEL_CODE]


def routing_failed(application_id: str) -> dict[str, Any]:
    """A routing step that failed for good: release whatever it reserved; NO_FUNDER with a reason."""
    item = applications.get(application_id)
    if item is None:
        raise ApplicationNotFound(application_id)
    now = _now()
    channels = _channel_codes(item)
    for code in channels:  # releasing what was never reserved, or was released, changes nothing
        quotas.release(f"{application_id}.{code}", now)
    if item.kind != DRAWDOWN:  # a line this application opened before the step failed is closed
        credit_lines.close(credit_line_id(application_id), now.isoformat())
    decision = {**(item.decision or {}), "reasons": [*(item.decision or {}).get("reasons", []), "ROUTING_ERROR"]}
    applications.transition(application_id, S.NO_FUNDER.value, {S.ROUTING.value}, now.isoformat(), decision=decision)
    return {"application_id": application_id, "status": S.NO_FUNDER.value}
