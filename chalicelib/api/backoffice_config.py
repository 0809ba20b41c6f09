"""The back-office API for configuration: products, funders, products' funding, branches' quotas.

Operators only (never partners). Every answer is JSON; money and rates are strings.

=======  ==================================================  =====================================================
method   path                                                answers
=======  ==================================================  =====================================================
GET      /backoffice/products                                200 ``{"items", "next_cursor"}``: products by code, each
                                                             with its version (``limit`` 1-100, default 20;
                                                             ``cursor``); 400
GET      /backoffice/products/{product_code}                 200; 404 PRODUCT_NOT_FOUND
PUT      /backoffice/products/{product_code}                 201 created, 200 changed; 400; 403; 409
GET      /backoffice/funders                                 200 every funder, its version and TOTAL quota usage
GET      /backoffice/funders/{code}                          200; 404 FUNDER_NOT_FOUND
PUT      /backoffice/funders/{code}                          201 created, 200 changed; 400; 403; 409; 422
GET      /backoffice/products/{product_code}/funding         200; 404 PRODUCT_NOT_FOUND, FUNDING_NOT_FOUND
PUT      /backoffice/products/{product_code}/funding         201 created, 200 changed; 400; 403; 404; 409; 422
GET      /backoffice/branches/{branch_code}/quotas           200; 403 BRANCH_FORBIDDEN; 404 BRANCH_NOT_FOUND
PUT      /backoffice/branches/{branch_code}/quotas           200; 400; 403; 404; 409
GET      /backoffice/config-history?key=FUNDER/<code>        200 newest first (also FUNDING/<product>, BRANCH/<code>,
                                                             PRODUCT/<code>; ``limit`` 1-100, default 50); 400; 403
=======  ==================================================  =====================================================

A PUT body is the document (as in ``config/sample/``) plus ``"expected_version"``: the
version the change was made from (0 or absent: create). 409 ``VERSION_CONFLICT`` when the
stored version is another (its ``details`` give the current version). Only platform
operators may PUT (403 ``FORBIDDEN``). Bad input is 400 with field paths; amounts
(``position_available``, quotas) and ``service_fee_rate`` must be JSON strings.
See ``chalicelib/usecases/configuration.py`` for what takes effect when.

A product (``chalicelib/domain/product.py``, as in ``config/sample/products/``) is
answered as ``{"product_code", "version", "product": {...}}`` with every term
explicit. Its PUT body is the product plus ``"expected_version"``; its amounts
(``amount_min``, ``amount_max``) and rates (``default_annual_rate``,
``quote_rate_min``, ``quote_rate_max``, ``penalty_markup``, ``prepayment.fee_rate``)
must be JSON strings; a rule across fields names the field it is about
(``amount_min``, ``default_annual_rate``, ``applicant_age_min``). Example::

    PUT /backoffice/products/CONSUMER_STD
    {"code": "CONSUMER_STD", "name": "个人消费贷款(标准版)", "amount_min": "1000.00",
     "amount_max": "200000.00", "terms_months": [3, 6, 12], "repayment_methods": ["EQUAL_INSTALLMENT"],
     "default_annual_rate": "0.0720", "quote_rate_min": "0.03", "quote_rate_max": "0.24",
     "expected_version": 1}
    -> 200 {"product_code": "CONSUMER_STD", "version": 2, "product": {..., "amount_max": "200000.00",
            "applicant_age_min": 18, "prepayment": {"allowed": true, ...}, ...}}
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from chalice import Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from chalicelib.api import backoffice_params, http
from chalicelib.api.errors import ApiError
from chalicelib.domain.funding import Funder, ProductFunding
from chalicelib.domain.lending_quotas import LendingQuotas
from chalicelib.domain.money import parse_amount, parse_rate
from chalicelib.domain.product import Prepayment, Product
from chalicelib.persistence.config_versions import ConfigRef
from chalicelib.usecases import configuration
from chalicelib.usecases.operator_auth import operator_of

MAX_HISTORY = 100
DEFAULT_HISTORY = 50


def _amount_text(value: Any) -> Decimal:
    if not isinstance(value, str):
        raise ValueError('must be a string such as "12000.00", not a JSON number')
    return parse_amount(value)


def _rate_text(value: Any) -> Decimal:
    if not isinstance(value, str):
        raise ValueError('must be a string such as "0.0150", not a JSON number')
    return parse_rate(value)


class _Versioned(BaseModel):
    """The version a change was made from: 0 (or absent) to create."""

    expected_version: int = Field(default=0, ge=0, strict=True)

    @field_validator("expected_version", mode="before")
    @classmethod
    def _absent_is_zero(cls, value: Any) -> Any:
        return 0 if value is None else value


class QuotasText(LendingQuotas):
    """Lending quotas with the amounts as strings."""

    @field_validator("total", "daily", "per_customer", mode="before")
    @classmethod
    def _amounts_as_text(cls, value: Any) -> Decimal:
        return _amount_text(value)


class FunderChange(Funder, _Versioned):
    quotas: QuotasText

    @field_validator("position_available", mode="before")
    @classmethod
    def _position_as_text(cls, value: Any) -> Decimal:
        return _amount_text(value)

    @field_validator("service_fee_rate", mode="before")
    @classmethod
    def _rate_as_text(cls, value: Any) -> Decimal:
        return _rate_text(value)


class FundingChange(ProductFunding, _Versioned):
    pass


class PrepaymentText(Prepayment):
    """Prepayment terms with the fee rate as a string."""

    @field_validator("fee_rate", mode="before")
    @classmethod
    def _rate_as_text(cls, value: Any) -> Decimal:
        return _rate_text(value)


class ProductChange(Product, _Versioned):
    """A product with its amounts and rates as strings, and the version it was changed from."""

    prepayment: PrepaymentText = Field(default_factory=PrepaymentText)

    @field_validator("amount_min", "amount_max", mode="before")
    @classmethod
    def _amounts_as_text(cls, value: Any) -> Decimal:
        return _amount_text(value)

    @field_validator("default_annual_rate", "quote_rate_min", "quote_rate_max", "penalty_markup", mode="before")
    @classmethod
    def _rates_as_text(cls, value: Any) -> Decimal:
        return _rate_text(value)


_PRODUCT_FIELDS = tuple(Product.model_fields)


def _blamed(error: ApiError) -> ApiError:
    """A rule across a product's fields (``amount_min is above amount_max``) names the field it is about."""
    for detail in error.details:
        first = detail["message"].split(" ", 1)[0]
        if detail["field"] == "body" and first in _PRODUCT_FIELDS:
            detail["field"] = first
    return error


