"""Editing configuration in the back office: products, funders, a product's funding, a branch's quotas.

- **Who.** Any operator reads products, funders and products' funding; branch staff read
  only their own branch's quotas (and history). Only platform operators
  (``Role.PLATFORM``, 省联社) change anything.
- **Versions.** Each item has a version; a change names the version it was made
  from (``expected``, 0 to create) and is refused with ``VERSION_CONFLICT`` when
  the stored version is another: of two concurrent edits exactly one wins, and
  the loser reads again. Each change is stored with its audit record (who, when,
  the version, before and after) in one transaction
  (``chalicelib/persistence/config_versions.py``).
- **What follows a change.** A funder's or a branch's ``quotas.total`` is also the
  limit of its TOTAL quota item: it is set (``quotas.set_limit``, keeping what is
  reserved) right after the change. Daily and per-customer quota items are made by
  routing on first use from the configured values, so a change of ``daily`` or
  ``per_customer`` applies to the items made after it (the next business day's
  daily item, a customer's first loan from that funder or branch), not to items
  that exist. Everything else (cooperating, position, hours, fees, channels, rules)
  is read by routing at each application: in this process at once, in other
  warm functions within ``CONFIG_CACHE_SECONDS``.
- **Products.** A product (its amount range, terms, repayment methods, rates, age
  bounds, hours, prepayment and penalty terms) is read through the same cache
  (``config_repository.product``) by every step that needs it: a quote and a new
  application are checked against the product as it is then (in this process at
  once, elsewhere within ``CONFIG_CACHE_SECONDS``). An application already in
  flight reads it again at its later steps: the review's decision, the offer's
  validity, the contract (the product's name) and the loan booked at disbursement
  (prepayment terms, penalty markup) take the product as it is at that step. A change never touches
  loans already booked: they keep the terms they were booked with. Creating a
  product (version 0 to 1) does not offer it: a partner offers the products its
  record lists, and a product needs its review policy, scorecard, funding and
  contract template before an application can go through.
"""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Callable

from chalicelib.domain.branch import Branch
from chalicelib.domain.funding import Funder, FunderKind, ProductFunding
from chalicelib.domain.lending_quotas import LendingQuotas
from chalicelib.domain.money import format_amount
from chalicelib.domain.operator import Operator, Role
from chalicelib.domain.product import Product, Violation
from chalicelib.observability import logger
from chalicelib.persistence import config_repository, config_versions, quotas
from chalicelib.persistence.config_versions import BRANCH, FUNDER, FUNDING, PRODUCT, ConfigRef, VersionConflict, Versioned
from chalicelib.usecases import branch_scope
from chalicelib.usecases.errors import Refusal, Refused

TOTAL = "TOTAL"
SYNC_ATTEMPTS = 3


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


# -- who may ------------------------------------------------------------------------------------


def may_edit(operator: Operator) -> None:
    """Only platform operators change configuration (403 for everyone else)."""
    if operator.role is not Role.PLATFORM:
        raise Refused(Refusal.FORBIDDEN, "FORBIDDEN", "only platform operators may change configuration")


def _may_see_branch(operator: Operator, branch_code: str) -> None:
    if not operator.sees(branch_code):
        raise branch_scope.forbidden()


# -- views --------------------------------------------------------------------------------------


def _total_quota(kind: str, code: str) -> dict[str, str] | None:
    """The TOTAL quota item of a funder or a branch: its limit and what is left, money as strings."""
    found = quotas.usage(kind, code, TOTAL)
    return None if found is None else {"limit": format_amount(found[0]), "remaining": format_amount(found[1])}


def _funder_view(item: Versioned) -> dict[str, Any]:
    return {"code": item.ref.code, "version": item.version, "funder": item.document, "total_quota": _total_quota(FUNDER, item.ref.code)}


def _funding_view(item: Versioned) -> dict[str, Any]:
    return {"product_code": item.ref.code, "version": item.version, "funding": item.document}


def _product_view(item: Versioned) -> dict[str, Any]:
    return {"product_code": item.ref.code, "version": item.version, "product": item.document}


def _branch_view(item: Versioned) -> dict[str, Any]:
    return {
        "branch_code": item.ref.code,
        "version": item.version,
        "quotas": item.document.get("quotas"),
        "total_quota": _total_quota(BRANCH, item.ref.code),
    }


_NOT_FOUND = {
    FUNDER: ("FUNDER_NOT_FOUND", "funder"),
    FUNDING: ("FUNDING_NOT_FOUND", "funding configuration of product"),
    BRANCH: ("BRANCH_NOT_FOUND", "branch"),
    PRODUCT: ("PRODUCT_NOT_FOUND", "product"),
}


