"""The electronic contract as an A4 PDF in Chinese (reportlab, the built-in CID font STSong-Light).

What it states: the title and contract number; the parties (the borrower's
name, ID number and mobile; the branch as the lender; each funder with its
share and ratio for a joint loan); the loan's elements (amount in figures and
in Chinese uppercase, annual rate, term, repayment method, value and maturity
dates, penalty interest from the template's multiplier, the borrower's card);
the template's clauses with the terms filled in; for a LOAN or a DRAWDOWN the
full repayment schedule (period, due date, principal, interest, payment,
balance) with its totals; for a CREDIT_LINE the limit and its validity and no
schedule; and the signature block. The same terms and template always give
the same bytes.
"""
from __future__ import annotations

from typing import Any

from chalicelib.documents._layout import build, cell, grid, paragraph
from chalicelib.domain.contract import (
    KIND_NAMES,
    METHOD_NAMES,
    ContractTemplate,
    ContractTerms,
    amount_in_words,
    china_time,
    chinese_date,
    format_money,
    format_percent,
    format_ratio,
    penalty_rate,
    penalty_uplift,
)
from chalicelib.domain.schedule import Schedule

SCHEDULE_HEADER = ("期数", "还款日", "应还本金(元)", "应还利息(元)", "应还本息合计(元)", "剩余本金(元)")
_NUMERALS = "零一二三四五六七八九"


def chinese_ordinal(number: int) -> str:
    """1 -> 一, 10 -> 十, 12 -> 十二, 20 -> 二十, 99 -> 九十九 (clause and section numbers)."""
    if not 1 <= number <= 99:
        return str(number)
    tens, ones = divmod(number, 10)
    if tens == 0:
        return _NUMERALS[ones]
    return ("" if tens == 1 else _NUMERALS[tens]) + "十" + (_NUMERALS[ones] if ones else "")


def _parties(terms: ContractTerms) -> list[Any]:
    from reportlab.lib.units import mm

    b = terms.borrower
    rows = [
        [cell("借款人(甲方)"), cell(b.name)],
        [cell("证件类型"), cell("居民身份证")],
        [cell("证件号码"), cell(b.id_number)],
        [cell("手机号码"), cell(b.mobile)],
        [cell("贷款人(乙方)"), cell(f"{terms.branch_name}(机构代码:{terms.branch_code})")],
    ]
    if not terms.joint:
        funder = terms.funders[0]
        rows.append([cell("资金方"), cell(f"{funder.name}(出资金额:人民币 {format_money(funder.amount)} 元,出资比例:{format_ratio(funder.ratio)})")])
    story: list[Any] = [grid(rows, [40 * mm, 130 * mm])]
    if terms.joint:
        story.append(paragraph("本合同项下贷款为联合贷款,由下列资金方按出资比例共同出资,利息收入与风险损失按同一比例分担:", "body"))
        funder_rows: list[list[Any]] = [["资金方", "角色", "出资金额(元)", "出资比例"]]
        for funder in terms.funders:
            funder_rows.append([cell(funder.name), "牵头行" if funder.lead else "参与行", format_money(funder.amount), format_ratio(funder.ratio)])
        story.append(grid(funder_rows, [70 * mm, 25 * mm, 45 * mm, 30 * mm], header=True, align_right_from=2))
    return story


def _elements(terms: ContractTerms, template: ContractTemplate) -> Any:
    from reportlab.lib.units import mm

    b = terms.borrower
    words = amount_in_words(terms.amount)
    line = terms.kind == "CREDIT_LINE"
    rows = [[cell("产品"), cell(f"{terms.product_name}({terms.product_code})")]]
    if terms.kind == "DRAWDOWN":
        rows.append([cell("所属授信额度"), cell(str(terms.credit_line_id))])
    rows.append([cell("授信额度" if line else "借款金额"), cell(f"人民币(小写)¥{format_money(terms.amount)} 元;人民币(大写){words}")])
    rows.append([cell("年利率"), cell(f"{format_percent(terms.annual_rate)}(单利,按日计息,日利率 = 年利率 / 360)")])
    if line:
        assert terms.line_expires_on is not None
        rows += [
            [cell("额度有效期"), cell(f"自 {chinese_date(terms.start_date)} 起至 {chinese_date(terms.line_expires_on)} 止,额度内可循环使用")],
            [cell("单笔用信期限"), cell(f"最长 {terms.term_months} 个月,每笔用信另行生成还款计划")],
            [cell("还款方式"), cell(METHOD_NAMES[terms.repayment_method])],
        ]
    else:
        rows += [
            [cell("借款期限"), cell(f"{terms.term_months} 个月,自 {chinese_date(terms.start_date)} 起至 {chinese_date(terms.maturity_date)} 止")],
            [cell("还款方式"), cell(METHOD_NAMES[terms.repayment_method])],
            [cell("起息日"), cell(chinese_date(terms.start_date))],
            [cell("到期日"), cell(chinese_date(terms.maturity_date))],
        ]
    multiplier = template.penalty_rate_multiplier
    rows += [
        [
            cell("逾期罚息"),
            cell(
                f"逾期本金自逾期之日起按本合同年利率上浮 {penalty_uplift(multiplier)}(即年利率 "
                f"{format_percent(penalty_rate(terms, multiplier))})按日计收罚息,直至清偿之日止;"
                "对不能按时支付的利息,按罚息利率计收复利"
            ),
        ],
        [cell("收款及还款账户"), cell(f"{b.bank_name} {b.card_number}(户名:{b.name})")],
        [cell("借款人确认时间"), cell(f"{china_time(terms.accepted_at)}(北京时间)")],
    ]
    return grid(rows, [40 * mm, 130 * mm])