class QuotasChange(QuotasText, _Versioned):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _same_code(field: str, sent: str, path_code: str) -> None:
    if sent != path_code:
        raise ApiError(400, "INVALID_INPUT", "the request has invalid fields", [{"field": field, "message": f"must be {path_code}, the code in the path"}])


def _answer(created: bool, view: dict[str, Any]) -> Response:
    return http.json_response(201 if created else 200, view)


def list_funders(request: Any) -> Response:
    operator = operator_of(request)
    return http.json_response(200, {"items": configuration.list_funders(operator)})


def get_funder(request: Any, code: str) -> Response:
    operator = operator_of(request)
    return http.json_response(200, configuration.get_funder(operator, code))


def put_funder(request: Any, code: str) -> Response:
    operator = operator_of(request)
    configuration.may_edit(operator)
    change: FunderChange = http.parse(FunderChange, request.raw_body or b"")
    _same_code("code", change.code, code)
    funder = Funder.model_validate(change.model_dump(mode="json", exclude={"expected_version"}))
    return _answer(*configuration.put_funder(operator, funder, change.expected_version))


def get_funding(request: Any, product_code: str) -> Response:
    operator = operator_of(request)
    return http.json_response(200, configuration.get_funding(operator, product_code))


def put_funding(request: Any, product_code: str) -> Response:
    operator = operator_of(request)
    configuration.may_edit(operator)
    change: FundingChange = http.parse(FundingChange, request.raw_body or b"")
    _same_code("product_code", change.product_code, product_code)
    funding = ProductFunding.model_validate(change.model_dump(mode="json", exclude={"expected_version"}))
    return _answer(*configuration.put_funding(operator, funding, change.expected_version))


def list_products(request: Any) -> Response:
    operator = operator_of(request)
    query = backoffice_params.ListQuery(request, "products", ())
    limit, at = query.limit(), query.cursor()
    after = at.get("after") if at else None
    if at is not None and not isinstance(after, str):
        query.invalid("cursor", "is not a cursor this list gave (use the next_cursor of the page before)")
    query.checked()
    items, last = configuration.list_products(operator, after, limit)
    return backoffice_params.page("products", items, None if last is None else {"after": last})


def get_product(request: Any, product_code: str) -> Response:
    operator = operator_of(request)
    return http.json_response(200, configuration.get_product(operator, product_code))


def put_product(request: Any, product_code: str) -> Response:
    operator = operator_of(request)
    configuration.may_edit(operator)
    try:
        change: ProductChange = http.parse(ProductChange, request.raw_body or b"")
    except ApiError as exc:
        raise _blamed(exc) from None
    _same_code("code", change.code, product_code)
    product = Product.model_validate(change.model_dump(mode="json", exclude={"expected_version"}))
    return _answer(*configuration.put_product(operator, product, change.expected_version))


def get_branch_quotas(request: Any, branch_code: str) -> Response:
    operator = operator_of(request)
    return http.json_response(200, configuration.get_branch_quotas(operator, branch_code))


def put_branch_quotas(request: Any, branch_code: str) -> Response:
    operator = operator_of(request)
    configuration.may_edit(operator)
    change: QuotasChange = http.parse(QuotasChange, request.raw_body or b"")
    limits = LendingQuotas.model_validate(change.model_dump(mode="json", exclude={"expected_version"}))
    return http.json_response(200, configuration.put_branch_quotas(operator, branch_code, limits, change.expected_version))


def config_history(request: Any) -> Response:
    operator = operator_of(request)
    params = request.query_params or {}
    details = []
    try:
        ref = ConfigRef.parse(params.get("key", ""))
    except ValueError as exc:
        details.append({"field": "key", "message": f"must be FUNDER/<code>, FUNDING/<product code>, BRANCH/<code> or PRODUCT/<code> ({exc})"})
    raw_limit = params.get("limit", str(DEFAULT_HISTORY))
    limit = int(raw_limit) if raw_limit.isascii() and raw_limit.isdigit() and len(raw_limit) <= 3 else 0
    if not 1 <= limit <= MAX_HISTORY:
        details.append({"field": "limit", "message": f"must be a whole number from 1 to {MAX_HISTORY}"})
    if details:
        raise ApiError(400, "INVALID_INPUT", "the request has invalid parameters", details)
    return http.json_response(200, configuration.history(operator, ref, limit))