def _not_found(kind: str, code: str) -> Refused:
    error, what = _NOT_FOUND[kind]
    return Refused(Refusal.NOT_FOUND, error, f"no such {what}: {code}")


def _ref(kind: str, code: str) -> ConfigRef:
    """The item a path names; a code that cannot name one is not found (404), never an error."""
    try:
        return ConfigRef(kind, code)
    except ValueError as exc:
        raise _not_found(kind, code) from exc


def _read(kind: str, code: str) -> Versioned:
    found = config_versions.read(_ref(kind, code))
    if found is None:
        raise _not_found(kind, code)
    return found


# -- versioned writes ---------------------------------------------------------------------------


def _conflict(exc: VersionConflict) -> Refused:
    state = "does not exist" if exc.current == 0 else f"is at version {exc.current}"
    return Refused(
        Refusal.CONFLICT,
        "VERSION_CONFLICT",
        f"{exc.ref.label} {state}, not version {exc.expected}: read it again and apply your change to that",
        [Violation("expected_version", f"the current version is {exc.current}")],
    )


def _write(operator: Operator, ref: ConfigRef, current: Versioned | None, expected: int, after: dict[str, Any]) -> int:
    stored = 0 if current is None else current.version
    if expected != stored:
        raise _conflict(VersionConflict(ref, expected, stored))
    try:
        version = config_versions.write(
            ref, expected, None if current is None else current.document, after, operator.operator_id, operator.role.value, _now()
        )
    except VersionConflict as exc:
        raise _conflict(exc) from exc
    logger.info("configuration changed", extra={"key": ref.label, "version": version, "operator": operator.operator_id})
    return version


def _sync_total_quota(kind: str, code: str, configured: Callable[[], tuple[int, Decimal | None]]) -> bool:
    """Make the TOTAL quota item's limit the configured total (what is reserved stays reserved).

    Reads the configuration again after setting the limit and repeats when another change came
    in meanwhile, so the last change's total wins whatever the order the writers finish in.
    False when the quota could not be set (the change itself stands; a later change sets it)."""
    try:
        for _ in range(SYNC_ATTEMPTS):
            version, total = configured()
            if total is None:
                return True
            found = quotas.usage(kind, code, TOTAL)
            if found is None or found[0] != total:
                quotas.set_limit(kind, code, TOTAL, total, shards=quotas.shard_count(kind, code, TOTAL) or 1)
            if configured()[0] == version:
                return True
    except (quotas.QuotaBusy, ValueError) as exc:
        logger.warning("total quota not set", extra={"kind": kind, "code": code, "error": str(exc)})
        return False
    logger.warning("total quota not set: the configuration kept changing", extra={"kind": kind, "code": code})
    return False


def _configured_total(ref: ConfigRef) -> Callable[[], tuple[int, Decimal | None]]:
    def read() -> tuple[int, Decimal | None]:
        found = config_versions.read(ref)
        if found is None:
            return 0, None
        limits = found.document.get("quotas")
        return found.version, None if not limits else Decimal(str(limits["total"]))

    return read


# -- funders ------------------------------------------------------------------------------------


def list_funders(operator: Operator) -> list[dict[str, Any]]:
    return [_funder_view(item) for item in sorted(config_versions.read_kind(FUNDER), key=lambda item: item.ref.code)]


def get_funder(operator: Operator, code: str) -> dict[str, Any]:
    return _funder_view(_read(FUNDER, code))


def _fallbacks_broken_by(current: Versioned | None, funder: Funder) -> list[Violation]:
    """Products whose own-funds fallback is this funder, when it stops being OWN_FUNDS."""
    if current is None or funder.kind is FunderKind.OWN_FUNDS or current.document.get("kind") != FunderKind.OWN_FUNDS.value:
        return []
    return [
        Violation("kind", f"product {item.ref.code} falls back to {funder.code} as its own funds: it must stay OWN_FUNDS")
        for item in config_versions.fundings()
        if item.document.get("own_funds_fallback") == funder.code
    ]


def put_funder(operator: Operator, funder: Funder, expected: int) -> tuple[bool, dict[str, Any]]:
    """Create (expected 0) or change a funder; answers (created, the funder's view)."""
    may_edit(operator)
    ref = ConfigRef(FUNDER, funder.code)
    current = config_versions.read(ref)
    if current is not None and current.version == expected:
        broken = _fallbacks_broken_by(current, funder)
        if broken:
            raise Refused(Refusal.BUSINESS_RULE, "FUNDING_INCONSISTENT", "products' funding depends on this funder's kind", broken)
    after = funder.model_dump(mode="json", exclude_none=True)
    version = _write(operator, ref, current, expected, after)
    synced = _sync_total_quota(FUNDER, funder.code, _configured_total(ref))
    return current is None, {**_funder_view(Versioned(ref, after, version)), "total_quota_applied": synced}


