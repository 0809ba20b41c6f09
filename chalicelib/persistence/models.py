"""PynamoDB models, bound lazily to the tables declared in ``resources.py``.

Table names and the region are read from the environment when a model is first
used in a call, not at import, and the connection is rebuilt whenever they
change (a new moto server in tests, another stage).
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from functools import lru_cache

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist
from pynamodb.models import Model

from chalicelib import resources, settings


class _FromEnvironment:
    """A ``Meta`` attribute whose value is read from the environment at each access."""

    def __init__(self, read: Any):
        self._read = read

    def __get__(self, obj: Any, owner: Any) -> str:
        return self._read()


def table_meta(table: resources.Table) -> type:
    class Meta:
        table_name = _FromEnvironment(lambda: settings.table_name(table))
        region = _FromEnvironment(settings.region)

    return Meta


def declared_index(table: resources.Table, name: str) -> str:
    """``name``, if ``table`` declares an index of that name (``resources.py``); else LookupError."""
    if name not in {index.name for index in table.indexes}:
        raise LookupError(f"{table.id} declares no index {name}")
    return name


@lru_cache(maxsize=4)
def _connection(region: str, endpoint: str | None) -> Connection:
    return Connection(region=region)


def transaction_connection() -> Connection:
    """The connection for PynamoDB transactions: one per region and endpoint (a new local stack
    gets its own; botocore reads the endpoint from the environment)."""
    return _connection(settings.region(), settings.aws_endpoint())


class DecimalAttribute(NumberAttribute):
    """A DynamoDB number read and written as ``Decimal`` (never through a float)."""

    def serialize(self, value: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
            raise TypeError(f"a Decimal is required, not {type(value).__name__}")
        return format(Decimal(value), "f")

    def deserialize(self, value: str) -> Decimal:
        return Decimal(value)


class LazyModel(Model):
    """A model that reconnects when its table name or endpoint changes."""

    @classmethod
    def _get_connection(cls):  # type: ignore[override]
        key = (cls.Meta.table_name, cls.Meta.region, settings.aws_endpoint())
        if getattr(cls, "_bound_to", None) != key:
            cls._connection = None
            cls._bound_to = key
        return super()._get_connection()


class ConfigItem(LazyModel):
    """One piece of configuration: ``pk`` names the kind and code, ``sk`` the facet.

    Partners: ``PARTNER#<id>`` / ``PROFILE``; products: ``PRODUCT#<code>`` /
    ``CURRENT``; branches: ``BRANCH`` / ``<code>``; partner
    mappings: ``MAPPING#<partner_id>`` / ``CURRENT``; the business date: ``PLATFORM`` / ``BUSINESS_DATE``.

    Funders (``FUNDER`` / ``<code>``), a product's funding (``FUNDING#<product>`` /
    ``CURRENT``) and branches carry a ``version`` that every write moves up by one;
    the back office changes them only at the version it read, and writes one audit
    record per change (``AUDIT#<kind>#<code>`` / the zero-padded version) in the
    same transaction (``chalicelib/persistence/config_versions.py``).
    """

    Meta = table_meta(resources.CONFIG_TABLE)

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    document = JSONAttribute(null=True)
    value = UnicodeAttribute(null=True)
    version = NumberAttribute(null=True)  # editable configuration only (see above)


class GuardItem(LazyModel):
    """A partner's nonce (``NONCE#<partner>#<nonce>``) or rate window (``RATE#<partner>#<minute>``)."""

    Meta = table_meta(resources.GUARD_TABLE)

    pk = UnicodeAttribute(hash_key=True)
    expires_at = NumberAttribute()
    count = NumberAttribute(null=True)


class ByBranchStatus(GlobalSecondaryIndex):
    class Meta:
        index_name = resources.APPLICATIONS_TABLE.indexes[0].name
        projection = KeysOnlyProjection()

    branch_status = UnicodeAttribute(hash_key=True)
    updated_at = UnicodeAttribute(range_key=True)


class ByDue(GlobalSecondaryIndex):
    """A branch's applications waiting for a person (a reviewer, the borrower), by deadline: sparse
    (only a waiting application has ``due_branch``) and keys only; what the origination watch reads."""

    class Meta:
        index_name = declared_index(resources.APPLICATIONS_TABLE, "by_due")
        projection = KeysOnlyProjection()

    due_branch = UnicodeAttribute(hash_key=True)
    waits_until = UnicodeAttribute(range_key=True)


class ApplicationItem(LazyModel):
    """An application (``APP#<id>``) or the idempotency item of a partner's number (``IDEM#<partner>#<no>``).

    No raw personal data: names, ID, mobile and card numbers are stored masked
    for display (``application``) and sealed (envelope-encrypted) in ``sealed_pii``.

    ``application`` and ``sealed_pii`` are written once, at intake, in the application's document
    item (``DOC#<id>``, ``DocumentItem``), not in this item, which every change of status rewrites:
    they are read from it on first use (one strongly consistent GetItem, kept on the instance;
    ``persistence/applications.documents_of`` reads a list's in one BatchGetItem). An application
    stored before the document items has them here (``stored_application``, ``stored_sealed_pii``).
    """

    Meta = table_meta(resources.APPLICATIONS_TABLE)

    pk = UnicodeAttribute(hash_key=True)
    application_id = UnicodeAttribute()
    partner_id = UnicodeAttribute()
    partner_application_no = UnicodeAttribute()
    fingerprint = UnicodeAttribute()
    status = UnicodeAttribute(null=True)
    branch_code = UnicodeAttribute(null=True)
    branch_reason = UnicodeAttribute(null=True)
    customer_id = UnicodeAttribute(null=True)
    product_code = UnicodeAttribute(null=True)
    # An application stored before the document items: its ``application`` and ``sealed_pii`` (see above)
    stored_application = JSONAttribute(null=True, attr_name="application")
    stored_sealed_pii = JSONAttribute(null=True, attr_name="sealed_pii")
    id_hash = UnicodeAttribute(null=True)  # the keyed hash of the ID number (finds the person's bureau report)
    branch_status = UnicodeAttribute(null=True)  # "<branch>#<status>": the by_branch_status index
    decision = JSONAttribute(null=True)  # outcome, reasons, limit, rate, score
    # The reviewer's decision ({"manual_review": ...}); the review's and the routing's trails, what the
    # decision rested on ("why" a year later), are items of their own (persistence/applications.py,
    # ``trail_of``); an application stored before them has its whole trail here
    trail = JSONAttribute(null=True)
    # While it waits for a person (MANUAL_REVIEW, OFFERED): its branch and deadline, the by_due index
    # (removed when the status changes; see persistence/applications.py)
    due_branch = UnicodeAttribute(null=True)
    waits_until = UnicodeAttribute(null=True)
    watch_restarts = NumberAttribute(null=True)  # legs the origination watch started again after they stalled
    offer = JSONAttribute(null=True)  # the funder(s), shares, amount, rate, term and expiry of an offer
    kind = UnicodeAttribute(null=True)  # None: an application; "DRAWDOWN": a drawdown on a credit line
    credit_line_id = UnicodeAttribute(null=True)  # the line a drawdown draws on, or the line an application opened
    acceptance = JSONAttribute(null=True)  # the borrower's answer to the offer: accepted, accepted_at, received_at
    contract = JSONAttribute(null=True)  # the signed contract and authorisation: archive keys, versions, SHA-256, signer
    loan_id = UnicodeAttribute(null=True)  # the loan booked for it (DISBURSING on)
    disbursement = JSONAttribute(null=True)  # how the disbursement ended: the payment's reference, or why it failed
    by_branch_status = ByBranchStatus()
    by_due = ByDue()
    created_at = UnicodeAttribute(null=True)
    updated_at = UnicodeAttribute(null=True)

    @property
    def application(self) -> dict[str, Any] | None:
        """The standardised application, personal data masked (its document item's)."""
        if self.stored_application is not None:
            return self.stored_application
        document = self.document()
        return document.application if document is not None else None

    @property
    def sealed_pii(self) -> dict[str, Any] | None:
        """The personal data, sealed (its document item's; a drawdown has none: they stay with the line's application)."""
        if self.stored_application is not None:  # stored before the document items (a drawdown's: none)
            return self.stored_sealed_pii
        document = self.document()
        return document.sealed_pii if document is not None else None

    def document(self) -> DocumentItem | None:
        """The application's document item, read on first use (strongly consistent) and kept."""
        if _DOCUMENT not in self.__dict__:
            try:
                found = DocumentItem.get(document_key(self.application_id), consistent_read=True)
            except DoesNotExist:
                found = None
            self.keep_document(found)
        return self.__dict__[_DOCUMENT]

    def keep_document(self, document: DocumentItem | None) -> None:
        """Keep ``document`` as the application's (read or written), so that reading it reads nothing."""
        self.__dict__[_DOCUMENT] = document

    def has_document(self) -> bool:
        """Whether the document is at hand (kept, or the item holds its parts itself): reading it reads nothing."""
        return _DOCUMENT in self.__dict__ or self.stored_application is not None


_DOCUMENT = "_document"  # the instance's own key for its document item, once read


def document_key(application_id: str) -> str:
    return f"DOC#{application_id}"


class DocumentItem(LazyModel):
    """An application's write-once document, ``DOC#<application id>``: what intake stored, put in the same
    transaction as the application (persistence/applications.py).

    It holds what the application item held, nothing more: the standardised application with its personal
    data masked, and the personal data sealed (envelope-encrypted); no raw ID, mobile or card number."""

    Meta = table_meta(resources.APPLICATIONS_TABLE)

    pk = UnicodeAttribute(hash_key=True)
    application_id = UnicodeAttribute()
    application = JSONAttribute(null=True)  # the standardised application, personal data masked
    sealed_pii = JSONAttribute(null=True)  # None for a drawdown


class CustomerItem(LazyModel):
    """An ECIF customer, keyed ``ID#<keyed hash of the ID number>``; never the number itself."""

    Meta = table_meta(resources.CUSTOMERS_TABLE)

    pk = UnicodeAttribute(hash_key=True)
    customer_id = UnicodeAttribute()
    home_branch = UnicodeAttribute()
    sealed_pii = JSONAttribute()
    created_at = UnicodeAttribute()
    funders = UnicodeSetAttribute(null=True)  # the funders of the person's disbursed loans


class CreditReportItem(LazyModel):
    """A sealed credit report, ``REPORT#<id hash>#<querying branch>``, kept for its validity period."""

    Meta = table_meta(resources.CREDIT_REPORTS_TABLE)

    pk = UnicodeAttribute(hash_key=True)
    queried_at = UnicodeAttribute()
    sealed = JSONAttribute()
    expires_at = NumberAttribute()


class FraudSignalItem(LazyModel):
    """One use of a mobile or card by a person, or one application of a person (keyed hashes only).

    ``MOBILE#<mac>`` / ``CARD#<mac>`` with sort key ``<id hash>``; ``PERSON#<id hash>`` with ``<application id>``.
    """

    Meta = table_meta(resources.FRAUD_SIGNALS_TABLE)

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    at = UnicodeAttribute()
    expires_at = NumberAttribute()
