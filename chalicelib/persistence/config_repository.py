"""Configuration as data: partners, products and the business date.

Reads are cached in the Lambda's memory for ``CONFIG_CACHE_SECONDS`` (default
30 s): configuration changes seldom and every partner request needs it, so a
warm function answers most requests without a DynamoDB read.
"""
from __future__ import annotations

import threading
import time
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Callable

from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib import settings
from chalicelib.domain.branch import Branch
from chalicelib.domain.partner import Partner
from chalicelib.domain.partner_mapping import PartnerMapping
from chalicelib.domain.product import Product
from chalicelib.persistence.models import ConfigItem

if TYPE_CHECKING:  # the review's configuration is imported where it is used, not by the partner API
    from chalicelib.domain.contract import ContractTemplate
    from chalicelib.domain.decision import ReviewPolicy
    from chalicelib.domain.scorecard import Scorecard

PLATFORM = "PLATFORM"
BUSINESS_DATE = "BUSINESS_DATE"


class BusinessDateConflict(Exception):
    """The stored business date is neither the day being closed nor the day after it."""


class _TtlCache:
    def __init__(self) -> None:
        self._items: dict[tuple[str, ...], tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[str, ...], load: Callable[[], Any]) -> Any:
        ttl = settings.config_cache_seconds()
        now = time.monotonic()
        with self._lock:
            hit = self._items.get(key)
        if hit and hit[0] > now:
            return hit[1]
        value = load()
        if ttl > 0:
            with self._lock:
                self._items[key] = (now + ttl, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_cache = _TtlCache()


def clear_cache() -> None:
    _cache.clear()


def _get(pk: str, sk: str) -> ConfigItem | None:
    try:
        return ConfigItem.get(pk, sk, consistent_read=False)
    except DoesNotExist:
        return None


def _cached(pk: str, sk: str, convert: Callable[[ConfigItem], Any]) -> Any:
    def load() -> Any:
        item = _get(pk, sk)
        return None if item is None else convert(item)

    return _cache.get((ConfigItem.Meta.table_name, pk, sk), load)


def partner(partner_id: str) -> Partner | None:
    return _cached(f"PARTNER#{partner_id}", "PROFILE", lambda item: Partner.model_validate(item.document))


def product(code: str) -> Product | None:
    return _cached(f"PRODUCT#{code}", "CURRENT", lambda item: Product.model_validate(item.document))


BRANCHES = "BRANCH"


def branches() -> tuple[Branch, ...]:
    """Every branch (one partition, so one query)."""

    def load() -> tuple[Branch, ...]:
        return tuple(Branch.model_validate(item.document) for item in ConfigItem.query(BRANCHES))

    return _cache.get((ConfigItem.Meta.table_name, BRANCHES), load)


def partner_ids() -> tuple[str, ...]:
    """Every partner's id (a scan of the small config table: for the day end, not requests)."""
    found = ConfigItem.scan(ConfigItem.pk.startswith("PARTNER#") & (ConfigItem.sk == "PROFILE"))
    return tuple(sorted(item.pk.removeprefix("PARTNER#") for item in found))


def branch(code: str) -> Branch | None:
    return next((b for b in branches() if b.branch_code == code), None)


def review_policy(product_code: str, branch_code: str | None) -> ReviewPolicy | None:
    """The product's review policy with the branch's overrides applied (if the branch has any)."""

    def load() -> ReviewPolicy | None:
        from chalicelib.domain.decision import ReviewPolicy

        base = _get(f"POLICY#{product_code}", "CURRENT")
        if base is None:
            return None
        policy = ReviewPolicy.model_validate(base.document)
        override = _get(f"POLICY#{product_code}", f"BRANCH#{branch_code}") if branch_code else None
        return policy.with_overrides(override.document) if override else policy

    return _cache.get((ConfigItem.Meta.table_name, "POLICY", product_code, branch_code or ""), load)


def scorecard(product_code: str) -> Scorecard | None:
    from chalicelib.domain.scorecard import Scorecard

    return _cached(f"SCORECARD#{product_code}", "CURRENT", lambda item: Scorecard.model_validate(item.document))


def put_review_policy(document: dict[str, Any]) -> None:
    """Store a review policy as written (validated first)."""
    from chalicelib.domain.decision import ReviewPolicy

    policy = ReviewPolicy.model_validate(document)
    ConfigItem(f"POLICY#{policy.product_code}", "CURRENT", document=document).save()


def put_branch_overrides(product_code: str, branch_code: str, document: dict[str, Any]) -> None:
    ConfigItem(f"POLICY#{product_code}", f"BRANCH#{branch_code}", document=document).save()


def put_scorecard(product_code: str, document: dict[str, Any]) -> None:
    """Store a scorecard as written (validated first)."""
    from chalicelib.domain.scorecard import Scorecard

    Scorecard.model_validate(document)
    ConfigItem(f"SCORECARD#{product_code}", "CURRENT", document=document).save()


def contract_template(product_code: str, branch_code: str | None) -> ContractTemplate | None:
    """The contract template for a product at a branch: the branch's own (``TEMPLATE#<product>`` /
    ``BRANCH#<code>``) if it has one, else the product's (``TEMPLATE#<product>`` / ``DEFAULT``)."""

    def load() -> ContractTemplate | None:
        from chalicelib.domain.contract import ContractTemplate

        item = _get(f"TEMPLATE#{product_code}", f"BRANCH#{branch_code}") if branch_code else None
        item = item or _get(f"TEMPLATE#{product_code}", "DEFAULT")
        return None if item is None else ContractTemplate.model_validate(item.document)

    return _cache.get((ConfigItem.Meta.table_name, "TEMPLATE", product_code, branch_code or ""), load)


def put_contract_template(product_code: str, branch_code: str | None, document: dict[str, Any]) -> None:
    """Store a product's contract template (``branch_code`` None) or a branch's own, as written (validated first)."""
    from chalicelib.domain.contract import ContractTemplate

    ContractTemplate.model_validate(document)
    ConfigItem(f"TEMPLATE#{product_code}", f"BRANCH#{branch_code}" if branch_code else "DEFAULT", document=document).save()


def blacklisted(kind: str, value_hash: str) -> bool:
    """Whether a keyed hash of an ID number, mobile or card (``kind``) is on the bank's blacklist."""
    return _get(f"BLACKLIST#{kind}#{value_hash}", "ENTRY") is not None


def put_blacklisted(kind: str, value_hash: str, reason: str) -> None:
    ConfigItem(f"BLACKLIST#{kind}#{value_hash}", "ENTRY", value=reason).save()


FUNDERS = "FUNDER"


def funders() -> tuple[Any, ...]:
    """Every funder (one partition, one query)."""
    from chalicelib.domain.funding import Funder

    def load() -> tuple[Any, ...]:
        return tuple(Funder.model_validate(item.document) for item in ConfigItem.query(FUNDERS))

    return _cache.get((ConfigItem.Meta.table_name, FUNDERS), load)


def product_funding(product_code: str) -> Any:
    from chalicelib.domain.funding import ProductFunding

    return _cached(f"FUNDING#{product_code}", "CURRENT", lambda item: ProductFunding.model_validate(item.document))


def funder_simulator() -> dict[str, Any]:
    """The simulated funders' behaviour (sandboxes and the local stack): approval rates, timeouts."""
    return _cached("SIMULATOR#FUNDERS", "CURRENT", lambda item: item.document) or {}


def warning_policy() -> Any:
    """The risk warning policy (``domain.risk_warnings.WarningPolicy``)."""
    from chalicelib.domain.risk_warnings import WarningPolicy

    policy = _cached("POLICY#WARNINGS", "CURRENT", lambda item: WarningPolicy.model_validate(item.document))
    if policy is None:
        raise settings.ConfigurationError("the warning policy is not configured")
    return policy


def collection_policy() -> Any:
    """The collection policy (``domain.collection_cases.CollectionPolicy``)."""
    from chalicelib.domain.collection_cases import CollectionPolicy

    policy = _cached("POLICY#COLLECTIONS", "CURRENT", lambda item: CollectionPolicy.model_validate(item.document))
    if policy is None:
        raise settings.ConfigurationError("the collection policy is not configured")
    return policy


def put_policy(name: str, document: dict[str, Any]) -> None:
    """``WARNINGS`` or ``COLLECTIONS``, validated before it is stored."""
    from chalicelib.domain.collection_cases import CollectionPolicy
    from chalicelib.domain.risk_warnings import WarningPolicy

    {"WARNINGS": WarningPolicy, "COLLECTIONS": CollectionPolicy}[name].model_validate(document)
    ConfigItem(f"POLICY#{name}", "CURRENT", document=document).save()


def payment_simulator() -> dict[str, Any]:
    """The simulated payment gateway's behaviour (sandboxes and the local stack): card rules, platform funds."""
    return _cached("SIMULATOR#PAYMENTS", "CURRENT", lambda item: item.document) or {}


def _put_next_version(pk: str, sk: str, document: dict[str, Any]) -> None:
    """Store a versioned item's document as its next version (1 when new), not audited.

    For the seed and tools; the back office writes at an expected version, with an audit
    record (``config_versions.write``). Moving the version up keeps an operator who read
    the item before this write from overwriting it unawares."""
    ConfigItem(pk, sk).update(actions=[ConfigItem.document.set(document), ConfigItem.version.add(1)])


def put_funder(document: dict[str, Any]) -> None:
    from chalicelib.domain.funding import Funder

    funder = Funder.model_validate(document)
    _put_next_version(FUNDERS, funder.code, document)


def put_product_funding(document: dict[str, Any]) -> None:
    from chalicelib.domain.funding import ProductFunding

    funding = ProductFunding.model_validate(document)
    _put_next_version(f"FUNDING#{funding.product_code}", "CURRENT", document)


def put_funder_simulator(document: dict[str, Any]) -> None:
    ConfigItem("SIMULATOR#FUNDERS", "CURRENT", document=document).save()


def put_payment_simulator(document: dict[str, Any]) -> None:
    ConfigItem("SIMULATOR#PAYMENTS", "CURRENT", document=document).save()


def partner_mapping(partner_id: str) -> PartnerMapping | None:
    return _cached(f"MAPPING#{partner_id}", "CURRENT", lambda item: PartnerMapping.model_validate(item.document))


def business_date() -> date:
    value = _cached(PLATFORM, BUSINESS_DATE, lambda item: item.value)
    if value is None:
        raise settings.ConfigurationError("the business date is not set")
    return date.fromisoformat(value)


def put_partner(p: Partner) -> None:
    ConfigItem(f"PARTNER#{p.partner_id}", "PROFILE", document=p.model_dump(mode="json")).save()


def put_product(p: Product) -> None:
    _put_next_version(f"PRODUCT#{p.code}", "CURRENT", p.model_dump(mode="json"))


def put_branch(b: Branch) -> None:
    _put_next_version(BRANCHES, b.branch_code, b.model_dump(mode="json"))


def put_partner_mapping(partner_id: str, mapping: PartnerMapping) -> None:
    ConfigItem(f"MAPPING#{partner_id}", "CURRENT", document=mapping.model_dump(mode="json")).save()


def set_business_date(day: date) -> None:
    ConfigItem(PLATFORM, BUSINESS_DATE, value=day.isoformat()).save()


def advance_business_date(closing: date) -> date:
    """Close ``closing`` and open the next day; safe to retry.

    Returns the new business date. If the date was already advanced past
    ``closing`` (a retried step), nothing changes. Any other stored date is a
    conflict: a day end must never skip or repeat a day.
    """
    opening = closing + timedelta(days=1)
    item = _get(PLATFORM, BUSINESS_DATE)
    if item is None:
        raise settings.ConfigurationError("the business date is not set")
    if item.value == opening.isoformat():
        return opening
    if item.value != closing.isoformat():
        raise BusinessDateConflict(f"business date is {item.value}, not {closing.isoformat()}")
    try:
        item.update(actions=[ConfigItem.value.set(opening.isoformat())], condition=ConfigItem.value == closing.isoformat())
    except UpdateError as exc:
        current = _get(PLATFORM, BUSINESS_DATE)
        if current is not None and current.value == opening.isoformat():
            return opening  # a concurrent retry won the race
        raise BusinessDateConflict(str(exc)) from exc
    clear_cache()
    return opening