# -- products -----------------------------------------------------------------------------------


def list_products(operator: Operator, after: str | None, limit: int) -> tuple[list[dict[str, Any]], str | None]:
    """Products by code, ``limit`` of them after the code ``after``; and the code to go on after
    (None when there are no more)."""
    remaining = [item for item in config_versions.products() if after is None or item.ref.code > after]
    page = remaining[:limit]
    return [_product_view(item) for item in page], page[-1].ref.code if len(remaining) > limit else None


def get_product(operator: Operator, product_code: str) -> dict[str, Any]:
    return _product_view(_read(PRODUCT, product_code))


def put_product(operator: Operator, product: Product, expected: int) -> tuple[bool, dict[str, Any]]:
    """Create (expected 0) or change a product; answers (created, the product's view).

    The document stored is the validated product with every default made explicit (as the seed
    stores it), so that the audit's before and after show each term, not only those sent."""
    may_edit(operator)
    ref = ConfigRef(PRODUCT, product.code)
    current = config_versions.read(ref)
    after = product.model_dump(mode="json")
    version = _write(operator, ref, current, expected, after)
    return current is None, _product_view(Versioned(ref, after, version))


# -- a product's funding ------------------------------------------------------------------------


def _product_exists(product_code: str) -> None:
    if config_repository.product(product_code) is None:
        raise Refused(Refusal.NOT_FOUND, "PRODUCT_NOT_FOUND", f"no such product: {product_code}")


def get_funding(operator: Operator, product_code: str) -> dict[str, Any]:
    _product_exists(product_code)
    return _funding_view(_read(FUNDING, product_code))


def _problem_field(problem: str) -> str:
    if problem.startswith("own_funds_fallback"):
        return "own_funds_fallback"
    if problem.startswith("channel "):
        return "channels"
    return "funders"


def put_funding(operator: Operator, funding: ProductFunding, expected: int) -> tuple[bool, dict[str, Any]]:
    """Create (expected 0) or change a product's funding, consistent with the funders stored now."""
    may_edit(operator)
    _product_exists(funding.product_code)
    funders = [Funder.model_validate(item.document) for item in config_versions.read_kind(FUNDER)]
    problems = funding.validate_against(funders)
    if problems:
        raise Refused(
            Refusal.BUSINESS_RULE,
            "FUNDING_INCONSISTENT",
            "the funding refers to funders that do not exist or do not fit",
            [Violation(_problem_field(p), p) for p in problems],
        )
    ref = ConfigRef(FUNDING, funding.product_code)
    current = config_versions.read(ref)
    after = funding.model_dump(mode="json", exclude_none=True)
    version = _write(operator, ref, current, expected, after)
    return current is None, _funding_view(Versioned(ref, after, version))


# -- a branch's lending quotas ------------------------------------------------------------------


def get_branch_quotas(operator: Operator, branch_code: str) -> dict[str, Any]:
    _may_see_branch(operator, branch_code)
    return _branch_view(_read(BRANCH, branch_code))


def put_branch_quotas(operator: Operator, branch_code: str, limits: LendingQuotas, expected: int) -> dict[str, Any]:
    """Change a branch's lending quotas (branches themselves are not created here)."""
    may_edit(operator)
    current = _read(BRANCH, branch_code)
    ref = current.ref
    after = Branch.model_validate({**current.document, "quotas": limits.model_dump(mode="json")}).model_dump(mode="json")
    version = _write(operator, ref, current, expected, after)
    synced = _sync_total_quota(BRANCH, branch_code, _configured_total(ref))
    return {**_branch_view(Versioned(ref, after, version)), "total_quota_applied": synced}


# -- history ------------------------------------------------------------------------------------


def history(operator: Operator, ref: ConfigRef, limit: int) -> dict[str, Any]:
    """The item's changes, newest first: version, who, when, before and after."""
    if ref.kind == BRANCH:
        _may_see_branch(operator, ref.code)
    records = config_versions.history(ref, limit)
    return {
        "key": ref.label,
        "items": [
            {"version": r.version, "operator_id": r.operator_id, "operator_role": r.operator_role, "at": r.at, "before": r.before, "after": r.after}
            for r in records
        ],
    }
