import copy
import json
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest
from pydantic import ValidationError

from tests.support.applications import STANDARD
from chalicelib.domain.application import Purpose, StandardApplication, fingerprint, product_violations
from chalicelib.domain.product import Product
from chalicelib.domain.schedule import RepaymentMethod as M

PRODUCT = Path(__file__).resolve().parents[2] / "config" / "sample" / "products" / "CONSUMER_STD.json"

# The example of POST /v1/applications in the partner API contract, verbatim.
APPLICATION = STANDARD
ON = date(2026, 11, 23)


def changed(path: str, value=None, delete: bool = False) -> dict:
    """The sample with one field (dotted path) set to ``value`` or removed."""
    body = copy.deepcopy(APPLICATION)
    *parents, name = path.split(".")
    target = body
    for part in parents:
        target = target[part]
    if delete:
        del target[name]
    else:
        target[name] = value
    return body


def errors_of(body) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        StandardApplication.model_validate(body)
    return {".".join(map(str, e["loc"])): e["msg"] for e in caught.value.errors()}


@pytest.fixture
def product():
    return Product.model_validate_json(PRODUCT.read_text(encoding="utf-8"))


def test_the_contract_s_example_is_valid():
    application = StandardApplication.model_validate(APPLICATION)
    assert application.amount == D("50000.00")
    assert application.repayment_method is M.EQUAL_INSTALLMENT
    assert application.purpose is Purpose.CONSUMPTION
    assert application.applicant.resident_id.birth_date == date(1990, 3, 7)
    assert application.applicant.monthly_income == D("12000.00")
    assert StandardApplication.model_validate_json(json.dumps(APPLICATION)) == application


def test_personal_data_stays_out_of_the_repr():
    text = repr(StandardApplication.model_validate(APPLICATION))
    for secret in ("110101199003074514", "13800138000", "6222020200112233446", "张三"):
        assert secret not in text


def test_the_id_number_is_stored_with_an_upper_case_x():
    body = changed("applicant.id_number", "11010519491231002x")
    assert StandardApplication.model_validate(body).applicant.id_number == "11010519491231002X"


@pytest.mark.parametrize(
    "path, value, words",
    [
        ("partner_application_no", "", "1 to 64"),
        ("partner_application_no", "A" * 65, "1 to 64"),
        ("partner_application_no", "A 1", "1 to 64"),
        ("partner_application_no", 2026112300001, "1 to 64"),
        ("product_code", "consumer_std", "pattern"),
        ("amount", 50000, "string"),
        ("amount", "50000.001", "2 decimals"),
        ("amount", "0.00", "greater than 0"),
        ("term_months", "12", "integer"),
        ("term_months", 12.0, "integer"),
        ("term_months", True, "integer"),
        ("term_months", 0, "greater than or equal to 1"),
        ("term_months", 361, "less than or equal to 360"),
        ("repayment_method", "equal_installment", "EQUAL_INSTALLMENT"),
        ("purpose", "GAMBLING", "CONSUMPTION"),
        ("applicant.name", "", "1 to 30"),
        ("applicant.name", "张" * 31, "1 to 30"),
        ("applicant.name", "张三3", "Chinese characters"),
        ("applicant.name", "张三\n", "Chinese characters"),
        ("applicant.name", " 张三", "Chinese characters"),
        ("applicant.name", "张··三", "Chinese characters"),
        ("applicant.name", "·张三", "Chinese characters"),
        ("applicant.name", None, "string"),
        ("applicant.id_type", "PASSPORT", "RESIDENT_ID"),
        ("applicant.id_number", "110101199003074515", "check character"),
        ("applicant.id_number", 110101199003074514, "string"),
        ("applicant.mobile", "12800138000", "mobile"),
        ("applicant.monthly_income", "-1.00", "greater than 0"),
        ("applicant.monthly_income", "0", "greater than 0"),
        ("applicant.employer", "", "1 to 100"),
        ("applicant.employer", "某" * 101, "1 to 100"),
        ("applicant.employer", "某某\x00公司", "control"),
        ("applicant.employer", "某某\u3000公司", "control"),
        ("applicant.employer", " 某某公司", "space"),
        ("applicant.occupation", "ASTRONAUT", "ENGINEER"),
        ("applicant.education", "KINDERGARTEN", "BACHELOR"),
        ("applicant.marital_status", "COMPLICATED", "MARRIED"),
        ("account.card_number", "6222020200112233447", "Luhn"),
        ("account.bank_name", "银" * 51, "1 to 50"),
        ("account.account_name", "张三1", "Chinese characters"),
        ("consents.credit_inquiry", False, "must consent to the credit bureau inquiry"),
        ("consents.data_sharing", False, "must consent to sharing"),
        ("consents.credit_inquiry", "true", "boolean"),
        ("consents.data_sharing", 1, "boolean"),
    ],
)
def test_each_bad_field_is_reported_at_its_path(path, value, words):
    errors = errors_of(changed(path, value))
    assert list(errors) == [path]
    assert words in errors[path]


