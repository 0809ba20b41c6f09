"""The credit-inquiry authorisation letter (征信查询授权书) as an A4 PDF in Chinese.

The borrower (name, ID number) authorises the branch where they applied, the
querying institution, to query and use their credit report; the template's
text states the scope and the period, with the terms filled in. Signed by the
borrower electronically (when they accepted) and sealed by the bank like the
contract. The same terms and template always give the same bytes.
"""
from __future__ import annotations

from typing import Any

from chalicelib.documents._layout import build, cell, grid, paragraph
from chalicelib.domain.contract import CHINA, ContractTemplate, ContractTerms, china_time, chinese_date


def render_authorisation(terms: ContractTerms, template: ContractTemplate) -> bytes:
    """The authorisation letter as an A4 PDF (unsigned)."""
    from reportlab.lib.units import mm
    from reportlab.platypus import Spacer

    title, text = template.rendered_authorisation(terms)
    b = terms.borrower
    parties = grid(
        [
            [cell("授权人(借款人)"), cell(b.name)],
            [cell("证件类型"), cell("居民身份证")],
            [cell("证件号码"), cell(b.id_number)],
            [cell("被授权人(查询机构)"), cell(f"{terms.branch_name}(机构代码:{terms.branch_code})")],
            [cell("业务编号"), cell(f"申请编号 {terms.application_id};合同编号 {terms.contract_no}")],
        ],
        [42 * mm, 128 * mm],
    )
    story: list[Any] = [
        paragraph(title, "title"),
        paragraph(f"编号:{terms.contract_no}-SQ", "subtitle"),
        Spacer(1, 10),
        parties,
        Spacer(1, 10),
    ]
    for part in text.split("\n"):
        story.append(paragraph(part, "indented"))
    story += [
        Spacer(1, 18),
        paragraph(f"授权人(电子签名):{b.name}", "body"),
        paragraph(f"授权时间:{china_time(terms.accepted_at)}(北京时间)", "body"),
        paragraph(f"授权日期:{chinese_date(terms.accepted_at.astimezone(CHINA).date())}", "body"),
        Spacer(1, 8),
        paragraph(f"查询机构(电子签章):{terms.branch_name}", "body"),
    ]
    return build(
        story,
        title=f"{title} {terms.contract_no}",
        author=terms.branch_name,
        subject="征信查询授权书",
        footer=lambda page: f"征信查询授权书 {terms.contract_no}-SQ    第 {page} 页",
    )
