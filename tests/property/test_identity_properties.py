"""Properties of ID numbers, cards, masks and the standard application, for generated input.

Faker's zh_CN ``ssn()`` and ``phone_number()`` give realistic numbers made by
someone else's code; its check character formula, (1 - 2 * int(s, 13)) % 11,
is an independent reference for ours.
"""
from __future__ import annotations

import copy
import json
from datetime import date

from faker import Faker
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from chalicelib.domain.application import StandardApplication, fingerprint
from chalicelib.domain.identity import (
    PROVINCE_CODES,
    check_character,
    luhn_valid,
    parse_resident_id,
    validate_card_number,
    validate_mobile,
)
from chalicelib.domain.masking import mask_card, mask_id_number, mask_mobile, scrub
from tests.unit.test_application import APPLICATION

births = st.dates(min_value=date(1900, 1, 1), max_value=date.today())


@st.composite
def first17s(draw) -> str:
    province = draw(st.sampled_from(sorted(PROVINCE_CODES)))
    rest_of_division = draw(st.text(alphabet="0123456789", min_size=4, max_size=4))
    sequence = draw(st.text(alphabet="0123456789", min_size=3, max_size=3))
    return f"{province}{rest_of_division}{draw(births):%Y%m%d}{sequence}"


resident_ids = first17s().map(lambda first17: first17 + check_character(first17))
# Faker also issues 830000 (1 in 3,513 of its area codes): the Taiwan residents' residence permit
# (台湾居民居住证), not a resident ID; 83 is no GB/T 2260 province, so parse_resident_id refuses it.
faker_ids = st.integers(min_value=0, max_value=2**32).map(lambda seed: _faker(seed).ssn()).filter(lambda n: n[:2] != "83")
mobiles = st.builds(lambda second, rest: f"1{second}{rest}", st.sampled_from("3456789"), st.text(alphabet="0123456789", min_size=9, max_size=9))
faker_mobiles = st.integers(min_value=0, max_value=2**32).map(lambda seed: _faker(seed).phone_number())


_FAKE = Faker("zh_CN")


def _faker(seed: int) -> Faker:
    _FAKE.seed_instance(seed)
    return _FAKE


def reference_luhn_digit(body: str) -> str:
    """The digit that makes ``body`` + digit pass Luhn (textbook: double every second digit from the right of the result)."""
    total = 0
    for i, char in enumerate(reversed(body)):
        value = int(char) * (2 if i % 2 == 0 else 1)
        total += value // 10 + value % 10
    return str((10 - total % 10) % 10)


cards = st.text(alphabet="0123456789", min_size=12, max_size=18).map(lambda body: body + reference_luhn_digit(body))


# --- resident ID numbers ---------------------------------------------------------------------------


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_the_check_character_agrees_with_an_independent_formula(first17):
    assert check_character(first17) == str((1 - 2 * int(first17, 13)) % 11).replace("10", "X")


@given(first17s())
def test_seventeen_digits_with_a_real_birth_date_and_their_check_character_parse(first17):
    number = first17 + check_character(first17)
    rid = parse_resident_id(number)
    assert rid.number == number
    assert rid.division_code == first17[:6] and rid.province_code == first17[:2]
    assert f"{rid.birth_date:%Y%m%d}" == first17[6:14]
    assert rid.sex == ("M" if int(first17[16]) % 2 else "F")
    assert parse_resident_id(number.lower()) == rid


@given(faker_ids)
def test_faker_s_numbers_parse(number):
    assert parse_resident_id(number).number == number


@given(resident_ids, st.data())
def test_changing_any_one_character_breaks_the_check(number, data):
    position = data.draw(st.integers(min_value=0, max_value=17))
    other = data.draw(st.sampled_from([c for c in ("0123456789X" if position == 17 else "0123456789") if c != number[position]]))
    mutated = number[:position] + other + number[position + 1 :]
    assert check_character(mutated[:17]) != mutated[17]
    try:
        parse_resident_id(mutated)
    except ValueError:
        pass
    else:
        raise AssertionError(f"{mutated} was accepted")


@given(st.text(max_size=40) | st.text(alphabet="0123456789xX", min_size=17, max_size=19) | st.none() | st.integers() | st.binary(max_size=20) | st.lists(st.text(max_size=2), max_size=18))
def test_parsing_anything_raises_only_value_error(anything):
    try:
        parse_resident_id(anything)
    except ValueError:
        pass


# --- mobiles and cards -----------------------------------------------------------------------------


@given(mobiles | faker_mobiles)
def test_mobiles_are_valid(mobile):
    assert validate_mobile(mobile) == mobile


