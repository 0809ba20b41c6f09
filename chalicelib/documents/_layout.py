"""What the documents share: the Chinese font, paragraph styles, the page frame."""
from __future__ import annotations

import functools
import io
from typing import Any, Callable

class LayoutFailed(Exception):
    """The document could not be laid out; the message never quotes its content (personal data)."""


FONT = "STSong-Light"  # a CID font every PDF reader has: no font file to ship, the text stays extractable


@functools.cache
def register_font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


@functools.cache
def styles() -> dict[str, Any]:
    from reportlab.lib.enums import TA_CENTER, TA_LEFT
    from reportlab.lib.styles import ParagraphStyle

    font = register_font()
    body = ParagraphStyle("body", fontName=font, fontSize=10.5, leading=16, wordWrap="CJK", alignment=TA_LEFT)
    return {
        "title": ParagraphStyle("title", parent=body, fontSize=18, leading=26, alignment=TA_CENTER, spaceAfter=6),
        "subtitle": ParagraphStyle("subtitle", parent=body, fontSize=9.5, leading=14, alignment=TA_CENTER),
        "heading": ParagraphStyle("heading", parent=body, fontSize=12.5, leading=20, spaceBefore=10, spaceAfter=4),
        "clause_heading": ParagraphStyle("clause_heading", parent=body, fontSize=11, leading=17, spaceBefore=6),
        "body": body,
        "indented": ParagraphStyle("indented", parent=body, firstLineIndent=21),
        "cell": ParagraphStyle("cell", parent=body, fontSize=9.5, leading=13),
        "small": ParagraphStyle("small", parent=body, fontSize=8, leading=11),
    }


def escape(text: str) -> str:
    """Text for a reportlab Paragraph (which reads a little markup)."""
    from xml.sax.saxutils import escape as xml_escape

    return xml_escape(str(text)).replace("\n", "<br/>")


def paragraph(text: str, style: str = "body") -> Any:
    from reportlab.platypus import Paragraph

    return Paragraph(escape(text), styles()[style])


def build(story: list[Any], *, title: str, author: str, subject: str, footer: Callable[[int], str]) -> bytes:
    """An A4 PDF of ``story``; the same story always gives the same bytes (reportlab's invariant mode)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate

    font = register_font()
    out = io.BytesIO()

    def page(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.drawCentredString(A4[0] / 2, 10 * mm, footer(doc.page))
        canvas.restoreState()

    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=title,
        author=author,
        subject=subject,
        creator="zhudai",
        invariant=1,
    )
    try:
        doc.build(story, onFirstPage=page, onLaterPages=page)
    except Exception as exc:  # reportlab's messages quote the flowable (a name, an ID number): never pass them on
        raise LayoutFailed(f"{subject}: the document could not be laid out ({type(exc).__name__})") from None
    return out.getvalue()


def grid(rows: list[list[Any]], widths: list[float], *, header: bool = False, repeat: int = 0, align_right_from: int | None = None) -> Any:
    from reportlab.lib import colors
    from reportlab.platypus import Table, TableStyle

    font = register_font()
    commands: list[tuple[Any, ...]] = [
        ("FONTNAME", (0, 0), (-1, -1), font),
        ("FONTSIZE", (0, 0), (-1, -1), 9),
        ("LEADING", (0, 0), (-1, -1), 12),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
    ]
    if header:
        commands += [("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#EEEEEE")), ("ALIGN", (0, 0), (-1, 0), "CENTER")]
    if align_right_from is not None:
        commands.append(("ALIGN", (align_right_from, 1 if header else 0), (-1, -1), "RIGHT"))
    table = Table(rows, colWidths=widths, repeatRows=repeat, hAlign="LEFT")
    table.setStyle(TableStyle(commands))
    return table


def cell(text: str) -> Any:
    from reportlab.platypus import Paragraph

    return Paragraph(escape(text), styles()["cell"])