def schedule_rows(schedule: Schedule) -> list[list[str]]:
    """The schedule table: the header, one row per installment, the totals."""
    rows = [list(SCHEDULE_HEADER)]
    for i in schedule.installments:
        rows.append([str(i.period), i.due_date.isoformat(), format_money(i.principal), format_money(i.interest), format_money(i.payment), format_money(i.balance_after)])
    rows.append(["合计", "", format_money(schedule.total_principal), format_money(schedule.total_interest), format_money(schedule.total_payment), ""])
    return rows


def _schedule(terms: ContractTerms) -> list[Any]:
    from reportlab.lib import colors
    from reportlab.lib.units import mm

    schedule = terms.schedule()
    table = grid(schedule_rows(schedule), [14 * mm, 26 * mm, 32 * mm, 30 * mm, 36 * mm, 32 * mm], header=True, repeat=1, align_right_from=2)
    table.setStyle([("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#F5F5F5")), ("ALIGN", (0, 1), (1, -1), "CENTER")])
    return [
        paragraph(
            f"借款人应按下表按期足额还款。本表按{METHOD_NAMES[terms.repayment_method]}方式、年利率 "
            f"{format_percent(terms.annual_rate)} 计算,金额单位为人民币元,精确到分;共 {len(schedule.installments)} 期。",
            "body",
        ),
        table,
    ]


def _signatures(terms: ContractTerms) -> Any:
    from reportlab.lib import colors
    from reportlab.lib.units import mm

    rows = [
        [cell(f"借款人(甲方,电子签名):{terms.borrower.name}"), cell(f"贷款人(乙方,电子签章):{terms.branch_name}")],
        [cell(f"签署时间:{china_time(terms.accepted_at)}"), cell(f"签署日期:{chinese_date(terms.start_date)}")],
    ]
    table = grid(rows, [85 * mm, 85 * mm])
    table.setStyle([("GRID", (0, 0), (-1, -1), 0, colors.white)])
    return table


def render_contract(terms: ContractTerms, template: ContractTemplate) -> bytes:
    """The contract as an A4 PDF (unsigned; the bank signs it with ``documents.signature.sign_pdf``)."""
    from reportlab.platypus import Spacer

    title = template.rendered_title(terms)
    story: list[Any] = [
        paragraph(title, "title"),
        paragraph(f"合同编号:{terms.contract_no}    申请编号:{terms.application_id}", "subtitle"),
        paragraph(f"模板:{template.template_id} 版本 {template.version}", "subtitle"),
        Spacer(1, 8),
        paragraph(f"{_section(1)}、合同当事人", "heading"),
        *_parties(terms),
        paragraph(f"{_section(2)}、{'授信要素' if terms.kind == 'CREDIT_LINE' else '借款要素'}", "heading"),
        _elements(terms, template),
        paragraph(f"{_section(3)}、合同条款", "heading"),
    ]
    for number, (heading, text) in enumerate(template.rendered_clauses(terms), start=1):
        story.append(paragraph(f"第{chinese_ordinal(number)}条 {heading}", "clause_heading"))
        for part in text.split("\n"):
            story.append(paragraph(part, "indented"))
    section = 4
    if terms.has_schedule:
        story += [paragraph(f"{_section(section)}、还款计划表", "heading"), *_schedule(terms)]
        section += 1
    story += [
        paragraph(f"{_section(section)}、签署", "heading"),
        paragraph(
            "本合同以数据电文形式订立。借款人通过电子签名确认接受本合同全部条款,贷款人加盖电子签章;"
            "经双方电子签署后生效,与纸质合同具有同等法律效力。",
            "body",
        ),
        Spacer(1, 6),
        _signatures(terms),
    ]
    return build(
        story,
        title=f"{title} {terms.contract_no}",
        author=terms.branch_name,
        subject=KIND_NAMES[terms.kind],
        footer=lambda page: f"合同编号 {terms.contract_no}    第 {page} 页",
    )


def _section(number: int) -> str:
    return chinese_ordinal(number)