@pytest.mark.parametrize("path", ["amount", "applicant", "applicant.mobile", "account.card_number", "consents.data_sharing"])
def test_a_missing_field_is_reported_at_its_path(path):
    errors = errors_of(changed(path, delete=True))
    assert list(errors) == [path]


@pytest.mark.parametrize("where", ["", "applicant.", "account.", "consents."])
def test_unknown_fields_are_refused_at_every_level(where):
    assert list(errors_of(changed(where + "surprise", 1))) == [where + "surprise"]


def test_the_card_must_be_in_the_applicant_s_name():
    errors = errors_of(changed("account.account_name", "李四"))
    assert list(errors) == ["account.account_name"]
    assert "applicant's name" in errors["account.account_name"]


def test_names_of_minorities_and_latin_names_are_accepted():
    for name in ("阿卜杜·艾尼", "欧阳娜娜", "Zhang San", "𠮷田"):
        body = changed("applicant.name", name)
        body["account"]["account_name"] = name
        assert StandardApplication.model_validate(body).applicant.name == name


def test_every_field_error_is_reported_at_once():
    body = changed("applicant.mobile", "1")
    body["account"]["card_number"] = "1"
    body["consents"]["credit_inquiry"] = False
    assert set(errors_of(body)) == {"applicant.mobile", "account.card_number", "consents.credit_inquiry"}


def test_non_objects_are_validation_errors():
    for body in (None, [], "x", 1, {"applicant": []}, {"consents": None}):
        with pytest.raises(ValidationError):
            StandardApplication.model_validate(body)


# --- the product's terms --------------------------------------------------------------------------


def test_the_example_fits_the_sample_product(product):
    assert product_violations(StandardApplication.model_validate(APPLICATION), product, ON) == []


def test_amount_term_and_method_are_checked_against_the_product(product):
    body = changed("amount", "300000.01")
    body["term_months"] = 7
    found = product_violations(StandardApplication.model_validate(body), product, ON)
    assert [v.field for v in found] == ["amount", "term_months"]


def test_the_applicant_s_age_on_the_day_is_within_the_product_s_bounds(product):
    application = StandardApplication.model_validate(APPLICATION)  # born 1990-03-07; product 18..60
    assert product_violations(application, product, date(2051, 3, 6)) == []  # 60, the day before turning 61
    (too_old,) = product_violations(application, product, date(2051, 3, 7))
    assert too_old.field == "applicant.id_number"
    assert "18 to 60" in too_old.message and "61" in too_old.message
    assert product_violations(application, product, date(2008, 3, 7)) == []  # 18 today
    (too_young,) = product_violations(application, product, date(2008, 3, 6))
    assert too_young.field == "applicant.id_number"


def test_a_leap_day_applicant_comes_of_age_on_1_march(product):
    body = changed("applicant.id_number", "110101200802294519")
    assert product_violations(StandardApplication.model_validate(body), product, date(2026, 2, 28))[0].field == "applicant.id_number"
    assert product_violations(StandardApplication.model_validate(body), product, date(2026, 3, 1)) == []


# --- idempotency -----------------------------------------------------------------------------------


def fingerprint_of(body) -> str:
    return fingerprint(StandardApplication.model_validate(body))


def test_the_fingerprint_is_a_sha256_hex():
    value = fingerprint_of(APPLICATION)
    assert len(value) == 64 and int(value, 16) >= 0


def test_bodies_that_mean_the_same_have_the_same_fingerprint():
    same = json.loads(json.dumps(APPLICATION, indent=4, sort_keys=True))
    assert fingerprint_of(same) == fingerprint_of(APPLICATION)
    assert fingerprint_of(changed("amount", "50000")) == fingerprint_of(APPLICATION)
    assert fingerprint_of(changed("amount", "50000.0")) == fingerprint_of(APPLICATION)
    assert fingerprint_of(changed("applicant.monthly_income", "12000")) == fingerprint_of(APPLICATION)
    x_lower = fingerprint_of(changed("applicant.id_number", "11010519491231002x"))
    assert x_lower == fingerprint_of(changed("applicant.id_number", "11010519491231002X"))


@pytest.mark.parametrize(
    "path, value",
    [
        ("partner_application_no", "A2026112300002"),
        ("amount", "50000.01"),
        ("term_months", 24),
        ("repayment_method", "BULLET"),
        ("purpose", "TRAVEL"),
        ("applicant.mobile", "13800138001"),
        ("applicant.employer", "某某科技有限公司二"),
        ("account.bank_name", "另一银行"),
    ],
)
def test_any_change_of_meaning_changes_the_fingerprint(path, value):
    assert fingerprint_of(changed(path, value)) != fingerprint_of(APPLICATION)