@given(cards)
def test_luhn_round_trip(card):
    assert luhn_valid(card)
    assert validate_card_number(card) == card
    body = card[:-1]
    assert [d for d in "0123456789" if luhn_valid(body + d)] == [card[-1]]


@given(cards, st.data())
def test_changing_any_one_card_digit_breaks_the_luhn_check(card, data):
    position = data.draw(st.integers(min_value=0, max_value=len(card) - 1))
    other = data.draw(st.sampled_from([d for d in "0123456789" if d != card[position]]))
    assert not luhn_valid(card[:position] + other + card[position + 1 :])


# --- masks -----------------------------------------------------------------------------------------


@given(resident_ids | faker_ids)
def test_id_masks_keep_only_the_division_and_the_last_four(number):
    masked = mask_id_number(number)
    assert number not in masked and len(masked) == 18
    assert masked == number[:6] + "*" * 8 + number[-4:]


@given(mobiles | faker_mobiles)
def test_mobile_masks_never_show_the_number(mobile):
    assert mobile not in mask_mobile(mobile)


@given(cards)
def test_card_masks_never_show_the_number(card):
    masked = mask_card(card)
    assert card not in masked and len(masked) == len(card)


no_digits = st.text(alphabet=st.characters(blacklist_characters="0123456789"), max_size=12)
separators = st.text(alphabet=st.characters(blacklist_characters="0123456789"), min_size=1, max_size=12)


# Numbers are separated by something: a run of two numbers touching is one longer run, no token.
@given(st.lists(st.tuples(separators, resident_ids | faker_ids | mobiles | faker_mobiles | cards), max_size=5), no_digits)
def test_scrub_never_leaves_a_number_in_free_text(pieces, tail):
    text = "".join(filler + number for filler, number in pieces) + tail
    scrubbed = scrub(text)
    for _, number in pieces:
        assert number not in scrubbed
    assert len(scrubbed) == len(text)
    assert scrub(scrubbed) == scrubbed


@given(no_digits)
def test_scrub_leaves_text_without_digits_alone(text):
    assert scrub(text) == text


# --- the standard application ----------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
    | st.builds(lambda piece, times: piece * times, st.text(min_size=1, max_size=3), st.integers(min_value=1, max_value=200_000)),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
plausible = {
    "partner_application_no": st.sampled_from(["A1", "", "a" * 65]),
    "amount": st.sampled_from(["50000.00", "1e5", "-0", "NaN", "Infinity", "1" * 40]),
    "term_months": st.sampled_from([12, 0, 2**64, -1]),
    "applicant.id_number": resident_ids | faker_ids | st.sampled_from(["11010519491231002x", "110101199002304519"]),
    "applicant.name": st.sampled_from(["张三", "李四", "Zhang San", "·", "\x00"]),
    "applicant.mobile": mobiles | faker_mobiles,
    "account.card_number": cards,
    "account.account_name": st.sampled_from(["张三", "李四"]),
    "consents.credit_inquiry": st.sampled_from([True, False, "true", 1]),
}
paths = [
    "partner_application_no", "product_code", "amount", "term_months", "repayment_method", "purpose",
    "applicant", "account", "consents",
    *(f"applicant.{name}" for name in APPLICATION["applicant"]),
    *(f"account.{name}" for name in APPLICATION["account"]),
    *(f"consents.{name}" for name in APPLICATION["consents"]),
    "surprise", "applicant.surprise",
]


@st.composite
def mutated_applications(draw):
    body = copy.deepcopy(APPLICATION)
    for path in draw(st.lists(st.sampled_from(paths), max_size=4)):
        *parents, name = path.split(".")
        target = body
        for part in parents:
            target = target.get(part) if isinstance(target, dict) else None
        if not isinstance(target, dict):
            continue
        if draw(st.integers(min_value=0, max_value=9)) == 0:
            target.pop(name, None)
        else:
            target[name] = draw(plausible[path] | json_values if path in plausible else json_values)
    return body


def validate(body):
    try:
        return StandardApplication.model_validate(body)
    except ValidationError as exc:
        for error in exc.errors():
            assert all(isinstance(part, (str, int)) for part in error["loc"])
            assert error["msg"]
        return None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_applications() | json_values)
def test_any_json_is_an_application_or_a_validation_error(body):
    application = validate(body)
    if application is not None:
        again = StandardApplication.model_validate(json.loads(application.model_dump_json()))
        assert again == application
        assert fingerprint(again) == fingerprint(application)


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=300) | mutated_applications().map(lambda body: json.dumps(body).encode()))
def test_any_bytes_are_an_application_or_a_validation_error(raw):
    try:
        StandardApplication.model_validate_json(raw)
    except ValidationError:
        pass
