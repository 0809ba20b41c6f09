"""The contract and the authorisation letter as PDF: Chinese text a machine can read back."""
from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal as D

import pypdf
import pytest

from chalicelib.documents.authorisation_pdf import render_authorisation
from chalicelib.documents.contract_pdf import chinese_ordinal, render_contract
from chalicelib.domain.contract import Borrower, ContractTemplate, FunderShare
from chalicelib.domain.schedule import RepaymentMethod
from tests.unit.test_contract import CARD, ID_NUMBER, MOBILE, template_document, terms

A4 = (595.2756, 841.8898)


def text_of(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))


@pytest.fixture(scope="module")
def template() -> ContractTemplate:
    return ContractTemplate.model_validate(template_document())


@pytest.fixture(scope="module")
def line_template() -> ContractTemplate:
    return ContractTemplate.model_validate(template_document("CONSUMER_LINE"))


def test_the_contract_is_an_a4_pdf_whose_chinese_text_can_be_read_back(template):
    pdf = render_contract(terms(), template)
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    box = reader.pages[0].mediabox
    assert (round(float(box.width), 2), round(float(box.height), 2)) == (round(A4[0], 2), round(A4[1], 2))
    text = text_of(pdf)
    for expected in (
        "个人消费借款合同", "HT20261123-143501-a3f9c0d2e1", "张三", ID_NUMBER, MOBILE, CARD, "东城农村商业银行",
        "壹万贰仟元整", "12,000.00", "7.20%", "等额本息", "10.80%", "上浮50%", "2026年11月23日", "2027年11月23日",
        "第一条借款金额与用途", "争议解决", "还款计划表", "2026-11-2314:35:01",
    ):
        assert expected in text, expected


def test_every_schedule_row_is_in_the_contract(template):
    t = terms(term_months=36)
    pdf = render_contract(t, template)
    text = text_of(pdf)
    schedule = t.schedule()
    assert len(schedule.installments) == 36
    for installment in schedule.installments:
        assert installment.due_date.isoformat() in text, installment.due_date
    assert f"{schedule.total_interest:,.2f}" in text and "共36期" in text
    assert len(pypdf.PdfReader(io.BytesIO(pdf)).pages) >= 2


@pytest.mark.parametrize("method", list(RepaymentMethod))
def test_each_method_is_named_and_scheduled(template, method):
    t = terms(repayment_method=method, term_months=6)
    text = text_of(render_contract(t, template))
    assert {"EQUAL_INSTALLMENT": "等额本息", "EQUAL_PRINCIPAL": "等额本金", "INTEREST_FIRST": "先息后本", "BULLET": "到期一次还本付息"}[method.value] in text
    for installment in t.schedule().installments:
        assert installment.due_date.isoformat() in text


def test_a_joint_loan_lists_each_funder_and_its_share(template):
    joint = terms(
        funders=(
            FunderShare("BR_DONGCHENG", "东城农村商业银行", D("8400.00"), D("0.7"), True),
            FunderShare("PB_HUAXIA_JOINT", "华夏联合贷参与行", D("3600.00"), D("0.3"), False),
        )
    )
    text = text_of(render_contract(joint, template))
    assert "联合贷款" in text
    assert "东城农村商业银行牵头行8,400.0070%" in text
    assert "华夏联合贷参与行参与行3,600.0030%" in text


def test_a_credit_line_states_its_limit_and_validity_and_has_no_schedule(line_template):
    line = terms(
        kind="CREDIT_LINE", credit_line_id="CL20261123-143501-a3f9c0d2e1", product_code="CONSUMER_LINE",
        product_name="个人消费循环贷(随借随还额度)", amount=D("50000.00"),
        funders=(FunderShare("BR_DONGCHENG", "东城农村商业银行", D("50000.00"), D("1"), True),),
        line_expires_on=date(2027, 11, 23),
    )
    text = text_of(render_contract(line, line_template))
    assert "个人循环授信额度合同" in text and "授信额度" in text and "伍万元整" in text and "50,000.00" in text
    assert "额度有效期" in text and "2027年11月23日" in text
    assert "还款计划表" not in text and "2026-12-23" not in text


def test_a_drawdown_names_its_line_and_has_its_schedule(line_template):
    drawdown = terms(kind="DRAWDOWN", credit_line_id="CL20261123-143501-a3f9c0d2e1", product_code="CONSUMER_LINE", term_months=3)
    text = text_of(render_contract(drawdown, line_template))
    assert "CL20261123-143501-a3f9c0d2e1" in text and "还款计划表" in text and "2027-02-23" in text


def test_a_branch_template_gives_its_own_title():
    template = ContractTemplate.model_validate(template_document("CONSUMER_STD.BR_XICHENG"))
    assert "个人消费借款合同(西城农商行版)" in text_of(render_contract(terms(branch_code="BR_XICHENG", branch_name="西城农村商业银行"), template))


def test_the_same_terms_give_the_same_bytes(template):
    assert render_contract(terms(), template) == render_contract(terms(), template)
    assert render_contract(terms(), template) != render_contract(terms(amount=D("12000.01"), funders=(FunderShare("BR_DONGCHENG", "东城农村商业银行", D("12000.01"), D("1"), True),)), template)


def test_the_authorisation_letter_names_the_borrower_the_branch_and_the_date(template):
    pdf = render_authorisation(terms(), template)
    text = text_of(pdf)
    for expected in ("个人征信查询授权书", "张三", ID_NUMBER, "东城农村商业银行", "被授权人(查询机构)", "2026年11月23日", "AP20261123-143501-a3f9c0d2e1", "信用报告"):
        assert expected in text, expected
    assert render_authorisation(terms(), template) == pdf


def test_markup_in_the_data_is_printed_not_interpreted(template):
    t = terms(product_name="<b>产品</b> & 1 < 2")
    assert "<b>产品</b>&1<2" in text_of(render_contract(t, template))


def test_chinese_ordinals():
    assert [chinese_ordinal(n) for n in (1, 9, 10, 11, 20, 21, 99)] == ["一", "九", "十", "十一", "二十", "二十一", "九十九"]


def test_a_layout_failure_never_quotes_personal_data(template):
    from chalicelib.documents._layout import LayoutFailed

    huge = terms(borrower=Borrower("张三", ID_NUMBER, MOBILE, CARD, "银" * 20000))  # a cell taller than a page
    with pytest.raises(LayoutFailed) as caught:
        render_contract(huge, template)
    assert ID_NUMBER not in str(caught.value) and CARD not in str(caught.value) and caught.value.__cause__ is None
