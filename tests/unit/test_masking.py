import json

from chalicelib.domain.masking import mask_card, mask_id_number, mask_mobile, mask_name, scrub


def test_masks_of_the_contract_s_samples():
    assert mask_id_number("110101199003074514") == "110101********4514"
    assert mask_id_number("11010519491231002X") == "110105********002X"
    assert mask_mobile("13800138000") == "138****8000"
    assert mask_card("6222020200112233446") == "622202*********3446"
    assert mask_card("4111111111111111") == "411111******1111"


def test_names_keep_their_first_character():
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_name("阿卜杜·艾尼") == "阿*****"
    assert mask_name("张") == "*"
    assert mask_name("") == ""


def test_values_too_short_to_keep_their_ends_are_masked_whole():
    assert mask_id_number("1234567890") == "**********"
    assert mask_mobile("1380013") == "*******"
    assert mask_card("") == ""


def test_scrub_masks_each_kind_in_free_text():
    line = "apply id=110101199003074514 mobile:13800138000 card 6222020200112233446."
    assert scrub(line) == "apply id=110101********4514 mobile:138****8000 card 622202*********3446."


def test_scrub_masks_ids_ending_in_x_either_case():
    assert scrub("11010519491231002X") == "110105********002X"
    assert scrub("id 11010519491231002x!") == "id 110105********002x!"


def test_scrub_works_between_chinese_characters_and_in_json():
    assert scrub("身份证号110101199003074514，手机13800138000。") == "身份证号110101********4514，手机138****8000。"
    record = json.dumps({"id_number": "110101199003074514", "mobile": "13800138000", "amount": "50000.00"})
    scrubbed = json.loads(scrub(record))
    assert scrubbed == {"id_number": "110101********4514", "mobile": "138****8000", "amount": "50000.00"}


def test_scrub_leaves_digits_that_are_not_shaped_like_personal_numbers():
    for text in (
        "amount 50000.00 term 12",
        "ts=1763884800",  # 10 digits: epoch seconds
        "23800138000",  # 11 digits not starting with 1
        "123456789012",  # 12 digits
        "11010119900307451413800138000",  # 29 digits: a longer run is not a token
        "",
    ):
        assert scrub(text) == text


def test_scrub_reads_an_x_followed_by_a_digit_as_no_id_but_masks_the_card_shaped_run_before_it():
    assert scrub("11010119900307451X5") == "110101*******7451X5"


def test_scrub_masks_every_occurrence():
    text = "13800138000,13800138000;6222020200112233446 6222020200112233446"
    assert scrub(text) == "138****8000,138****8000;622202*********3446 622202*********3446"


def test_scrub_is_idempotent():
    once = scrub("110101199003074514 13800138000 6222020200112233446")
    assert scrub(once) == once
